package dockercfg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// LegacyFileName is the pre-1.7 Docker credential file in $HOME. The current
// Docker CLI ignores it; containers/image, the ECS agent (dockercfg type),
// kubernetes.io/dockercfg secrets and EB AL1 platforms still read it.
const LegacyFileName = ".dockercfg"

// ErrAuthsWrapper reports a config.json-shaped {"auths":{…}} document where a
// flat .dockercfg map was expected. The ECS agent and EB AL1 read such a file
// as one registry literally named "auths" and end up with no credentials.
var ErrAuthsWrapper = errors.New(`data uses the config.json {"auths":…} wrapper; a .dockercfg must be a flat map of registry → {"auth":…}`)

// Format names the shape of a credential document.
type Format string

const (
	FormatEmpty      Format = "empty"       // whitespace or {}
	FormatConfigJSON Format = "config.json" // {"auths":…} and/or credHelpers/credsStore
	FormatLegacy     Format = "dockercfg"   // flat map registry → entry
	FormatInvalid    Format = "invalid"     // not a JSON object, or entries not objects
)

// configKeys are top-level keys only config.json has; their presence decides
// the format even when other keys look like registries.
func isConfigKey(k string) bool {
	switch k {
	case "auths", "credHelpers", "credsStore", "HttpHeaders", "psFormat", "imagesFormat",
		"detachKeys", "proxies", "currentContext", "plugins", "aliases", "features", "experimental", "stackOrchestrator":
		return true
	}
	return false
}

// DetectFormat tells config.json from legacy .dockercfg data.
func DetectFormat(data []byte) Format {
	if len(bytes.TrimSpace(data)) == 0 {
		return FormatEmpty
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return FormatInvalid
	}
	if len(top) == 0 {
		return FormatEmpty
	}
	for k := range top {
		if isConfigKey(k) {
			return FormatConfigJSON
		}
	}
	for _, v := range top {
		var e map[string]json.RawMessage
		if json.Unmarshal(v, &e) != nil || e == nil {
			return FormatInvalid
		}
	}
	return FormatLegacy
}

// ParseLegacy decodes a flat .dockercfg map. A document using the
// {"auths":…} wrapper is refused with ErrAuthsWrapper rather than read the
// way the ECS agent would (as a registry called "auths").
func ParseLegacy(data []byte) (map[string]AuthEntry, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return map[string]AuthEntry{}, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if top == nil {
		return nil, errors.New("top level is null, want a JSON object")
	}
	if _, ok := top["auths"]; ok {
		return nil, ErrAuthsWrapper
	}
	out := make(map[string]AuthEntry, len(top))
	for k, v := range top {
		var e AuthEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return nil, fmt.Errorf("registry %q: %w", k, err)
		}
		out[k] = e
	}
	return out, nil
}

// MarshalLegacy renders auths as a single-line flat .dockercfg (the form
// ECS_ENGINE_AUTH_DATA needs). Entries are folded to "auth"; email, when
// empty, is set to defaultEmail if that is non-empty (EB AL1 expects one).
func MarshalLegacy(auths map[string]AuthEntry, defaultEmail string) ([]byte, error) {
	keys := make([]string, 0, len(auths))
	for k := range auths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]AuthEntry, len(auths))
	for _, k := range keys {
		e := canonicalEntry(auths[k])
		if e.Email == "" {
			e.Email = defaultEmail
		}
		out[k] = e
	}
	return json.Marshal(out)
}

// ParseAny reads either format into a Config (legacy maps become Auths) and
// reports which format it was.
func ParseAny(data []byte) (*Config, Format, error) {
	f := DetectFormat(data)
	switch f {
	case FormatEmpty:
		return &Config{}, f, nil
	case FormatConfigJSON:
		c, err := Parse(data)
		return c, f, err
	case FormatLegacy:
		auths, err := ParseLegacy(data)
		if err != nil {
			return nil, f, err
		}
		return &Config{Auths: auths}, f, nil
	}
	// Produce the precise JSON error for the caller.
	if _, err := ParseLegacy(data); err != nil {
		return nil, f, err
	}
	return nil, f, errors.New("not a docker config.json or .dockercfg: every top-level value must be an object")
}
