package fsblob

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/storage"
	"github.com/berth-dev/berth/internal/storage/storagetest"
)

func TestConformance(t *testing.T) {
	base := t.TempDir()
	storagetest.RunBlobStore(t, func(t *testing.T, ns string) storage.BlobStore {
		s, err := New(filepath.Join(base, ns))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func newStore(t testing.TB) *Store {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A crash after data was written but before the state file was replaced
// leaves extra bytes in "data"; Resume must cut them off.
func TestResumeTruncatesUndurableTail(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	u, err := s.Uploads().Create(ctx, "crash")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Append(ctx, strings.NewReader("durable")); err != nil {
		t.Fatal(err)
	}
	u.Close()
	f, err := os.OpenFile(filepath.Join(s.Root(), "uploads", "crash", "data"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("-torn-write"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// A state temp file of the interrupted rename, which New must sweep.
	stray := filepath.Join(s.Root(), "uploads", "crash", "state"+tmpMarker+"x")
	if err := os.WriteFile(stray, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}

	s2, err := New(s.Root())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Fatalf("stray temp file survived New: %v", err)
	}
	u2, err := s2.Uploads().Resume(ctx, "crash")
	if err != nil {
		t.Fatal(err)
	}
	defer u2.Close()
	if u2.Size() != int64(len("durable")) {
		t.Fatalf("resumed size %d", u2.Size())
	}
	if _, err := u2.Append(ctx, strings.NewReader("+more")); err != nil {
		t.Fatal(err)
	}
	d := digest.FromString("durable+more")
	if _, err := u2.Commit(ctx, d, -1); err != nil {
		t.Fatal(err)
	}
	b, err := s2.Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, _ := io.ReadAll(b)
	if string(got) != "durable+more" {
		t.Fatalf("blob = %q", got)
	}
	// Committed uploads do not linger.
	if _, err := os.Stat(filepath.Join(s.Root(), "uploads", "crash")); !os.IsNotExist(err) {
		t.Fatalf("upload dir still present after commit: %v", err)
	}
}

func TestLayout(t *testing.T) {
	s := newStore(t)
	d := digest.FromString("layout")
	u, err := s.Uploads().Create(context.Background(), "l1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Append(context.Background(), strings.NewReader("layout")); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Commit(context.Background(), d, 6); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(s.Root(), "blobs", "sha256", d.Encoded()[:2], d.Encoded())
	if fi, err := os.Stat(p); err != nil || fi.Size() != 6 {
		t.Fatalf("blob not at %s: %v", p, err)
	}
}

// The value Open returns must expose SyscallConn (by embedding *os.File) so
// net/http can sendfile it; if this stops compiling or asserting, GET
// throughput silently drops to a userspace copy.
func TestOpenExposesSyscallConn(t *testing.T) {
	s := newStore(t)
	u, _ := s.Uploads().Create(context.Background(), "sc")
	if _, err := u.Append(context.Background(), strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	d := digest.FromString("x")
	if _, err := u.Commit(context.Background(), d, 1); err != nil {
		t.Fatal(err)
	}
	b, err := s.Open(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// net.sendFile type-asserts syscall.Conn on the LimitedReader's R.
	if _, ok := b.(syscall.Conn); !ok {
		t.Fatalf("%T does not implement syscall.Conn", b)
	}
	if f, ok := b.(*File); !ok || f.OSFile() == nil {
		t.Fatalf("Open returned %T, want *fsblob.File", b)
	}
}

func fill(b testing.TB, n int) []byte {
	p := make([]byte, n)
	if _, err := rand.Read(p); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkBlobWrite measures Append+Commit of 64 MiB (1 MiB chunks, as a
// streamed PATCH delivers them) including fsyncs and digest verification;
// BenchmarkSHA256 is the ceiling for the same bytes.
func BenchmarkBlobWrite(b *testing.B) {
	const size = 64 << 20
	data := fill(b, size)
	d := digest.FromBytes(data)
	s := newStore(b)
	ctx := context.Background()
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		u, err := s.Uploads().Create(ctx, fmt.Sprintf("bench-%d", i))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := u.Append(ctx, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		if _, err := u.Commit(ctx, d, size); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Delete(ctx, d); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

func BenchmarkSHA256(b *testing.B) {
	const size = 64 << 20
	data := fill(b, size)
	b.SetBytes(size)
	for b.Loop() {
		sha256.Sum256(data)
	}
}

// BenchmarkServeBlob serves a 256 MiB blob over loopback through
// http.ServeContent, once with the *File that Open returns (sendfile) and
// once hidden behind a plain io.ReadSeeker (userspace copy) for comparison.
func BenchmarkServeBlob(b *testing.B) {
	const size = 256 << 20
	s := newStore(b)
	ctx := context.Background()
	u, err := s.Uploads().Create(ctx, "serve")
	if err != nil {
		b.Fatal(err)
	}
	h := sha256.New()
	chunk := fill(b, 1<<20)
	for range size / len(chunk) {
		h.Write(chunk)
		if _, err := u.Append(ctx, bytes.NewReader(chunk)); err != nil {
			b.Fatal(err)
		}
	}
	d := digest.NewDigestFromBytes(digest.SHA256, h.Sum(nil))
	if _, err := u.Commit(ctx, d, size); err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"sendfile", "wrapped"} {
		b.Run(mode, func(b *testing.B) {
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				blob, err := s.Open(r.Context(), d)
				if err != nil {
					http.Error(w, err.Error(), 500)
					return
				}
				defer blob.Close()
				var rs io.ReadSeeker = blob
				if mode == "wrapped" {
					rs = struct{ io.ReadSeeker }{blob}
				}
				w.Header().Set("Content-Type", "application/octet-stream")
				http.ServeContent(w, r, "", time.Time{}, rs)
			})}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			go srv.Serve(ln)
			defer srv.Close()
			url := "http://" + ln.Addr().String() + "/"
			buf := make([]byte, 1<<20)
			b.SetBytes(size)
			for b.Loop() {
				resp, err := http.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{resp.Body}, buf)
				resp.Body.Close()
				if err != nil || n != size {
					b.Fatalf("read %d, %v", n, err)
				}
			}
		})
	}
}
