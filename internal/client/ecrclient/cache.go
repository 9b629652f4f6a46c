package ecrclient

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-dev/berth/internal/client/dockercfg"
)

// CacheFileName is the token cache inside the cache directory.
const CacheFileName = "tokens.json"

const cacheVersion = "1"

// maxCacheSize bounds the cache file read; a few hundred registries fit in
// well under a MiB.
const maxCacheSize = 4 << 20

// CacheEntry is one cached authorization token. The file holds live registry
// passwords, hence 0600.
type CacheEntry struct {
	AuthorizationToken string    `json:"authorizationToken"`
	RequestedAt        time.Time `json:"requestedAt"`
	ExpiresAt          time.Time `json:"expiresAt"`
	ProxyEndpoint      string    `json:"proxyEndpoint,omitempty"`
	Region             string    `json:"region"`
	APIEndpoint        string    `json:"apiEndpoint,omitempty"`
}

// FreshUntil is the moment the entry should be refreshed: half its lifetime,
// as amazon-ecr-credential-helper and the kubelet ECR provider do (≈6 h of a
// 12 h token).
func (e CacheEntry) FreshUntil() time.Time {
	return e.ExpiresAt.Add(-e.ExpiresAt.Sub(e.RequestedAt) / 2)
}

type cacheFile struct {
	Version    string                `json:"version"`
	Registries map[string]CacheEntry `json:"registries"`
}

// Cache is the on-disk token cache. A zero Path disables it.
type Cache struct {
	Path string
}

// DefaultCacheDir is $BERTH_CACHE_DIR, else ${XDG_CACHE_HOME:-$HOME/.cache}/berth;
// "" (no file cache) when no home directory is known, e.g. under a systemd
// unit without HOME, rather than a path relative to the working directory.
func DefaultCacheDir(getenv func(string) string) string {
	if d := getenv("BERTH_CACHE_DIR"); d != "" {
		return d
	}
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "berth")
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".cache", "berth")
}

// CacheKey builds the key: region, base64 SHA-256 of the access key id (so a
// credential switch never reuses another identity's token, and the id itself
// is not stored), registry id, and — for non-AWS endpoints — the endpoint, so
// two berth servers using the same account ids do not collide.
func CacheKey(region, accessKeyID, registry, apiEndpoint string) string {
	sum := sha256.Sum256([]byte(accessKeyID))
	k := region + "-" + base64.StdEncoding.EncodeToString(sum[:]) + "-" + registry
	if apiEndpoint != "" {
		k += "@" + apiEndpoint
	}
	return k
}

// Load reads all entries. A missing file is an empty cache; a corrupt file is
// reported so the caller can say which file to delete.
func (c Cache) Load() (map[string]CacheEntry, error) {
	if c.Path == "" {
		return map[string]CacheEntry{}, nil
	}
	f, err := os.Open(c.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]CacheEntry{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCacheSize))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", c.Path, err)
	}
	var cf cacheFile
	if err := json.Unmarshal(data, &cf); err != nil {
		return nil, fmt.Errorf("token cache %s is corrupt (delete it): %w", c.Path, err)
	}
	if cf.Registries == nil {
		cf.Registries = map[string]CacheEntry{}
	}
	return cf.Registries, nil
}

// Get returns one entry.
func (c Cache) Get(key string) (CacheEntry, bool, error) {
	all, err := c.Load()
	if err != nil {
		return CacheEntry{}, false, err
	}
	e, ok := all[key]
	return e, ok, nil
}

// Put stores one entry (read-modify-write through temp+rename; concurrent
// writers can lose each other's entry, which only costs a token refresh) and
// drops entries that expired before now.
func (c Cache) Put(key string, e CacheEntry, now time.Time) error {
	if c.Path == "" {
		return nil
	}
	all, err := c.Load()
	if err != nil {
		all = map[string]CacheEntry{} // corrupt file: start over rather than fail the pull
	}
	for k, old := range all {
		if !old.ExpiresAt.After(now) {
			delete(all, k)
		}
	}
	all[key] = e
	return c.write(all)
}

// Delete removes one entry (forced refresh, `erase`).
func (c Cache) Delete(key string) error {
	if c.Path == "" {
		return nil
	}
	all, err := c.Load()
	if err != nil {
		return err
	}
	if _, ok := all[key]; !ok {
		return nil
	}
	delete(all, key)
	return c.write(all)
}

func (c Cache) write(all map[string]CacheEntry) error {
	data, err := json.MarshalIndent(cacheFile{Version: cacheVersion, Registries: all}, "", "  ")
	if err != nil {
		return err
	}
	return dockercfg.WriteFileAtomic(c.Path, append(data, '\n'))
}

// Hosts returns the registry hosts (from proxyEndpoint) of entries still
// valid at now.
func (c Cache) Hosts(now time.Time) []string {
	all, err := c.Load()
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range all {
		if e.ProxyEndpoint != "" && e.ExpiresAt.After(now) {
			out = append(out, dockercfg.HostOf(e.ProxyEndpoint))
		}
	}
	return out
}
