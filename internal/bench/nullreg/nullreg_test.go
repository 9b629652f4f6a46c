package nullreg_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/bench/nullreg"
)

// The null registry is a ceiling, not a sink: it must still check digests
// and serve back what it keeps.
func TestNullRegistry(t *testing.T) {
	s := nullreg.New()
	blob := filepath.Join(t.TempDir(), "seed")
	if err := os.WriteFile(blob, []byte("seeded bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	seeded := digest.FromString("seeded bytes")
	if err := s.SeedFile(seeded, blob); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	good := digest.FromString("hello")
	do := func(method, path, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"ping", "GET", "/v2/", "", 200, ""},
		{"wrong digest rejected", "POST", "/v2/r/blobs/uploads/?digest=" + string(good), "bye", 400, "DIGEST_INVALID"},
		{"right digest stored", "POST", "/v2/r/blobs/uploads/?digest=" + string(good), "hello", 201, ""},
		{"stored blob served", "GET", "/v2/r/blobs/" + string(good), "", 200, "hello"},
		{"seeded file served", "GET", "/v2/r/blobs/" + string(seeded), "", 200, "seeded bytes"},
		{"unknown blob", "GET", "/v2/r/blobs/" + string(digest.FromString("x")), "", 404, ""},
		{"manifest put", "PUT", "/v2/r/manifests/v1", `{"schemaVersion":2}`, 201, ""},
		{"manifest by tag", "GET", "/v2/r/manifests/v1", "", 200, `{"schemaVersion":2}`},
		{"manifest by digest", "GET", "/v2/r/manifests/" + string(digest.FromString(`{"schemaVersion":2}`)), "", 200, `{"schemaVersion":2}`},
		{"unknown manifest", "GET", "/v2/r/manifests/v2", "", 404, "MANIFEST_UNKNOWN"},
		{"unknown upload", "PATCH", "/v2/r/blobs/uploads/nope", "x", 404, "BLOB_UPLOAD_UNKNOWN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(tc.method, tc.path, tc.body)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("%s %s: %d %q, want %d containing %q", tc.method, tc.path, resp.StatusCode, body, tc.status, tc.want)
			}
		})
	}
	// Chunked: POST, two PATCHes, PUT with the digest of both.
	resp, _ := do("POST", "/v2/r/blobs/uploads/", "")
	loc := resp.Header.Get("Location")
	do("PATCH", loc, "hel")
	resp, _ = do("PATCH", loc, "lo!")
	if resp.StatusCode != 202 || resp.Header.Get("Range") != "0-5" {
		t.Fatalf("PATCH: %d Range %q", resp.StatusCode, resp.Header.Get("Range"))
	}
	if resp, body := do("PUT", loc+"?digest="+string(digest.FromString("hello!")), ""); resp.StatusCode != 201 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, body)
	}
}
