//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Root credentials every berth started by the harness uses (env
// BERTH_ROOT_ACCESS_KEY_ID / BERTH_ROOT_SECRET_ACCESS_KEY).
const (
	RootAccessKeyID     = "AKIABERTHE2EROOT0001"
	RootSecretAccessKey = "berthE2eRootSecretAccessKey0000000000000"
)

// ecrTestHosts resolve to 127.0.0.1 on test machines: scripts/ecr-hosts.sh adds
// them to /etc/hosts and to dockerd's --insecure-registry list. Keep both lists equal.
func ecrTestHosts() []string {
	return []string{
		"111111111111.dkr.ecr.us-east-1.localhost",
		"222222222222.dkr.ecr.eu-west-2.localhost",
		"222222222222.dkr.ecr.eu-west-1.localhost",
	}
}

func TestMain(m *testing.M) {
	code, err := runMain(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

// runMain makes sure BERTH_BIN names an absolute path to a berth binary, building
// one from this module when it is unset.
func runMain(m *testing.M) (int, error) {
	berthBin := os.Getenv("BERTH_BIN")
	if berthBin == "" {
		dir, err := os.MkdirTemp("", "berth-e2e-bin")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(dir)
		berthBin = filepath.Join(dir, "berth")
		build := exec.Command("go", "build", "-o", berthBin, "github.com/berth-dev/berth/cmd/berth")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return 0, fmt.Errorf("building berth (set BERTH_BIN to skip): %w", err)
		}
	}
	abs, err := filepath.Abs(berthBin)
	if err != nil {
		return 0, err
	}
	if err := os.Setenv("BERTH_BIN", abs); err != nil {
		return 0, err
	}
	noteSecret("root secret access key", RootSecretAccessKey)
	return m.Run(), nil
}

// requireTools reports whether a missing tool must fail the test rather than skip it.
func requireTools() bool { return os.Getenv("BERTH_E2E_REQUIRE_TOOLS") != "" }

// unavailable skips the test, or fails it when BERTH_E2E_REQUIRE_TOOLS is set.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if requireTools() {
		t.Fatalf("required by BERTH_E2E_REQUIRE_TOOLS: "+format, args...)
	}
	t.Skipf(format, args...)
}

// requireTool returns the path of a client program or skips/fails the test.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		unavailable(t, "%s not installed: %v", name, err)
	}
	return p
}

// Berth is one berth server process owned by a test.
//
// By default it runs as CI jobs run it: `serve --ephemeral --addr
// 127.0.0.1:0 --ready-file …` (the port comes from the ready file, the data
// from a private TMPDIR, which must be empty again after a graceful stop).
// Tests that restart berth or share its data ask for Persistent() (or
// WithDataDir) and get `--data DIR` on a port chosen up front; so do the
// scale-out backends, whose data lives outside the data directory.
type Berth struct {
	t          testing.TB
	DataDir    string // persistent: the --data directory; ephemeral: the server's temporary one
	Addr       string // 127.0.0.1:PORT
	args       []string
	env        []string
	logPath    string
	https      bool // --tls auto: URL is https:// and /v2/ is probed with the local CA
	persistent bool
	tmpDir     string // ephemeral: berth's TMPDIR
	readyFile  string // ephemeral: --ready-file
	auditDir   string // ephemeral: where --audit-log writes (outlives the data directory for the secret sweep)
	started    bool

	mu        sync.Mutex
	cmd       *exec.Cmd
	done      chan struct{}
	reuseAddr bool // the next Start listens on Addr again (StartOnSameAddr)
}

// BerthOption tunes StartBerth.
type BerthOption func(*Berth)

// WithArgs appends flags to `berth serve`.
func WithArgs(args ...string) BerthOption { return func(b *Berth) { b.args = append(b.args, args...) } }

// WithEnv adds KEY=VALUE pairs to berth's environment.
func WithEnv(kv ...string) BerthOption { return func(b *Berth) { b.env = append(b.env, kv...) } }

// WithTLSAuto serves HTTPS with berth's own CA (berth serve --tls auto); the
// CA is at CAFile once berth is up.
func WithTLSAuto() BerthOption {
	return func(b *Berth) { b.https, b.args = true, append(b.args, "--tls", "auto") }
}

// WithDataDir makes berth use dir instead of a fresh temporary data directory
// (implies Persistent).
func WithDataDir(dir string) BerthOption {
	return func(b *Berth) { b.DataDir, b.persistent = dir, true }
}

// Persistent runs berth on a --data directory that survives Restart, Kill9
// and Start instead of --ephemeral.
func Persistent() BerthOption { return func(b *Berth) { b.persistent = true } }

// hasFlag reports whether args set the flag (--name VALUE or --name=VALUE).
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// StartBerth starts `berth serve` on a free loopback port and stops it at cleanup.
func StartBerth(t testing.TB, opts ...BerthOption) *Berth {
	t.Helper()
	b := &Berth{t: t, args: backendArgs(t)}
	for _, o := range opts {
		o(b)
	}
	b.persistent = b.persistent || hasFlag(b.args, "--metadata") || hasFlag(b.args, "--storage")
	if b.persistent && b.DataDir == "" {
		b.DataDir = filepath.Join(t.TempDir(), "data")
	}
	if !b.persistent {
		b.tmpDir = filepath.Join(t.TempDir(), "tmp")
		if err := os.Mkdir(b.tmpDir, 0o700); err != nil {
			t.Fatal(err)
		}
		b.readyFile = filepath.Join(t.TempDir(), "ready")
		if !hasFlag(b.args, "--audit-log") {
			b.auditDir = t.TempDir()
			b.args = append(b.args, "--audit-log", filepath.Join(b.auditDir, "audit.log"))
		}
	}
	b.logPath = filepath.Join(t.TempDir(), "berth.log")
	b.Start(t)
	t.Cleanup(func() {
		b.Stop()
		b.checkLogForCrash(t)
		b.checkNoSecretsLogged(t)
		if t.Failed() {
			t.Logf("berth log (last 40 lines):\n%s", b.LogTail(40))
		}
	})
	return b
}

// Start launches berth on a new free port; it fails the test if /v2/ never answers 401.
func (b *Berth) Start(t testing.TB) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd != nil {
		t.Fatalf("berth already running at %s", b.Addr)
	}
	if b.started && !b.persistent {
		t.Fatalf("an ephemeral berth has no data to start again on: use StartBerth(t, Persistent())")
	}
	b.started = true
	var args []string
	if b.persistent {
		if !b.reuseAddr || b.Addr == "" {
			b.Addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
		}
		args = []string{"serve", "--addr", b.Addr, "--data", b.DataDir}
	} else {
		args = []string{"serve", "--ephemeral", "--addr", "127.0.0.1:0", "--ready-file", b.readyFile}
	}
	b.reuseAddr = false
	args = append(args, b.args...)
	logFile, err := os.OpenFile(b.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(logFile, "----- berth %s (%s)\n", strings.Join(args, " "), time.Now().UTC().Format(time.RFC3339))
	cmd := exec.Command(os.Getenv("BERTH_BIN"), args...)
	cmd.Env = append(os.Environ(),
		"BERTH_ROOT_ACCESS_KEY_ID="+RootAccessKeyID,
		"BERTH_ROOT_SECRET_ACCESS_KEY="+RootSecretAccessKey,
	)
	if b.tmpDir != "" {
		cmd.Env = append(cmd.Env, "TMPDIR="+b.tmpDir)
	}
	cmd.Env = append(cmd.Env, b.env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("starting berth: %v", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(done)
	}()
	b.cmd, b.done = cmd, done
	if !b.persistent {
		if err := b.waitForReadyFile(done); err != nil {
			t.Fatalf("ephemeral berth did not become ready: %v\nlog:\n%s", err, b.LogTail(40))
		}
	}
	if err := waitForV2With(b.URL()+"/v2/", done, b.probeClient); err != nil {
		t.Fatalf("berth at %s did not become ready: %v\nlog:\n%s", b.Addr, err, b.LogTail(40))
	}
}

// waitForReadyFile learns the port an ephemeral berth chose from its ready
// file (the export lines of --print-env) and where it keeps its data.
func (b *Berth) waitForReadyFile(exited <-chan struct{}) error {
	deadline := time.Now().Add(60 * time.Second)
	for ; ; time.Sleep(5 * time.Millisecond) {
		select {
		case <-exited:
			return errors.New("berth exited during start-up")
		default:
		}
		data, err := os.ReadFile(b.readyFile)
		if err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				if v, ok := strings.CutPrefix(line, "export BERTH_REGISTRY="); ok {
					b.Addr = v
				}
			}
			if b.Addr == "" {
				return fmt.Errorf("ready file has no BERTH_REGISTRY:\n%s", data)
			}
			dirs, _ := filepath.Glob(filepath.Join(b.tmpDir, "berth-ephemeral-*"))
			if len(dirs) != 1 {
				return fmt.Errorf("want one berth-ephemeral-* directory in TMPDIR, found %v", dirs)
			}
			b.DataDir = dirs[0]
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no ready file %s within 60s", b.readyFile)
		}
	}
}

// waitForV2 polls until the registry answers 401 (no anonymous access) or the
// process exits. The deadline only bounds start-up; it asserts nothing about speed.
func waitForV2(url string, exited <-chan struct{}) error {
	return waitForV2With(url, exited, func() *http.Client { return &http.Client{Timeout: 2 * time.Second} })
}

// waitForV2With is waitForV2 with a client made per attempt (for TLS, whose
// CA appears only while the server starts).
func waitForV2With(url string, exited <-chan struct{}, newClient func() *http.Client) error {
	deadline := time.Now().Add(60 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("berth exited during start-up")
		default:
		}
		resp, err := newClient().Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no 401 from %s within 60s (last: %s)", url, last)
}

// Stop sends SIGTERM and waits; a server that ignores it for 20s is killed.
func (b *Berth) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(20 * time.Second):
		b.t.Errorf("berth did not exit within 20s of SIGTERM; killing it")
		_ = b.cmd.Process.Kill()
		<-b.done
	}
	b.cmd = nil
	if !b.persistent {
		// A graceful stop removes the ephemeral data and the ready file.
		if left, _ := os.ReadDir(b.tmpDir); len(left) > 0 {
			b.t.Errorf("ephemeral berth left %d entries in its TMPDIR after SIGTERM (first: %s)", len(left), left[0].Name())
		}
		if _, err := os.Stat(b.readyFile); err == nil {
			b.t.Errorf("ephemeral berth left its ready file %s", b.readyFile)
		}
	}
}

// Kill9 kills berth with SIGKILL: no shutdown code runs.
func (b *Berth) Kill9() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return
	}
	_ = b.cmd.Process.Kill()
	<-b.done
	b.cmd = nil
}

// StartOnSameAddr starts a stopped or killed berth again on the address it
// had (a load balancer's configuration names it).
func (b *Berth) StartOnSameAddr(t testing.TB) {
	t.Helper()
	b.mu.Lock()
	b.reuseAddr = true
	b.mu.Unlock()
	b.Start(t)
}

// Restart stops berth gracefully and starts it again on the same data
// directory (Persistent only).
func (b *Berth) Restart(t testing.TB) {
	t.Helper()
	b.Stop()
	b.Start(t)
}

// URL is the base URL, e.g. http://127.0.0.1:5123 (https:// with WithTLSAuto).
func (b *Berth) URL() string {
	if b.https {
		return "https://" + b.Addr
	}
	return "http://" + b.Addr
}

// CAFile is the local CA of a berth started WithTLSAuto.
func (b *Berth) CAFile() string { return filepath.Join(b.DataDir, "tls", "ca.crt") }

// probeClient is the client for the start-up probe: with TLS it trusts only
// berth's CA, read afresh because berth creates it while starting.
func (b *Berth) probeClient() *http.Client {
	c := &http.Client{Timeout: 2 * time.Second}
	if b.https {
		pool := x509.NewCertPool()
		if pemCA, err := os.ReadFile(b.CAFile()); err == nil {
			pool.AppendCertsFromPEM(pemCA)
		}
		c.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	}
	return c
}

// Ref returns ADDR/repo plus suffix (":tag" or "@digest") as clients spell it.
func (b *Berth) Ref(repoAndSuffix string) string { return b.Addr + "/" + repoAndSuffix }

// Auth is the root user as a go-containerregistry authenticator.
func (b *Berth) Auth() authn.Authenticator {
	return &authn.Basic{Username: RootAccessKeyID, Password: RootSecretAccessKey}
}

// Remote returns go-containerregistry options that authenticate as root.
func (b *Berth) Remote(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithAuth(b.Auth()), remote.WithContext(ctx)}
}

// ParseRef parses ADDR/repo:tag or ADDR/repo@digest for go-containerregistry (plain HTTP).
func (b *Berth) ParseRef(t testing.TB, repoAndSuffix string) name.Reference {
	t.Helper()
	ref, err := name.ParseReference(b.Ref(repoAndSuffix), name.Insecure, name.StrictValidation)
	if err != nil {
		t.Fatalf("parse reference %q: %v", repoAndSuffix, err)
	}
	return ref
}

// LogTail returns the last n lines berth wrote to stdout/stderr.
func (b *Berth) LogTail(n int) string {
	data, err := os.ReadFile(b.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// checkLogForCrash fails the test if the Go runtime reported a crash in berth's output.
func (b *Berth) checkLogForCrash(t testing.TB) {
	data, err := os.ReadFile(b.logPath)
	if err != nil {
		return
	}
	for _, marker := range []string{"\npanic: ", "\nfatal error: ", "DATA RACE"} {
		if i := bytes.Index(data, []byte(marker)); i >= 0 {
			end := min(len(data), i+3000)
			t.Errorf("berth crashed (%q in its output):\n%s", strings.TrimSpace(marker), data[i:end])
			return
		}
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// randomSuffix makes names unique across runs that share a Docker engine.
func randomSuffix(t testing.TB) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// Cmd is a client command: program, extra environment, optional stdin.
type Cmd struct {
	Name  string
	Args  []string
	Env   []string
	Stdin string
	Dir   string
}

// run executes c, logs the command line (secrets redacted) and returns combined
// stdout and stderr separately.
func run(t testing.TB, c Cmd) (stdout, stderr string, err error) {
	t.Helper()
	line := redact(c.Name + " " + strings.Join(c.Args, " "))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Name, c.Args...)
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Dir = c.Dir
	if c.Stdin != "" {
		cmd.Stdin = strings.NewReader(c.Stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err = cmd.Run()
	t.Logf("$ %s  (%s, %v)", line, time.Since(start).Round(time.Millisecond), exitStatus(err))
	noteSecretsInOutput(c.Args, out.String())
	return out.String(), errb.String(), err
}

// mustRun is run that fails the test on a non-zero exit.
func mustRun(t testing.TB, c Cmd) string {
	t.Helper()
	out, errOut, err := run(t, c)
	if err != nil {
		t.Fatalf("%s failed: %v\nstdout:\n%s\nstderr:\n%s", redact(c.Name+" "+strings.Join(c.Args, " ")), err, redact(out), redact(errOut))
	}
	return out
}

func exitStatus(err error) string {
	if err == nil {
		return "exit 0"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fmt.Sprintf("exit %d", ee.ExitCode())
	}
	return err.Error()
}

func redact(s string) string { return strings.ReplaceAll(s, RootSecretAccessKey, "***") }

// rootCreds is USER:PASSWORD for skopeo/podman --creds.
func rootCreds() string { return RootAccessKeyID + ":" + RootSecretAccessKey }
