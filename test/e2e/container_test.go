//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The container image CI systems run as a service: built from the repository's
// Dockerfile with the private (offline) engine — FROM scratch needs nothing but
// the static binary — then run with its defaults and with a mounted seed file.

// buildContainerImage builds a static berth and the image, returning its tag.
func buildContainerImage(t *testing.T, d *Docker) string {
	t.Helper()
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	// The context is a copy of what .dockerignore lets through, so the test
	// never writes into the checkout.
	ctxDir := t.TempDir()
	bin := filepath.Join(ctxDir, "dist", "berth")
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/berth")
	build.Dir = repo
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("static build: %v\n%s", err, out)
	}
	mustRun(t, Cmd{Name: "cp", Args: []string{"-r", filepath.Join(repo, "build"), filepath.Join(repo, ".dockerignore"), ctxDir}})
	tag := "berth-e2e/berth:" + randomSuffix(t)
	d.Must("build", "-f", filepath.Join(repo, "Dockerfile"), "-t", tag, ctxDir)
	t.Cleanup(func() { _, _, _ = d.Run("rmi", "-f", tag) })
	return tag
}

// forT is d for a subtest: its failures must end the subtest's goroutine.
func (d *Docker) forT(t testing.TB) *Docker {
	c := *d
	c.t = t
	return &c
}

// container is one `docker run -d` of the image, removed at cleanup.
type container struct {
	d  *Docker
	id string
}

func runContainer(t *testing.T, d *Docker, args ...string) *container {
	t.Helper()
	d = d.forT(t)
	id := strings.TrimSpace(d.Must(append([]string{"run", "-d"}, args...)...))
	c := &container{d: d, id: id}
	t.Cleanup(func() {
		if t.Failed() {
			out, errOut, _ := d.Run("logs", "--tail", "40", id)
			t.Logf("container log:\n%s%s", redact(out), redact(errOut))
		}
		_, _, _ = d.Run("rm", "-f", "-v", id)
	})
	return c
}

func (c *container) inspect(t *testing.T, format string) string {
	t.Helper()
	return strings.TrimSpace(c.d.Must("inspect", "--format", format, c.id))
}

// waitHealthy waits for the image's own HEALTHCHECK (berth healthcheck) to
// pass; the bound only keeps a broken image from hanging the suite.
func (c *container) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		switch st := c.inspect(t, "{{.State.Status}} {{.State.Health.Status}}"); st {
		case "running healthy":
			return
		case "running starting", "created starting":
		default:
			t.Fatalf("container state %q", st)
		}
		if time.Now().After(deadline) {
			t.Fatalf("container not healthy after 90s; health log: %s", c.inspect(t, "{{json .State.Health.Log}}"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stop is `docker stop` (SIGTERM to berth as PID 1) and returns the exit code.
func (c *container) stop(t *testing.T) string {
	t.Helper()
	c.d.Must("stop", "--time", "30", c.id)
	return c.inspect(t, "{{.State.ExitCode}}")
}

// files lists what is left under dir in the (stopped) container's filesystem.
func (c *container) files(t *testing.T, dir string) []string {
	t.Helper()
	out := mustRun(t, Cmd{Name: "sh", Args: []string{"-c", `docker cp "$ID:$DIR" - | tar -t`}, Env: append(c.d.env(), "ID="+c.id, "DIR="+dir)})
	return strings.Fields(out)
}

func TestContainerImage(t *testing.T) {
	d := NewDocker(t)
	requireTool(t, "aws")
	noAWSProfile(t)
	image := buildContainerImage(t, d)
	rootEnv := []string{"-e", "BERTH_ROOT_ACCESS_KEY_ID=" + RootAccessKeyID, "-e", "BERTH_ROOT_SECRET_ACCESS_KEY=" + RootSecretAccessKey}

	t.Run("image config", func(t *testing.T) {
		d := d.forT(t)
		var cfg struct {
			User         string
			Env          []string
			Entrypoint   []string
			Cmd          []string
			ExposedPorts map[string]any
			Healthcheck  struct{ Test []string }
		}
		if err := json.Unmarshal([]byte(d.Must("image", "inspect", "--format", "{{json .Config}}", image)), &cfg); err != nil {
			t.Fatal(err)
		}
		if cfg.User != "65532:65532" {
			t.Errorf("User = %q, want a non-root uid:gid", cfg.User)
		}
		for _, want := range []string{"BERTH_ADDR=0.0.0.0:5000", "BERTH_EPHEMERAL=1"} {
			if !strings.Contains(strings.Join(cfg.Env, " "), want) {
				t.Errorf("Env %v lacks %s", cfg.Env, want)
			}
		}
		if _, ok := cfg.ExposedPorts["5000/tcp"]; !ok {
			t.Errorf("ExposedPorts = %v", cfg.ExposedPorts)
		}
		if strings.Join(cfg.Healthcheck.Test, " ") != "CMD /berth healthcheck" {
			t.Errorf("Healthcheck = %v", cfg.Healthcheck.Test)
		}
		if strings.Join(cfg.Entrypoint, " ") != "/berth" || strings.Join(cfg.Cmd, " ") != "serve" {
			t.Errorf("Entrypoint %v Cmd %v", cfg.Entrypoint, cfg.Cmd)
		}
		// One file and two directories: nothing but the static binary can run.
		size := d.Must("image", "inspect", "--format", "{{.Size}}", image)
		t.Logf("image size %s bytes", strings.TrimSpace(size))
		out := d.Must("run", "--rm", "--network", "none", image, "version")
		if strings.TrimSpace(out) == "" {
			t.Error("berth version printed nothing")
		}
	})

	t.Run("defaults: healthy, ephemeral, graceful stop", func(t *testing.T) {
		d := d.forT(t)
		// --network none: the image's own 0.0.0.0:5000 in a namespace of its own.
		c := runContainer(t, d, append([]string{"--network", "none"}, append(rootEnv, image)...)...)
		c.waitHealthy(t)
		if uid := c.inspect(t, "{{.Config.User}}"); uid != "65532:65532" {
			t.Errorf("running as %q", uid)
		}
		logs, logErr, _ := d.Run("logs", c.id)
		if !strings.Contains(logs+logErr, `"ephemeral":true`) && !strings.Contains(logs+logErr, "berth-ephemeral-") {
			t.Errorf("log does not show an ephemeral data directory:\n%s%s", logs, logErr)
		}
		if strings.Contains(logs+logErr, RootSecretAccessKey) {
			t.Error("the root secret appears in the container log")
		}
		if code := c.stop(t); code != "0" {
			t.Errorf("exit code after docker stop = %s, want 0 (graceful SIGTERM as PID 1)", code)
		}
		if left := c.files(t, "/tmp"); strings.Join(left, " ") != "tmp/ tmp/.keep" {
			t.Errorf("/tmp after stop holds %v, want only the image's own .keep", left)
		}
	})

	t.Run("seed file mounted, aws CLI and docker push as a CI job would", func(t *testing.T) {
		d := d.forT(t)
		addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		c := runContainer(t, d, append([]string{"--network", "host", "-e", "BERTH_ADDR=" + addr,
			"-v", docsPath(t, "seed-example.yaml") + ":/seed.yaml:ro", "-e", "BERTH_SEED=/seed.yaml"}, append(rootEnv, image)...)...)
		c.waitHealthy(t)
		b := &Berth{Addr: addr}
		var repos struct {
			Repositories []struct{ ImageTagMutability string }
		}
		awsCLI(t, b, awsEnv(RootAccessKeyID, RootSecretAccessKey, ""), &repos, "ecr", "describe-repositories", "--region", "us-east-1", "--repository-names", "app")
		if len(repos.Repositories) != 1 || repos.Repositories[0].ImageTagMutability != "IMMUTABLE_WITH_EXCLUSION" {
			t.Fatalf("seeded repository: %+v", repos)
		}
		// The seeded ci user may push app (dev-* tags are mutable); the reader may only pull.
		ciEnv := awsEnv("AKIAEXAMPLECIUSER001", "exampleCiUserSecretAccessKey000000000000", "")
		password := mustRun(t, Cmd{Name: "aws", Args: []string{"--endpoint-url", b.URL(), "--region", "us-east-1", "ecr", "get-login-password"}, Env: ciEnv})
		if out, err := d.Login(addr, "AWS", strings.TrimSpace(password)); err != nil {
			t.Fatalf("docker login with the ECR token: %v\n%s", err, out)
		}
		ref := b.Ref("app:dev-" + randomSuffix(t))
		d.Must("tag", image, ref)
		t.Cleanup(func() { _, _, _ = d.Run("rmi", "-f", ref) })
		d.Must("push", ref)
		d.Must("rmi", ref)
		readerEnv := awsEnv("AKIAEXAMPLEREADER001", "exampleReaderSecretAccessKey000000000000", "")
		password = mustRun(t, Cmd{Name: "aws", Args: []string{"--endpoint-url", b.URL(), "--region", "us-east-1", "ecr", "get-login-password"}, Env: readerEnv})
		if out, err := d.Login(addr, "AWS", strings.TrimSpace(password)); err != nil {
			t.Fatalf("docker login as reader: %v\n%s", err, out)
		}
		d.Must("pull", ref)
		other := b.Ref("app:dev-reader-" + randomSuffix(t))
		d.Must("tag", ref, other)
		t.Cleanup(func() { _, _, _ = d.Run("rmi", "-f", other) })
		out, errOut, err := d.Run("push", other)
		if err == nil || !strings.Contains(out+errOut, "denied") {
			t.Errorf("reader push: err=%v, output:\n%s%s", err, out, errOut)
		}
		if code := c.stop(t); code != "0" {
			t.Errorf("exit code after docker stop = %s", code)
		}
	})

	t.Run("persistent volume survives a new container", func(t *testing.T) {
		d := d.forT(t)
		volume := "berth-e2e-" + randomSuffix(t)
		t.Cleanup(func() { _, _, _ = d.Run("volume", "rm", "-f", volume) })
		addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		args := append([]string{"--network", "host", "-e", "BERTH_ADDR=" + addr, "-e", "BERTH_EPHEMERAL=0",
			"-e", "BERTH_DATA=/var/lib/berth", "-v", volume + ":/var/lib/berth"}, append(rootEnv, image)...)
		b := &Berth{Addr: addr}
		env := awsEnv(RootAccessKeyID, RootSecretAccessKey, "")
		first := runContainer(t, d, args...)
		first.waitHealthy(t)
		awsCLI(t, b, env, nil, "ecr", "create-repository", "--region", "us-east-1", "--repository-name", "kept")
		if code := first.stop(t); code != "0" {
			t.Errorf("exit code after docker stop = %s", code)
		}
		d.Must("rm", first.id)
		second := runContainer(t, d, args...)
		second.waitHealthy(t)
		awsCLI(t, b, env, nil, "ecr", "describe-repositories", "--region", "us-east-1", "--repository-names", "kept")
	})
}
