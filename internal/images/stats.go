package images

import (
	"context"
	"time"
)

// CacheStats are the manifest cache's counters since start, and its size now.
type CacheStats struct {
	Hits, Misses uint64
	Entries      int
	Bytes        int64
}

// ManifestCacheStats reads the cache counters (for metrics).
func (s *Service) ManifestCacheStats() CacheStats {
	c := s.cache
	c.mu.RLock()
	entries, bytes := c.entries, c.bytes
	c.mu.RUnlock()
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Entries: entries, Bytes: bytes}
}

// ActiveUploads counts upload sessions not yet committed or cancelled,
// across every node sharing the store.
func (s *Service) ActiveUploads(ctx context.Context) (int, error) {
	ids, err := s.blobs.Uploads().List(ctx, time.Now().Add(time.Hour))
	return len(ids), err
}
