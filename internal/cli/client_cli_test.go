package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/client/dockercfg"
)

// fakeECRAPI answers GetAuthorizationToken like ECR (JSON 1.1).
func fakeECRAPI(t *testing.T, calls *atomic.Int32) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken" {
			http.Error(w, "unexpected", 400)
			return
		}
		n := calls.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		json.NewEncoder(w).Encode(map[string]any{"authorizationData": []map[string]any{{
			"authorizationToken": base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("AWS:tok%d", n))),
			"expiresAt":          float64(time.Now().Add(12 * time.Hour).Unix()),
			"proxyEndpoint":      "https://registry.test.example",
		}}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func clientEnv(t *testing.T, api string) string {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE000000001", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "us-east-1", "AWS_PROFILE": "", "AWS_CONFIG_FILE": filepath.Join(dir, "nocfg"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "nocreds"), "AWS_EC2_METADATA_DISABLED": "true",
		"BERTH_CONFIG_DIR": dir, "BERTH_CACHE_DIR": filepath.Join(dir, "cache"), "DOCKER_CONFIG": filepath.Join(dir, "docker"),
		"BERTH_REGISTRY_MAP": "registry.test.example=" + api, "BERTH_ENDPOINT": "",
	} {
		t.Setenv(k, v)
	}
	return dir
}

func run(t *testing.T, argv []string, stdin string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), argv, Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: os.Getenv, Version: "test"})
	return code, out.String(), errb.String()
}

func TestCredentialHelperInProcess(t *testing.T) {
	var calls atomic.Int32
	api := fakeECRAPI(t, &calls)
	dir := clientEnv(t, api.URL)
	helper := "/usr/local/bin/docker-credential-berth"

	code, out, _ := run(t, []string{helper, "get"}, "registry.test.example\n")
	if code != 0 {
		t.Fatalf("get exit %d: %s", code, out)
	}
	var c struct{ ServerURL, Username, Secret string }
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.Username != "AWS" || c.Secret != "tok1" || c.ServerURL != "registry.test.example" {
		t.Fatalf("get: %q %v", out, err)
	}
	// Second get is served from the 0600 cache.
	run(t, []string{helper, "get"}, "registry.test.example")
	if calls.Load() != 1 {
		t.Fatalf("token not cached: %d API calls", calls.Load())
	}
	st, err := os.Stat(filepath.Join(dir, "cache", "tokens.json"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("cache file: %v %v", st, err)
	}
	// erase drops the cache entry, so the next get mints again.
	if code, out, _ := run(t, []string{helper, "erase"}, "registry.test.example"); code != 0 || out != "" {
		t.Fatalf("erase: %d %q", code, out)
	}
	run(t, []string{helper, "get"}, "registry.test.example")
	if calls.Load() != 2 {
		t.Fatalf("erase did not force a refresh: %d calls", calls.Load())
	}
	code, out, _ = run(t, []string{helper, "get"}, "docker.io")
	if code != 1 || strings.TrimSpace(out) != "credentials not found in native keychain" {
		t.Fatalf("hub: %d %q", code, out)
	}
	code, out, _ = run(t, []string{helper, "list"}, "unused")
	if code != 0 || !strings.Contains(out, `"registry.test.example":"AWS"`) {
		t.Fatalf("list: %d %q", code, out)
	}
	code, out, _ = run(t, []string{"docker-credential-berth", "version"}, "")
	if code != 0 || strings.TrimSpace(out) != "docker-credential-berth (github.com/berth-dev/berth) test" {
		t.Fatalf("version: %q", out)
	}
}

func TestCredentialHelperNoAWSCredentials(t *testing.T) {
	var calls atomic.Int32
	api := fakeECRAPI(t, &calls)
	clientEnv(t, api.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	code, out, _ := run(t, []string{"docker-credential-berth", "get"}, "registry.test.example")
	if code != 1 || !strings.Contains(out, "no AWS credentials") || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Fatalf("%d %q", code, out)
	}
	if code, _, errs := run(t, []string{"berth", "get-login-password", "--registry", "registry.test.example"}, ""); code != ExitAuthError {
		t.Fatalf("get-login-password without creds: exit %d, want %d (%s)", code, ExitAuthError, errs)
	}
}

func TestLoginAndGetLoginPassword(t *testing.T) {
	var calls atomic.Int32
	api := fakeECRAPI(t, &calls)
	dir := clientEnv(t, api.URL)

	code, out, _ := run(t, []string{"berth", "get-login-password", "--registry", "registry.test.example"}, "")
	if code != 0 || out != "tok1\n" {
		t.Fatalf("get-login-password: %d %q", code, out)
	}
	code, out, errs := run(t, []string{"berth", "login", "--refresh", "registry.test.example"}, "")
	if code != 0 || !strings.Contains(out, "Login Succeeded") || !strings.Contains(errs, "unencrypted") {
		t.Fatalf("login: %d %q %q", code, out, errs)
	}
	cfg, err := dockercfg.Load(filepath.Join(dir, "docker"))
	if err != nil {
		t.Fatal(err)
	}
	if u, p, _ := cfg.Auths["registry.test.example"].Credentials(); u != "AWS" || p != "tok2" {
		t.Fatalf("auth written: %q %q", u, p)
	}
	code, out, _ = run(t, []string{"berth", "login", "--helper", "registry.test.example"}, "")
	if code != 0 {
		t.Fatalf("login --helper: %d %s", code, out)
	}
	cfg, _ = dockercfg.Load(filepath.Join(dir, "docker"))
	if cfg.CredHelpers["registry.test.example"] != "berth" || !cfg.Auths["registry.test.example"].Empty() {
		t.Fatalf("helper config: %+v %+v", cfg.CredHelpers, cfg.Auths)
	}
	// Without a registry, BERTH_ENDPOINT names the server and proxyEndpoint the host.
	t.Setenv("BERTH_ENDPOINT", api.URL)
	code, out, _ = run(t, []string{"berth", "login", "--docker-config", filepath.Join(dir, "d2")}, "")
	if code != 0 {
		t.Fatalf("login default: %d %s", code, out)
	}
	cfg, _ = dockercfg.Load(filepath.Join(dir, "d2"))
	if _, ok := cfg.Auths["registry.test.example"]; !ok {
		t.Fatalf("proxyEndpoint host not used: %v", cfg.Keys())
	}
}

func TestKubeletProviderInProcess(t *testing.T) {
	var calls atomic.Int32
	api := fakeECRAPI(t, &calls)
	clientEnv(t, api.URL)
	req := `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"registry.test.example/team/app:1"}`
	code, out, errs := run(t, []string{"berth", "kubelet-credential-provider"}, req)
	if code != 0 {
		t.Fatalf("%d %s %s", code, out, errs)
	}
	var resp struct {
		APIVersion, Kind, CacheKeyType, CacheDuration string
		Auth                                          map[string]struct{ Username, Password string }
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatal(err)
	}
	d, err := time.ParseDuration(resp.CacheDuration)
	if err != nil || d < 5*time.Hour || d > 6*time.Hour || resp.CacheKeyType != "Registry" || resp.Kind != "CredentialProviderResponse" {
		t.Fatalf("response %+v", resp)
	}
	if a := resp.Auth["registry.test.example"]; a.Username != "AWS" || a.Password != "tok1" {
		t.Fatalf("auth %+v", resp.Auth)
	}
	code, _, _ = run(t, []string{"berth", "kubelet-credential-provider"}, "registry.test.example")
	if code != ExitUsage {
		t.Fatalf("docker-helper input to kubelet provider: exit %d", code)
	}
	code, out, _ = run(t, []string{"berth", "kubelet-credential-provider", "--print-config", "--registry", "extra.example:5000"}, "")
	if code != 0 || !strings.Contains(out, "- extra.example:5000") || !strings.Contains(out, "- registry.test.example") || !strings.Contains(out, "- kubelet-credential-provider") {
		t.Fatalf("print-config: %s", out)
	}
}

func TestInstallHelper(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	code, out, errs := run(t, []string{"berth", "install-helper", "--dir", dir}, "")
	if code != 0 || !strings.Contains(out, "is on PATH") {
		t.Fatalf("%d %q %q", code, out, errs)
	}
	target, err := os.Readlink(filepath.Join(dir, "docker-credential-berth"))
	if err != nil || target == "" {
		t.Fatal(err)
	}
	// Idempotent.
	if code, _, errs := run(t, []string{"berth", "install-helper", "--dir", dir}, ""); code != 0 {
		t.Fatalf("second run: %s", errs)
	}
	other := t.TempDir()
	code, out, _ = run(t, []string{"berth", "install-helper", "--dir", other}, "")
	if code != 0 || !strings.Contains(out, "NOT on PATH") {
		t.Fatalf("%d %q", code, out)
	}
}

func TestClientCommandsHaveExamples(t *testing.T) {
	env := &Env{Getenv: os.Getenv}
	for _, cmd := range []struct {
		name    string
		example string
	}{
		{"login", newLoginCmd(env).Example}, {"get-login-password", newGetLoginPasswordCmd(env).Example},
		{"install-helper", newInstallHelperCmd(env).Example}, {"kubelet-credential-provider", newKubeletCmd(env).Example},
		{"doctor", newDoctorCmd(env).Example},
	} {
		if !strings.Contains(cmd.example, "berth "+cmd.name) {
			t.Errorf("%s: example does not show the command", cmd.name)
		}
	}
}
