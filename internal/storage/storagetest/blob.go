// Package storagetest is the conformance suite every storage backend runs:
// the filesystem and SQLite stores today, S3 and PostgreSQL later. Backends
// call RunBlobStore / RunMetaStore from their own tests and add only
// implementation-specific cases next to them.
package storagetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/storage"
)

// BlobFactory opens a blob store on the backing data named ns. The suite
// simulates a process restart by calling it twice with the same ns (the first
// handle is abandoned, not closed, as after a crash); different ns values
// must be independent. ns is a short lowercase [a-z0-9-] string.
type BlobFactory func(t *testing.T, ns string) storage.BlobStore

// RunBlobStore runs the BlobStore/UploadStore conformance suite.
func RunBlobStore(t *testing.T, open BlobFactory) {
	runSuite(t, "b", open, []suiteCase[storage.BlobStore]{
		{"MissingBlob", testMissingBlob},
		{"UploadCommitSHA256", testCommitSHA256},
		{"UploadCommitSHA512", testCommitSHA512},
		{"EmptyBlob", testEmptyBlob},
		{"DigestMismatchKeepsUpload", testDigestMismatch},
		{"SizeMismatchKeepsUpload", testSizeMismatch},
		{"InvalidDigests", testInvalidDigests},
		{"CommitExistingBlob", testCommitExisting},
		{"FailedAppendRollsBack", testFailedAppend},
		{"CancelledAppendRollsBack", testCancelledAppend},
		{"ResumeAfterRestart", testResumeAfterRestart},
		{"FailedAppendThenRestart", testFailedAppendThenRestart},
		{"UnknownUpload", testUnknownUpload},
		{"DuplicateUploadID", testDuplicateUploadID},
		{"RemoveUpload", testRemoveUpload},
		{"ListAbandoned", testListUploads},
		{"DeleteBlob", testDeleteBlob},
		{"SeekAndRead", testSeekAndRead},
		{"ParallelUploads", testParallelUploads},
	})
}

// suiteCase is one conformance test; open (re)opens its store on the same
// backing data, so a second call is a restart.
type suiteCase[S any] struct {
	name string
	fn   func(t *testing.T, open func() S)
}

// runSuite gives every case backing data of its own, named prefix + index.
func runSuite[S any](t *testing.T, prefix string, open func(t *testing.T, ns string) S, cases []suiteCase[S]) {
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ns := fmt.Sprintf("%s%d", prefix, i)
			c.fn(t, func() S { return open(t, ns) })
		})
	}
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func uploadID(t *testing.T, i int) string {
	return fmt.Sprintf("u%d-%x", i, randomBytes(t, 6))
}

// put uploads data in chunks and commits it under its sha256 digest.
func put(t *testing.T, s storage.BlobStore, data []byte, chunks int) digest.Digest {
	t.Helper()
	ctx := context.Background()
	u, err := s.Uploads().Create(ctx, uploadID(t, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	appendChunks(t, u, data, chunks)
	d := digest.FromBytes(data)
	desc, err := u.Commit(ctx, d, int64(len(data)))
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	if desc.Digest != d || desc.Size != int64(len(data)) {
		t.Fatalf("commit descriptor = %+v, want %s/%d", desc, d, len(data))
	}
	return d
}

func appendChunks(t *testing.T, u storage.Upload, data []byte, chunks int) {
	t.Helper()
	if chunks < 1 {
		chunks = 1
	}
	step := (len(data) + chunks - 1) / chunks
	for off := 0; off < len(data); off += step {
		end := min(off+step, len(data))
		before := u.Size()
		n, err := u.Append(context.Background(), bytes.NewReader(data[off:end]))
		if err != nil {
			t.Fatalf("append [%d:%d]: %v", off, end, err)
		}
		if n != int64(end-off) || u.Size() != before+n {
			t.Fatalf("append [%d:%d] = %d, size %d, want %d, %d", off, end, n, u.Size(), end-off, before+int64(end-off))
		}
	}
}

func readBlob(t *testing.T, s storage.BlobStore, d digest.Digest) []byte {
	t.Helper()
	b, err := s.Open(context.Background(), d)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	defer b.Close()
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(got)) != b.Size() {
		t.Fatalf("Size() = %d, read %d bytes", b.Size(), len(got))
	}
	return got
}

func wantBlob(t *testing.T, s storage.BlobStore, d digest.Digest, data []byte) {
	t.Helper()
	size, err := s.Stat(context.Background(), d)
	if err != nil {
		t.Fatalf("stat %s: %v", d, err)
	}
	if size != int64(len(data)) {
		t.Fatalf("stat %s = %d, want %d", d, size, len(data))
	}
	if got := readBlob(t, s, d); !bytes.Equal(got, data) {
		t.Fatalf("blob %s content differs (%d bytes vs %d)", d, len(got), len(data))
	}
}

func wantNotFound(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("%s: err = %v, want storage.ErrNotFound", what, err)
	}
}

func wantCode(t *testing.T, err error, code apierr.Code, what string) {
	t.Helper()
	if !apierr.HasCode(err, code) {
		t.Fatalf("%s: err = %v, want apierr %s", what, err, code)
	}
}

func testMissingBlob(t *testing.T, open func() storage.BlobStore) {
	s := open()
	ctx := context.Background()
	for _, d := range []digest.Digest{digest.FromString("nope"), digest.SHA512.FromString("nope")} {
		_, err := s.Stat(ctx, d)
		wantNotFound(t, err, "Stat")
		_, err = s.Open(ctx, d)
		wantNotFound(t, err, "Open")
		wantNotFound(t, s.Delete(ctx, d), "Delete")
	}
}

func testCommitSHA256(t *testing.T, open func() storage.BlobStore) {
	s := open()
	for _, tc := range []struct {
		size, chunks int
	}{{1, 1}, {1000, 3}, {3<<20 + 17, 5}, {2 << 20, 1}} {
		data := randomBytes(t, tc.size)
		d := put(t, s, data, tc.chunks)
		wantBlob(t, s, d, data)
	}
}

func testCommitSHA512(t *testing.T, open func() storage.BlobStore) {
	s := open()
	ctx := context.Background()
	data := randomBytes(t, 3<<20+5)
	u, err := s.Uploads().Create(ctx, uploadID(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	appendChunks(t, u, data, 4)
	sum := sha512.Sum512(data)
	d := digest.NewDigestFromBytes(digest.SHA512, sum[:])
	// The wrong sha512 must be refused before the right one is accepted.
	_, err = u.Commit(ctx, digest.SHA512.FromString("other"), -1)
	wantCode(t, err, apierr.DigestInvalid, "wrong sha512")
	desc, err := u.Commit(ctx, d, -1)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != d || desc.Size != int64(len(data)) {
		t.Fatalf("descriptor %+v", desc)
	}
	wantBlob(t, s, d, data)
	// The same content is not visible under its sha256 digest.
	_, err = s.Stat(ctx, digest.FromBytes(data))
	wantNotFound(t, err, "sha256 of a sha512 blob")
}

func testEmptyBlob(t *testing.T, open func() storage.BlobStore) {
	s := open()
	ctx := context.Background()
	u, err := s.Uploads().Create(ctx, uploadID(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if n, err := u.Append(ctx, bytes.NewReader(nil)); err != nil || n != 0 {
		t.Fatalf("empty append = %d, %v", n, err)
	}
	d := digest.FromBytes(nil)
	if _, err := u.Commit(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	wantBlob(t, s, d, nil)
}

func testDigestMismatch(t *testing.T, open func() storage.BlobStore) {
	s := open()
	ctx := context.Background()
	data := randomBytes(t, 4096)
	u, err := s.Uploads().Create(ctx, uploadID(t, 3))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	appendChunks(t, u, data, 2)
	wrong := digest.FromString("something else")
	_, err = u.Commit(ctx, wrong, int64(len(data)))
	wantCode(t, err, apierr.DigestInvalid, "commit with wrong digest")
	_, err = s.Stat(ctx, wrong)
	wantNotFound(t, err, "blob of failed commit")
	if u.Size() != int64(len(data)) {
		t.Fatalf("size after failed commit = %d", u.Size())
	}
	// The session survives: the client can send the rest and commit again.
	more := randomBytes(t, 100)
	appendChunks(t, u, more, 1)
	all := append(slices.Clone(data), more...)
	if _, err := u.Commit(ctx, digest.FromBytes(all), -1); err != nil {
		t.Fatal(err)
	}
	wantBlob(t, s, digest.FromBytes(all), all)
}

func testSizeMismatch(t *testing.T, open func() storage.BlobStore) {
	s := open()
	ctx := context.Background()
	data := randomBytes(t, 1000)
	u, err := s.Uploads().Create(ctx, uploadID(t, 4))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	appendChunks(t, u, data, 1)
	d := digest.FromBytes(data)
	for _, size := range []int64{0, 999, 1001} {
		_, err = u.Commit(ctx, d, size)
		wantCode(t, err, apierr.SizeInvalid, fmt.Sprintf("commit with size %d", size))
	}
	_, err = s.Stat(ctx, d)
	wantNotFound(t, err, "blob of failed commit")
	if _, err := u.Commit(ctx, d, 1000); err != nil {
		t.Fatal(err)
	}
	wantBlob(t, s, d, data)
}

func testInvalidDigests(t *testing.T, open func() storage.BlobStore) {
	s := open()
	ctx := context.Background()
	u, err := s.Uploads().Create(ctx, uploadID(t, 5))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	appendChunks(t, u, []byte("x"), 1)
	for _, d := range []digest.Digest{
		"",
		"sha256",
		"sha256:abc",
		"sha256:" + digest.Digest(bytes.Repeat([]byte("Z"), 64)),
		"md5:d41d8cd98f00b204e9800998ecf8427e",
		"sha384:" + digest.Digest(bytes.Repeat([]byte("a"), 96)),
		"sha256:../../../../etc/passwd",
	} {
		_, err := u.Commit(ctx, d, -1)
		wantCode(t, err, apierr.DigestInvalid, fmt.Sprintf("commit %q", d))
		if _, err := s.Stat(ctx, d); err == nil {
			t.Fatalf("Stat(%q) succeeded", d)
		}
		if _, err := s.Open(ctx, d); err == nil {
			t.Fatalf("Open(%q) succeeded", d)
		}
	}
	if u.Size() != 1 {
		t.Fatalf("size = %d after refused commits", u.Size())
	}
}

func testCommitExisting(t *testing.T, open func() storage.BlobStore) {
	s := open()
	data := randomBytes(t, 5000)
	d1 := put(t, s, data, 1)
	d2 := put(t, s, data, 3)
	if d1 != d2 {
		t.Fatal("digests differ")
	}
	wantBlob(t, s, d1, data)
}

// failingReader yields data then fails, like a client disconnecting mid-PATCH.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

var errClientGone = errors.New("client went away")

func testFailedAppend(t *testing.T, open func() storage.BlobStore) {
	s := open()
	ctx := context.Background()
	first := randomBytes(t, 3000)
	u, err := s.Uploads().Create(ctx, uploadID(t, 6))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	appendChunks(t, u, first, 1)
	_, err = u.Append(ctx, &failingReader{data: randomBytes(t, 2<<20+3), err: errClientGone})
	if !errors.Is(err, errClientGone) {
		t.Fatalf("append err = %v, want the reader's error", err)
	}
	if u.Size() != int64(len(first)) {
		t.Fatalf("size after failed append = %d, want %d", u.Size(), len(first))
	}
	second := randomBytes(t, 777)
	appendChunks(t, u, second, 1)
	all := append(slices.Clone(first), second...)
	d := digest.FromBytes(all)
	if _, err := u.Commit(ctx, d, int64(len(all))); err != nil {
		t.Fatalf("commit after failed append: %v", err)
	}
	wantBlob(t, s, d, all)
}

func testCancelledAppend(t *testing.T, open func() storage.BlobStore) {
	s := open()
	ctx, cancel := context.WithCancel(context.Background())
	u, err := s.Uploads().Create(context.Background(), uploadID(t, 7))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	first := randomBytes(t, 10)
	appendChunks(t, u, first, 1)
	cancel()
	if _, err := u.Append(ctx, bytes.NewReader(randomBytes(t, 4<<20))); err == nil {
		t.Fatal("append with cancelled context succeeded")
	}
	if u.Size() != 10 {
		t.Fatalf("size = %d after cancelled append", u.Size())
	}
	if _, err := u.Commit(context.Background(), digest.FromBytes(first), 10); err != nil {
		t.Fatal(err)
	}
}

func testResumeAfterRestart(t *testing.T, open func() storage.BlobStore) {
	s1 := open()
	ctx := context.Background()
	id := uploadID(t, 8)
	data := randomBytes(t, 3<<20+11)
	cut := 1<<20 + 5
	u, err := s1.Uploads().Create(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	appendChunks(t, u, data[:cut], 2)
	// Crash: the first handle is abandoned without Close.

	s2 := open()
	u2, err := s2.Uploads().Resume(ctx, id)
	if err != nil {
		t.Fatalf("resume after restart: %v", err)
	}
	defer u2.Close()
	if u2.ID() != id || u2.Size() != int64(cut) {
		t.Fatalf("resumed %s at %d, want %s at %d", u2.ID(), u2.Size(), id, cut)
	}
	appendChunks(t, u2, data[cut:], 2)
	d := digest.FromBytes(data)
	if _, err := u2.Commit(ctx, d, int64(len(data))); err != nil {
		t.Fatal(err)
	}
	wantBlob(t, s2, d, data)
	wantBlob(t, open(), d, data)
	_ = u.Close()
}

func testFailedAppendThenRestart(t *testing.T, open func() storage.BlobStore) {
	s1 := open()
	ctx := context.Background()
	id := uploadID(t, 9)
	first := randomBytes(t, 5000)
	u, err := s1.Uploads().Create(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	appendChunks(t, u, first, 1)
	if _, err := u.Append(ctx, &failingReader{data: randomBytes(t, 1<<20), err: errClientGone}); err == nil {
		t.Fatal("failing append succeeded")
	}
	u2, err := open().Uploads().Resume(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer u2.Close()
	if u2.Size() != int64(len(first)) {
		t.Fatalf("resumed size = %d, want %d", u2.Size(), len(first))
	}
	if _, err := u2.Commit(ctx, digest.FromBytes(first), -1); err != nil {
		t.Fatal(err)
	}
	_ = u.Close()
}

func testUnknownUpload(t *testing.T, open func() storage.BlobStore) {
	s := open()
	for _, id := range []string{"never-created", "../../etc", "a/b", ".", "", "x\x00y"} {
		_, err := s.Uploads().Resume(context.Background(), id)
		wantNotFound(t, err, fmt.Sprintf("Resume(%q)", id))
	}
}

func testDuplicateUploadID(t *testing.T, open func() storage.BlobStore) {
	s := open()
	ctx := context.Background()
	id := uploadID(t, 10)
	u, err := s.Uploads().Create(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	appendChunks(t, u, []byte("keep me"), 1)
	if _, err := s.Uploads().Create(ctx, id); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("second Create = %v, want ErrAlreadyExists", err)
	}
	if u.Size() != 7 {
		t.Fatal("duplicate Create disturbed the upload")
	}
}

func testRemoveUpload(t *testing.T, open func() storage.BlobStore) {
	s := open()
	ctx := context.Background()
	id := uploadID(t, 11)
	u, err := s.Uploads().Create(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	appendChunks(t, u, []byte("bye"), 1)
	u.Close()
	if err := s.Uploads().Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, err = s.Uploads().Resume(ctx, id)
	wantNotFound(t, err, "Resume after Remove")
	if err := s.Uploads().Remove(ctx, id); err != nil {
		t.Fatalf("second Remove = %v, want nil", err)
	}
	if err := s.Uploads().Remove(ctx, "never-existed"); err != nil {
		t.Fatalf("Remove unknown = %v", err)
	}
	// After a commit the session is gone or removable, the blob stays.
	id2 := uploadID(t, 12)
	u2, err := s.Uploads().Create(ctx, id2)
	if err != nil {
		t.Fatal(err)
	}
	appendChunks(t, u2, []byte("stays"), 1)
	d := digest.FromString("stays")
	if _, err := u2.Commit(ctx, d, 5); err != nil {
		t.Fatal(err)
	}
	u2.Close()
	if err := s.Uploads().Remove(ctx, id2); err != nil {
		t.Fatal(err)
	}
	wantBlob(t, s, d, []byte("stays"))
}

func testListUploads(t *testing.T, open func() storage.BlobStore) {
	s := open()
	ctx := context.Background()
	before := time.Now().Add(-time.Hour)
	ids := []string{uploadID(t, 13), uploadID(t, 14)}
	for _, id := range ids {
		u, err := s.Uploads().Create(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		u.Close()
	}
	got, err := s.Uploads().List(ctx, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if !slices.Contains(got, id) {
			t.Fatalf("List(future) = %v, missing %s", got, id)
		}
	}
	got, err = s.Uploads().List(ctx, before)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if slices.Contains(got, id) {
			t.Fatalf("List(past) = %v, contains fresh upload %s", got, id)
		}
	}
	if err := s.Uploads().Remove(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	got, err = s.Uploads().List(ctx, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(got, ids[0]) || !slices.Contains(got, ids[1]) {
		t.Fatalf("List after Remove = %v", got)
	}
}

func testDeleteBlob(t *testing.T, open func() storage.BlobStore) {
	s := open()
	ctx := context.Background()
	data := randomBytes(t, 100)
	d := put(t, s, data, 1)
	if err := s.Delete(ctx, d); err != nil {
		t.Fatal(err)
	}
	_, err := s.Stat(ctx, d)
	wantNotFound(t, err, "Stat after Delete")
	_, err = s.Open(ctx, d)
	wantNotFound(t, err, "Open after Delete")
	wantNotFound(t, s.Delete(ctx, d), "second Delete")
	// Re-uploading deleted content works.
	put(t, s, data, 1)
	wantBlob(t, s, d, data)
}

func testSeekAndRead(t *testing.T, open func() storage.BlobStore) {
	s := open()
	data := randomBytes(t, 10000)
	d := put(t, s, data, 1)
	b, err := s.Open(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, tc := range []struct {
		off    int64
		whence int
		want   int64
	}{{0, io.SeekEnd, 10000}, {1234, io.SeekStart, 1234}, {-10, io.SeekEnd, 9990}, {5, io.SeekCurrent, 9995}} {
		pos, err := b.Seek(tc.off, tc.whence)
		if err != nil || pos != tc.want {
			t.Fatalf("Seek(%d,%d) = %d, %v; want %d", tc.off, tc.whence, pos, err, tc.want)
		}
	}
	if _, err := b.Seek(100, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 50)
	if _, err := io.ReadFull(b, buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf, data[100:150]) {
		t.Fatal("read after seek returned wrong bytes")
	}
}

func testParallelUploads(t *testing.T, open func() storage.BlobStore) {
	s := open()
	ctx := context.Background()
	const n = 16
	shared := randomBytes(t, 200<<10)
	blobs := make([][]byte, n)
	for i := range blobs {
		if i%4 == 0 {
			blobs[i] = shared // several sessions committing the same content at once
		} else {
			blobs[i] = randomBytes(t, 100<<10+i)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			u, err := s.Uploads().Create(ctx, uploadID(t, 100+i))
			if err != nil {
				errs <- err
				return
			}
			defer u.Close()
			data := blobs[i]
			for off := 0; off < len(data); off += 30 << 10 {
				if _, err := u.Append(ctx, bytes.NewReader(data[off:min(off+30<<10, len(data))])); err != nil {
					errs <- err
					return
				}
			}
			if _, err := u.Commit(ctx, digest.FromBytes(data), int64(len(data))); err != nil {
				errs <- fmt.Errorf("upload %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, data := range blobs {
		wantBlob(t, s, digest.FromBytes(data), data)
	}
}
