package ecsauth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/berth-dev/berth/internal/client/dockercfg"
)

// Cred is one registry credential, independent of any file format.
type Cred struct {
	Key      string // registry key as found in the source
	Username string
	Password string
	Email    string
}

// Source formats ReadCreds recognises.
const (
	SourceECSConfig  = "ecs.config"
	SourceConfigJSON = "config.json"
	SourceDockercfg  = "dockercfg"
	SourceDocker     = "docker"
)

// ReadCreds extracts credentials from an ecs.config, a docker config.json,
// a legacy .dockercfg or a docker-type auth map, detected by content. It
// returns the detected format and diagnostics about entries it could not use.
func ReadCreds(data []byte, file string) (creds []Cred, format string, diags []Diagnostic, err error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, "", nil, fmt.Errorf("%s: file is empty", file)
	}
	if trimmed[0] != '{' {
		ef, err := ParseEnvFile(bytes.NewReader(data), file)
		if err != nil {
			return nil, "", nil, err
		}
		v, ok := ef.Vars[VarAuthData]
		if !ok {
			return nil, "", ef.Diags, fmt.Errorf("%s: neither JSON nor an ecs.config with %s", file, VarAuthData)
		}
		a := ParseAuth(ef.Vars[VarAuthType].Value, []byte(v.Value), file, v.Line)
		if authsWrapper([]byte(v.Value)) != nil {
			// The wrapper is what needs fixing: read what is inside it.
			inner, _, innerDiags, err := ReadCreds([]byte(v.Value), fmt.Sprintf("%s:%d", file, v.Line))
			if err != nil {
				return nil, "", nil, err
			}
			return inner, SourceECSConfig, append(append(ef.Diags, a.Diags...), innerDiags...), nil
		}
		for _, e := range a.Entries {
			if e.Usable {
				creds = append(creds, Cred{Key: e.RawKey, Username: e.Username, Password: e.Password, Email: e.Email})
			}
		}
		return creds, SourceECSConfig, append(ef.Diags, a.Diags...), nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		return nil, "", nil, fmt.Errorf("%s: not valid JSON: %s", file, jsonErr(err))
	}
	diag := func(sev Severity, reg, format string, args ...any) {
		diags = append(diags, Diagnostic{Severity: sev, File: file, Registry: reg, Message: fmt.Sprintf(format, args...)})
	}
	if rawAuths, ok := top["auths"]; ok {
		var cfg struct {
			Auths       map[string]json.RawMessage `json:"auths"`
			CredsStore  string                     `json:"credsStore"`
			CredHelpers map[string]string          `json:"credHelpers"`
		}
		if err := json.Unmarshal(trimmed, &cfg); err != nil {
			return nil, "", nil, fmt.Errorf("%s: \"auths\" is not an object of registries: %s", file, jsonErr(err))
		}
		_ = rawAuths
		for _, k := range sortedKeys(cfg.Auths) {
			c, ok := decodeEntry(cfg.Auths[k], k, diag)
			if !ok {
				switch {
				case cfg.CredHelpers[k] != "":
					diag(SevError, k, "the secret lives in credential helper docker-credential-%s (credHelpers), not in this file; export it first: `docker-credential-%s get <<< %s`, or log in with a config that has no helpers", cfg.CredHelpers[k], cfg.CredHelpers[k], k)
				case cfg.CredsStore != "":
					diag(SevError, k, "the secret lives in credential store docker-credential-%s (credsStore), not in this file; log in again with DOCKER_CONFIG pointing at an empty directory so docker writes it inline", cfg.CredsStore)
				}
				continue
			}
			creds = append(creds, c)
		}
		if cfg.CredsStore != "" {
			diag(SevWarning, "", "credsStore %q: nothing stored in that helper can be converted", cfg.CredsStore)
		}
		for _, h := range sortedKeys(cfg.CredHelpers) {
			if _, inline := cfg.Auths[h]; !inline {
				diag(SevWarning, h, "uses credential helper docker-credential-%s; not converted", cfg.CredHelpers[h])
			}
		}
		return creds, SourceConfigJSON, diags, nil
	}
	format = SourceDockercfg
	for _, k := range sortedKeys(top) {
		var probe map[string]json.RawMessage
		if json.Unmarshal(top[k], &probe) == nil {
			if _, hasAuth := probe["auth"]; !hasAuth {
				if _, hasUser := probe["username"]; hasUser {
					format = SourceDocker
				}
			}
		}
		c, ok := decodeEntry(top[k], k, diag)
		if ok {
			creds = append(creds, c)
		}
	}
	return creds, format, diags, nil
}

func decodeEntry(raw json.RawMessage, key string, diag func(Severity, string, string, ...any)) (Cred, bool) {
	var e dockercfg.AuthEntry
	if err := json.Unmarshal(raw, &e); err != nil {
		diag(SevError, key, "entry is not a JSON object: %s", jsonErr(err))
		return Cred{}, false
	}
	if e.Empty() {
		diag(SevError, key, "entry has no credentials ({} means docker stored the secret in a credential helper)")
		return Cred{}, false
	}
	if e.Auth == "" && e.Username == "" && (e.IdentityToken != "" || e.RegistryToken != "") {
		diag(SevError, key, "entry holds only an identity/registry token, which neither ECS format can carry")
		return Cred{}, false
	}
	user, pass, err := e.Credentials()
	if err != nil {
		diag(SevError, key, "%v", err)
		return Cred{}, false
	}
	return Cred{Key: key, Username: user, Password: pass, Email: e.Email}, true
}

// ecsKey is the key to write for the agent: Docker Hub spelled the only way
// the agent finds it, everything else without a scheme.
func ecsKey(k string) string {
	s := stripScheme(strings.TrimSpace(k))
	host, _, _ := strings.Cut(s, "/")
	if isHubHost(host) {
		return dockercfg.HubKey
	}
	return strings.TrimSuffix(s, "/")
}

// ToECS renders creds as a two-line ecs.config snippet for authType
// (dockercfg or docker). The JSON is compact and on one line, as ecs-init
// requires; no quoting is added because ecs-init keeps quotes verbatim.
func ToECS(authType string, creds []Cred) (string, []Diagnostic, error) {
	var diags []Diagnostic
	out := map[string]map[string]string{}
	from := map[string]string{}
	for _, c := range creds {
		k := ecsKey(c.Key)
		if prev, dup := from[k]; dup {
			diags = append(diags, Diagnostic{Severity: SevWarning, Registry: c.Key, Message: fmt.Sprintf("same registry as %q once normalised to %q; keeping %q", prev, k, prev)})
			continue
		}
		from[k] = c.Key
		if k != c.Key && stripScheme(c.Key) != k {
			diags = append(diags, Diagnostic{Severity: SevInfo, Registry: c.Key, Message: fmt.Sprintf("written as %q, the key the agent looks up", k)})
		}
		v := map[string]string{}
		switch authType {
		case TypeDockercfg:
			v["auth"] = dockercfg.EncodeAuth(c.Username, c.Password)
		case TypeDocker:
			v["username"], v["password"] = c.Username, c.Password
		default:
			return "", nil, fmt.Errorf("unknown ECS auth type %q (want dockercfg or docker)", authType)
		}
		if c.Email != "" {
			v["email"] = c.Email
		}
		out[k] = v
	}
	data, err := marshalCompact(out)
	if err != nil {
		return "", nil, err
	}
	return VarAuthType + "=" + authType + "\n" + VarAuthData + "=" + string(data) + "\n", diags, nil
}

// ToConfigJSON renders creds as a docker config.json. Docker keys by host
// only, so path-scoped ECS keys collapse onto their host.
func ToConfigJSON(creds []Cred) ([]byte, []Diagnostic, error) {
	var diags []Diagnostic
	auths := map[string]map[string]string{}
	from := map[string]string{}
	for _, c := range creds {
		k := dockercfg.NormalizeKey(stripScheme(c.Key))
		if _, path, _ := strings.Cut(stripScheme(c.Key), "/"); path != "" && k != dockercfg.HubKey {
			diags = append(diags, Diagnostic{Severity: SevWarning, Registry: c.Key, Message: fmt.Sprintf("docker has no path-scoped credentials; this entry applies to all of %s", k)})
		}
		if prev, dup := from[k]; dup {
			diags = append(diags, Diagnostic{Severity: SevWarning, Registry: c.Key, Message: fmt.Sprintf("same docker key %q as %q; keeping %q", k, prev, prev)})
			continue
		}
		from[k] = c.Key
		auths[k] = map[string]string{"auth": dockercfg.EncodeAuth(c.Username, c.Password)}
	}
	data, err := json.MarshalIndent(map[string]any{"auths": auths}, "", "\t")
	if err != nil {
		return nil, nil, err
	}
	return append(data, '\n'), diags, nil
}

// marshalCompact encodes without HTML escaping so passwords with <, > or &
// stay readable; encoding/json sorts map keys, keeping output stable.
func marshalCompact(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
