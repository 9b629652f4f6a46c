//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// debianPython is the interpreter with python3-pytest and python3-boto3
// (scripts/install-deps.sh); BERTH_PYTEST_PYTHON overrides it.
func debianPython(t *testing.T) string {
	t.Helper()
	py := os.Getenv("BERTH_PYTEST_PYTHON")
	if py == "" {
		py = "/usr/bin/python3"
	}
	if out, err := exec.Command(py, "-c", "import pytest, boto3").CombinedOutput(); err != nil {
		unavailable(t, "%s cannot import pytest and boto3 (apt-get install python3-pytest python3-boto3): %v\n%s", py, err, out)
	}
	return py
}

// TestExamplePytestBoto3 runs examples/pytest-boto3 as a user's CI would:
// pytest with a session fixture around
// `berth serve --ephemeral --print-env --background` and `berth stop`.
func TestExamplePytestBoto3(t *testing.T) {
	py := debianPython(t)
	dir, err := filepath.Abs(filepath.Join("..", "..", "examples", "pytest-boto3"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	out := mustRun(t, Cmd{Name: py, Args: []string{"-m", "pytest", "-v", "-p", "no:cacheprovider"}, Dir: dir, Env: []string{
		"PYTHONDONTWRITEBYTECODE=1", "TMPDIR=" + tmp,
		"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull, "AWS_EC2_METADATA_DISABLED=true",
	}})
	t.Log(out)
	// berth stop removed the ephemeral data; the fixture its temp dir.
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("left behind in TMPDIR after the session: %v", entries)
	}
}
