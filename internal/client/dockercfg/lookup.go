package dockercfg

import (
	"os/exec"
	"runtime"
	"sort"

	"github.com/berth-dev/berth/internal/client/editdist"
)

// Source names where Docker would take a registry's credentials from.
type Source string

const (
	SourceNone          Source = "none"
	SourceEnv           Source = "DOCKER_AUTH_CONFIG"
	SourceCredHelper    Source = "credHelpers"
	SourceCredsStore    Source = "credsStore"
	SourceImplicitStore Source = "implicit credsStore"
	SourceAuthsExact    Source = "auths (exact key)"
	SourceAuthsHostname Source = "auths (normalized key)"
)

// Match is the answer of Lookup: which source Docker would use for a host,
// under which key, and (for file sources) the entry.
type Match struct {
	Source Source
	// Key is the config key that matched (for helpers: the key passed to the
	// helper on `get`).
	Key string
	// Helper is the credential-helper suffix (docker-credential-<Helper>)
	// for helper sources.
	Helper string
	Entry  AuthEntry
	// Closest is, when nothing matched, the auths/credHelpers key most like
	// the host (same hostname with another port, or a near spelling).
	Closest string
}

// HelperBinary is the executable Docker runs for a helper suffix.
func HelperBinary(suffix string) string { return "docker-credential-" + suffix }

// Lookup reports the credential source the Docker CLI would use for host
// (an image-reference domain or a login argument), in Docker's order:
// DOCKER_AUTH_CONFIG → credHelpers[key] → credsStore (explicit, then
// ImplicitStore) → auths[key] → any auths key with the same host[:port].
// implicitStore is the platform default helper Docker would pick when
// credsStore is empty (see DetectImplicitStore); pass "" to ignore it.
func (c *Config) Lookup(host, implicitStore string) Match {
	key := NormalizeKey(host)
	if e, k, ok := findAuth(c.EnvAuths, key); ok {
		return Match{Source: SourceEnv, Key: k, Entry: e}
	}
	if h, ok := c.CredHelpers[key]; ok && h != "" {
		return Match{Source: SourceCredHelper, Key: key, Helper: h}
	}
	if c.CredsStore != "" {
		return Match{Source: SourceCredsStore, Key: key, Helper: c.CredsStore}
	}
	if implicitStore != "" {
		return Match{Source: SourceImplicitStore, Key: key, Helper: implicitStore}
	}
	if e, ok := c.Auths[key]; ok {
		return Match{Source: SourceAuthsExact, Key: key, Entry: e}
	}
	if e, k, ok := findAuth(c.Auths, key); ok {
		return Match{Source: SourceAuthsHostname, Key: k, Entry: e}
	}
	return Match{Source: SourceNone, Key: key, Closest: c.closestKey(key)}
}

// findAuth does the file store's lookup: exact key, then the first key (in
// sorted order, for determinism) whose host[:port] form equals key's.
func findAuth(auths map[string]AuthEntry, key string) (AuthEntry, string, bool) {
	if e, ok := auths[key]; ok {
		return e, key, true
	}
	want := HostOf(key)
	keys := make([]string, 0, len(auths))
	for k := range auths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if HostOf(k) == want {
			return auths[k], k, true
		}
	}
	return AuthEntry{}, "", false
}

func (c *Config) closestKey(key string) string {
	var cands []string
	for k := range c.Auths {
		cands = append(cands, k)
	}
	for k := range c.CredHelpers {
		cands = append(cands, k)
	}
	sort.Strings(cands)
	want := Hostname(key)
	for _, k := range cands {
		if Hostname(k) == want {
			return k
		}
	}
	best, bestD := "", len(key)/3+1
	for _, k := range cands {
		if d := editdist.Levenshtein(HostOf(k), HostOf(key)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// LookPath finds an executable; exec.LookPath in production.
type LookPath func(string) (string, error)

// DetectImplicitStore returns the helper the Docker CLI silently uses when
// credsStore is empty: on Linux `pass` if both docker-credential-pass and the
// pass tool exist, else `secretservice` if its helper exists; osxkeychain on
// macOS; wincred on Windows. "" when none applies.
func DetectImplicitStore(goos string, lookPath LookPath) string {
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	if goos == "" {
		goos = runtime.GOOS
	}
	has := func(name string) bool { _, err := lookPath(name); return err == nil }
	switch goos {
	case "linux":
		if has(HelperBinary("pass")) && has("pass") {
			return "pass"
		}
		if has(HelperBinary("secretservice")) {
			return "secretservice"
		}
	case "darwin":
		if has(HelperBinary("osxkeychain")) {
			return "osxkeychain"
		}
	case "windows":
		if has(HelperBinary("wincred")) {
			return "wincred"
		}
	}
	return ""
}
