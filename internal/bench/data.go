package bench

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"sync"

	"github.com/opencontainers/go-digest"
)

// blockSize is the period of generated content. Each block starts with a
// header naming (seed, block index), so no two blocks of one blob are equal
// and no server can deduplicate below the blob level.
const blockSize = 1 << 20

// tailSize is the part of a blob that varies with the uniq counter. Pushes
// need a distinct digest each (a server that already has a blob may skip
// work), and hashing a whole 256 MiB blob per push would eat the client's
// CPU: the shared prefix is hashed once and its sha256 state reused.
const tailSize = 4096

// content generates deterministic pseudo-random blob bytes at memcpy speed.
type content struct {
	seed uint64
	base []byte // one block of random bytes, shared by every blob of this seed

	mu     sync.Mutex
	states map[int64][]byte // blob size → marshalled sha256 state after the shared prefix
}

func newContent(seed uint64) *content {
	base := make([]byte, blockSize)
	r := rand.New(rand.NewChaCha8(seedBytes(seed)))
	for i := 0; i < len(base); i += 8 {
		binary.LittleEndian.PutUint64(base[i:], r.Uint64())
	}
	return &content{seed: seed, base: base, states: map[int64][]byte{}}
}

func seedBytes(seed uint64) [32]byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	copy(s[8:], "berth bench content")
	return s
}

// prefixLen is how many leading bytes of a size-byte blob do not depend on uniq.
func prefixLen(size int64) int64 { return max(size-tailSize, 0) }

// fill copies the blob's bytes starting at off into p.
func (c *content) fill(p []byte, off, size int64, uniq uint64) int {
	start, n := off, 0
	for n < len(p) && off < size {
		var hdr [16]byte
		block := off / blockSize
		binary.LittleEndian.PutUint64(hdr[0:], c.seed)
		binary.LittleEndian.PutUint64(hdr[8:], uint64(block))
		within := off % blockSize
		end := min(int64(blockSize), size-block*blockSize)
		var m int
		if within < int64(len(hdr)) {
			m = copy(p[n:], hdr[within:min(int64(len(hdr)), end)])
		} else {
			m = copy(p[n:], c.base[within:end])
		}
		n += m
		off += int64(m)
	}
	// Eight bytes at the start of the tail carry uniq, so that every push
	// has its own digest.
	if uniq != 0 {
		var u [8]byte
		binary.LittleEndian.PutUint64(u[:], uniq)
		pl := prefixLen(size)
		for pos := max(pl, start); pos < min(pl+8, start+int64(n), size); pos++ {
			p[pos-start] ^= u[pos-pl]
		}
	}
	return n
}

// reader streams the blob of the given size and uniq counter.
func (c *content) reader(size int64, uniq uint64) *contentReader {
	return &contentReader{c: c, size: size, uniq: uniq}
}

// digest is the sha256 of the blob, computed from the cached prefix state.
func (c *content) digest(size int64, uniq uint64) (digest.Digest, error) {
	h, err := c.prefixHash(size)
	if err != nil {
		return "", err
	}
	pl := prefixLen(size)
	r := c.reader(size, uniq)
	r.off = pl
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return digest.NewDigestFromBytes(digest.SHA256, h.Sum(nil)), nil
}

func (c *content) prefixHash(size int64) (hash.Hash, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := sha256.New()
	if st, ok := c.states[size]; ok {
		if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(st); err != nil {
			return nil, fmt.Errorf("restore sha256 state: %w", err)
		}
		return h, nil
	}
	if _, err := io.Copy(h, io.LimitReader(c.reader(size, 0), prefixLen(size))); err != nil {
		return nil, err
	}
	st, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("save sha256 state: %w", err)
	}
	c.states[size] = st
	return h, nil
}

type contentReader struct {
	c    *content
	size int64
	uniq uint64
	off  int64
}

func (r *contentReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	n := r.c.fill(p, r.off, r.size, r.uniq)
	r.off += int64(n)
	return n, nil
}

// WriteBlob writes the fixture blob that the blob-pull scenario pulls (size
// bytes, seed and uniq fixed) to w and returns its digest, so a test server
// can be pre-seeded with it.
func WriteBlob(w io.Writer, size int64) (digest.Digest, error) {
	c := newContent(pullSeed)
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(w, h), c.reader(size, 0)); err != nil {
		return "", err
	}
	return digest.NewDigestFromBytes(digest.SHA256, h.Sum(nil)), nil
}
