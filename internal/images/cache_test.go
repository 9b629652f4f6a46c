package images

import (
	"sync"
	"testing"

	"github.com/berth-dev/berth/internal/storage"
)

func TestManifestCache(t *testing.T) {
	k := storage.RepoKey{Account: "111111111111", Region: "us-east-1", Name: "app"}
	other := storage.RepoKey{Account: "111111111111", Region: "us-east-1", Name: "other"}
	m := &storage.Manifest{Payload: []byte("{}")}
	tests := []struct {
		name string
		run  func(c *manifestCache) *storage.Manifest
		want bool
	}{
		{"hit after put", func(c *manifestCache) *storage.Manifest {
			c.put(k, "v1", m, c.generation())
			return c.get(k, "v1")
		}, true},
		{"stale read is not cached", func(c *manifestCache) *storage.Manifest {
			g := c.generation() // reader starts its query
			c.invalidate(k)     // a write lands meanwhile
			c.put(k, "v1", m, g)
			return c.get(k, "v1")
		}, false},
		{"invalidate drops the repository", func(c *manifestCache) *storage.Manifest {
			c.put(k, "v1", m, c.generation())
			c.invalidate(k)
			return c.get(k, "v1")
		}, false},
		{"other repositories survive", func(c *manifestCache) *storage.Manifest {
			c.put(other, "v1", m, c.generation())
			c.invalidate(k)
			return c.get(other, "v1")
		}, true},
		{"oversized payloads are not cached", func(c *manifestCache) *storage.Manifest {
			c.put(k, "big", &storage.Manifest{Payload: make([]byte, maxCachedPayload+1)}, c.generation())
			return c.get(k, "big")
		}, false},
		{"disabled cache", func(*manifestCache) *storage.Manifest {
			c := newManifestCache(0, 0)
			c.put(k, "v1", m, c.generation())
			return c.get(k, "v1")
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.run(newManifestCache(100, 1<<20))
			if (got != nil) != tc.want {
				t.Fatalf("cached = %v, want %v", got != nil, tc.want)
			}
		})
	}
}

func TestManifestCacheBounds(t *testing.T) {
	c := newManifestCache(10, 1<<20)
	for i := range 100 {
		k := storage.RepoKey{Name: string(rune('a'+i%26)) + string(rune('a'+i/26))}
		c.put(k, "t", &storage.Manifest{Payload: []byte("x")}, c.generation())
		if c.entries > 10 {
			t.Fatalf("entries %d over the bound", c.entries)
		}
	}
}

func TestKeyedMutexSerialises(t *testing.T) {
	var km keyedMutex
	var wg sync.WaitGroup
	inside := 0
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock := km.lock("id")
			inside++
			if inside != 1 {
				t.Error("two holders at once")
			}
			inside--
			unlock()
		}()
	}
	wg.Wait()
	if len(km.m) != 0 {
		t.Fatalf("lock entries leak: %d", len(km.m))
	}
}
