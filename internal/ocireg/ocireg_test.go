package ocireg_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/ociref"
)

func (hs *harness) pushBlob(t testing.TB, repo, content string) digest.Digest {
	t.Helper()
	dg := digest.FromString(content)
	resp, body := hs.do(t, "root", "POST", "/v2/"+repo+"/blobs/uploads/?digest="+string(dg), nil, content)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("push blob: %d %s", resp.StatusCode, body)
	}
	return dg
}

func (hs *harness) pushManifest(t testing.TB, repo, ref, payload string) digest.Digest {
	t.Helper()
	resp, body := hs.do(t, "root", "PUT", "/v2/"+repo+"/manifests/"+ref, map[string]string{"Content-Type": ociref.MediaTypeOCIManifest}, payload)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("push manifest: %d %s", resp.StatusCode, body)
	}
	return digest.Digest(resp.Header.Get("Docker-Content-Digest"))
}

func imageManifest(cfg, layer digest.Digest, cfgSize, layerSize int, extra string) string {
	return fmt.Sprintf(`{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]%s}`,
		ociref.MediaTypeOCIManifest, cfg, cfgSize, layer, layerSize, extra)
}

// fixture: test/repo with a config, a layer, image "v1" and "v2", and an
// artifact referring to v1.
type fixture struct {
	cfg, layer, image, artifact digest.Digest
	imagePayload                string
}

func setup(t *testing.T, hs *harness) fixture {
	var f fixture
	f.cfg = hs.pushBlob(t, "test/repo", "{}")
	f.layer = hs.pushBlob(t, "test/repo", "hello layer")
	f.imagePayload = imageManifest(f.cfg, f.layer, 2, 11, "")
	f.image = hs.pushManifest(t, "test/repo", "v1", f.imagePayload)
	hs.pushManifest(t, "test/repo", "v2", f.imagePayload)
	art := imageManifest(f.cfg, f.layer, 2, 11, fmt.Sprintf(`,"artifactType":"application/vnd.example.sig","subject":{"mediaType":"%s","digest":"%s","size":%d},"annotations":{"k":"v"}`,
		ociref.MediaTypeOCIManifest, f.image, len(f.imagePayload)))
	f.artifact = hs.pushManifest(t, "test/repo", string(digest.FromString(art)), art)
	return f
}

type errBody struct {
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

func TestCalls(t *testing.T) {
	hs := newHarness(t, harnessOpts{maxManifest: 64 << 10})
	f := setup(t, hs)
	missing := digest.FromString("missing")
	big := `{"schemaVersion":2,"mediaType":"` + ociref.MediaTypeOCIManifest + `","annotations":{"x":"` + strings.Repeat("a", 70<<10) + `"}}`
	tests := []struct {
		name       string
		user       string
		method     string
		path       string
		hdr        map[string]string
		body       string
		wantStatus int
		wantCode   string
		wantHeader map[string]string
		wantBody   string // substring
		wantNoBody string // must not appear
	}{
		{name: "ping without credentials", method: "GET", path: "/v2/", wantStatus: 401, wantCode: "UNAUTHORIZED",
			wantHeader: map[string]string{"WWW-Authenticate": `Basic realm="https://` + strings.TrimPrefix(hs.srv.URL, "http://") + `/",service="ecr.amazonaws.com"`}},
		{name: "ping with bad credentials", user: "bad", method: "GET", path: "/v2/", wantStatus: 401, wantCode: "UNAUTHORIZED"},
		{name: "malformed authorization", method: "GET", path: "/v2/", hdr: map[string]string{"Authorization": "Basic !!!"}, wantStatus: 401, wantCode: "UNAUTHORIZED"},
		{name: "ping", user: "reader", method: "GET", path: "/v2/", wantStatus: 200, wantHeader: map[string]string{"Docker-Distribution-API-Version": "registry/2.0"}},
		{name: "manifest by tag", user: "reader", method: "GET", path: "/v2/test/repo/manifests/v1", wantStatus: 200,
			wantHeader: map[string]string{"Docker-Content-Digest": string(f.image), "Content-Type": ociref.MediaTypeOCIManifest, "Content-Length": fmt.Sprint(len(f.imagePayload))}, wantBody: f.imagePayload},
		{name: "manifest head by digest", user: "reader", method: "HEAD", path: "/v2/test/repo/manifests/" + string(f.image), wantStatus: 200,
			wantHeader: map[string]string{"Docker-Content-Digest": string(f.image), "Content-Length": fmt.Sprint(len(f.imagePayload))}},
		{name: "manifest denied", user: "reader", method: "PUT", path: "/v2/test/repo/manifests/v3", body: f.imagePayload, wantStatus: 403, wantCode: "DENIED",
			wantBody: "is not authorized to perform: ecr:PutImage on resource: arn:aws:ecr:us-east-1:111111111111:repository/test/repo"},
		{name: "bad name", user: "reader", method: "GET", path: "/v2/Test/repo/manifests/v1", wantStatus: 400, wantCode: "NAME_INVALID"},
		{name: "bad tag", user: "reader", method: "GET", path: "/v2/test/repo/manifests/-bad", wantStatus: 400, wantCode: "TAG_INVALID"},
		{name: "bad digest", user: "reader", method: "GET", path: "/v2/test/repo/manifests/sha256:baddigeststring", wantStatus: 400, wantCode: "DIGEST_INVALID"},
		{name: "unsupported digest", user: "reader", method: "GET", path: "/v2/test/repo/blobs/md5:abc", wantStatus: 400, wantCode: "DIGEST_INVALID"},
		{name: "unknown repository", user: "reader", method: "GET", path: "/v2/nope/manifests/v1", wantStatus: 404, wantCode: "NAME_UNKNOWN",
			wantBody: "The repository with name 'nope' does not exist in the registry with id '111111111111'"},
		{name: "unknown tag", user: "reader", method: "GET", path: "/v2/test/repo/manifests/nope", wantStatus: 404, wantCode: "MANIFEST_UNKNOWN", wantBody: "Requested image not found"},
		{name: "unknown blob", user: "reader", method: "GET", path: "/v2/test/repo/blobs/" + string(missing), wantStatus: 404, wantCode: "BLOB_UNKNOWN"},
		{name: "blob get", user: "reader", method: "GET", path: "/v2/test/repo/blobs/" + string(f.layer), wantStatus: 200, wantBody: "hello layer",
			wantHeader: map[string]string{"Docker-Content-Digest": string(f.layer), "Content-Length": "11"}},
		{name: "blob head", user: "reader", method: "HEAD", path: "/v2/test/repo/blobs/" + string(f.layer), wantStatus: 200,
			wantHeader: map[string]string{"Docker-Content-Digest": string(f.layer), "Content-Length": "11"}},
		{name: "blob range", user: "reader", method: "GET", path: "/v2/test/repo/blobs/" + string(f.layer), hdr: map[string]string{"Range": "bytes=6-10"}, wantStatus: 206, wantBody: "layer",
			wantHeader: map[string]string{"Content-Range": "bytes 6-10/11", "Content-Length": "5"}},
		{name: "blob suffix range", user: "reader", method: "GET", path: "/v2/test/repo/blobs/" + string(f.layer), hdr: map[string]string{"Range": "bytes=-5"}, wantStatus: 206, wantBody: "layer"},
		{name: "blob range past end", user: "reader", method: "GET", path: "/v2/test/repo/blobs/" + string(f.layer), hdr: map[string]string{"Range": "bytes=50-60"}, wantStatus: 416},
		{name: "blob range reversed", user: "reader", method: "GET", path: "/v2/test/repo/blobs/" + string(f.layer), hdr: map[string]string{"Range": "bytes=5-1"}, wantStatus: 416},
		{name: "blob of another repository", user: "root", method: "GET", path: "/v2/other/blobs/" + string(f.layer), wantStatus: 404, wantCode: "NAME_UNKNOWN"},
		{name: "invalid manifest json", user: "root", method: "PUT", path: "/v2/test/repo/manifests/bad", hdr: map[string]string{"Content-Type": ociref.MediaTypeOCIManifest}, body: `{"schemaVersion":2,`, wantStatus: 400, wantCode: "MANIFEST_INVALID"},
		{name: "manifest missing blob", user: "root", method: "PUT", path: "/v2/test/repo/manifests/bad", hdr: map[string]string{"Content-Type": ociref.MediaTypeOCIManifest},
			body: imageManifest(f.cfg, missing, 2, 7, ""), wantStatus: 400, wantCode: "MANIFEST_BLOB_UNKNOWN"},
		{name: "manifest digest mismatch", user: "root", method: "PUT", path: "/v2/test/repo/manifests/" + string(missing), hdr: map[string]string{"Content-Type": ociref.MediaTypeOCIManifest},
			body: f.imagePayload, wantStatus: 400, wantCode: "DIGEST_INVALID"},
		{name: "manifest oversized", user: "root", method: "PUT", path: "/v2/test/repo/manifests/big", hdr: map[string]string{"Content-Type": ociref.MediaTypeOCIManifest}, body: big, wantStatus: 413, wantCode: "SIZE_INVALID"},
		{name: "manifest type mismatch", user: "root", method: "PUT", path: "/v2/test/repo/manifests/bad", hdr: map[string]string{"Content-Type": ociref.MediaTypeOCIIndex}, body: f.imagePayload, wantStatus: 400, wantCode: "MANIFEST_INVALID"},
		{name: "unknown upload patch", user: "root", method: "PATCH", path: "/v2/test/repo/blobs/uploads/0b9e3c02-0000-4000-8000-000000000000", body: "x", wantStatus: 404, wantCode: "BLOB_UPLOAD_UNKNOWN"},
		{name: "unknown upload status", user: "root", method: "GET", path: "/v2/test/repo/blobs/uploads/nope", wantStatus: 404, wantCode: "BLOB_UPLOAD_UNKNOWN"},
		{name: "unknown upload put", user: "root", method: "PUT", path: "/v2/test/repo/blobs/uploads/nope?digest=" + string(missing), wantStatus: 404, wantCode: "BLOB_UPLOAD_UNKNOWN"},
		{name: "unknown upload delete", user: "root", method: "DELETE", path: "/v2/test/repo/blobs/uploads/nope", wantStatus: 404, wantCode: "BLOB_UPLOAD_UNKNOWN"},
		{name: "monolithic digest mismatch", user: "root", method: "POST", path: "/v2/test/repo/blobs/uploads/?digest=" + string(missing), body: "not it", wantStatus: 400, wantCode: "DIGEST_INVALID"},
		{name: "method not allowed", user: "root", method: "POST", path: "/v2/test/repo/manifests/v1", wantStatus: 405, wantCode: "UNSUPPORTED"},
		{name: "unknown path", user: "root", method: "GET", path: "/v2/test", wantStatus: 404, wantCode: "NAME_UNKNOWN"},
		{name: "tags list", user: "reader", method: "GET", path: "/v2/test/repo/tags/list", wantStatus: 200, wantBody: `{"name":"test/repo","tags":["v1","v2"]}`},
		{name: "tags list paged", user: "reader", method: "GET", path: "/v2/test/repo/tags/list?n=1", wantStatus: 200, wantBody: `{"name":"test/repo","tags":["v1"]}`,
			wantHeader: map[string]string{"Link": `</v2/test/repo/tags/list?last=v1&n=1>; rel="next"`}},
		{name: "tags list last", user: "reader", method: "GET", path: "/v2/test/repo/tags/list?n=1&last=v1", wantStatus: 200, wantBody: `{"name":"test/repo","tags":["v2"]}`},
		{name: "tags list bad n", user: "reader", method: "GET", path: "/v2/test/repo/tags/list?n=-1", wantStatus: 400, wantCode: "PAGINATION_NUMBER_INVALID"},
		{name: "tags list unknown repository", user: "reader", method: "GET", path: "/v2/nope/tags/list", wantStatus: 404, wantCode: "NAME_UNKNOWN"},
		{name: "catalog filtered", user: "reader", method: "GET", path: "/v2/_catalog", wantStatus: 200, wantBody: `{"repositories":["test/repo"]}`},
		{name: "catalog denied everything", user: "pusher", method: "GET", path: "/v2/_catalog", wantStatus: 200, wantBody: `{"repositories":[]}`},
		{name: "referrers", user: "reader", method: "GET", path: "/v2/test/repo/referrers/" + string(f.image), wantStatus: 200,
			wantHeader: map[string]string{"Content-Type": ociref.MediaTypeOCIIndex}, wantBody: `"artifactType":"application/vnd.example.sig"`},
		{name: "referrers filtered", user: "reader", method: "GET", path: "/v2/test/repo/referrers/" + string(f.image) + "?artifactType=application/vnd.other", wantStatus: 200,
			wantHeader: map[string]string{"OCI-Filters-Applied": "artifactType"}, wantBody: `"manifests":[]`},
		{name: "referrers of unknown repository", user: "reader", method: "GET", path: "/v2/nope/referrers/" + string(f.image), wantStatus: 200, wantBody: `"manifests":[]`},
		{name: "push to new repository without create permission", user: "pusher", method: "POST", path: "/v2/brand/new/blobs/uploads/", wantStatus: 404, wantCode: "NAME_UNKNOWN",
			wantBody: "The repository with name 'brand/new' does not exist in the registry with id '111111111111'"},
		{name: "push to new repository as root creates it", user: "root", method: "POST", path: "/v2/brand/new/blobs/uploads/", wantStatus: 202,
			wantHeader: map[string]string{"Range": "0-0"}},
		{name: "delete tag denied", user: "reader", method: "DELETE", path: "/v2/test/repo/manifests/v2", wantStatus: 403, wantCode: "DENIED"},
		{name: "region hint", user: "root", method: "GET", path: "/v2/test/repo/manifests/v1", hdr: map[string]string{"Host": account + ".dkr.ecr.eu-west-2.localhost"},
			wantStatus: 404, wantCode: "NAME_UNKNOWN", wantBody: "(it exists in region us-east-1)"},
		{name: "region hint for a reader who may describe it", user: "reader", method: "GET", path: "/v2/test/repo/manifests/v1", hdr: map[string]string{"Host": account + ".dkr.ecr.eu-west-2.localhost"},
			wantStatus: 404, wantCode: "NAME_UNKNOWN", wantBody: "(it exists in region us-east-1)"},
		{name: "no region hint for a caller who may not describe it", user: "pusher", method: "GET", path: "/v2/test/repo/manifests/v1", hdr: map[string]string{"Host": account + ".dkr.ecr.eu-west-2.localhost"},
			wantStatus: 404, wantCode: "NAME_UNKNOWN", wantBody: "does not exist in the registry with id '111111111111'", wantNoBody: "exists in region"},
		{name: "host routing to another account", user: "root", method: "GET", path: "/v2/test/repo/tags/list", hdr: map[string]string{"Host": "222222222222.dkr.ecr.us-east-1.localhost:5000"},
			wantStatus: 404, wantCode: "NAME_UNKNOWN", wantBody: "registry with id '222222222222'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := hs.do(t, tc.user, tc.method, tc.path, tc.hdr, tc.body)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.wantStatus, body)
			}
			if resp.Header.Get("Docker-Distribution-API-Version") != "registry/2.0" {
				t.Errorf("missing Docker-Distribution-API-Version")
			}
			for k, v := range tc.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tc.wantCode != "" {
				var eb errBody
				if err := json.Unmarshal([]byte(body), &eb); err != nil || len(eb.Errors) != 1 {
					t.Fatalf("error body %q: %v", body, err)
				}
				if eb.Errors[0].Code != tc.wantCode {
					t.Errorf("code %s, want %s (%s)", eb.Errors[0].Code, tc.wantCode, eb.Errors[0].Message)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("error Content-Type %q", ct)
				}
			}
			if tc.wantBody != "" && !strings.Contains(body, tc.wantBody) {
				t.Errorf("body %q does not contain %q", body, tc.wantBody)
			}
			if tc.wantNoBody != "" && strings.Contains(body, tc.wantNoBody) {
				t.Errorf("body %q contains %q", body, tc.wantNoBody)
			}
		})
	}
}
