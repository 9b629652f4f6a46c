package pullthrough

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

func TestLeases(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	s, err := OpenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	steps := []struct {
		holder string
		at     time.Duration
		want   bool
	}{
		{"a", 0, true},                 // free
		{"b", time.Second, false},      // held by a
		{"a", 2 * time.Second, true},   // a renews
		{"b", 31 * time.Second, false}, // a's renewal runs to 32 s
		{"b", 33 * time.Second, true},  // expired: b takes over
		{"a", 34 * time.Second, false},
	}
	for i, st := range steps {
		got, err := s.acquire(ctx, "blob:x", st.holder, now.Add(st.at), 30*time.Second)
		if err != nil || got != st.want {
			t.Fatalf("step %d (%s at %v): %v %v, want %v", i, st.holder, st.at, got, err, st.want)
		}
	}
	if err := s.release(ctx, "blob:x", "a"); err != nil { // not a's: no effect
		t.Fatal(err)
	}
	if got, _ := s.acquire(ctx, "blob:x", "a", now.Add(35*time.Second), 30*time.Second); got {
		t.Fatal("a released b's lease")
	}
	_ = s.release(ctx, "blob:x", "b")
	if got, _ := s.acquire(ctx, "blob:x", "a", now.Add(36*time.Second), 30*time.Second); !got {
		t.Fatal("released lease not free")
	}
}
