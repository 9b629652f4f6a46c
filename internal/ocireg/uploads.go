package ocireg

import (
	"context"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/ociref"
	"github.com/berth-dev/berth/internal/storage"
)

// maxMountSources bounds how many candidate repositories a mount without
// "from" tries.
const maxMountSources = 8

func (c *call) uploadLocation(id string) string {
	return "/v2/" + c.rt.name + "/blobs/uploads/" + id
}

// setUploadHeaders describes an in-progress session: where to send the next
// chunk and how many bytes are durable ("0-<last byte>"; "0-0" when empty,
// as clients parse it unconditionally).
func (c *call) setUploadHeaders(id string, size int64) {
	hdr := c.w.Header()
	hdr.Set("Location", c.uploadLocation(id))
	last := size - 1
	if last < 0 {
		last = 0
	}
	hdr.Set("Range", "0-"+strconv.FormatInt(last, 10))
	hdr.Set("Docker-Upload-UUID", id)
	hdr["Content-Length"] = hvZero
}

func (c *call) blobCreated(dg digest.Digest) {
	hdr := c.w.Header()
	hdr.Set("Location", "/v2/"+c.rt.name+"/blobs/"+string(dg))
	hdr.Set("Docker-Content-Digest", string(dg))
	hdr["Content-Length"] = hvZero
	c.w.WriteHeader(http.StatusCreated)
}

func (c *call) startUpload() error {
	k := c.key(c.rt.name)
	if err := c.authorize(ActionInitiateLayerUpload, k); err != nil {
		return err
	}
	q := c.r.URL.Query()
	if err := c.ensureRepository(k); err != nil {
		return err
	}
	if mount := q.Get("mount"); mount != "" {
		done, err := c.tryMount(k, mount, q.Get("from"))
		if err != nil || done {
			return err
		}
		// Not mountable: the spec's fallback is an ordinary upload session.
	}
	if ds := q.Get("digest"); ds != "" {
		return c.monolithicUpload(k, ds)
	}
	id, err := c.h.img.StartUpload(c.ctx, k)
	if err != nil {
		return err
	}
	c.setUploadHeaders(id, 0)
	c.w.WriteHeader(http.StatusAccepted)
	return nil
}

// tryMount links an existing blob into k. With from, only that repository
// is a source; without it (OCI 1.1 anonymous mount) any repository of this
// registry holding the blob that the caller may pull from. Sources the
// caller may not read are skipped silently: a mount must not reveal what
// the caller could not pull.
func (c *call) tryMount(k storage.RepoKey, mount, from string) (bool, error) {
	dg, err := ociref.ParseDigest(mount)
	if err != nil {
		return false, nil
	}
	if err := c.authorize(ActionCompleteLayerUpload, k); err != nil {
		return false, err
	}
	var sources []storage.RepoKey
	if from != "" {
		if ociref.ValidateName(from) != nil {
			return false, nil
		}
		sources = []storage.RepoKey{c.key(from)}
	} else {
		sources, err = c.h.img.BlobSources(c.ctx, c.reg.Account, c.reg.Region, dg, k, maxMountSources)
		if err != nil {
			return false, err
		}
	}
	for _, src := range sources {
		if c.authorize(ActionGetDownloadURLForLayer, src) != nil {
			continue
		}
		_, err := c.h.img.MountBlob(c.ctx, src, k, dg)
		if apierr.HasCode(err, apierr.BlobUnknown) {
			continue
		}
		if err != nil {
			return false, err
		}
		c.blobCreated(dg)
		return true, nil
	}
	return false, nil
}

func (c *call) monolithicUpload(k storage.RepoKey, ds string) error {
	dg, err := parseDigest(ds)
	if err != nil {
		return err
	}
	if err := c.authorize(ActionUploadLayerPart, k); err != nil {
		return err
	}
	if err := c.authorize(ActionCompleteLayerUpload, k); err != nil {
		return err
	}
	id, err := c.h.img.StartUpload(c.ctx, k)
	if err != nil {
		return err
	}
	err = c.h.img.Upload(c.ctx, k, id, func(u storage.Upload) error {
		if c.r.ContentLength != 0 {
			if _, err := u.Append(c.ctx, c.r.Body); err != nil {
				return bodyError(err)
			}
		}
		_, err := c.h.img.CommitUpload(c.ctx, k, u, dg, -1)
		return err
	})
	if err != nil {
		// The session was never handed to the client, so nobody could resume
		// it: remove it even when the failure is the client going away.
		_ = c.h.img.CancelUpload(context.WithoutCancel(c.ctx), k, id)
		return err
	}
	c.blobCreated(dg)
	return nil
}

// bodyError keeps storage errors with a code and turns a failed read of the
// request body into a client error rather than a 500.
func bodyError(err error) error {
	if _, ok := apierr.As(err); ok {
		return err
	}
	return apierr.Wrap(apierr.BlobUploadInvalid, err, "reading the upload body failed")
}

// contentRange parses "start-end" (inclusive), tolerating a "bytes " or
// "bytes=" prefix some clients send.
func contentRange(h string) (start, end int64, err error) {
	s := strings.TrimPrefix(strings.TrimPrefix(h, "bytes="), "bytes ")
	a, b, ok := strings.Cut(s, "-")
	if ok {
		start, err = strconv.ParseInt(a, 10, 64)
	}
	if ok && err == nil {
		end, err = strconv.ParseInt(b, 10, 64)
	}
	if !ok || err != nil || start < 0 || end < start || end == math.MaxInt64 {
		return 0, 0, apierr.New(apierr.BlobUploadInvalid, "invalid Content-Range %q", truncate(h))
	}
	return start, end, nil
}

// chunkBody returns the reader for this request's data after checking a
// Content-Range against the session: a chunk must start exactly where the
// durable data ends (416 otherwise, with Range telling the client where).
func (c *call) chunkBody(u storage.Upload) (io.Reader, error) {
	cr := c.r.Header.Get("Content-Range")
	if cr == "" {
		return c.r.Body, nil
	}
	start, end, err := contentRange(cr)
	if err != nil {
		return nil, err
	}
	if start != u.Size() {
		c.setUploadHeaders(u.ID(), u.Size())
		return nil, apierr.New(apierr.RangeInvalid, "chunk starts at %d but the upload has %d bytes", start, u.Size())
	}
	n := end - start + 1
	if c.r.ContentLength >= 0 && c.r.ContentLength != n {
		return nil, apierr.New(apierr.BlobUploadInvalid, "Content-Length %d does not match Content-Range %s", c.r.ContentLength, cr)
	}
	return &exactReader{r: c.r.Body, want: n, left: n}, nil
}

// exactReader yields exactly the bytes a Content-Range announced: a body
// that ends early is an error, so Append rolls the chunk back, instead of
// a silently shorter chunk than the client declared.
type exactReader struct {
	r          io.Reader
	want, left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		return n, apierr.New(apierr.BlobUploadInvalid, "the body ended after %d of the %d bytes its Content-Range announced", e.want-e.left, e.want)
	}
	return n, err
}

func (c *call) patchUpload() error {
	k := c.key(c.rt.name)
	if err := c.authorize(ActionUploadLayerPart, k); err != nil {
		return err
	}
	id := c.rt.ref
	return c.h.img.Upload(c.ctx, k, id, func(u storage.Upload) error {
		body, err := c.chunkBody(u)
		if err != nil {
			return err
		}
		if _, err := u.Append(c.ctx, body); err != nil {
			return bodyError(err)
		}
		c.setUploadHeaders(id, u.Size())
		c.w.WriteHeader(http.StatusAccepted)
		return nil
	})
}

func (c *call) putUpload() error {
	k := c.key(c.rt.name)
	ds := c.r.URL.Query().Get("digest")
	if ds == "" {
		return apierr.New(apierr.DigestInvalid, "the digest query parameter is required to complete an upload")
	}
	dg, err := parseDigest(ds)
	if err != nil {
		return err
	}
	if err := c.authorize(ActionCompleteLayerUpload, k); err != nil {
		return err
	}
	hasBody := c.r.ContentLength != 0 || c.r.Header.Get("Content-Range") != ""
	if hasBody {
		if err := c.authorize(ActionUploadLayerPart, k); err != nil {
			return err
		}
	}
	return c.h.img.Upload(c.ctx, k, c.rt.ref, func(u storage.Upload) error {
		if hasBody {
			body, err := c.chunkBody(u)
			if err != nil {
				return err
			}
			if _, err := u.Append(c.ctx, body); err != nil {
				return bodyError(err)
			}
		}
		if _, err := c.h.img.CommitUpload(c.ctx, k, u, dg, -1); err != nil {
			return err
		}
		c.blobCreated(dg)
		return nil
	})
}

func (c *call) uploadStatus() error {
	k := c.key(c.rt.name)
	if err := c.authorize(ActionUploadLayerPart, k); err != nil {
		return err
	}
	return c.h.img.Upload(c.ctx, k, c.rt.ref, func(u storage.Upload) error {
		c.setUploadHeaders(u.ID(), u.Size())
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (c *call) cancelUpload() error {
	k := c.key(c.rt.name)
	if err := c.authorize(ActionUploadLayerPart, k); err != nil {
		return err
	}
	if err := c.h.img.CancelUpload(c.ctx, k, c.rt.ref); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}
