//go:build e2e

package e2e

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Docker runs the docker CLI against $DOCKER_HOST with a private DOCKER_CONFIG, so
// logins made by one test never leak into another or into the user's config.
type Docker struct {
	t         testing.TB
	ConfigDir string
}

// NewDocker returns a docker CLI wrapper, or skips/fails when no engine answers.
func NewDocker(t testing.TB) *Docker {
	t.Helper()
	bin := requireTool(t, "docker")
	d := &Docker{t: t, ConfigDir: t.TempDir()}
	if _, errOut, err := run(t, Cmd{Name: bin, Args: []string{"info", "--format", "{{.ServerVersion}}"}, Env: d.env()}); err != nil {
		unavailable(t, "no Docker engine at DOCKER_HOST=%q: %v: %s", os.Getenv("DOCKER_HOST"), err, strings.TrimSpace(errOut))
	}
	return d
}

func (d *Docker) env() []string {
	// The classic builder needs nothing from the network for FROM <local image> + COPY.
	return []string{"DOCKER_CONFIG=" + d.ConfigDir, "DOCKER_BUILDKIT=0"}
}

// Run runs `docker args...` and returns stdout, stderr and the error.
func (d *Docker) Run(args ...string) (string, string, error) {
	d.t.Helper()
	return run(d.t, Cmd{Name: "docker", Args: args, Env: d.env()})
}

// Must runs `docker args...` and fails the test on error.
func (d *Docker) Must(args ...string) string {
	d.t.Helper()
	return mustRun(d.t, Cmd{Name: "docker", Args: args, Env: d.env()})
}

// Login runs `docker login` with the password on stdin.
func (d *Docker) Login(host, user, password string) (string, error) {
	d.t.Helper()
	out, errOut, err := run(d.t, Cmd{Name: "docker", Args: []string{"login", "--username", user, "--password-stdin", host}, Env: d.env(), Stdin: password})
	return out + errOut, err
}

// podmanEnv configures podman for root inside this sandbox without touching
// /etc/containers: vfs storage (no overlay), cgroupfs (no systemd), events to a
// file (no journald), and a private auth file.
func podmanEnv(t testing.TB) []string {
	t.Helper()
	dir := t.TempDir()
	storage := filepath.Join(dir, "storage.conf")
	writeFile(t, storage, "[storage]\ndriver = \"vfs\"\nrunroot = \""+filepath.Join(dir, "run")+"\"\ngraphroot = \""+filepath.Join(dir, "graph")+"\"\n")
	containers := filepath.Join(dir, "containers.conf")
	writeFile(t, containers, "[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\nevents_logfile_path = \""+filepath.Join(dir, "events.log")+"\"\n")
	auth := filepath.Join(dir, "auth.json")
	writeFile(t, auth, "{}\n")
	return []string{
		"CONTAINERS_STORAGE_CONF=" + storage,
		"CONTAINERS_CONF=" + containers,
		"REGISTRY_AUTH_FILE=" + auth,
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// helloProgram prints a greeting and then the contents of each file named on its
// command line, so `docker run IMAGE /a.txt` proves which layers arrived.
const helloProgram = `package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println("hello from berth e2e")
	for _, p := range os.Args[1:] {
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Printf("%s: %s\n", p, b)
	}
}
`

// buildRootfsTar compiles helloProgram statically and packs it, plus a file that
// holds nonce, into a rootfs tarball for `docker import` (no network needed).
func buildRootfsTar(t testing.TB, nonce string) string {
	t.Helper()
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "go.mod"), "module hello\n\ngo 1.21\n")
	writeFile(t, filepath.Join(src, "main.go"), helloProgram)
	bin := filepath.Join(src, "hello")
	mustRun(t, Cmd{Name: "go", Args: []string{"build", "-o", bin, "."}, Dir: src,
		Env: []string{"CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-buildvcs=false"}})
	exe, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rootfs.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	entries := []struct {
		name string
		mode int64
		body []byte
	}{
		{"hello", 0o755, exe},
		{"etc/berth-e2e", 0o644, []byte(nonce + "\n")},
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.name, Mode: e.mode, Size: int64(len(e.body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// expectAuthRefusal fails the test unless a client command failed and its output
// says the registry wanted credentials (and not, say, that the client was broken).
func expectAuthRefusal(t testing.TB, what, output string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s succeeded without valid credentials:\n%s", what, output)
	}
	lower := strings.ToLower(output)
	for _, s := range []string{"unauthorized", "authentication required", "no basic auth credentials", "401", "invalid username/password"} {
		if strings.Contains(lower, s) {
			return
		}
	}
	t.Fatalf("%s failed, but not because of credentials:\n%s", what, output)
}
