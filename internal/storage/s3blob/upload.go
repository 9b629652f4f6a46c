package s3blob

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/storage"
)

// Uploads is the S3 UploadStore.
type Uploads struct{ s *Store }

var _ storage.UploadStore = (*Uploads)(nil)

// sessionState is the shared, resumable state of one upload. Everything it
// names is durable in S3 before the state is saved, so a crash anywhere
// leaves a state that describes real objects (plus garbage that Remove and
// GC sweep).
type sessionState struct {
	Size   int64  `json:"size"`
	SHA256 []byte `json:"sha256"` // marshalled sha256 state after Size bytes
	// Multipart is the S3 upload id at uploads/<id>/data, created with the first full part.
	Multipart string `json:"multipart,omitempty"`
	Parts     []part `json:"parts,omitempty"`
	// Tail bytes after the last part live in uploads/<id>/tail-<Size>;
	// TailSHA256 verifies them when they are read back.
	Tail       int64  `json:"tail,omitempty"`
	TailSHA256 []byte `json:"tail_sha256,omitempty"`
	// Staged is set once Commit assembled all bytes into one object; the
	// upload then accepts no more data (a failed sha512 check may retry).
	Staged string `json:"staged,omitempty"`
}

type part struct {
	N    int32  `json:"n"`
	ETag string `json:"etag"`
	Size int64  `json:"size"`
}

func (us *Uploads) Create(ctx context.Context, id string) (storage.Upload, error) {
	if !storage.ValidUploadID(id) {
		return nil, fmt.Errorf("s3blob: invalid upload id %q", storage.Truncate(id))
	}
	hs, err := sha256.New().(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, err
	}
	st := sessionState{SHA256: hs}
	raw, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	if err := us.s.sessions.CreateBlobUploadSession(ctx, id, raw, time.Now()); err != nil {
		return nil, err
	}
	return &upload{s: us.s, id: id, st: st, version: 1}, nil
}

func (us *Uploads) Resume(ctx context.Context, id string) (storage.Upload, error) {
	if !storage.ValidUploadID(id) {
		return nil, storage.UnknownUpload(id)
	}
	raw, version, err := us.s.sessions.BlobUploadSession(ctx, id)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, storage.UnknownUpload(id)
		}
		return nil, err
	}
	var st sessionState
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("s3blob: upload %s: corrupt session state: %w", id, err)
	}
	return &upload{s: us.s, id: id, st: st, version: version}, nil
}

// Remove aborts the multipart upload, deletes the session's objects and
// then its row, so an interrupted Remove is still listed and retried.
func (us *Uploads) Remove(ctx context.Context, id string) error {
	if !storage.ValidUploadID(id) {
		return nil
	}
	raw, _, err := us.s.sessions.BlobUploadSession(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var st sessionState
	if json.Unmarshal(raw, &st) == nil && st.Multipart != "" {
		if err := us.s.abort(ctx, id, st.Multipart); err != nil {
			return err
		}
	}
	if err := us.s.deletePrefix(ctx, us.s.uploadPrefix(id)); err != nil {
		return err
	}
	return us.s.sessions.DeleteBlobUploadSession(ctx, id)
}

func (us *Uploads) List(ctx context.Context, olderThan time.Time) ([]string, error) {
	return us.s.sessions.BlobUploadSessionsBefore(ctx, olderThan)
}

func (s *Store) abort(ctx context.Context, id, multipart string) error {
	key := s.uploadPrefix(id) + "data"
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &s.cfg.Bucket, Key: &key, UploadId: &multipart})
	if err != nil && !isNotFound(err) {
		return unavailable(err, "abort upload %s", id)
	}
	return nil
}

// deletePrefix deletes every object under prefix, 1000 per request.
func (s *Store) deletePrefix(ctx context.Context, prefix string) error {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.cfg.Bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return unavailable(err, "list %s", prefix)
		}
		if len(page.Contents) == 0 {
			continue
		}
		objs := make([]types.ObjectIdentifier, 0, len(page.Contents))
		for _, o := range page.Contents {
			objs = append(objs, types.ObjectIdentifier{Key: o.Key})
		}
		if _, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &s.cfg.Bucket,
			Delete: &types.Delete{Objects: objs, Quiet: aws.Bool(true)}}); err != nil {
			return unavailable(err, "delete %s", prefix)
		}
	}
	return nil
}

// upload is one session; callers serialise use (see storage.Upload). Across
// nodes the version compare-and-swap refuses a second concurrent writer.
type upload struct {
	s       *Store
	id      string
	st      sessionState
	version int64
	done    bool
}

var _ storage.Upload = (*upload)(nil)

func (u *upload) ID() string   { return u.id }
func (u *upload) Size() int64  { return u.st.Size }
func (u *upload) Close() error { return nil }

var (
	errUploadDone   = errors.New("s3blob: upload already committed")
	errUploadSealed = apierr.New(apierr.BlobUploadInvalid, "upload is being committed and accepts no more data")
)

func (u *upload) dataKey() string { return u.s.uploadPrefix(u.id) + "data" }
func (u *upload) tailKey(end int64) string {
	return u.s.uploadPrefix(u.id) + "tail-" + strconv.FormatInt(end, 10)
}
func restoreSHA256(state []byte) (hash.Hash, error) {
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, fmt.Errorf("s3blob: corrupt hash state: %w", err)
	}
	return h, nil
}

// partBuffer is the on-disk staging area for one part: an unlinked temp
// file, so a crash leaves nothing behind and RAM holds only a copy buffer.
type partBuffer struct {
	f   *os.File
	n   int64
	sum hash.Hash // sha256 of the buffered bytes (the tail's checksum)
}

func newPartBuffer(dir string) (*partBuffer, error) {
	f, err := os.CreateTemp(dir, "berth-s3part-*")
	if err != nil {
		return nil, fmt.Errorf("s3blob: part buffer: %w", err)
	}
	_ = os.Remove(f.Name())
	return &partBuffer{f: f, sum: sha256.New()}, nil
}

func (b *partBuffer) Write(p []byte) (int, error) {
	n, err := b.f.WriteAt(p, b.n)
	b.sum.Write(p[:n])
	b.n += int64(n)
	return n, err
}

func (b *partBuffer) reader() *io.SectionReader { return io.NewSectionReader(b.f, 0, b.n) }

func (b *partBuffer) reset() error {
	b.n = 0
	b.sum.Reset()
	return b.f.Truncate(0)
}

func (b *partBuffer) close() { b.f.Close() }

// loadTail reads the stored tail back into b and checks its checksum, so
// bytes that come back from S3 are the bytes that were hashed.
func (u *upload) loadTail(ctx context.Context, b *partBuffer) error {
	if u.st.Tail == 0 {
		return nil
	}
	key := u.tailKey(u.st.Size)
	out, err := u.s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &u.s.cfg.Bucket, Key: &key})
	if err != nil {
		return unavailable(err, "upload %s: read buffered tail", u.id)
	}
	defer out.Body.Close()
	if _, err := io.Copy(b, io.LimitReader(out.Body, u.st.Tail+1)); err != nil {
		return unavailable(err, "upload %s: read buffered tail", u.id)
	}
	if b.n != u.st.Tail || !bytes.Equal(b.sum.Sum(nil), u.st.TailSHA256) {
		return fmt.Errorf("s3blob: upload %s: buffered tail %s does not match its checksum", u.id, key)
	}
	return nil
}

// flushPart uploads the buffer as the next part of next.
func (u *upload) flushPart(ctx context.Context, next *sessionState, b *partBuffer) error {
	n := len(next.Parts) + 1
	if n > maxParts {
		return apierr.New(apierr.BlobUploadInvalid, "upload exceeds %d parts of %d bytes", maxParts, u.s.cfg.PartSize)
	}
	key := u.dataKey()
	if next.Multipart == "" {
		out, err := u.s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &u.s.cfg.Bucket, Key: &key,
			ContentType: aws.String("application/octet-stream")})
		if err != nil {
			return unavailable(err, "upload %s: start multipart", u.id)
		}
		next.Multipart = aws.ToString(out.UploadId)
	}
	out, err := u.s.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: &u.s.cfg.Bucket, Key: &key, UploadId: &next.Multipart,
		PartNumber: aws.Int32(int32(n)), Body: b.reader(), ContentLength: aws.Int64(b.n)})
	if err != nil {
		return unavailable(err, "upload %s: part %d", u.id, n)
	}
	next.Parts = append(next.Parts, part{N: int32(n), ETag: aws.ToString(out.ETag), Size: b.n})
	return b.reset()
}

// Append streams r into parts of PartSize through a disk buffer that starts
// with the stored tail; what is left at the end becomes the new tail object.
// Only then is the new state saved (compare-and-swap), so a failure at any
// point leaves the previous state, which names only objects that still exist.
func (u *upload) Append(ctx context.Context, r io.Reader) (int64, error) {
	if u.done {
		return 0, errUploadDone
	}
	if u.st.Staged != "" {
		return 0, errUploadSealed
	}
	chunk := make([]byte, 64<<10)
	nr, rerr := io.ReadFull(r, chunk)
	if nr == 0 {
		if rerr == io.EOF {
			return 0, nil
		}
		return 0, rerr
	}
	next := u.st
	next.Parts = slices.Clone(u.st.Parts)
	n, err := u.appendTo(ctx, &next, chunk, nr, rerr, r)
	if err != nil {
		if next.Multipart != u.st.Multipart {
			_ = u.s.abort(context.WithoutCancel(ctx), u.id, next.Multipart)
		}
		return 0, err
	}
	if u.st.Tail > 0 {
		// The old tail is superseded; a leftover is swept with the session.
		key := u.tailKey(u.st.Size)
		_, _ = u.s.client.DeleteObject(context.WithoutCancel(ctx), &s3.DeleteObjectInput{Bucket: &u.s.cfg.Bucket, Key: &key})
	}
	u.st = next
	return n, nil
}

func (u *upload) appendTo(ctx context.Context, next *sessionState, chunk []byte, nr int, rerr error, r io.Reader) (int64, error) {
	h, err := restoreSHA256(u.st.SHA256)
	if err != nil {
		return 0, err
	}
	buf, err := newPartBuffer(u.s.cfg.BufferDir)
	if err != nil {
		return 0, err
	}
	defer buf.close()
	if err := u.loadTail(ctx, buf); err != nil {
		return 0, err
	}
	for {
		if nr > 0 {
			if _, err := buf.Write(chunk[:nr]); err != nil {
				return 0, fmt.Errorf("s3blob: part buffer: %w", err)
			}
			h.Write(chunk[:nr])
			next.Size += int64(nr)
			if buf.n >= u.s.cfg.PartSize {
				if err := u.flushPart(ctx, next, buf); err != nil {
					return 0, err
				}
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return 0, rerr
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		nr, rerr = io.ReadFull(r, chunk)
	}
	next.Tail, next.TailSHA256 = buf.n, nil
	if buf.n > 0 {
		key := u.tailKey(next.Size)
		next.TailSHA256 = buf.sum.Sum(nil)
		if _, err := u.s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &u.s.cfg.Bucket, Key: &key,
			Body: buf.reader(), ContentLength: aws.Int64(buf.n)}); err != nil {
			return 0, unavailable(err, "upload %s: store buffered tail", u.id)
		}
	}
	if next.SHA256, err = h.(encoding.BinaryMarshaler).MarshalBinary(); err != nil {
		return 0, err
	}
	if err := u.save(ctx, *next); err != nil {
		return 0, err
	}
	return next.Size - u.st.Size, nil
}

func (u *upload) save(ctx context.Context, st sessionState) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := u.s.sessions.UpdateBlobUploadSession(ctx, u.id, u.version, raw, time.Now()); err != nil {
		return fmt.Errorf("s3blob: upload %s: save state: %w", u.id, err)
	}
	u.version++
	return nil
}

// Commit verifies size and digest, assembles the data into one staged
// object, and copies it to the content key (skipped when the blob exists:
// same key, same bytes). sha256 is checked from the running hash before
// anything changes; sha512 is checked by reading the staged object.
func (u *upload) Commit(ctx context.Context, expected digest.Digest, size int64) (storage.Descriptor, error) {
	if u.done {
		return storage.Descriptor{}, errUploadDone
	}
	if err := storage.CheckDigest(expected); err != nil {
		return storage.Descriptor{}, err
	}
	if size >= 0 && size != u.st.Size {
		return storage.Descriptor{}, apierr.New(apierr.SizeInvalid,
			"provided length %d did not match uploaded content length %d", size, u.st.Size)
	}
	mismatch := apierr.New(apierr.DigestInvalid, "provided digest did not match uploaded content")
	if expected.Algorithm() == digest.SHA256 {
		h, err := restoreSHA256(u.st.SHA256)
		if err != nil {
			return storage.Descriptor{}, err
		}
		if digest.NewDigestFromBytes(digest.SHA256, h.Sum(nil)) != expected {
			return storage.Descriptor{}, mismatch
		}
	}
	if u.st.Staged == "" {
		if err := u.stage(ctx); err != nil {
			return storage.Descriptor{}, err
		}
	}
	if expected.Algorithm() != digest.SHA256 {
		got, err := u.s.hashObject(ctx, u.st.Staged, sha512.New(), expected.Algorithm())
		if err != nil {
			return storage.Descriptor{}, err
		}
		if got != expected {
			return storage.Descriptor{}, mismatch
		}
	}
	dst := u.s.BlobKey(expected)
	if _, err := u.s.head(ctx, dst, expected); errors.Is(err, storage.ErrNotFound) {
		if err := u.s.copyObject(ctx, u.st.Staged, dst, u.st.Size); err != nil {
			return storage.Descriptor{}, err
		}
	} else if err != nil {
		return storage.Descriptor{}, err
	}
	u.done = true
	// The blob is published; what follows is cleanup, and a leftover
	// session is swept as abandoned.
	_ = u.s.uploads.Remove(context.WithoutCancel(ctx), u.id)
	return storage.Descriptor{Digest: expected, Size: u.st.Size}, nil
}

// stage assembles the upload into one object: the tail object itself when
// no part was ever full (small blobs never start a multipart upload),
// otherwise the multipart upload completed with the tail as its last part.
func (u *upload) stage(ctx context.Context) error {
	next := u.st
	switch {
	case len(next.Parts) == 0 && next.Tail > 0:
		next.Staged = u.tailKey(next.Size)
	case len(next.Parts) == 0:
		key := u.dataKey()
		if _, err := u.s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &u.s.cfg.Bucket, Key: &key,
			Body: bytes.NewReader(nil), ContentLength: aws.Int64(0)}); err != nil {
			return unavailable(err, "upload %s: stage empty blob", u.id)
		}
		next.Staged = key
	default:
		next.Parts = slices.Clone(next.Parts)
		if next.Tail > 0 {
			buf, err := newPartBuffer(u.s.cfg.BufferDir)
			if err != nil {
				return err
			}
			defer buf.close()
			if err := u.loadTail(ctx, buf); err != nil {
				return err
			}
			if err := u.flushPart(ctx, &next, buf); err != nil {
				return err
			}
		}
		if err := u.complete(ctx, next); err != nil {
			return err
		}
		next.Staged = u.dataKey()
	}
	if err := u.save(ctx, next); err != nil {
		return err
	}
	u.st = next
	return nil
}

func (u *upload) complete(ctx context.Context, st sessionState) error {
	parts := make([]types.CompletedPart, len(st.Parts))
	for i, p := range st.Parts {
		parts[i] = types.CompletedPart{PartNumber: aws.Int32(p.N), ETag: aws.String(p.ETag)}
	}
	key := u.dataKey()
	_, err := u.s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &u.s.cfg.Bucket, Key: &key,
		UploadId: &st.Multipart, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil && isNotFound(err) {
		// Completed by an earlier attempt whose state save was lost.
		if n, herr := u.s.head(ctx, key, key); herr == nil && n == st.Size {
			return nil
		}
	}
	if err != nil {
		return unavailable(err, "upload %s: complete multipart", u.id)
	}
	return nil
}

func (s *Store) hashObject(ctx context.Context, key string, h hash.Hash, alg digest.Algorithm) (digest.Digest, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	if err != nil {
		return "", unavailable(err, "read %s", key)
	}
	defer out.Body.Close()
	if _, err := io.Copy(h, out.Body); err != nil {
		return "", unavailable(err, "read %s", key)
	}
	return digest.NewDigestFromBytes(alg, h.Sum(nil)), nil
}

// copyObject copies server-side: one CopyObject up to 5 GiB, a multipart
// copy beyond. Either way dst appears in one atomic step.
func (s *Store) copyObject(ctx context.Context, src, dst string, size int64) error {
	source := s.cfg.Bucket + "/" + src
	if size <= maxCopyObject {
		if _, err := s.client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &s.cfg.Bucket, Key: &dst, CopySource: &source}); err != nil {
			return unavailable(err, "publish %s", dst)
		}
		return nil
	}
	mp, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.cfg.Bucket, Key: &dst})
	if err != nil {
		return unavailable(err, "publish %s", dst)
	}
	var parts []types.CompletedPart
	for off, n := int64(0), int32(1); off < size; off, n = off+copyPartSize, n+1 {
		rng := fmt.Sprintf("bytes=%d-%d", off, min(off+copyPartSize, size)-1)
		out, err := s.client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: &s.cfg.Bucket, Key: &dst, UploadId: mp.UploadId,
			PartNumber: aws.Int32(n), CopySource: &source, CopySourceRange: &rng})
		if err != nil {
			_, _ = s.client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: &s.cfg.Bucket, Key: &dst, UploadId: mp.UploadId})
			return unavailable(err, "publish %s: part %d", dst, n)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.CopyPartResult.ETag})
	}
	if _, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &s.cfg.Bucket, Key: &dst,
		UploadId: mp.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		return unavailable(err, "publish %s", dst)
	}
	return nil
}
