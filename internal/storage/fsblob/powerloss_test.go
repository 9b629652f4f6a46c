package fsblob

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// Append does not fsync, so after a power loss the data file may be shorter
// than the state claims, or the state file may be empty or torn. Resume must
// rebuild from the bytes on disk, report that size, and still commit only
// content that hashes to what the client asks for.
func TestResumeAfterPowerLoss(t *testing.T) {
	for _, tc := range []struct {
		name      string
		state     func(path string) error // what the power loss left of "state"
		keepBytes int                     // how much of "data" reached the disk
	}{
		{"data shorter than state", nil, 4},
		{"empty state file", func(p string) error { return os.WriteFile(p, nil, 0o600) }, 6},
		{"torn state file", func(p string) error { return os.WriteFile(p, []byte(`{"size":9,"sha`), 0o600) }, 7},
		{"negative size", func(p string) error { return os.WriteFile(p, []byte(`{"size":-5}`), 0o600) }, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := newStore(t)
			u, err := s.Uploads().Create(ctx, "pl")
			if err != nil {
				t.Fatal(err)
			}
			for _, chunk := range []string{"abc", "def", "ghi"} {
				if _, err := u.Append(ctx, strings.NewReader(chunk)); err != nil {
					t.Fatal(err)
				}
			}
			u.Close()
			dir := filepath.Join(s.Root(), "uploads", "pl")
			if err := os.Truncate(filepath.Join(dir, "data"), int64(tc.keepBytes)); err != nil {
				t.Fatal(err)
			}
			if tc.state != nil {
				if err := tc.state(filepath.Join(dir, "state")); err != nil {
					t.Fatal(err)
				}
			}

			s2, err := New(s.Root())
			if err != nil {
				t.Fatal(err)
			}
			u2, err := s2.Uploads().Resume(ctx, "pl")
			if err != nil {
				t.Fatal(err)
			}
			defer u2.Close()
			if u2.Size() != int64(tc.keepBytes) {
				t.Fatalf("resumed at %d, want the %d bytes on disk", u2.Size(), tc.keepBytes)
			}
			// The full content the client meant is refused (bytes are missing) …
			if _, err := u2.Commit(ctx, digest.FromString("abcdefghi"), -1); err == nil {
				t.Fatal("committed content that did not reach the disk")
			}
			// … and the client can continue from the real offset.
			rest := "abcdefghi"[tc.keepBytes:]
			if _, err := u2.Append(ctx, strings.NewReader(rest)); err != nil {
				t.Fatal(err)
			}
			if _, err := u2.Commit(ctx, digest.FromString("abcdefghi"), 9); err != nil {
				t.Fatal(err)
			}
		})
	}
}
