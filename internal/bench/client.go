package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opencontainers/go-digest"
)

const (
	mediaOCIManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaOCIConfig   = "application/vnd.oci.image.config.v1+json"
	mediaOCILayer    = "application/vnd.oci.image.layer.v1.tar"
	acceptManifests  = mediaOCIManifest + ", application/vnd.oci.image.index.v1+json, " +
		"application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json"
	maxErrorBody = 4 << 10
)

// newTransport is tuned for many concurrent keep-alive clients against one
// host and never uses a proxy (benchmarks target the registry itself).
func newTransport(conc int) *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conc * 2,
		MaxIdleConnsPerHost: conc * 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		WriteBufferSize:     256 << 10,
		ReadBufferSize:      256 << 10,
	}
}

// registry speaks just enough of the OCI distribution API to drive load.
type registry struct {
	base     string // http://host:port
	repo     string
	auth     string // Authorization header value; "" sends none
	hc       *http.Client
	requests *atomic.Int64 // counts every HTTP request sent
	bufs     *sync.Pool    // 256 KiB read buffers
}

// writerOnly hides io.Discard's ReadFrom, which reads in 8 KiB pieces: at
// GiB/s that is the client's bottleneck, not the server's.
type writerOnly struct{ io.Writer }

// statusError is an unexpected HTTP status, with the start of the body.
type statusError struct {
	method, url string
	status      int
	body        string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.method, e.url, e.status, strings.TrimSpace(e.body))
}

func (r *registry) url(path string) string { return r.base + "/v2/" + r.repo + path }

func (r *registry) do(ctx context.Context, method, u string, body io.Reader, size int64, hdr http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil {
		req.ContentLength = size
		if size == 0 {
			req.Body = http.NoBody
		}
	}
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
	}
	r.requests.Add(1)
	return r.hc.Do(req)
}

// expect sends the request, checks the status, drains the body into sink
// (nil: discard) and returns the response with its body closed.
func (r *registry) expect(ctx context.Context, method, u string, body io.Reader, size int64, hdr http.Header, sink io.Writer, want ...int) (*http.Response, int64, error) {
	resp, err := r.do(ctx, method, u, body, size, hdr)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	for _, w := range want {
		if resp.StatusCode == w {
			if sink == nil {
				sink = io.Discard
			}
			buf := r.bufs.Get().(*[]byte)
			defer r.bufs.Put(buf)
			n, err := io.CopyBuffer(writerOnly{sink}, resp.Body, *buf)
			return resp, n, err
		}
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return resp, 0, &statusError{method: method, url: redact(u), status: resp.StatusCode, body: string(msg)}
}

// redact keeps upload URLs' query strings (which may carry state tokens) out of errors.
func redact(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}

func (r *registry) location(resp *http.Response) (string, error) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", errors.New("upload response without Location")
	}
	base, err := url.Parse(r.base)
	if err != nil {
		return "", err
	}
	l, err := base.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("bad Location %q: %w", loc, err)
	}
	return l.String(), nil
}

func withDigest(loc string, dg digest.Digest) string {
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	return loc + sep + "digest=" + url.QueryEscape(string(dg))
}

func octet() http.Header { return http.Header{"Content-Type": {"application/octet-stream"}} }

func (r *registry) startUpload(ctx context.Context) (string, error) {
	resp, _, err := r.expect(ctx, http.MethodPost, r.url("/blobs/uploads/"), nil, 0, nil, nil, http.StatusAccepted)
	if err != nil {
		return "", err
	}
	return r.location(resp)
}

// pushMonolithic is POST then one PUT carrying the whole blob.
func (r *registry) pushMonolithic(ctx context.Context, body io.Reader, size int64, dg digest.Digest) error {
	loc, err := r.startUpload(ctx)
	if err != nil {
		return err
	}
	_, _, err = r.expect(ctx, http.MethodPut, withDigest(loc, dg), body, size, octet(), nil, http.StatusCreated)
	return err
}

// pushChunked is POST, PATCHes of chunk bytes with Content-Range, then an empty PUT.
func (r *registry) pushChunked(ctx context.Context, body io.Reader, size, chunk int64, dg digest.Digest) error {
	loc, err := r.startUpload(ctx)
	if err != nil {
		return err
	}
	for off := int64(0); off < size; off += chunk {
		n := min(chunk, size-off)
		hdr := http.Header{
			"Content-Type":  {"application/octet-stream"},
			"Content-Range": {strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(off+n-1, 10)},
		}
		resp, _, err := r.expect(ctx, http.MethodPatch, loc, io.LimitReader(body, n), n, hdr, nil, http.StatusAccepted, http.StatusNoContent)
		if err != nil {
			return err
		}
		if loc, err = r.location(resp); err != nil {
			return err
		}
	}
	_, _, err = r.expect(ctx, http.MethodPut, withDigest(loc, dg), bytes.NewReader(nil), 0, octet(), nil, http.StatusCreated)
	return err
}

// hasBlob is the HEAD a client sends before pushing a layer.
func (r *registry) hasBlob(ctx context.Context, dg digest.Digest) (bool, error) {
	resp, err := r.do(ctx, http.MethodHead, r.url("/blobs/"+string(dg)), nil, 0, nil)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, &statusError{method: http.MethodHead, url: r.url("/blobs/" + string(dg)), status: resp.StatusCode}
}

func (r *registry) putManifest(ctx context.Context, ref string, payload []byte) error {
	hdr := http.Header{"Content-Type": {mediaOCIManifest}}
	_, _, err := r.expect(ctx, http.MethodPut, r.url("/manifests/"+ref), bytes.NewReader(payload), int64(len(payload)), hdr, nil, http.StatusCreated)
	return err
}

func (r *registry) getManifest(ctx context.Context, ref string, sink io.Writer) (int64, error) {
	hdr := http.Header{"Accept": {acceptManifests}}
	_, n, err := r.expect(ctx, http.MethodGet, r.url("/manifests/"+ref), nil, 0, hdr, sink, http.StatusOK)
	return n, err
}

func (r *registry) getBlob(ctx context.Context, dg digest.Digest, sink io.Writer) (int64, error) {
	_, n, err := r.expect(ctx, http.MethodGet, r.url("/blobs/"+string(dg)), nil, 0, nil, sink, http.StatusOK)
	return n, err
}

// ping is GET /v2/, what every client does first.
func (r *registry) ping(ctx context.Context) error {
	_, _, err := r.expect(ctx, http.MethodGet, r.base+"/v2/", nil, 0, nil, nil, http.StatusOK)
	return err
}
