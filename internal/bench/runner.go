package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// opFunc performs one operation for worker w and returns the payload bytes
// it moved.
type opFunc func(ctx context.Context, w int) (int64, error)

// loop runs op on conc workers until the duration has passed or maxOps
// operations have started, whichever comes first. Operations in flight at
// the deadline are allowed to finish (so throughput counts only whole
// transfers, commit included) but are cancelled at a hard limit of
// 3×duration + 1 minute.
//
// A streaming loop (downloads) instead cancels what is in flight at the
// deadline and counts the bytes that ops reported to b.streamed while they
// ran: with a few multi-second transfers per client, waiting for the
// stragglers would leave clients idle and understate the server.
func (b *bencher) loop(ctx context.Context, name, mode string, conc int, maxOps int64, stream bool, op opFunc) ScenarioResult {
	dur := b.cfg.Duration
	limit := 3*dur + time.Minute
	if stream {
		limit = dur
	}
	hctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	streamed0 := b.streamed.Load()
	var (
		started, done, errs, nbytes atomic.Int64
		firstErr                    atomic.Value
		lastEnd                     atomic.Int64 // ns since start
		wg                          sync.WaitGroup
	)
	reqs0 := b.requests.Load()
	lat := make([][]time.Duration, conc)
	start := time.Now()
	deadline := start.Add(dur)
	stopProgress := b.progress(name, mode, start, &done, &nbytes, &errs)
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for hctx.Err() == nil && time.Now().Before(deadline) && started.Add(1) <= maxOps {
				t0 := time.Now()
				n, err := op(hctx, w)
				end := time.Now()
				if err != nil {
					if hctx.Err() != nil {
						return // cut off by the hard limit; not a server failure
					}
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					// A failing server answers fast: pause so that a
					// misconfigured run does not turn into a request flood.
					select {
					case <-hctx.Done():
					case <-time.After(10 * time.Millisecond):
					}
					continue
				}
				lat[w] = append(lat[w], end.Sub(t0))
				done.Add(1)
				nbytes.Add(n)
				for e := int64(end.Sub(start)); ; {
					prev := lastEnd.Load()
					if e <= prev || lastEnd.CompareAndSwap(prev, e) {
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	stopProgress()
	elapsed := time.Duration(lastEnd.Load())
	if elapsed <= 0 || stream {
		elapsed = time.Since(start)
	}
	if stream {
		nbytes.Store(b.streamed.Load() - streamed0)
	}
	r := ScenarioResult{
		Name: name, Mode: mode, Concurrency: conc,
		Ops: done.Load(), Errors: errs.Load(), Bytes: nbytes.Load(),
		Requests: b.requests.Load() - reqs0,
		Seconds:  elapsed.Seconds(),
	}
	if fe, ok := firstErr.Load().(string); ok {
		r.FirstError = fe
	}
	if r.Seconds > 0 {
		r.OpsPerSec = float64(r.Ops) / r.Seconds
		r.MiBPerSec = float64(r.Bytes) / (1 << 20) / r.Seconds
	}
	r.P50Ms, r.P99Ms, r.MaxMs = percentiles(slices.Concat(lat...))
	fmt.Fprintf(b.cfg.Progress, "%s: %d ops, %d errors in %.2fs: %.1f ops/s, %.1f MiB/s, p50 %.3f ms, p99 %.3f ms\n",
		label(name, mode), r.Ops, r.Errors, r.Seconds, r.OpsPerSec, r.MiBPerSec, r.P50Ms, r.P99Ms)
	return r
}

func label(name, mode string) string {
	if mode == "" {
		return name
	}
	return name + "/" + mode
}

// percentiles returns p50, p99 and max in milliseconds (nearest rank).
func percentiles(d []time.Duration) (p50, p99, mx float64) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	slices.Sort(d)
	at := func(q float64) float64 {
		i := int(q*float64(len(d))+0.5) - 1
		i = min(max(i, 0), len(d)-1)
		return float64(d[i]) / float64(time.Millisecond)
	}
	return at(0.50), at(0.99), float64(d[len(d)-1]) / float64(time.Millisecond)
}

// progress prints one line per second until the returned func is called.
func (b *bencher) progress(name, mode string, start time.Time, done, nbytes, errs *atomic.Int64) func() {
	if b.cfg.Progress == io.Discard {
		return func() {}
	}
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				s := now.Sub(start).Seconds()
				fmt.Fprintf(b.cfg.Progress, "  %s %5.1fs  %d ops (%.0f/s)  %.1f MiB/s  %d errors\n",
					label(name, mode), s, done.Load(), float64(done.Load())/s, float64(nbytes.Load())/(1<<20)/s, errs.Load())
			}
		}
	}()
	return func() { close(stop); <-finished }
}
