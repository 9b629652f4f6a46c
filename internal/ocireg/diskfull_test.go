package ocireg_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/ociref"
)

// mountTmpfs mounts a tmpfs of size bytes on a fresh directory, so a test
// sees a real ENOSPC from the kernel rather than an injected error. It skips
// where mounting is impossible (not root, no CAP_SYS_ADMIN).
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skip("disk-full tests mount a tmpfs and need root")
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount tmpfs (%v): %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a filler file until the filesystem is full, then gives
// back keep bytes, and returns the filler's path.
func fillDisk(t *testing.T, dir string, keep int64) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	var n int64
	for {
		w, err := f.Write(chunk)
		n += int64(w)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if keep > 0 {
		if err := f.Truncate(max(n-keep, 0)); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// committedBlobs lists the blob files under the store with their sizes.
func committedBlobs(t testing.TB, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	root := filepath.Join(dir, "blobs", "blobs")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			out[strings.TrimPrefix(p, root)] = fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func uploadDirs(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "blobs", "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range ents {
		ids = append(ids, e.Name())
	}
	return ids
}

func sameBlobs(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// wantStorageFull asserts the OCI error a client sees when the disk is full:
// 507 with an error body in the spec's format saying what is wrong.
func wantStorageFull(t *testing.T, what string, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusInsufficientStorage {
		t.Fatalf("%s: status %d, want 507; body %s", what, resp.StatusCode, body)
	}
	var eb errBody
	if err := json.Unmarshal([]byte(body), &eb); err != nil || len(eb.Errors) != 1 {
		t.Fatalf("%s: error body %q: %v", what, body, err)
	}
	if !strings.Contains(eb.Errors[0].Message, "out of storage space") {
		t.Fatalf("%s: message %q does not say the registry is out of space", what, eb.Errors[0].Message)
	}
}

// pattern returns n deterministic bytes that do not compress to nothing.
func pattern(n int, seed byte) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed
	}
	return string(b)
}

// TestDiskFullBlobUpload: a chunk larger than the free space fails with 507
// in OCI format, the session stays at its last durable size, no blob
// appears, existing content is intact, and after space is freed the same
// session resumes and completes; a monolithic push that hits ENOSPC leaves
// no session and no blob behind.
func TestDiskFullBlobUpload(t *testing.T) {
	dir := mountTmpfs(t, 24<<20)
	hs := newHarness(t, harnessOpts{dir: dir})
	f := setup(t, hs)
	before := committedBlobs(t, dir)

	const mib = 1 << 20
	part1, part2 := pattern(mib, 1), pattern(6*mib, 2)
	loc := hs.startUpload(t, "test/repo")
	resp, body := hs.do(t, "root", "PATCH", loc, nil, part1)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("first chunk: %d %s", resp.StatusCode, body)
	}
	filler := fillDisk(t, dir, 2*mib)

	resp, body = hs.do(t, "root", "PATCH", loc, nil, part2)
	wantStorageFull(t, "chunk", resp, body)
	resp, _ = hs.do(t, "root", "GET", loc, nil, "")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Range") != fmt.Sprintf("0-%d", mib-1) {
		t.Fatalf("status after ENOSPC: %d Range %q, want 0-%d", resp.StatusCode, resp.Header.Get("Range"), mib-1)
	}
	id := loc[strings.LastIndexByte(loc, '/')+1:]
	if fi, err := os.Stat(filepath.Join(dir, "blobs", "uploads", id, "data")); err != nil || fi.Size() != mib {
		t.Fatalf("upload data after ENOSPC: %v %v, want %d bytes", fi, err, mib)
	}

	whole := pattern(6*mib, 3)
	wholeDg := digest.FromString(whole)
	uploadsBefore := uploadDirs(t, dir)
	resp, body = hs.do(t, "root", "POST", "/v2/test/repo/blobs/uploads/?digest="+string(wholeDg), nil, whole)
	wantStorageFull(t, "monolithic", resp, body)
	if got := uploadDirs(t, dir); len(got) != len(uploadsBefore) {
		t.Fatalf("monolithic push left a session behind: %v, before %v", got, uploadsBefore)
	}
	if got := committedBlobs(t, dir); !sameBlobs(got, before) {
		t.Fatalf("blob store changed by failed pushes:\n%v\nbefore\n%v", got, before)
	}
	resp, _ = hs.do(t, "root", "HEAD", "/v2/test/repo/blobs/"+string(wholeDg), nil, "")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("partial monolithic blob visible: %d", resp.StatusCode)
	}
	checkFixture(t, hs, f)

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	resp, body = hs.do(t, "root", "PATCH", loc, nil, part2)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("resumed chunk: %d %s", resp.StatusCode, body)
	}
	dg := digest.FromString(part1 + part2)
	resp, body = hs.do(t, "root", "PUT", loc+"?digest="+string(dg), nil, "")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("complete after freeing space: %d %s", resp.StatusCode, body)
	}
	resp, body = hs.do(t, "root", "GET", "/v2/test/repo/blobs/"+string(dg), nil, "")
	if resp.StatusCode != http.StatusOK || body != part1+part2 {
		t.Fatalf("resumed blob: %d, %d bytes", resp.StatusCode, len(body))
	}
	if got := hs.pushBlob(t, "test/repo", whole); got != wholeDg {
		t.Fatalf("monolithic retry digest %s", got)
	}
	checkFixture(t, hs, f)
}

// TestDiskFullManifestPut: when SQLite cannot grow its WAL during
// PutManifest, the push fails with 507, the transaction rolls back and the
// tag still names the old manifest; after space is freed the same push
// succeeds on the same database handles and survives a restart.
func TestDiskFullManifestPut(t *testing.T) {
	dir := mountTmpfs(t, 16<<20)
	hs := newHarness(t, harnessOpts{dir: dir})
	f := setup(t, hs)
	// Large enough that SQLite must extend the WAL (overwriting pages it
	// already owns would not hit ENOSPC).
	big := imageManifest(f.cfg, f.layer, 2, 11, `,"annotations":{"pad":"`+strings.Repeat("p", 3<<20)+`"}`)
	filler := fillDisk(t, dir, 0)

	resp, body := hs.do(t, "root", "PUT", "/v2/test/repo/manifests/v1", map[string]string{"Content-Type": ociref.MediaTypeOCIManifest}, big)
	wantStorageFull(t, "manifest put", resp, body)
	checkFixture(t, hs, f)
	resp, _ = hs.do(t, "root", "HEAD", "/v2/test/repo/manifests/"+string(digest.FromString(big)), nil, "")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("rolled-back manifest visible: %d", resp.StatusCode)
	}

	// Same process, same database handles: the failed transaction must not
	// have left the connection unusable.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if got := hs.pushManifest(t, "test/repo", "v1", big); got != digest.FromString(big) {
		t.Fatalf("retry digest %s", got)
	}
	hs.close()
	hs = newHarness(t, harnessOpts{dir: dir})
	resp, body = hs.do(t, "root", "GET", "/v2/test/repo/manifests/v1", nil, "")
	if resp.StatusCode != http.StatusOK || body != big {
		t.Fatalf("v1 after retry: %d, %d bytes", resp.StatusCode, len(body))
	}
}

// checkFixture asserts that setup's content is still served unchanged.
func checkFixture(t *testing.T, hs *harness, f fixture) {
	t.Helper()
	resp, body := hs.do(t, "reader", "GET", "/v2/test/repo/manifests/v1", nil, "")
	if resp.StatusCode != http.StatusOK || body != f.imagePayload || resp.Header.Get("Docker-Content-Digest") != string(f.image) {
		t.Fatalf("v1 changed: %d %s", resp.StatusCode, body)
	}
	for dg, want := range map[digest.Digest]string{f.cfg: "{}", f.layer: "hello layer"} {
		resp, body := hs.do(t, "reader", "GET", "/v2/test/repo/blobs/"+string(dg), nil, "")
		if resp.StatusCode != http.StatusOK || !bytes.Equal([]byte(body), []byte(want)) {
			t.Fatalf("blob %s changed: %d %q", dg, resp.StatusCode, body)
		}
	}
}
