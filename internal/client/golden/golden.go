// Package golden compares test output with checked-in golden files for the
// client packages' tests; BERTH_UPDATE_GOLDEN=1 rewrites the files instead.
package golden

import (
	"bytes"
	"os"
	"testing"
)

// Check compares got with the file at path, or writes got there when
// BERTH_UPDATE_GOLDEN=1.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if os.Getenv("BERTH_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (BERTH_UPDATE_GOLDEN=1 creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
