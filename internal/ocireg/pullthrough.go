package ocireg

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/ociref"
	"github.com/berth-dev/berth/internal/pullthrough"
	"github.com/berth-dev/berth/internal/storage"
)

// PullThrough is the pull-through cache engine as the registry API uses
// it: covered false means no rule covers the repository and the request is
// served locally as usual.
type PullThrough interface {
	GetManifest(ctx context.Context, k storage.RepoKey, ref ociref.Reference, authorize pullthrough.AuthorizeFunc) (*pullthrough.Manifest, bool, error)
	GetBlob(ctx context.Context, k storage.RepoKey, dg digest.Digest, authorize pullthrough.AuthorizeFunc) (*pullthrough.Blob, bool, error)
}

// Response headers of pull-through answers. CacheHeader is hit, miss,
// revalidated or stale; a stale answer also carries the standard Warning
// 110 and UnreachableHeader (RFC 3339), which berth doctor reports.
const (
	CacheHeader       = "X-Berth-Cache"
	UnreachableHeader = "X-Berth-Upstream-Unreachable-Since"
)

func (c *call) authorizer(k storage.RepoKey) pullthrough.AuthorizeFunc {
	return func(action string) error { return c.authorize(action, k) }
}

// pullThroughManifest serves a manifest of a covered repository; handled
// false when no rule covers k.
func (c *call) pullThroughManifest(k storage.RepoKey, ref ociref.Reference) (bool, error) {
	if c.h.ptc == nil {
		return false, nil
	}
	m, covered, err := c.h.ptc.GetManifest(c.ctx, k, ref, c.authorizer(k))
	if !covered || err != nil {
		return covered, err
	}
	hdr := c.w.Header()
	hdr[CacheHeader] = []string{m.Cache}
	if m.Cache == "stale" {
		since := m.UnreachableSince.UTC().Format(time.RFC3339)
		hdr[UnreachableHeader] = []string{since}
		hdr["Warning"] = []string{`110 berth "Response is stale: upstream unreachable since ` + since + `"`}
	}
	c.writeManifest(m.MediaType, m.Digest, m.Payload)
	return true, nil
}

// pullThroughBlob serves a blob of a covered repository that the registry
// does not hold (yet); handled false when no rule covers k.
func (c *call) pullThroughBlob(k storage.RepoKey, dg digest.Digest, lookup error) (bool, error) {
	if c.h.ptc == nil || !(apierr.HasCode(lookup, apierr.BlobUnknown) || apierr.HasCode(lookup, apierr.NameUnknown)) {
		return false, nil
	}
	b, covered, err := c.h.ptc.GetBlob(c.ctx, k, dg, c.authorizer(k))
	if !covered || err != nil {
		return covered, err
	}
	hdr := c.w.Header()
	hdr["Content-Type"] = hvOctet
	hdr["Docker-Content-Digest"] = []string{string(dg)}
	if b.Local != nil {
		defer b.Local.Close()
		hdr[CacheHeader] = []string{"hit"}
		if c.r.Method == http.MethodHead {
			hdr["Content-Length"] = []string{strconv.FormatInt(b.Size, 10)}
			c.w.WriteHeader(http.StatusOK)
			return true, nil
		}
		c.serveBlob(dg, b.Local)
		return true, nil
	}
	defer b.Stream.Close()
	hdr[CacheHeader] = []string{"miss"}
	if b.Size >= 0 {
		hdr["Content-Length"] = []string{strconv.FormatInt(b.Size, 10)}
	}
	c.w.WriteHeader(http.StatusOK)
	if c.r.Method == http.MethodHead {
		return true, nil
	}
	// Range is not honoured while the blob is still arriving: the whole
	// blob is the valid answer to any Range request.
	if _, err := io.Copy(c.w, b.Stream); err != nil {
		// The status line is gone; abort the connection so the client
		// sees a failed transfer, never a short body that ends cleanly.
		c.info.Err = err
		panic(http.ErrAbortHandler)
	}
	return true, nil
}
