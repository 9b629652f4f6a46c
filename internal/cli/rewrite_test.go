package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const rewritePod = `# rendered by helm
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: app
    image: nginx:1.25 # pinned
  - name: tool
    image: mcr.microsoft.com/dotnet/runtime:8.0
`

func TestRewriteCommand(t *testing.T) {
	dir := t.TempDir()
	pod := filepath.Join(dir, "pod.yaml")
	if err := os.WriteFile(pod, []byte(rewritePod), 0o640); err != nil {
		t.Fatal(err)
	}
	base := []string{"berth", "rewrite", "--registry", "127.0.0.1:5000", "--rule", "docker.io=docker-hub"}

	// One file: the result on stdout, the report on stderr, the file untouched.
	code, out, errOut := run(t, append(base, pod), "")
	if code != 0 || !strings.Contains(out, "image: 127.0.0.1:5000/docker-hub/library/nginx:1.25 # pinned") ||
		!strings.Contains(errOut, "no rule for mcr.microsoft.com") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if data, _ := os.ReadFile(pod); string(data) != rewritePod {
		t.Fatal("stdout mode changed the file")
	}

	// --check lists the change and fails.
	code, out, _ = run(t, append(base, "--check", pod), "")
	if code != ExitFailure || !strings.Contains(out, "nginx:1.25 -> 127.0.0.1:5000/docker-hub/library/nginx:1.25") {
		t.Fatalf("--check: exit %d\n%s", code, out)
	}

	// -w rewrites in place and keeps the mode; --check then passes, --strict does not.
	if code, _, errOut = run(t, append(base, "-w", pod), ""); code != 0 {
		t.Fatalf("-w: exit %d: %s", code, errOut)
	}
	st, _ := os.Stat(pod)
	if st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v after -w, want 0640", st.Mode().Perm())
	}
	if code, out, _ = run(t, append(base, "--check", pod), ""); code != 0 || !strings.Contains(out, "every image reference already goes through") {
		t.Fatalf("--check after -w: exit %d\n%s", code, out)
	}
	if code, _, _ = run(t, append(base, "--check", "--strict", pod), ""); code != ExitFailure {
		t.Fatalf("--check --strict with an uncovered image: exit %d", code)
	}

	// Standard input to standard output, with the pull secret and its Secret.
	secretFile := filepath.Join(dir, "secret.yaml")
	code, _, errOut = run(t, append(base, "--pull-secret", "berth-pull", "--emit-secret", secretFile, "--username", "AKIAREADONLY", "--password-stdin", "-w", pod), "s3cret\n")
	if code != 0 {
		t.Fatalf("emit-secret: exit %d: %s", code, errOut)
	}
	data, _ := os.ReadFile(pod)
	if !strings.Contains(string(data), "  imagePullSecrets:\n  - name: berth-pull\n  containers:") {
		t.Errorf("pull secret not added:\n%s", data)
	}
	sec, err := os.ReadFile(secretFile)
	if err != nil || !strings.Contains(string(sec), "kind: Secret") || !strings.Contains(string(sec), "kubernetes.io/dockerconfigjson") {
		t.Errorf("secret file: %v\n%s", err, sec)
	}
	if st, _ := os.Stat(secretFile); st.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v, want 0600", st.Mode().Perm())
	}

	code, out, _ = run(t, []string{"berth", "rewrite", "--registry", "r.example", "--rule", "docker.io=hub", "--format", "compose"}, "services:\n  a:\n    image: redis\n")
	if code != 0 || out != "services:\n  a:\n    image: r.example/hub/library/redis\n" {
		t.Errorf("stdin: exit %d %q", code, out)
	}
}

func TestRewriteUsage(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	for _, p := range []string{a, b} {
		os.WriteFile(p, []byte(rewritePod), 0o644)
	}
	reg := []string{"--registry", "127.0.0.1:5000", "--rule", "docker.io=docker-hub"}
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{a}, ExitUsage, "registry"},
		{[]string{"--registry", "h", a}, ExitUsage, "rule"},
		{append(reg, "--rule", "nohost", a), ExitUsage, "UPSTREAM=PREFIX"},
		{append(reg, a, b), ExitUsage, "use -w"},
		{append(reg, "-w", "--check", a), ExitUsage, "exclude"},
		{append(reg, "--strict", a), ExitUsage, "--strict"},
		{append(reg, "--format", "helm", a), ExitUsage, "format"},
		{append(reg, "--emit-secret", "-", a), ExitUsage, "--pull-secret"},
		{append(reg, filepath.Join(dir, "missing.yaml")), ExitNotFound, "missing.yaml"},
	}
	for _, c := range cases {
		code, _, errOut := run(t, append([]string{"berth", "rewrite"}, c.args...), "")
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d, want %d with %q; stderr %q", c.args, code, c.code, c.msg, errOut)
		}
	}
}
