// Package distregtest runs the CNCF distribution registry (the reference
// OCI registry, `registry serve`) on a loopback port as a pull-through
// upstream for tests, with htpasswd authentication and an access log the
// tests count requests in. scripts/install-deps.sh installs the binary
// into the berth cache; tests skip without it unless Required.
package distregtest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/berth-dev/berth/internal/testutil/cachebin"
)

// Version is the distribution release install-deps.sh installs.
const Version = "v3.1.2"

// Binary finds the registry: $BERTH_REGISTRY_BIN, or the install-deps cache
// (${BERTH_CACHE_DIR:-~/.cache/berth}/bin/registry).
func Binary() (string, error) { return cachebin.Find("BERTH_REGISTRY_BIN", "registry") }

// Required reports whether a missing registry fails tests instead of
// skipping them (test.sh, e2e with required tools, CI).
func Required() bool {
	return os.Getenv("BERTH_TEST_REQUIRE_REGISTRY") != "" || os.Getenv("BERTH_E2E_REQUIRE_TOOLS") != "" || os.Getenv("CI") != ""
}

// Options configure a registry.
type Options struct {
	// Username and Password enable htpasswd auth (empty: anonymous).
	Username, Password string
	// Token switches auth to distribution's token flow: a Bearer challenge
	// whose realm is a token issuer (run by the test) that accepts
	// Username/Password as Basic credentials.
	Token bool
}

// Server is one registry process; Stop and StartAgain simulate an outage
// on the same port and data.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	Addr string
	opts Options

	mu      sync.Mutex
	cmd     *exec.Cmd
	out     *syncBuffer
	stopped chan struct{}
	tokens  *tokenServer
}

// Start runs a registry for the test and stops it at cleanup.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if Required() {
			t.Fatalf("distribution registry required: %v", err)
		}
		t.Skip(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &Server{t: t, bin: bin, dir: t.TempDir(), Addr: addr, opts: opts, out: &syncBuffer{}}
	if err := s.writeConfig(); err != nil {
		t.Fatal(err)
	}
	s.StartAgain()
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) writeConfig() error {
	auth := ""
	if s.opts.Token {
		ts, bundle, err := startTokenServer(s.dir, s.opts.Username, s.opts.Password)
		if err != nil {
			return err
		}
		s.tokens = ts
		s.t.Cleanup(func() { _ = ts.srv.Close() })
		auth = fmt.Sprintf("auth:\n  token:\n    realm: %s\n    service: %s\n    issuer: %s\n    rootcertbundle: %s\n",
			ts.realm(), tokenService, tokenIssuer, bundle)
	} else if s.opts.Username != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(s.opts.Password), bcrypt.MinCost)
		if err != nil {
			return err
		}
		pw := filepath.Join(s.dir, "htpasswd")
		if err := os.WriteFile(pw, []byte(s.opts.Username+":"+string(hash)+"\n"), 0o600); err != nil {
			return err
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: distregtest\n    path: %s\n", pw)
	}
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: distregtest-secret
%s`, filepath.Join(s.dir, "data"), s.Addr, auth)
	return os.WriteFile(filepath.Join(s.dir, "config.yml"), []byte(cfg), 0o600)
}

// Reconfigure restarts the registry on the same port and data with opts
// (for example: push with htpasswd, then serve with token auth).
func (s *Server) Reconfigure(opts Options) {
	s.t.Helper()
	s.Stop()
	s.opts = opts
	if err := s.writeConfig(); err != nil {
		s.t.Fatal(err)
	}
	s.StartAgain()
}

// URL is the registry's base URL.
func (s *Server) URL() string { return "http://" + s.Addr }

// StartAgain (re)starts the process and waits until /v2/ answers.
func (s *Server) StartAgain() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	cmd := exec.Command(s.bin, "serve", filepath.Join(s.dir, "config.yml"))
	cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none", "OTEL_SDK_DISABLED=true")
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() { _ = cmd.Wait(); close(stopped) }()
	s.cmd, s.stopped = cmd, stopped
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-stopped:
			s.t.Fatalf("registry exited during start-up:\n%s", s.out.String())
		default:
		}
		resp, err := http.Get(s.URL() + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("registry at %s did not become ready:\n%s", s.Addr, s.out.String())
}

// Stop ends the process (no-op when stopped).
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

var accessLine = regexp.MustCompile(`"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP/[0-9.]+" (\d{3})`)

// Requests counts access-log entries with method whose path contains
// pathPart and whose status is status (0: any).
func (s *Server) Requests(method, pathPart string, status int) int {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(s.out.String()))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := accessLine.FindStringSubmatch(sc.Text())
		if m == nil || m[1] != method || !strings.Contains(m[2], pathPart) {
			continue
		}
		if status == 0 || m[3] == fmt.Sprint(status) {
			n++
		}
	}
	return n
}

// TokensIssued counts the tokens the token issuer handed out (Token mode).
func (s *Server) TokensIssued() int64 {
	if s.tokens == nil {
		return 0
	}
	return s.tokens.issued.Load()
}

// Log is the registry's output so far.
func (s *Server) Log() string { return s.out.String() }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
