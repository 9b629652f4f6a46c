//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStockECRCredentialTools drives AWS's own credential tools — the
// docker credential helper docker-credential-ecr-login (awslabs, v0.13.0)
// and the kubelet's ecr-credential-provider (k8s.io/cloud-provider-aws,
// v1.37.1), both built by scripts/install-deps.sh into ~/.cache/berth/bin —
// against berth over `serve --tls auto`, and pulls with the real docker
// engine using what they return.
//
// Both tools accept only hosts named ACCOUNT.dkr.ecr.REGION.amazonaws.com
// (the helper also checks the proxyEndpoint berth returns), so the test
// changes the machine, as root, and undoes it at cleanup:
//   - /etc/hosts gets two lines, "127.0.0.1 ACCOUNT.dkr.ecr.us-east-1.amazonaws.com
//     # berth-e2e … pid N" for an account id drawn at random per run and the
//     same for api.ecr.us-east-1.amazonaws.com, removed again at cleanup
//     (each run removes only its own lines); the test checks that both names
//     resolve to 127.0.0.1 only before any client uses them, so nothing
//     reaches the real ECR;
//   - /etc/docker/certs.d/HOST:PORT/ca.crt makes the docker engine trust
//     berth's CA for that one host:port; the directory is removed at cleanup.
func TestStockECRCredentialTools(t *testing.T) {
	if os.Geteuid() != 0 {
		unavailable(t, "needs root: it edits /etc/hosts and /etc/docker/certs.d")
	}
	helper := cachedTool(t, "docker-credential-ecr-login")
	provider := cachedTool(t, "ecr-credential-provider")
	NewDocker(t)

	account := "4" + randomDigits(t, 11)
	host := account + ".dkr.ecr.us-east-1.amazonaws.com"
	apiHost := "api.ecr.us-east-1.amazonaws.com" // AWS's own API host name, shared by parallel runs (one line each)
	mapToLoopback(t, host, apiHost)
	b := StartBerth(t, WithTLSAuto(), WithArgs("--account-id", account, "--region", "us-east-1", "--tls-domain", "amazonaws.com"))
	_, port, _ := net.SplitHostPort(b.Addr)
	registry := host + ":" + port
	trustForDocker(t, registry, b.CAFile())

	work := t.TempDir()
	toolEnv := []string{
		"AWS_ACCESS_KEY_ID=" + RootAccessKeyID, "AWS_SECRET_ACCESS_KEY=" + RootSecretAccessKey, "AWS_SESSION_TOKEN=",
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1", "AWS_PROFILE=", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(work, "aws-config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(work, "aws-credentials"),
		"AWS_ENDPOINT_URL=", "AWS_ENDPOINT_URL_ECR=https://" + registry, "AWS_CA_BUNDLE=" + b.CAFile(),
		"AWS_ECR_CACHE_DIR=" + filepath.Join(work, "ecr-cache"), "HOME=" + work, // the helper logs under ~/.ecr
		"PATH=" + filepath.Dir(helper) + string(os.PathListSeparator) + os.Getenv("PATH"),
	}
	withEnv := func(extra ...string) []string { return append(append([]string{}, toolEnv...), extra...) }

	t.Run("helper through the API host name", func(t *testing.T) {
		out := mustRun(t, Cmd{Name: helper, Args: []string{"get"}, Stdin: registry,
			Env: withEnv("AWS_ENDPOINT_URL_ECR=https://"+apiHost+":"+port, "AWS_ECR_DISABLE_CACHE=true")})
		if !strings.Contains(out, `"Username":"AWS"`) {
			t.Fatalf("helper via %s: %s", apiHost, out)
		}
	})
	t.Run("helper refuses a berth that is not ECR-shaped", func(t *testing.T) {
		// Same server, reached as localhost: berth answers proxyEndpoint
		// https://localhost:PORT, which the helper does not accept. This is
		// why --tls-domain amazonaws.com and the host name are needed.
		cache := t.TempDir()
		out, errOut, err := run(t, Cmd{Name: helper, Args: []string{"get"}, Stdin: registry,
			Env: withEnv("AWS_ENDPOINT_URL_ECR=https://localhost:"+port, "AWS_ECR_CACHE_DIR="+cache)})
		// The helper tells docker only "credentials not found"; the reason
		// is in its log under AWS_ECR_CACHE_DIR.
		logged, _ := os.ReadFile(filepath.Join(cache, "log", "ecr-login.log"))
		if err == nil || !strings.Contains(string(logged), "Invalid ProxyEndpoint returned by ECR: https://localhost:"+port) {
			t.Fatalf("want the helper's proxyEndpoint refusal, got %v:\n%s%s\nlog:\n%s", err, out, errOut, logged)
		}
	})

	var helperSecret string
	t.Run("docker-credential-ecr-login get", func(t *testing.T) {
		out := mustRun(t, Cmd{Name: helper, Args: []string{"get"}, Stdin: registry, Env: toolEnv})
		var creds struct{ ServerURL, Username, Secret string }
		if err := json.Unmarshal([]byte(out), &creds); err != nil {
			t.Fatalf("helper output %q: %v", out, err)
		}
		if creds.ServerURL != registry || creds.Username != "AWS" || creds.Secret == "" {
			t.Fatalf("helper answered ServerURL %q Username %q (secret %d bytes)", creds.ServerURL, creds.Username, len(creds.Secret))
		}
		helperSecret = creds.Secret
		// The helper caches the token per registry id in its cache file,
		// with berth's expiry, and answers the next get from there.
		raw, err := os.ReadFile(filepath.Join(work, "ecr-cache", "cache.json"))
		if err != nil || !strings.Contains(string(raw), "-"+account+`"`) || !strings.Contains(string(raw), "https://"+registry) {
			t.Fatalf("helper cache: %v %s", err, raw)
		}
		again := mustRun(t, Cmd{Name: helper, Args: []string{"get"}, Stdin: registry, Env: toolEnv})
		if !strings.Contains(again, creds.Secret) {
			t.Fatal("second get returned another token than the cached one")
		}
	})
	if helperSecret == "" {
		t.FailNow()
	}

	// docker with credHelpers → ecr-login: push a fresh image, drop it
	// locally, pull it back. The docker CLI runs the helper with its own
	// environment, so toolEnv reaches it.
	helperDocker := t.TempDir()
	writeFile(t, filepath.Join(helperDocker, "config.json"), `{"credHelpers":{"`+registry+`":"ecr-login"}}`)
	dockerEnv := func(configDir string) []string { return withEnv("DOCKER_CONFIG="+configDir, "DOCKER_BUILDKIT=0") }
	suffix := randomSuffix(t)
	image := registry + "/stock-tools/app:" + suffix
	t.Cleanup(func() {
		_, _, _ = run(t, Cmd{Name: "docker", Args: []string{"rmi", "-f", image}, Env: dockerEnv(helperDocker)})
	})
	mustRun(t, Cmd{Name: "docker", Args: []string{"import", "--change", `ENTRYPOINT ["/hello"]`, buildRootfsTar(t, suffix), image}, Env: dockerEnv(helperDocker)})
	imageID := strings.TrimSpace(mustRun(t, Cmd{Name: "docker", Args: []string{"image", "inspect", "--format", "{{.Id}}", image}, Env: dockerEnv(helperDocker)}))
	t.Run("docker push and pull through docker-credential-ecr-login", func(t *testing.T) {
		mustRun(t, Cmd{Name: "docker", Args: []string{"push", image}, Env: dockerEnv(helperDocker)})
		mustRun(t, Cmd{Name: "docker", Args: []string{"rmi", image}, Env: dockerEnv(helperDocker)})
		mustRun(t, Cmd{Name: "docker", Args: []string{"pull", image}, Env: dockerEnv(helperDocker)})
		if got := strings.TrimSpace(mustRun(t, Cmd{Name: "docker", Args: []string{"image", "inspect", "--format", "{{.Id}}", image}, Env: dockerEnv(helperDocker)})); got != imageID {
			t.Fatalf("pulled image id %s, pushed %s", got, imageID)
		}
		// Nothing secret landed in config.json: the helper is asked each time.
		cfg, _ := os.ReadFile(filepath.Join(helperDocker, "config.json"))
		if bytes.Contains(cfg, []byte(helperSecret)) || bytes.Contains(cfg, []byte(`"auths"`)) && bytes.Contains(cfg, []byte(`"auth"`)) {
			t.Fatalf("docker stored credentials in config.json: %s", cfg)
		}
	})

	t.Run("ecr-credential-provider, then docker login and pull with its credentials", func(t *testing.T) {
		// This time through the API host name, as on EKS:
		// AWS_ENDPOINT_URL_ECR=https://api.ecr.REGION.amazonaws.com.
		req := `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"` + image + `"}`
		out := mustRun(t, Cmd{Name: provider, Stdin: req, Env: withEnv("AWS_ENDPOINT_URL_ECR=https://" + apiHost + ":" + port)})
		var resp credentialProviderResponse
		if err := json.Unmarshal([]byte(out), &resp); err != nil {
			t.Fatalf("provider output %q: %v", out, err)
		}
		if resp.Kind != "CredentialProviderResponse" || resp.APIVersion != "credentialprovider.kubelet.k8s.io/v1" || resp.CacheKeyType != "Registry" {
			t.Fatalf("provider envelope %+v", resp)
		}
		// Half of berth's 12-hour token lifetime, as the provider computes it.
		if d, err := time.ParseDuration(resp.CacheDuration); err != nil || d < 5*time.Hour || d > 6*time.Hour {
			t.Fatalf("cacheDuration %q (%v)", resp.CacheDuration, err)
		}
		// The provider keys by host name without the port (kubelet matching).
		a, ok := resp.Auth[host]
		if !ok || a.Username != "AWS" || a.Password == "" {
			t.Fatalf("provider auth %v, want an AWS token for %s", resp.Auth, host)
		}
		loginDocker := t.TempDir()
		writeFile(t, filepath.Join(loginDocker, "config.json"), "{}\n")
		mustRun(t, Cmd{Name: "docker", Args: []string{"rmi", "-f", image}, Env: dockerEnv(loginDocker)})
		mustRun(t, Cmd{Name: "docker", Args: []string{"login", "--username", a.Username, "--password-stdin", registry}, Stdin: a.Password, Env: dockerEnv(loginDocker)})
		mustRun(t, Cmd{Name: "docker", Args: []string{"pull", image}, Env: dockerEnv(loginDocker)})
		if got := strings.TrimSpace(mustRun(t, Cmd{Name: "docker", Args: []string{"image", "inspect", "--format", "{{.Id}}", image}, Env: dockerEnv(loginDocker)})); got != imageID {
			t.Fatalf("pulled image id %s, pushed %s", got, imageID)
		}
		// A wrong password is refused: the pull above really used the token.
		bad := t.TempDir()
		writeFile(t, filepath.Join(bad, "config.json"), "{}\n")
		out, errOut, err := run(t, Cmd{Name: "docker", Args: []string{"login", "--username", "AWS", "--password-stdin", registry}, Stdin: a.Password + "x", Env: dockerEnv(bad)})
		expectAuthRefusal(t, "docker login with a tampered provider token", out+errOut, err)
	})
}

// credentialProviderResponse is what a kubelet credential provider prints
// (credentialprovider.kubelet.k8s.io/v1).
type credentialProviderResponse struct {
	APIVersion, Kind, CacheKeyType, CacheDuration string
	Auth                                          map[string]struct{ Username, Password string }
}

// cachedTool finds a tool scripts/install-deps.sh builds into the berth
// cache ($BERTH_CACHE_DIR/bin, default ~/.cache/berth/bin), else on PATH.
func cachedTool(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("BERTH_CACHE_DIR")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "berth")
	}
	if p := filepath.Join(dir, "bin", name); isExecutable(p) {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	unavailable(t, "%s not built (scripts/install-deps.sh puts it in %s)", name, filepath.Join(dir, "bin"))
	return ""
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode().Perm()&0o111 != 0
}

func randomDigits(t *testing.T, n int) string {
	t.Helper()
	hex := randomSuffix(t) + randomSuffix(t)
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteByte('0' + hex[i%len(hex)]%10)
	}
	return b.String()
}

// mapToLoopback adds "127.0.0.1 host" lines to /etc/hosts until the test
// ends and makes sure each name resolves to loopback only. All lines go in
// one edit: Go's resolver caches /etc/hosts for 5 s, so a later edit might
// not be seen by this process yet (the tools run as fresh processes).
func mapToLoopback(t *testing.T, hosts ...string) {
	t.Helper()
	var lines string
	for _, h := range hosts {
		lines += fmt.Sprintf("127.0.0.1 %s # berth-e2e TestStockECRCredentialTools pid %d\n", h, os.Getpid())
	}
	editHosts(t, func(content string) string { return content + lines })
	t.Cleanup(func() { editHosts(t, func(content string) string { return strings.ReplaceAll(content, lines, "") }) })
	for _, h := range hosts {
		addrs, err := net.LookupHost(h)
		if err != nil || len(addrs) != 1 || addrs[0] != "127.0.0.1" {
			t.Fatalf("%s resolves to %v (%v) after adding it to /etc/hosts; refusing to talk to anything but loopback", h, addrs, err)
		}
	}
}

// editHosts rewrites /etc/hosts in place (it is often a bind mount, so no
// rename) under an flock, keeping a trailing newline before appended lines.
func editHosts(t *testing.T, edit func(string) string) {
	t.Helper()
	f, err := os.OpenFile("/etc/hosts", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	data, err := os.ReadFile("/etc/hosts")
	if err != nil {
		t.Fatal(err)
	}
	content := string(data)
	if content != "" && !strings.HasSuffix(content, "\n") {
		content += "\n"
	}
	next := edit(content)
	if err := f.Truncate(0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(next), 0); err != nil {
		t.Fatal(err)
	}
}

// trustForDocker installs caFile as /etc/docker/certs.d/REGISTRY/ca.crt
// (read by the engine on each connection; no restart) until the test ends.
func trustForDocker(t *testing.T, registry, caFile string) {
	t.Helper()
	dir := filepath.Join("/etc/docker/certs.d", registry)
	if _, err := os.Stat(dir); err == nil {
		t.Fatalf("%s already exists; not touching it", dir)
	}
	pemCA, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), pemCA, 0o644); err != nil {
		t.Fatal(err)
	}
}
