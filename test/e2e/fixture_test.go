//go:build e2e

package e2e

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// parseExports reads `export K=V` lines (V bare or single-quoted).
func parseExports(t testing.TB, text string) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "export ") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok {
			t.Fatalf("bad export line %q", line)
		}
		if strings.HasPrefix(v, "'") {
			v = strings.ReplaceAll(strings.Trim(v, "'"), `'\''`, "'")
		}
		out[k] = v
	}
	return out
}

func docsPath(t testing.TB, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestServeEphemeralBackgroundPrintEnvStop is the CI recipe from
// docs/testing-with-berth.md in a real shell: eval the export lines of
// `serve --ephemeral --print-env --background` with the documented seed
// file, use the aws CLI as root and as a seeded user, `berth stop`, and
// check the ephemeral data is gone.
func TestServeEphemeralBackgroundPrintEnvStop(t *testing.T) {
	requireTool(t, "aws")
	noAWSProfile(t)
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	script := `set -eu
eval "$("$BERTH_BIN" serve --ephemeral --addr 127.0.0.1:0 --seed "$SEED" --print-env --background)"
test -n "$BERTH_REGISTRY" && test -s "$BERTH_PID_FILE"
aws ecr describe-repositories --repository-names app --query 'repositories[0].imageTagMutability' --output text
AWS_ACCESS_KEY_ID=AKIAEXAMPLECIUSER001 AWS_SECRET_ACCESS_KEY=exampleCiUserSecretAccessKey000000000000 \
  aws sts get-caller-identity --query Arn --output text
aws ssm get-parameter --name /app/db/password --with-decryption --query Parameter.Value --output text
if AWS_ACCESS_KEY_ID=AKIAEXAMPLEREADER001 AWS_SECRET_ACCESS_KEY=exampleReaderSecretAccessKey000000000000 \
  aws ecr create-repository --repository-name denied 2>/dev/null; then echo "reader could create"; exit 1; fi
ls "$TMPDIR" | grep -c '^berth-ephemeral-'
"$BERTH_BIN" stop
ls "$TMPDIR" | grep -c '^berth-ephemeral-' || true
test ! -e "$BERTH_PID_FILE"
`
	out := mustRun(t, Cmd{Name: "bash", Args: []string{"-c", script}, Env: []string{
		"SEED=" + docsPath(t, "seed-example.yaml"), "TMPDIR=" + tmp,
		"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull, "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
	}})
	want := []string{"IMMUTABLE_WITH_EXCLUSION", "arn:aws:iam::000000000000:user/ci", "example-password", "1", "stopped berth (pid ", "0"}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(want) {
		t.Fatalf("script output:\n%s\nwant lines like %q", out, want)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want %q", i, lines[i], w)
		}
	}
}

// TestServeReadyFileAndRandomPort: a supervisor starts berth in the
// foreground with --addr 127.0.0.1:0 and learns the chosen port from the
// ready file; SIGTERM removes the ready file, the pid file and the data.
func TestServeReadyFileAndRandomPort(t *testing.T) {
	dir := t.TempDir()
	ready, pidFile := filepath.Join(dir, "ready"), filepath.Join(dir, "pid")
	cmd := exec.Command(os.Getenv("BERTH_BIN"), "serve", "--ephemeral", "--addr", "127.0.0.1:0",
		"--ready-file", ready, "--pid-file", pidFile, "--region", "eu-west-1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.Env = append(os.Environ(), "TMPDIR="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var data []byte
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var err error
		if data, err = os.ReadFile(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ready file: %s", stderr.String())
		}
	}
	fi, err := os.Stat(ready)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("ready file mode: %v %v", fi.Mode(), err)
	}
	env := parseExports(t, string(data))
	if env["AWS_DEFAULT_REGION"] != "eu-west-1" || !strings.HasPrefix(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:") ||
		strings.HasSuffix(env["BERTH_REGISTRY"], ":0") || env["AWS_ACCESS_KEY_ID"] == "" || env["AWS_SECRET_ACCESS_KEY"] == "" {
		t.Fatalf("ready file:\n%s", data)
	}
	pid, _ := os.ReadFile(pidFile)
	if strings.TrimSpace(string(pid)) == "" {
		t.Fatal("empty pid file")
	}
	resp, err := http.Get("http://" + env["BERTH_REGISTRY"] + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("/v2/ = %d", resp.StatusCode)
	}
	if strings.Contains(stderr.String(), env["AWS_SECRET_ACCESS_KEY"]) {
		t.Error("the root secret appears in the log")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr.String())
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		t.Errorf("left behind after exit: %s", e.Name())
	}
}

// TestServeSeedErrorNamesLine: a broken seed file stops start-up with
// FILE:LINE: FIELD: message and exit status 1.
func TestServeSeedErrorNamesLine(t *testing.T) {
	dir := t.TempDir()
	seedFile := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(seedFile, []byte("version: 1\naccounts:\n  - users:\n      - name: ci\n        accessKeys:\n          - id: lowercase-is-invalid\n            secret: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := run(t, Cmd{Name: os.Getenv("BERTH_BIN"), Args: []string{"serve", "--ephemeral", "--addr", "127.0.0.1:0", "--seed", seedFile}})
	if err == nil {
		t.Fatal("berth serve started with a broken seed file")
	}
	if want := seedFile + ":6: accounts[0].users[0].accessKeys[0]: "; !strings.Contains(stderr, want) {
		t.Fatalf("stderr %q does not contain %q", stderr, want)
	}
}
