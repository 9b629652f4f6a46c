// Package miniotest runs a real MinIO server on a loopback port in a temp
// directory for tests. scripts/install-deps.sh builds the binary into the
// berth cache; the tests skip without it unless Required.
package miniotest

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/testutil/cachebin"
)

// Credentials of every test server (MinIO wants >= 8 character secrets).
const (
	AccessKey = "berthtest"
	SecretKey = "berthtest-secret"
)

// Binary finds the MinIO server: $BERTH_MINIO_BIN, minio on PATH, or the
// install-deps cache (${BERTH_CACHE_DIR:-~/.cache/berth}/bin/minio).
func Binary() (string, error) {
	if os.Getenv("BERTH_MINIO_BIN") == "" {
		if p, err := exec.LookPath("minio"); err == nil {
			return p, nil
		}
	}
	return cachebin.Find("BERTH_MINIO_BIN", "minio")
}

// Required reports whether a missing MinIO fails tests instead of skipping
// them: test.sh sets BERTH_TEST_REQUIRE_MINIO=1, CI sets CI.
func Required() bool {
	return os.Getenv("BERTH_TEST_REQUIRE_MINIO") != "" || os.Getenv("BERTH_E2E_REQUIRE_TOOLS") != "" || os.Getenv("CI") != ""
}

// Server is one MinIO process; Stop and Start simulate an outage on the same port and data.
type Server struct {
	t       testing.TB
	bin     string
	dir     string
	addr    string
	mu      sync.Mutex
	cmd     *exec.Cmd
	out     *bytes.Buffer
	stopped chan struct{}
}

// Start runs MinIO and sets AWS_* credentials for the test, so the default
// AWS credential chain (what berth uses) finds them.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if Required() {
			t.Fatalf("MinIO required (BERTH_TEST_REQUIRE_MINIO, BERTH_E2E_REQUIRE_TOOLS or CI is set): %v", err)
		}
		t.Skip(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &Server{t: t, bin: bin, dir: t.TempDir(), addr: addr}
	t.Setenv("AWS_ACCESS_KEY_ID", AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", SecretKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	s.StartAgain()
	t.Cleanup(s.Stop)
	return s
}

// Endpoint is the server's base URL.
func (s *Server) Endpoint() string { return "http://" + s.addr }

// Env is what a child process (a berth binary) needs to reach the server.
func (s *Server) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + AccessKey, "AWS_SECRET_ACCESS_KEY=" + SecretKey, "AWS_EC2_METADATA_DISABLED=true"}
}

// StartAgain (re)starts the process and waits until it is healthy.
func (s *Server) StartAgain() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	var out bytes.Buffer
	cmd := exec.Command(s.bin, "server", "--quiet", "--address", s.addr, filepath.Join(s.dir, "data"))
	cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+AccessKey, "MINIO_ROOT_PASSWORD="+SecretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "HOME="+s.dir)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() { _ = cmd.Wait(); close(stopped) }()
	s.cmd, s.out, s.stopped = cmd, &out, stopped
	// Startup takes a few seconds on a loaded 2-core machine; the bound
	// only guards against a hung process.
	deadline := time.Now().Add(90 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, s.Endpoint()+"/minio/health/ready", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-stopped:
			s.t.Fatalf("minio exited during startup:\n%s", out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("minio not ready after 90s: %v\n%s", err, out.String())
		}
	}
}

// Stop kills the process (an outage, not a clean shutdown) and waits for it.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.stopped
	s.cmd = nil
}
