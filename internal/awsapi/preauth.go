package awsapi

import (
	"context"
	"sync"
	"time"
)

// Defaults for what a request may cost before it is authenticated. The body
// of an AWS API call must be read to verify its signature (SDKs sign the
// payload hash without sending it), so unauthenticated bytes are bounded per
// request (protocol.MaxJSONBody, declared Content-Length first), in total
// (the budget) and in time (the body read deadline).
const (
	DefaultPreAuthBudget      = 64 << 20
	DefaultPreAuthReadTimeout = 30 * time.Second
	// maxUndeclaredBody caps a body sent without Content-Length, which
	// cannot reserve its size up front; SDKs always declare it.
	maxUndeclaredBody = 64 << 10
)

// byteBudget is a weighted semaphore over bytes of not-yet-authenticated bodies.
type byteBudget struct {
	mu    sync.Mutex
	total int64
	used  int64
	freed chan struct{} // closed and replaced on every release
}

func newByteBudget(total int64) *byteBudget {
	return &byteBudget{total: total, freed: make(chan struct{})}
}

// acquire reserves n bytes, waiting until ctx ends; it reports false then.
func (b *byteBudget) acquire(ctx context.Context, n int64) bool {
	if n > b.total {
		return false
	}
	for {
		b.mu.Lock()
		if b.used+n <= b.total {
			b.used += n
			b.mu.Unlock()
			return true
		}
		wait := b.freed
		b.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return false
		}
	}
}

func (b *byteBudget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

func (b *byteBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// SetPreAuthLimits replaces the total pre-authentication body budget and the
// body read deadline. Call before serving.
func (rt *Router) SetPreAuthLimits(total int64, readTimeout time.Duration) {
	rt.preAuth = newByteBudget(total)
	rt.bodyTimeout = readTimeout
}
