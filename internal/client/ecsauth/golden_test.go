package ecsauth

import (
	"bytes"
	"os"
	"testing"
)

// checkGolden compares got with path; BERTH_UPDATE_GOLDEN=1 rewrites it.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if os.Getenv("BERTH_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with BERTH_UPDATE_GOLDEN=1 to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
