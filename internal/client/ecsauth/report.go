package ecsauth

import (
	"fmt"
	"io"
	"strings"
)

// Report is everything `berth ecs-auth` says about one ecs.config.
type Report struct {
	File    *EnvFile
	Auth    *Auth
	Matches []Match
}

// Analyze parses ef's auth variables and predicts the agent's choice for
// each image.
func Analyze(ef *EnvFile, images []string) *Report {
	typ, data := ef.Vars[VarAuthType], ef.Vars[VarAuthData]
	line := data.Line
	if line == 0 {
		line = typ.Line
	}
	r := &Report{File: ef, Auth: ParseAuth(typ.Value, []byte(data.Value), ef.Path, line)}
	for _, img := range images {
		r.Matches = append(r.Matches, r.Auth.Lookup(img))
	}
	return r
}

// Diags returns file-level and auth-data diagnostics together.
func (r *Report) Diags() []Diagnostic {
	return append(append([]Diagnostic(nil), r.File.Diags...), r.Auth.Diags...)
}

// Write prints the report. Secrets are never printed: only usernames.
func (r *Report) Write(w io.Writer) {
	typ, hasType := r.File.Vars[VarAuthType]
	data, hasData := r.File.Vars[VarAuthData]
	switch {
	case !hasType && !hasData:
		fmt.Fprintf(w, "%s: no %s / %s; the agent pulls non-ECR images anonymously\n", r.File.Path, VarAuthType, VarAuthData)
	default:
		fmt.Fprintf(w, "%s: %s, %s\n", r.File.Path, where(VarAuthType, typ, hasType), where(VarAuthData, data, hasData))
	}
	for _, e := range r.Auth.Entries {
		state := "used by the agent"
		if !e.Usable {
			state = "IGNORED by the agent"
		}
		user := ""
		if e.Username != "" {
			user = fmt.Sprintf(" user %q", e.Username)
		}
		fmt.Fprintf(w, "  %s%s: %s\n", e.RawKey, user, state)
		if e.Usable {
			fmt.Fprintf(w, "      matches %s\n", r.Auth.Covers(e))
		}
	}
	for _, m := range r.Matches {
		switch {
		case m.Key != "":
			fmt.Fprintf(w, "image %s (registry %s): agent uses entry %q — %s\n", m.Image, m.Host, m.Key, m.Reason)
		case len(m.Possible) > 1:
			fmt.Fprintf(w, "image %s (registry %s): agent uses one of %s — %s\n", m.Image, m.Host, quoteAll(m.Possible), m.Reason)
		default:
			fmt.Fprintf(w, "image %s (registry %s): NO CREDENTIALS — %s\n", m.Image, m.Host, m.Reason)
		}
	}
	for _, d := range r.Diags() {
		fmt.Fprintln(w, d.String())
	}
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func where(name string, v Var, ok bool) string {
	switch {
	case !ok:
		return name + " not set"
	case name == VarAuthData:
		return fmt.Sprintf("%s on line %d", name, v.Line)
	default:
		return fmt.Sprintf("%s=%s (line %d)", name, v.Value, v.Line)
	}
}
