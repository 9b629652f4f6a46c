package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// recorder keeps what Check reports instead of failing the real test.
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
}

func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.golden")
	if err := os.WriteFile(path, []byte("want\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		path     string
		got      string
		wantFail bool
	}{
		{"equal", path, "want\n", false},
		{"differs", path, "got\n", true},
		{"missing file", filepath.Join(dir, "absent.golden"), "x", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("BERTH_UPDATE_GOLDEN", "")
			r := &recorder{TB: t}
			Check(r, tc.path, []byte(tc.got))
			if r.failed != tc.wantFail {
				t.Fatalf("failed = %v (%q), want %v", r.failed, r.msg, tc.wantFail)
			}
		})
	}
}

func TestCheckUpdate(t *testing.T) {
	t.Setenv("BERTH_UPDATE_GOLDEN", "1")
	path := filepath.Join(t.TempDir(), "new.golden")
	Check(t, path, []byte("fresh\n"))
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "fresh\n" {
		t.Fatalf("golden file = %q, %v", b, err)
	}
}
