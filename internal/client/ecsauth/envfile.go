// Package ecsauth reads the ECS agent's private-registry settings
// (ECS_ENGINE_AUTH_TYPE / ECS_ENGINE_AUTH_DATA in /etc/ecs/ecs.config) exactly
// the way ecs-init and the agent read them, explains what the agent will do
// with each entry, and converts between the agent's formats and Docker's
// config.json.
package ecsauth

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// Variable names the agent reads for instance-level registry auth.
const (
	VarAuthType = "ECS_ENGINE_AUTH_TYPE"
	VarAuthData = "ECS_ENGINE_AUTH_DATA"
)

// DefaultConfigPath is where the ECS-optimized AMI keeps the agent's settings.
const DefaultConfigPath = "/etc/ecs/ecs.config"

// maxEnvFileSize bounds what we read; real ecs.config files are a few KiB.
const maxEnvFileSize = 1 << 20

// Severity orders diagnostics. Error means the agent will not use the
// credentials as the author intended.
type Severity int

// Severities, least to most serious.
const (
	SevInfo Severity = iota
	SevWarning
	SevError
)

func (s Severity) String() string {
	switch s {
	case SevError:
		return "error"
	case SevWarning:
		return "warning"
	default:
		return "note"
	}
}

// Diagnostic is one finding, located as precisely as we can.
type Diagnostic struct {
	Severity Severity
	File     string
	Line     int    // 0 when not tied to a line
	Registry string // the auth-data key concerned, if any
	Message  string
}

func (d Diagnostic) String() string {
	var b strings.Builder
	if d.File != "" {
		b.WriteString(d.File)
		if d.Line > 0 {
			fmt.Fprintf(&b, ":%d", d.Line)
		}
		b.WriteString(": ")
	}
	b.WriteString(d.Severity.String())
	b.WriteString(": ")
	if d.Registry != "" {
		fmt.Fprintf(&b, "registry %q: ", d.Registry)
	}
	b.WriteString(d.Message)
	return b.String()
}

// Var is one effective variable of an env file.
type Var struct {
	Value string
	Line  int
}

// EnvFile is ecs.config as ecs-init sees it.
type EnvFile struct {
	Path  string
	Vars  map[string]Var
	Diags []Diagnostic
}

// ParseEnvFile reads an ecs.config the way ecs-init does: the whole file is
// trimmed, split on "\n", each line trimmed and split at the first "=";
// lines without "=" are dropped; the last occurrence of a name wins. There is
// no quoting, no comments, no "export" and no line continuation, so anything
// that looks like those becomes part of a name or value — those cases are
// reported as diagnostics because they silently disable the setting.
func ParseEnvFile(r io.Reader, path string) (*EnvFile, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxEnvFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxEnvFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes; not an ecs.config", path, maxEnvFileSize)
	}
	ef := &EnvFile{Path: path, Vars: map[string]Var{}}
	add := func(sev Severity, line int, format string, args ...any) {
		ef.Diags = append(ef.Diags, Diagnostic{Severity: sev, File: path, Line: line, Message: fmt.Sprintf(format, args...)})
	}
	// Line numbers count from the untrimmed file so messages match an editor.
	lead := bytes.Count(data[:len(data)-len(bytes.TrimLeft(data, " \t\r\n\v\f"))], []byte("\n"))
	body := strings.TrimSpace(string(data))
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 64*1024), maxEnvFileSize+1)
	n := lead
	prevAuthDataOpen := false
	for sc.Scan() {
		n++
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			if prevAuthDataOpen && line != "" {
				add(SevError, n, "this line continues %s from the line above, but ecs-init reads one line per variable: put the whole JSON on a single line", VarAuthData)
			}
			continue
		}
		prevAuthDataOpen = false
		if n == lead+1 {
			name = strings.TrimPrefix(name, "\ufeff")
		}
		bare := strings.TrimSpace(name)
		switch {
		case strings.HasPrefix(bare, "#"):
			if isAuthVar(strings.TrimSpace(strings.TrimPrefix(bare, "#"))) {
				add(SevWarning, n, "%s is commented out; the agent ignores this line", strings.TrimSpace(strings.TrimPrefix(bare, "#")))
			}
			continue
		case strings.HasPrefix(bare, "export ") || strings.HasPrefix(bare, "export\t"):
			v := strings.TrimSpace(bare[len("export"):])
			if isAuthVar(v) {
				add(SevError, n, "ecs-init does not understand \"export\": this line defines a variable literally named %q, so %s stays unset; remove \"export \"", name, v)
			}
		case bare != name && isAuthVar(bare):
			add(SevError, n, "spaces around %q: ecs-init keeps them, so this defines %q instead of %s; write %s=VALUE", "=", name, bare, bare)
		}
		if isAuthVar(name) {
			if prev, dup := ef.Vars[name]; dup {
				add(SevWarning, n, "%s is set again (first on line %d); the last line wins", name, prev.Line)
			}
			if q := quoteOf(value); q != "" {
				add(SevError, n, "%s is wrapped in %s quotes; ecs-init keeps quotes as part of the value, so the agent will not recognise it; remove them", name, q)
			}
			if name == VarAuthData && strings.HasPrefix(value, "{") && strings.Count(value, "{") > strings.Count(value, "}") {
				prevAuthDataOpen = true
			}
		}
		ef.Vars[name] = Var{Value: value, Line: n}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ef, nil
}

func isAuthVar(s string) bool { return s == VarAuthType || s == VarAuthData }

func quoteOf(v string) string {
	if len(v) >= 2 {
		switch {
		case v[0] == '\'' && v[len(v)-1] == '\'':
			return "single"
		case v[0] == '"' && v[len(v)-1] == '"':
			return "double"
		}
	}
	return ""
}
