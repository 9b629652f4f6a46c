package images

import (
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/berth-dev/berth/internal/storage"
)

// manifestCache keeps resolved manifests (by tag and by digest) so that the
// hot path, a manifest GET by tag, costs a map lookup instead of a database
// query. It is process-local: correct while every write goes through this
// process's Service (see Service). Entries are shared and read-only.
//
// Consistency: a reader records the generation before querying the store
// and inserts only if no write happened meanwhile; writers bump the
// generation and drop the repository's entries under the same lock. A
// reader can therefore never re-insert a value that a concurrent write made
// stale.
type manifestCache struct {
	mu         sync.RWMutex
	gen        uint64
	repos      map[storage.RepoKey]map[string]*storage.Manifest
	entries    int
	bytes      int64
	maxEntries int
	maxBytes   int64

	hits, misses atomic.Uint64
}

// Payloads larger than this are served from the store every time: they
// are rare and would crowd out the small manifests that make up the load.
const maxCachedPayload = 256 << 10

func newManifestCache(entries int, bytes int64) *manifestCache {
	return &manifestCache{repos: map[storage.RepoKey]map[string]*storage.Manifest{}, maxEntries: entries, maxBytes: bytes}
}

func (c *manifestCache) generation() uint64 {
	c.mu.RLock()
	g := c.gen
	c.mu.RUnlock()
	return g
}

func (c *manifestCache) get(k storage.RepoKey, ref string) *storage.Manifest {
	if c.maxEntries <= 0 {
		return nil
	}
	c.mu.RLock()
	m := c.repos[k][ref]
	c.mu.RUnlock()
	if m != nil {
		c.hits.Add(1)
	} else {
		c.misses.Add(1)
	}
	return m
}

func (c *manifestCache) put(k storage.RepoKey, ref string, m *storage.Manifest, gen uint64) {
	if c.maxEntries <= 0 || len(m.Payload) > maxCachedPayload {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	refs := c.repos[k]
	if refs == nil {
		refs = map[string]*storage.Manifest{}
		c.repos[k] = refs
	}
	if old, ok := refs[ref]; ok {
		c.entries--
		c.bytes -= int64(len(old.Payload))
	}
	refs[ref] = m
	c.entries++
	c.bytes += int64(len(m.Payload))
	// Evict whole repositories in map order (pseudo-random) until within
	// bounds; simple, and a busy repository refills on its next request.
	for rk, rm := range c.repos {
		if c.entries <= c.maxEntries && c.bytes <= c.maxBytes {
			break
		}
		c.dropLocked(rk, rm)
	}
}

func (c *manifestCache) invalidate(k storage.RepoKey) {
	c.mu.Lock()
	c.gen++
	if rm, ok := c.repos[k]; ok {
		c.dropLocked(k, rm)
	}
	c.mu.Unlock()
}

func (c *manifestCache) dropLocked(k storage.RepoKey, rm map[string]*storage.Manifest) {
	for _, m := range rm {
		c.entries--
		c.bytes -= int64(len(m.Payload))
	}
	delete(c.repos, k)
}

// keyedMutex serialises work per key (upload id) without a global lock held
// across I/O.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyedEntry{}
	}
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.refs++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		e.refs--
		if e.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}

// newUUID returns a random RFC 4122 version 4 UUID, the upload id format
// ECR's InitiateLayerUpload uses.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
