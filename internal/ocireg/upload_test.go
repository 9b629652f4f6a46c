package ocireg_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
)

func (hs *harness) startUpload(t *testing.T, repo string) string {
	t.Helper()
	resp, body := hs.do(t, "root", "POST", "/v2/"+repo+"/blobs/uploads/", nil, "")
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start upload: %d %s", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/v2/"+repo+"/blobs/uploads/") || resp.Header.Get("Docker-Upload-UUID") == "" {
		t.Fatalf("bad Location %q", loc)
	}
	return loc
}

// TestChunkedUploadSurvivesRestart: a session keeps its data and hash state
// across a restart (new handler, reopened stores), out-of-order chunks are
// refused with 416 and a Range telling where to resume, and the upload
// completes with the right digest.
func TestChunkedUploadSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	hs := newHarness(t, harnessOpts{dir: dir})
	loc := hs.startUpload(t, "chunky")
	part1, part2 := strings.Repeat("a", 1000), strings.Repeat("b", 500)
	resp, body := hs.do(t, "root", "PATCH", loc, map[string]string{"Content-Range": "0-999"}, part1)
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("Range") != "0-999" {
		t.Fatalf("chunk 1: %d %q %s", resp.StatusCode, resp.Header.Get("Range"), body)
	}
	hs.close()

	hs = newHarness(t, harnessOpts{dir: dir})
	resp, _ = hs.do(t, "root", "GET", loc, nil, "")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Range") != "0-999" {
		t.Fatalf("status after restart: %d %q", resp.StatusCode, resp.Header.Get("Range"))
	}
	resp, body = hs.do(t, "root", "PATCH", loc, map[string]string{"Content-Range": "2000-2499"}, part2)
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable || resp.Header.Get("Range") != "0-999" || resp.Header.Get("Location") == "" {
		t.Fatalf("out-of-order chunk: %d %q %s", resp.StatusCode, resp.Header.Get("Range"), body)
	}
	resp, body = hs.do(t, "root", "PATCH", loc, map[string]string{"Content-Range": "1000-1499", "Content-Length": "499"}, part2[:499])
	if resp.StatusCode == http.StatusAccepted {
		t.Fatalf("Content-Length/Content-Range mismatch accepted: %s", body)
	}
	dg := digest.FromString(part1 + part2)
	resp, body = hs.do(t, "root", "PUT", loc+"?digest="+string(dg), map[string]string{"Content-Range": "1000-1499"}, part2)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Docker-Content-Digest") != string(dg) {
		t.Fatalf("final chunk: %d %s", resp.StatusCode, body)
	}
	resp, body = hs.do(t, "root", "GET", resp.Header.Get("Location"), nil, "")
	if resp.StatusCode != http.StatusOK || body != part1+part2 {
		t.Fatalf("blob: %d, %d bytes", resp.StatusCode, len(body))
	}
	resp, _ = hs.do(t, "root", "GET", loc, nil, "")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("completed upload still has a session: %d", resp.StatusCode)
	}
}

// TestConcurrentPatchesAreSerialised: streamed chunks sent in parallel to
// one session land whole, one after another, in some order: the result
// hashes to one of the permutations, never to an interleaving.
func TestConcurrentPatchesAreSerialised(t *testing.T) {
	hs := newHarness(t, harnessOpts{})
	loc := hs.startUpload(t, "parallel")
	chunks := []string{strings.Repeat("x", 1<<20), strings.Repeat("y", 1<<20), strings.Repeat("z", 1<<20)}
	var wg sync.WaitGroup
	for _, c := range chunks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body := hs.do(t, "root", "PATCH", loc, nil, c)
			if resp.StatusCode != http.StatusAccepted {
				t.Errorf("patch: %d %s", resp.StatusCode, body)
			}
		}()
	}
	wg.Wait()
	resp, _ := hs.do(t, "root", "GET", loc, nil, "")
	if got, want := resp.Header.Get("Range"), fmt.Sprintf("0-%d", 3<<20-1); got != want {
		t.Fatalf("Range %q, want %q", got, want)
	}
	perms := [][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	for _, p := range perms {
		dg := digest.FromString(chunks[p[0]] + chunks[p[1]] + chunks[p[2]])
		resp, _ := hs.do(t, "root", "PUT", loc+"?digest="+string(dg), nil, "")
		if resp.StatusCode == http.StatusCreated {
			return
		}
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("PUT: %d", resp.StatusCode)
		}
	}
	t.Fatal("upload matches no ordering of the chunks: they interleaved")
}

func TestCancelUpload(t *testing.T) {
	hs := newHarness(t, harnessOpts{})
	loc := hs.startUpload(t, "cancel/me")
	if resp, _ := hs.do(t, "root", "PATCH", loc, nil, "data"); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("patch: %d", resp.StatusCode)
	}
	if resp, _ := hs.do(t, "root", "DELETE", loc, nil, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	if resp, _ := hs.do(t, "root", "PATCH", loc, nil, "more"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("patch after cancel: %d", resp.StatusCode)
	}
	// An upload id is bound to its repository.
	loc = hs.startUpload(t, "cancel/me")
	other := strings.Replace(loc, "/cancel/me/", "/test/other/", 1)
	if resp, _ := hs.do(t, "root", "GET", other, nil, ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("upload reachable through another repository: %d", resp.StatusCode)
	}
}

// TestMount: mount with from, anonymous mount, and the fallback to a
// normal session when the source lacks the blob or the caller may not read it.
func TestMount(t *testing.T) {
	hs := newHarness(t, harnessOpts{})
	dg := hs.pushBlob(t, "src/repo", "shared layer")
	missing := digest.FromString("nowhere")
	tests := []struct {
		name, user, target, query string
		want                      int
	}{
		{"from source", "root", "dst/one", "?mount=" + string(dg) + "&from=src/repo", http.StatusCreated},
		{"anonymous", "root", "dst/two", "?mount=" + string(dg), http.StatusCreated},
		{"missing blob falls back", "root", "dst/three", "?mount=" + string(missing) + "&from=src/repo", http.StatusAccepted},
		{"bad from falls back", "root", "dst/three", "?mount=" + string(dg) + "&from=NOPE", http.StatusAccepted},
		{"unreadable source falls back", "scoped", "dst/three", "?mount=" + string(dg) + "&from=src/repo", http.StatusAccepted},
		{"anonymous mount skips unreadable sources", "scoped", "dst/three", "?mount=" + string(dg), http.StatusAccepted},
		{"reader may not push", "reader", "dst/three", "?mount=" + string(dg) + "&from=src/repo", http.StatusForbidden},
	}
	hs.pushBlob(t, "dst/three", "x") // exists, so scoped needs no ecr:CreateRepository
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			user := tc.user
			resp, body := hs.do(t, user, "POST", "/v2/"+tc.target+"/blobs/uploads/"+tc.query, nil, "")
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if tc.want == http.StatusCreated {
				resp, body := hs.do(t, "root", "GET", resp.Header.Get("Location"), nil, "")
				if resp.StatusCode != http.StatusOK || body != "shared layer" {
					t.Fatalf("mounted blob: %d %q", resp.StatusCode, body)
				}
			}
		})
	}
}
