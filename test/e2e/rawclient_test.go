//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// regClient speaks the distribution API directly, the way oras or a script
// would: no client library between the test and the wire.
type regClient struct {
	base       string
	user, pass string
	http       *http.Client
}

func (b *Berth) Client() *regClient {
	return &regClient{base: b.URL(), user: RootAccessKeyID, pass: RootSecretAccessKey, http: &http.Client{Timeout: 2 * time.Minute}}
}

// do sends an authenticated request; path may be absolute (a Location header) or
// start with /v2/.
func (c *regClient) do(ctx context.Context, method, path string, hdr http.Header, body io.Reader) (*http.Response, error) {
	target := path
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		target = c.base + path
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if br, ok := body.(*bytes.Reader); ok {
		req.ContentLength = int64(br.Len())
	}
	req.SetBasicAuth(c.user, c.pass)
	return c.http.Do(req)
}

// resolve turns a possibly relative Location header into an absolute URL.
func (c *regClient) resolve(loc string) (string, error) {
	base, err := url.Parse(c.base + "/")
	if err != nil {
		return "", err
	}
	u, err := base.Parse(loc)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

func sha256Hash(data []byte) v1.Hash {
	sum := sha256.Sum256(data)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// pushBlob uploads data with POST + monolithic PUT and returns its descriptor.
func (c *regClient) pushBlob(t testing.TB, repo, mediaType string, data []byte) v1.Descriptor {
	t.Helper()
	ctx := context.Background()
	h := sha256Hash(data)
	resp, err := c.do(ctx, http.MethodPost, "/v2/"+repo+"/blobs/uploads/", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(resp)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST upload: %s %s", resp.Status, body)
	}
	loc, err := c.resolve(resp.Header.Get("Location"))
	if err != nil || loc == "" {
		t.Fatalf("POST upload: bad Location %q: %v", resp.Header.Get("Location"), err)
	}
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	resp, err = c.do(ctx, http.MethodPut, loc+sep+"digest="+url.QueryEscape(h.String()),
		http.Header{"Content-Type": {"application/octet-stream"}}, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	body = readAll(resp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT blob %s: %s %s", h, resp.Status, body)
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != "" && got != h.String() {
		t.Errorf("PUT blob: Docker-Content-Digest %s, want %s", got, h)
	}
	return v1.Descriptor{MediaType: types.MediaType(mediaType), Digest: h, Size: int64(len(data))}
}

// putManifest PUTs a manifest and returns the response (body already read).
func (c *regClient) putManifest(t testing.TB, repo, reference, mediaType string, manifest []byte) (*http.Response, string) {
	t.Helper()
	resp, err := c.do(context.Background(), http.MethodPut, "/v2/"+repo+"/manifests/"+reference,
		http.Header{"Content-Type": {mediaType}}, bytes.NewReader(manifest))
	if err != nil {
		t.Fatal(err)
	}
	return resp, readAll(resp)
}

// get performs an authenticated GET and returns the response with its body read.
func (c *regClient) get(t testing.TB, path string, hdr http.Header) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.do(context.Background(), http.MethodGet, path, hdr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// verifyBlob streams a blob from the registry and checks its digest and size.
func (c *regClient) verifyBlob(ctx context.Context, repo string, d v1.Descriptor) error {
	resp, err := c.do(ctx, http.MethodGet, "/v2/"+repo+"/blobs/"+d.Digest.String(), nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET blob %s in %s: %s", d.Digest, repo, resp.Status)
	}
	n, err := verifyDigest(resp.Body, d.Digest)
	if err != nil {
		return fmt.Errorf("blob %s in %s: %w", d.Digest, repo, err)
	}
	if d.Size > 0 && n != d.Size {
		return fmt.Errorf("blob %s in %s: %d bytes, descriptor says %d", d.Digest, repo, n, d.Size)
	}
	return nil
}

// verifyDigest reads r to the end and checks that its content has digest want.
func verifyDigest(r io.Reader, want v1.Hash) (int64, error) {
	var h hash.Hash
	switch want.Algorithm {
	case "sha256":
		h = sha256.New()
	case "sha512":
		h = sha512.New()
	default:
		return 0, fmt.Errorf("unsupported digest algorithm %q", want.Algorithm)
	}
	n, err := io.Copy(h, r)
	if err != nil {
		return n, err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want.Hex {
		return n, fmt.Errorf("content digest %s:%s, want %s", want.Algorithm, got, want)
	}
	return n, nil
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return string(data)
}
