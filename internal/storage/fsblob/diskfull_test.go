package fsblob

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
)

// tmpfsStore opens a store on a tmpfs of size bytes so that ENOSPC comes
// from the kernel; it skips where mounting is impossible.
func tmpfsStore(t *testing.T, size int64) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skip("disk-full tests mount a tmpfs and need root")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs (%v): %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount: %v: %s", err, out)
		}
	})
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

// TestAppendOnFullDisk: ENOSPC during Append is StorageFull, the upload
// stays at its durable size (data truncated, hash state intact), Resume
// sees that size, and once space is free the upload continues and commits
// to the right digest.
func TestAppendOnFullDisk(t *testing.T) {
	ctx := t.Context()
	s, dir := tmpfsStore(t, 4<<20)
	first := bytes.Repeat([]byte("a"), 512<<10)
	second := bytes.Repeat([]byte("b"), 8<<20)

	u, err := s.Uploads().Create(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Append(ctx, bytes.NewReader(first)); err != nil {
		t.Fatal(err)
	}
	_, err = u.Append(ctx, bytes.NewReader(second))
	if !apierr.HasCode(err, apierr.StorageFull) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("append on a full disk: %v, want StorageFull wrapping ENOSPC", err)
	}
	if u.Size() != int64(len(first)) {
		t.Fatalf("size after failed append %d, want %d", u.Size(), len(first))
	}
	fi, err := os.Stat(filepath.Join(dir, "uploads", "u1", "data"))
	if err != nil || fi.Size() != int64(len(first)) {
		t.Fatalf("data file after failed append: %v %v", fi, err)
	}
	u.Close()

	u, err = s.Uploads().Resume(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if u.Size() != int64(len(first)) {
		t.Fatalf("resumed size %d", u.Size())
	}
	rest := bytes.Repeat([]byte("c"), 1<<20)
	if _, err := u.Append(ctx, bytes.NewReader(rest)); err != nil {
		t.Fatalf("append after ENOSPC: %v", err)
	}
	want := digest.FromBytes(append(append([]byte{}, first...), rest...))
	if _, err := u.Commit(ctx, want, -1); err != nil {
		t.Fatalf("commit after ENOSPC: %v", err)
	}
	if n, err := s.Stat(ctx, want); err != nil || n != int64(len(first)+len(rest)) {
		t.Fatalf("committed blob: %d %v", n, err)
	}
}

// TestCreateOnFullDisk: starting an upload on a full disk is StorageFull
// and leaves no session directory behind.
func TestCreateOnFullDisk(t *testing.T) {
	ctx := t.Context()
	s, dir := tmpfsStore(t, 1<<20)
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	_, err = s.Uploads().Create(ctx, "u2")
	if !apierr.HasCode(err, apierr.StorageFull) {
		t.Fatalf("create on a full disk: %v, want StorageFull", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "uploads", "u2")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("session directory left behind: %v", err)
	}
}
