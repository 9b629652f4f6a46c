package pullthrough

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/opencontainers/go-digest"
)

// flight is one upstream fetch of one blob, shared by every request that
// wants the blob while it runs. The bytes go to an unlinked spool file
// while they are hashed; readers follow the write offset, so each waiter
// streams the blob as it arrives, and a reader that goes away changes
// nothing for the fetch or the others. Only after the digest checks out do
// readers see EOF and is the blob committed to storage; a failed fetch
// ends every reader with an error, never a short blob that looks whole.
type flight struct {
	dg   digest.Digest
	size int64 // expected size, -1 unknown

	mu      sync.Mutex
	spool   *os.File
	written int64
	done    bool
	err     error
	changed chan struct{} // closed and replaced whenever written/done change
	refs    int           // open readers + the fetch itself
	stored  chan struct{} // closed once the blob is committed (or failed)

	// started is closed once the upstream answered: size is known (or
	// startErr says why there is nothing to read). storeErr is final when
	// stored is closed.
	started  chan struct{}
	startErr error
	storeErr error
}

func newFlight(dir string, dg digest.Digest, size int64) (*flight, error) {
	f, err := os.CreateTemp(dir, "fetch-*")
	if err != nil {
		return nil, fmt.Errorf("pull-through spool: %w", err)
	}
	// Unlinked at once: nothing to clean up after a crash, and the open
	// descriptors keep the data for as long as someone reads it.
	_ = os.Remove(f.Name())
	return &flight{dg: dg, size: size, spool: f, changed: make(chan struct{}), refs: 1, stored: make(chan struct{}), started: make(chan struct{})}, nil
}

// Write appends fetched bytes (the fetch is the only writer).
func (f *flight) Write(p []byte) (int, error) {
	n, err := f.spool.WriteAt(p, f.written)
	f.mu.Lock()
	f.written += int64(n)
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
	return n, err
}

// finish ends the fetch: err nil means the content is verified.
func (f *flight) finish(err error) {
	f.mu.Lock()
	f.done, f.err = true, err
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
	f.release()
}

// retain keeps the spool open for one more user.
func (f *flight) retain() {
	f.mu.Lock()
	f.refs++
	f.mu.Unlock()
}

func (f *flight) release() {
	f.mu.Lock()
	f.refs--
	last := f.refs == 0
	f.mu.Unlock()
	if last {
		_ = f.spool.Close()
	}
}

// reader returns a reader of the blob from the start; nil when the spool
// is already gone (fetch over, no reader left: the blob is in storage or
// the fetch failed).
func (f *flight) reader(ctx context.Context) *flightReader {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refs == 0 {
		return nil
	}
	f.refs++
	return &flightReader{f: f, ctx: ctx}
}

// contents is the whole verified spool, for committing it to storage.
func (f *flight) contents() io.Reader { return io.NewSectionReader(f.spool, 0, f.written) }

type flightReader struct {
	f      *flight
	ctx    context.Context
	off    int64
	closed bool
}

var errReaderClosed = errors.New("pull-through: reader closed")

func (r *flightReader) Read(p []byte) (int, error) {
	if r.closed {
		return 0, errReaderClosed
	}
	for {
		r.f.mu.Lock()
		written, done, err, changed := r.f.written, r.f.done, r.f.err, r.f.changed
		r.f.mu.Unlock()
		if r.off < written {
			n := int64(len(p))
			if avail := written - r.off; n > avail {
				n = avail
			}
			m, rerr := r.f.spool.ReadAt(p[:n], r.off)
			r.off += int64(m)
			if rerr == io.EOF {
				rerr = nil
			}
			return m, rerr
		}
		if done {
			if err != nil {
				return 0, err
			}
			return 0, io.EOF
		}
		select {
		case <-changed:
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
}

func (r *flightReader) Close() error {
	if !r.closed {
		r.closed = true
		r.f.release()
	}
	return nil
}

// verifier hashes what passes through and checks digest and size at the end.
type verifier struct {
	dg   digest.Digest
	v    digest.Verifier
	n    int64
	size int64
}

func newVerifier(dg digest.Digest, size int64) *verifier {
	return &verifier{dg: dg, v: dg.Verifier(), size: size}
}

func (v *verifier) Write(p []byte) (int, error) {
	v.n += int64(len(p))
	return v.v.Write(p)
}

func (v *verifier) check() error {
	if v.size >= 0 && v.n != v.size {
		return fmt.Errorf("upstream sent %d bytes of blob %s, expected %d", v.n, v.dg, v.size)
	}
	if !v.v.Verified() {
		return fmt.Errorf("upstream content of blob %s does not match its digest", v.dg)
	}
	return nil
}
