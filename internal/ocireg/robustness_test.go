package ocireg_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/ociref"
	"github.com/berth-dev/berth/internal/storage"
	"github.com/berth-dev/berth/internal/storage/fsblob"
)

// snapshot renders everything a request could change: committed blob
// files, upload sessions, and per repository every manifest with its tags.
func snapshot(t testing.TB, hs *harness) string {
	t.Helper()
	ctx := t.Context()
	var b strings.Builder
	var files []string
	for p, n := range committedBlobs(t, hs.dir) {
		files = append(files, fmt.Sprintf("%s %d", p, n))
	}
	sort.Strings(files)
	fmt.Fprintf(&b, "blobs %v\n", files)
	fmt.Fprintf(&b, "uploads %v\n", uploadDirs(t, hs.dir))
	repos, err := hs.meta.ListRepositories(ctx, "", "", storage.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range repos {
		ms, err := hs.meta.ListManifests(ctx, r.Key, storage.AnyImages, storage.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "repo %s/%s/%s:", r.Key.Account, r.Key.Region, r.Key.Name)
		for _, m := range ms {
			tags := append([]string(nil), m.Tags...)
			sort.Strings(tags)
			fmt.Fprintf(&b, " %s%v", m.Digest, tags)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// checkInvariants asserts the store's promises: every tag resolves to a
// stored manifest, and every blob a manifest references exists in the blob
// store and, with links, is linked to the manifest's repository (DELETE
// /v2/.../blobs/<digest> may unlink a blob a manifest still references, as
// the distribution spec allows, so the fuzz target does not require it).
// Index children are not
// checked: DELETE /v2/.../manifests/<child> may remove a child an index
// still lists (the distribution spec allows it; ECR's BatchDeleteImage
// refuses with ImageReferencedByManifestList).
func checkInvariants(t testing.TB, hs *harness, links bool) {
	t.Helper()
	ctx := t.Context()
	blobs, err := fsblob.New(filepath.Join(hs.dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	repos, err := hs.meta.ListRepositories(ctx, "", "", storage.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range repos {
		ms, err := hs.meta.ListManifests(ctx, r.Key, storage.AnyImages, storage.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, lm := range ms {
			for _, tag := range lm.Tags {
				if m, err := hs.meta.ResolveTag(ctx, r.Key, tag); err != nil || m.Digest != lm.Digest {
					t.Fatalf("%s:%s does not resolve to %s: %v", r.Key.Name, tag, lm.Digest, err)
				}
			}
			m, err := hs.meta.GetManifest(ctx, r.Key, lm.Digest)
			if err != nil {
				t.Fatalf("manifest %s@%s: %v", r.Key.Name, lm.Digest, err)
			}
			p, err := ociref.ParseManifest(m.MediaType, m.Payload)
			if err != nil {
				t.Fatalf("stored manifest %s@%s does not parse: %v", r.Key.Name, m.Digest, err)
			}
			var refs []ociref.Descriptor
			if p.Config != nil {
				refs = append(refs, *p.Config)
			}
			for _, l := range p.Layers {
				if !ociref.IsNonDistributable(l) {
					refs = append(refs, l)
				}
			}
			for _, d := range refs {
				if _, err := blobs.Stat(ctx, d.Digest); err != nil {
					t.Fatalf("%s@%s references missing blob %s: %v", r.Key.Name, m.Digest, d.Digest, err)
				}
				if _, err := hs.meta.LinkedBlob(ctx, r.Key, d.Digest); err != nil && links {
					t.Fatalf("%s@%s references unlinked blob %s: %v", r.Key.Name, m.Digest, d.Digest, err)
				}
			}
		}
	}
}

var rootAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte("root:rootpw"))

// raw sends head (request line and headers, without the blank line) and
// then body over a fresh connection, half-closes it, and returns the
// response. It lets a test lie in Content-Length: the server sees EOF
// where the body was promised to continue, exactly as when a client dies.
func raw(t testing.TB, hs *harness, head string, body string) (*http.Response, string) {
	return rawConn(t, hs, head, body, true)
}

// rawConn is raw with the choice to keep the connection open while the
// server answers (a live, if hostile, client).
func rawConn(t testing.TB, hs *harness, head string, body string, halfClose bool) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", hs.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := head + "\r\nHost: " + hs.srv.Listener.Addr().String() + "\r\nConnection: close\r\n\r\n" + body
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	if halfClose {
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func errCode(t testing.TB, body string) string {
	t.Helper()
	var eb errBody
	if err := json.Unmarshal([]byte(body), &eb); err != nil || len(eb.Errors) != 1 {
		t.Fatalf("not an OCI error body: %q (%v)", body, err)
	}
	return eb.Errors[0].Code
}

// TestTruncatedUploads: a client that promises Content-Length N and dies
// after N/2 gets an OCI error (if it is still listening), nothing is
// committed, the session stays at its last durable offset (upload status
// says so), and a retry of the same request completes the blob.
func TestTruncatedUploads(t *testing.T) {
	hs := newHarness(t, harnessOpts{})
	f := setup(t, hs)
	first := pattern(3000, 1)
	chunk := pattern(5000, 2)
	whole := first + chunk
	wholeDg := digest.FromString(whole)

	for _, tc := range []struct {
		name    string
		request func(loc string) string // request line + headers for the chunk
		final   bool                    // the request itself completes the upload
	}{
		{"PATCH streamed", func(loc string) string {
			return "PATCH " + loc + " HTTP/1.1\r\nAuthorization: " + rootAuth + "\r\nContent-Type: application/octet-stream\r\nContent-Length: " + strconv.Itoa(len(chunk))
		}, false},
		{"PATCH with Content-Range", func(loc string) string {
			return "PATCH " + loc + " HTTP/1.1\r\nAuthorization: " + rootAuth + fmt.Sprintf("\r\nContent-Range: %d-%d", len(first), len(whole)-1) + "\r\nContent-Length: " + strconv.Itoa(len(chunk))
		}, false},
		{"PUT final chunk", func(loc string) string {
			return "PUT " + loc + "?digest=" + string(wholeDg) + " HTTP/1.1\r\nAuthorization: " + rootAuth + "\r\nContent-Length: " + strconv.Itoa(len(chunk))
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loc := hs.startUpload(t, "trunc/"+strings.ReplaceAll(strings.ToLower(tc.name), " ", "-"))
			repo := strings.TrimSuffix(strings.TrimPrefix(loc, "/v2/"), loc[strings.Index(loc, "/blobs/uploads/"):])
			resp, body := hs.do(t, "root", "PATCH", loc, nil, first)
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("first chunk: %d %s", resp.StatusCode, body)
			}
			before := snapshot(t, hs)

			resp, body = raw(t, hs, tc.request(loc), chunk[:len(chunk)/2])
			if resp.StatusCode != http.StatusBadRequest || errCode(t, body) != "BLOB_UPLOAD_INVALID" {
				t.Fatalf("truncated request: %d %s, want 400 BLOB_UPLOAD_INVALID", resp.StatusCode, body)
			}
			if after := snapshot(t, hs); after != before {
				t.Fatalf("store changed by a truncated request:\n%s\nbefore:\n%s", after, before)
			}
			resp, _ = hs.do(t, "root", "GET", loc, nil, "")
			if want := fmt.Sprintf("0-%d", len(first)-1); resp.StatusCode != http.StatusNoContent || resp.Header.Get("Range") != want {
				t.Fatalf("status after truncation: %d Range %q, want %s", resp.StatusCode, resp.Header.Get("Range"), want)
			}
			resp, _ = hs.do(t, "root", "HEAD", "/v2/"+repo+"/blobs/"+string(wholeDg), nil, "")
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("blob visible after truncated upload: %d", resp.StatusCode)
			}

			resp, body = raw(t, hs, tc.request(loc), chunk)
			if !tc.final {
				if resp.StatusCode != http.StatusAccepted {
					t.Fatalf("retry: %d %s", resp.StatusCode, body)
				}
				resp, body = hs.do(t, "root", "PUT", loc+"?digest="+string(wholeDg), nil, "")
			}
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("completing after retry: %d %s", resp.StatusCode, body)
			}
			resp, body = hs.do(t, "root", "GET", "/v2/"+repo+"/blobs/"+string(wholeDg), nil, "")
			if resp.StatusCode != http.StatusOK || body != whole {
				t.Fatalf("blob after retry: %d, %d bytes", resp.StatusCode, len(body))
			}
		})
	}

	t.Run("monolithic POST", func(t *testing.T) {
		before := snapshot(t, hs)
		head := "POST /v2/test/repo/blobs/uploads/?digest=" + string(wholeDg) + " HTTP/1.1\r\nAuthorization: " + rootAuth + "\r\nContent-Length: " + strconv.Itoa(len(whole))
		resp, body := raw(t, hs, head, whole[:len(whole)/2])
		if resp.StatusCode != http.StatusBadRequest || errCode(t, body) != "BLOB_UPLOAD_INVALID" {
			t.Fatalf("truncated monolithic push: %d %s", resp.StatusCode, body)
		}
		// A monolithic push has no session the client could resume, so
		// nothing of it may remain.
		if after := snapshot(t, hs); after != before {
			t.Fatalf("store changed:\n%s\nbefore:\n%s", after, before)
		}
		resp, body = raw(t, hs, head, whole)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("retry: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("manifest PUT", func(t *testing.T) {
		before := snapshot(t, hs)
		payload := imageManifest(f.cfg, f.layer, 2, 11, `,"annotations":{"x":"y"}`)
		head := "PUT /v2/test/repo/manifests/v1 HTTP/1.1\r\nAuthorization: " + rootAuth + "\r\nContent-Type: " + ociref.MediaTypeOCIManifest + "\r\nContent-Length: " + strconv.Itoa(len(payload))
		resp, body := raw(t, hs, head, payload[:len(payload)/2])
		if resp.StatusCode != http.StatusBadRequest || errCode(t, body) != "MANIFEST_INVALID" {
			t.Fatalf("truncated manifest: %d %s", resp.StatusCode, body)
		}
		if after := snapshot(t, hs); after != before {
			t.Fatalf("store changed:\n%s\nbefore:\n%s", after, before)
		}
		checkFixture(t, hs, f)
		// Retried by a client that stays connected: a manifest PUT whose
		// client hangs up during the transaction is rolled back whole, which
		// is as safe as completing it.
		if got := hs.pushManifest(t, "test/repo", "v1", payload); got != digest.FromString(payload) {
			t.Fatalf("retry stored %s", got)
		}
	})
	checkInvariants(t, hs, true)
}

// TestHostileRequests: each malformed request gets the spec's status and
// error code, and the store (blobs, sessions, repositories, manifests,
// tags) is exactly as before.
func TestHostileRequests(t *testing.T) {
	hs := newHarness(t, harnessOpts{})
	f := setup(t, hs)
	loc := hs.startUpload(t, "test/repo")
	if resp, body := hs.do(t, "root", "PATCH", loc, nil, "0123456789"); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("chunk: %d %s", resp.StatusCode, body)
	}
	auth := "\r\nAuthorization: " + rootAuth
	manifestCT := "\r\nContent-Type: " + ociref.MediaTypeOCIManifest
	cl := func(n int) string { return "\r\nContent-Length: " + strconv.Itoa(n) }
	put := func(path, ct, body string) (string, string) {
		return "PUT " + path + " HTTP/1.1" + auth + ct + cl(len(body)), body
	}
	long := strings.Repeat("a", 256)
	tests := []struct {
		name     string
		head     string
		body     string
		status   int
		code     string // "" when net/http itself answers (Range errors)
		dontPeek bool
	}{
		{name: "manifest invalid JSON", head: put2(put("/v2/test/repo/manifests/v1", manifestCT, `{"schemaVersion":2,`)), status: 400, code: "MANIFEST_INVALID"},
		{name: "manifest is an array", head: put2(put("/v2/test/repo/manifests/v1", manifestCT, `[]`)), status: 400, code: "MANIFEST_INVALID"},
		{name: "manifest mediaType differs from Content-Type", head: put2(put("/v2/test/repo/manifests/v1", "\r\nContent-Type: "+ociref.MediaTypeOCIIndex, f.imagePayload)), status: 400, code: "MANIFEST_INVALID"},
		{name: "manifest to a new repository with missing blobs", head: put2(put("/v2/brand/new/manifests/v1", manifestCT, f.imagePayload)), status: 400, code: "MANIFEST_BLOB_UNKNOWN"},
		{name: "manifest Content-Length beyond the limit, no body", head: "PUT /v2/test/repo/manifests/v1 HTTP/1.1" + auth + manifestCT + "\r\nContent-Length: 1099511627776", status: 413, code: "SIZE_INVALID"},
		{name: "Content-Range negative", head: "PATCH " + loc + " HTTP/1.1" + auth + "\r\nContent-Range: -5-10" + cl(1), body: "x", status: 400, code: "BLOB_UPLOAD_INVALID"},
		{name: "Content-Range overflowing", head: "PATCH " + loc + " HTTP/1.1" + auth + "\r\nContent-Range: 10-99999999999999999999" + cl(1), body: "x", status: 400, code: "BLOB_UPLOAD_INVALID"},
		{name: "Content-Range reversed", head: "PATCH " + loc + " HTTP/1.1" + auth + "\r\nContent-Range: 12-10" + cl(1), body: "x", status: 400, code: "BLOB_UPLOAD_INVALID"},
		{name: "Content-Range to MaxInt64, chunked body", head: "PATCH " + loc + " HTTP/1.1" + auth + "\r\nContent-Range: 10-9223372036854775807\r\nTransfer-Encoding: chunked", body: "1\r\nx\r\n0\r\n\r\n", status: 400, code: "BLOB_UPLOAD_INVALID"},
		{name: "Content-Range longer than the chunked body", head: "PATCH " + loc + " HTTP/1.1" + auth + "\r\nContent-Range: 10-19\r\nTransfer-Encoding: chunked", body: "1\r\nx\r\n0\r\n\r\n", status: 400, code: "BLOB_UPLOAD_INVALID"},
		{name: "Content-Range not at the end of the upload", head: "PATCH " + loc + " HTTP/1.1" + auth + "\r\nContent-Range: 0-0" + cl(1), body: "x", status: 416, code: "BLOB_UPLOAD_INVALID"},
		{name: "Range beyond the blob", head: "GET /v2/test/repo/blobs/" + string(f.layer) + " HTTP/1.1" + auth + "\r\nRange: bytes=100-200", status: 416},
		{name: "Range overflowing", head: "GET /v2/test/repo/blobs/" + string(f.layer) + " HTTP/1.1" + auth + "\r\nRange: bytes=99999999999999999999-", status: 416},
		{name: "name with ..", head: put2(put("/v2/test/../evil/manifests/v1", manifestCT, f.imagePayload)), status: 400, code: "NAME_INVALID"},
		{name: "name with encoded ..", head: put2(put("/v2/test/%2E%2E/evil/manifests/v1", manifestCT, f.imagePayload)), status: 400, code: "NAME_INVALID"},
		{name: "name with %2F and missing blobs", head: put2(put("/v2/test%2Fslash/manifests/v1", manifestCT, f.imagePayload)), status: 400, code: "MANIFEST_BLOB_UNKNOWN"},
		{name: "name uppercase", head: "POST /v2/Test/repo/blobs/uploads/ HTTP/1.1" + auth + cl(0), status: 400, code: "NAME_INVALID"},
		{name: "name 256 characters", head: "POST /v2/" + long + "/blobs/uploads/ HTTP/1.1" + auth + cl(0), status: 400, code: "NAME_INVALID"},
		{name: "name unicode", head: "POST /v2/t%C3%A9st/blobs/uploads/ HTTP/1.1" + auth + cl(0), status: 400, code: "NAME_INVALID"},
		{name: "name with NUL", head: "POST /v2/te%00st/blobs/uploads/ HTTP/1.1" + auth + cl(0), status: 400, code: "NAME_INVALID"},
		{name: "digest too short", head: "GET /v2/test/repo/blobs/sha256:abcd HTTP/1.1" + auth, status: 400, code: "DIGEST_INVALID"},
		{name: "digest unsupported algorithm", head: "GET /v2/test/repo/blobs/md5:d41d8cd98f00b204e9800998ecf8427e HTTP/1.1" + auth, status: 400, code: "DIGEST_INVALID"},
		{name: "sha512 digest of sha256 length", head: "HEAD /v2/test/repo/blobs/sha512:" + f.layer.Encoded() + " HTTP/1.1" + auth, status: 400, dontPeek: true},
		{name: "digest uppercase hex", head: "GET /v2/test/repo/blobs/sha256:" + strings.ToUpper(f.layer.Encoded()) + " HTTP/1.1" + auth, status: 400, code: "DIGEST_INVALID"},
		{name: "complete with a bad digest", head: "PUT " + loc + "?digest=sha256:xyz HTTP/1.1" + auth + cl(0), status: 400, code: "DIGEST_INVALID"},
		{name: "complete with a wrong digest", head: "PUT " + loc + "?digest=" + string(digest.FromString("other")) + " HTTP/1.1" + auth + cl(0), status: 400, code: "DIGEST_INVALID"},
		{name: "monolithic push with a bad digest", head: "POST /v2/test/repo/blobs/uploads/?digest=sha256:1 HTTP/1.1" + auth + cl(1), body: "x", status: 400, code: "DIGEST_INVALID"},
		{name: "upload id traversal", head: "PATCH /v2/test/repo/blobs/uploads/..%2F..%2Fblobs HTTP/1.1" + auth + cl(1), body: "x", status: 404, code: "NAME_UNKNOWN"},
		{name: "upload id ..", head: "DELETE /v2/test/repo/blobs/uploads/%2E%2E HTTP/1.1" + auth, status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "upload id of another repository", head: "DELETE /v2/test/other" + loc[len("/v2/test/repo"):] + " HTTP/1.1" + auth, status: 404, code: "BLOB_UPLOAD_UNKNOWN"},
		{name: "unauthenticated delete", head: "DELETE /v2/test/repo/manifests/v1 HTTP/1.1", status: 401, code: "UNAUTHORIZED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			head, body := tc.head, tc.body
			if i := strings.Index(head, "\x00BODY\x00"); i >= 0 {
				head, body = head[:i], head[i+len("\x00BODY\x00"):]
			}
			before := snapshot(t, hs)
			resp, got := rawConn(t, hs, head, body, false)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.status, got)
			}
			if tc.code != "" {
				if c := errCode(t, got); c != tc.code {
					t.Fatalf("code %s, want %s; body %s", c, tc.code, got)
				}
			}
			if after := snapshot(t, hs); after != before {
				t.Fatalf("store changed:\n%s\nbefore:\n%s", after, before)
			}
		})
	}
	resp, _ := hs.do(t, "root", "GET", loc, nil, "")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Range") != "0-9" {
		t.Fatalf("session after hostile requests: %d %q", resp.StatusCode, resp.Header.Get("Range"))
	}
	checkFixture(t, hs, f)
	checkInvariants(t, hs, true)
}

// put2 packs a (head, body) pair into one table field.
func put2(head, body string) string { return head + "\x00BODY\x00" + body }

// FuzzV2Request drives the /v2/ handler with arbitrary methods, paths,
// headers and bodies against a store holding a small image. Properties: no
// panic and no 5xx (a bad request is always the client's error), error
// responses use the OCI error body, and the store's invariants hold after
// every request (every tag resolves; every manifest's blobs exist and are
// linked).
func FuzzV2Request(f *testing.F) {
	hs := newHarness(f, harnessOpts{maxManifest: 64 << 10})
	ctx := f.Context()
	cfg := hs.pushBlob(f, "test/repo", "{}")
	layer := hs.pushBlob(f, "test/repo", "hello layer")
	img := imageManifest(cfg, layer, 2, 11, "")
	imgDg := hs.pushManifest(f, "test/repo", "v1", img)
	index := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"%s","manifests":[{"mediaType":"%s","digest":"%s","size":%d}]}`, ociref.MediaTypeOCIIndex, ociref.MediaTypeOCIManifest, imgDg, len(img))

	mct := "Content-Type: " + ociref.MediaTypeOCIManifest
	seeds := []struct {
		method, path, headers, body string
		auth, chunked               bool
	}{
		{"GET", "/v2/", "", "", true, false},
		{"GET", "/v2/test/repo/manifests/v1", "Accept: " + ociref.MediaTypeOCIManifest, "", true, false},
		{"PUT", "/v2/test/repo/manifests/v2", mct, img, true, false},
		{"PUT", "/v2/test/repo/manifests/idx", "Content-Type: " + ociref.MediaTypeOCIIndex, index, true, false},
		{"PUT", "/v2/new/repo/manifests/" + string(imgDg), mct, img, true, false},
		{"PUT", "/v2/test/repo/manifests/v1", mct, `{"schemaVersion":2,"mediaType":"` + ociref.MediaTypeOCIManifest + `","config":{"digest":"sha256:0"}}`, true, false},
		{"DELETE", "/v2/test/repo/manifests/v1", "", "", true, false},
		{"DELETE", "/v2/test/repo/manifests/" + string(imgDg), "", "", true, false},
		{"DELETE", "/v2/test/repo/blobs/" + string(layer), "", "", true, false},
		{"POST", "/v2/test/repo/blobs/uploads/?digest=" + string(digest.FromString("x")), "", "x", true, false},
		{"POST", "/v2/test/repo/blobs/uploads/?mount=" + string(layer) + "&from=test/repo", "", "", true, false},
		{"POST", "/v2/other/blobs/uploads/?mount=" + string(layer), "", "", true, false},
		{"PATCH", "/v2/test/repo/blobs/uploads/abc", "Content-Range: 0-3", "abcd", true, true},
		{"GET", "/v2/test/repo/blobs/" + string(layer), "Range: bytes=3-1", "", true, false},
		{"GET", "/v2/test/repo/tags/list?n=1&last=v1", "", "", true, false},
		{"GET", "/v2/_catalog?n=0", "", "", true, false},
		{"GET", "/v2/test/repo/referrers/" + string(imgDg) + "?artifactType=a", "", "", true, false},
		{"GET", "/v2/test/repo/manifests/v1", "", "", false, false},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.headers, []byte(s.body), s.auth, s.chunked)
	}
	f.Fuzz(func(t *testing.T, method, target, headers string, body []byte, withAuth, chunked bool) {
		if len(body) > 1<<20 || len(target) > 4096 || len(headers) > 8192 {
			return
		}
		path, query, _ := strings.Cut(target, "?")
		if !strings.HasPrefix(path, "/v2/") {
			path = "/v2/" + path
		}
		if method == "" || strings.ContainsAny(method, " \t\r\n") {
			method = "GET"
		}
		req := &http.Request{
			Method:     method,
			URL:        &url.URL{Path: path, RawQuery: query},
			Proto:      "HTTP/1.1",
			ProtoMajor: 1,
			ProtoMinor: 1,
			Header:     http.Header{},
			Host:       "127.0.0.1:5000",
			RemoteAddr: "127.0.0.1:40000",
			Body:       io.NopCloser(strings.NewReader(string(body))),
		}
		req.ContentLength = int64(len(body))
		if chunked {
			req.ContentLength = -1
		}
		for _, line := range strings.Split(headers, "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && k != "" {
				req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
		req.Header.Del("Authorization")
		if withAuth {
			req.SetBasicAuth("root", "rootpw")
		}
		req = req.WithContext(ctx)
		rec := httptest.NewRecorder()
		hs.h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d %s", method, target, rec.Code, rec.Body.String())
		}
		if !withAuth && rec.Code != http.StatusUnauthorized {
			t.Fatalf("anonymous %s %s: %d", method, target, rec.Code)
		}
		if rec.Code >= 400 && rec.Code != http.StatusRequestedRangeNotSatisfiable && method != http.MethodHead {
			errCode(t, rec.Body.String())
		}
		checkInvariants(t, hs, false)
	})
}
