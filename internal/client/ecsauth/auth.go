package ecsauth

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Auth types the agent understands.
const (
	TypeDockercfg = "dockercfg"
	TypeDocker    = "docker"
)

// agentHubKey is the one key (after scheme stripping) under which the agent
// looks up Docker Hub credentials.
const agentHubKey = "index.docker.io/v1/"

// Entry is one registry entry of ECS_ENGINE_AUTH_DATA.
type Entry struct {
	RawKey   string // as written
	Key      string // as the agent stores it: leading http:// or https:// removed
	Username string
	Password string
	Email    string
	Usable   bool // the agent keeps this entry and can authenticate with it
}

// Auth is the parsed ECS_ENGINE_AUTH_TYPE/ECS_ENGINE_AUTH_DATA pair.
type Auth struct {
	Type    string
	Entries []Entry // sorted by RawKey
	Diags   []Diagnostic
}

// dockercfgEntry mirrors the agent's decoding struct: only "auth" is read.
type dockercfgEntry struct {
	Auth  string `json:"auth"`
	Email string `json:"email"`
}

// dockerEntry mirrors Docker's AuthConfig, which the agent decodes the
// "docker" type into.
type dockerEntry struct {
	Username      string `json:"username"`
	Password      string `json:"password"`
	Auth          string `json:"auth"`
	Email         string `json:"email"`
	ServerAddress string `json:"serveraddress"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// ParseAuth decodes auth data the way the agent's dockerauth package does
// (Go encoding/json, so member names match case-insensitively) and records,
// per entry, whether the agent will keep it and why not. file and line locate
// the ECS_ENGINE_AUTH_DATA line in messages; both may be zero.
func ParseAuth(authType string, data []byte, file string, line int) *Auth {
	a := &Auth{Type: authType}
	diag := func(sev Severity, reg, format string, args ...any) {
		a.Diags = append(a.Diags, Diagnostic{Severity: sev, File: file, Line: line, Registry: reg, Message: fmt.Sprintf(format, args...)})
	}
	switch authType {
	case "":
		if len(strings.TrimSpace(string(data))) > 0 {
			diag(SevError, "", "%s is set but %s is not; the agent ignores the data. Add %s=dockercfg or %s=docker", VarAuthData, VarAuthType, VarAuthType, VarAuthType)
		}
		return a
	case TypeDockercfg, TypeDocker:
	default:
		diag(SevError, "", "%s=%q is not a type the agent knows (it logs \"Unknown auth configuration\" and pulls anonymously); use dockercfg or docker", VarAuthType, authType)
		return a
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		diag(SevError, "", "%s=%s but %s is empty or missing", VarAuthType, authType, VarAuthData)
		return a
	}
	if wrapped := authsWrapper(data); wrapped != nil {
		diag(SevError, "auths",
			"THE MODERN {\"auths\": {...}} WRAPPER IS NOT UNDERSTOOD BY THE ECS AGENT. It reads a flat map, so it sees one registry literally named \"auths\" "+
				"and ignores %s inside it; every pull goes out anonymously (aws/amazon-ecs-agent#728). Remove the wrapper: run `berth ecs-auth --from FILE --to %s`",
			strings.Join(wrapped, ", "), authType)
	}
	switch authType {
	case TypeDockercfg:
		var m map[string]dockercfgEntry
		if err := json.Unmarshal(data, &m); err != nil {
			diag(SevError, "", "not valid %s JSON (%v); the agent logs \"Could not parse 'dockercfg' type auth config\" and uses no credentials at all. The value must be one JSON object on one line: {\"HOST\":{\"auth\":\"BASE64(user:password)\"}}", authType, jsonErr(err))
			return a
		}
		for _, k := range sortedKeys(m) {
			v := m[k]
			e := Entry{RawKey: k, Key: stripScheme(k), Email: v.Email}
			raw, err := base64.StdEncoding.DecodeString(v.Auth)
			switch {
			case err != nil:
				diag(SevError, k, "\"auth\" is not valid standard base64 (%v); the agent skips this entry (\"Malformed auth data for registry %s\")", err, k)
			default:
				user, pass, ok := strings.Cut(string(raw), ":")
				if !ok {
					if k != "auths" {
						diag(SevError, k, "\"auth\" does not decode to user:password (no ':'); the agent skips this entry (\"Malformed auth data for registry %s; must contain ':'\")", k)
					}
					break
				}
				e.Username, e.Password, e.Usable = user, pass, true
				if user == "" {
					diag(SevWarning, k, "\"auth\" decodes to an empty username; the registry will most likely reject it")
				}
			}
			a.Entries = append(a.Entries, e)
		}
	case TypeDocker:
		var m map[string]dockerEntry
		if err := json.Unmarshal(data, &m); err != nil {
			diag(SevError, "", "not valid %s JSON (%v); the agent logs \"Could not parse 'docker' type auth config\" and uses no credentials at all. The value must be one JSON object on one line: {\"HOST\":{\"username\":\"U\",\"password\":\"P\"}}", authType, jsonErr(err))
			return a
		}
		for _, k := range sortedKeys(m) {
			v := m[k]
			e := Entry{RawKey: k, Key: stripScheme(k), Username: v.Username, Password: v.Password, Email: v.Email}
			switch {
			case k == "auths":
			case v.Username == "" && v.Password == "" && v.Auth != "":
				diag(SevError, k, "has only \"auth\"; for type docker the agent hands username/password to the Docker daemon, which does not decode \"auth\". Set \"username\" and \"password\", or switch to %s=dockercfg", VarAuthType)
			case v.Username == "" && v.Password == "" && v.IdentityToken == "" && v.RegistryToken == "":
				diag(SevError, k, "has no username/password; the agent will pull anonymously from this registry")
			default:
				e.Usable = true
				if v.Username == "" && v.IdentityToken == "" && v.RegistryToken == "" {
					diag(SevWarning, k, "has a password but an empty username")
				}
			}
			a.Entries = append(a.Entries, e)
		}
	}
	sort.Slice(a.Entries, func(i, j int) bool { return a.Entries[i].RawKey < a.Entries[j].RawKey })
	a.checkKeys(diag)
	return a
}

func (a *Auth) checkKeys(diag func(Severity, string, string, ...any)) {
	seen := map[string]string{}
	for _, e := range a.Entries {
		if e.RawKey == "auths" {
			continue
		}
		if prev, dup := seen[e.Key]; dup {
			diag(SevError, e.RawKey, "collides with %q: both become %q once the agent strips the scheme, and which one survives is random", prev, e.Key)
		}
		seen[e.Key] = e.RawKey
		host, path, _ := strings.Cut(e.Key, "/")
		switch {
		case e.Key == agentHubKey:
		case isHubHost(host):
			diag(SevError, e.RawKey, "Docker Hub credentials must use the key \"https://index.docker.io/v1/\" exactly; the agent never looks up %q, so Hub pulls stay anonymous", e.RawKey)
		case strings.Contains(e.RawKey, "://") && !strings.HasPrefix(e.RawKey, "http://") && !strings.HasPrefix(e.RawKey, "https://"):
			diag(SevError, e.RawKey, "only http:// and https:// are stripped from keys; this key can never match an image host")
		case host != strings.ToLower(host):
			diag(SevWarning, e.RawKey, "upper-case letters in the host: the agent compares hosts byte for byte and image hosts are lower case")
		case path == "" && strings.HasSuffix(e.Key, "/"):
			// "host/" still matches host by its first component.
		case path != "":
			diag(SevInfo, e.RawKey, "path-scoped key: used only for images whose name starts with %q, unless no other key exists for %s (see matching rules)", e.Key, host)
		}
	}
}

// authsWrapper returns the registries found inside a top-level "auths"
// member, or nil when there is none.
func authsWrapper(data []byte) []string {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return nil
	}
	var inner map[string]json.RawMessage
	for k, v := range top {
		if strings.EqualFold(k, "auths") && json.Unmarshal(v, &inner) == nil {
			names := make([]string, 0, len(inner))
			for n := range inner {
				names = append(names, fmt.Sprintf("%q", n))
			}
			sort.Strings(names)
			if len(names) == 0 {
				return []string{"nothing"}
			}
			return names
		}
	}
	return nil
}

func stripScheme(k string) string {
	if s, ok := strings.CutPrefix(k, "http://"); ok {
		return s
	}
	s, _ := strings.CutPrefix(k, "https://")
	return s
}

func isHubHost(h string) bool {
	switch strings.ToLower(h) {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return true
	}
	return false
}

func jsonErr(err error) string {
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	}
	return err.Error()
}

// HasErrors reports whether any diagnostic is an error.
func HasErrors(ds []Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == SevError {
			return true
		}
	}
	return false
}
