//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/storage/sqldb/pgtest"
)

// BERTH_E2E_BACKEND picks the backends of every berth StartBerth launches:
// "" (embedded: filesystem + SQLite under --data) or "scaleout" (a fresh
// MinIO bucket for blobs and a fresh PostgreSQL database for metadata).
// test.sh runs the docker, skopeo and conformance tests a second time with
// "scaleout". Flags a test passes itself come later and win.
func backendArgs(t testing.TB) []string {
	switch b := os.Getenv("BERTH_E2E_BACKEND"); b {
	case "", "embedded":
		return nil
	case "scaleout":
		return scaleOutArgs(t)
	default:
		t.Fatalf("BERTH_E2E_BACKEND=%q: want empty, embedded or scaleout", b)
		return nil
	}
}

// scaleOutArgs starts MinIO with a bucket and makes a PostgreSQL database,
// both living as long as t, and returns the berth serve flags using them.
func scaleOutArgs(t testing.TB) []string {
	t.Helper()
	_, storage := startMinIOBucket(t)
	return []string{"--storage", storage, "--metadata", pgtest.DSN(t)}
}

// TestConformanceSuite runs the OCI distribution-spec conformance suite
// (every API group scripts/conformance.sh enables) against a berth on the
// scale-out backends. On the embedded backend scripts/conformance.sh runs
// it, so this test only runs with BERTH_E2E_BACKEND set.
func TestConformanceSuite(t *testing.T) {
	if os.Getenv("BERTH_E2E_BACKEND") == "" {
		t.Skip("embedded backend: test.sh's conformance phase (scripts/conformance.sh) runs the suite")
	}
	b := StartBerth(t)
	runConformance(t, b.Addr)
}

// runConformance runs the conformance binary against the registry at addr
// (host:port, plain HTTP, root credentials) and fails t on any failure or
// unexpected skip (scripts/conformance-summary.py judges the junit report).
func runConformance(t *testing.T, addr string) {
	t.Helper()
	bin := os.Getenv("CONFORMANCE_BIN")
	if bin == "" {
		gobin, _ := exec.Command("go", "env", "GOBIN").Output()
		dir := strings.TrimSpace(string(gobin))
		if dir == "" {
			gopath, _ := exec.Command("go", "env", "GOPATH").Output()
			dir = filepath.Join(strings.TrimSpace(string(gopath)), "bin")
		}
		bin = filepath.Join(dir, "conformance")
	}
	if _, err := os.Stat(bin); err != nil {
		unavailable(t, "conformance suite not installed (scripts/install-deps.sh): %v", err)
	}
	work := t.TempDir()
	results := filepath.Join(work, "results")
	cmd := exec.Command(bin)
	cmd.Dir = work
	cmd.Env = append(os.Environ(),
		"OCI_REGISTRY="+addr, "OCI_TLS=disabled",
		"OCI_USERNAME="+RootAccessKeyID, "OCI_PASSWORD="+RootSecretAccessKey,
		"OCI_REPO1=conformance/repo1", "OCI_REPO2=conformance/repo2",
		"OCI_RESULTS_DIR="+results, "OCI_VERSION=1.1", "OCI_LOG=error",
		"OCI_API_PULL=true", "OCI_API_PUSH=true",
		"OCI_API_BLOBS_DELETE=true", "OCI_API_BLOBS_UPLOAD_CANCEL=true", "OCI_API_BLOBS_DIGEST_HEADER=true",
		"OCI_API_BLOBS_MOUNT_ANONYMOUS=true",
		"OCI_API_MANIFESTS_DELETE=true", "OCI_API_MANIFESTS_DIGEST_HEADER=true", "OCI_API_MANIFESTS_TAG_PARAM=true",
		"OCI_API_TAGS_LIST=true", "OCI_API_TAGS_DELETE=true", "OCI_API_REFERRER=true",
	)
	out, err := cmd.CombinedOutput()
	summary, serr := exec.Command("python3", filepath.Join("..", "..", "scripts", "conformance-summary.py"),
		filepath.Join(results, "junit.xml")).CombinedOutput()
	t.Logf("conformance against %s:\n%s", addr, summary)
	if err != nil || serr != nil {
		tail := string(out)
		if len(tail) > 4000 {
			tail = tail[len(tail)-4000:]
		}
		t.Fatalf("conformance suite failed (suite: %v, summary: %v):\n%s", err, serr, tail)
	}
}
