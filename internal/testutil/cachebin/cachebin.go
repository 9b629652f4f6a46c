// Package cachebin finds the test servers scripts/install-deps.sh builds
// into the berth cache (${BERTH_CACHE_DIR:-~/.cache/berth}/bin).
package cachebin

import (
	"fmt"
	"os"
	"path/filepath"
)

// Find returns $envVar when set, else the cached binary name, or an error
// that says how to get it.
func Find(envVar, name string) (string, error) {
	if p := os.Getenv(envVar); p != "" {
		return p, nil
	}
	cache := os.Getenv("BERTH_CACHE_DIR")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		cache = filepath.Join(home, ".cache", "berth")
	}
	p := filepath.Join(cache, "bin", name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s not found (run scripts/install-deps.sh): %w", name, err)
	}
	return p, nil
}
