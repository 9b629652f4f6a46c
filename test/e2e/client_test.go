//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// clientWorld is one berth with two accounts and images for the client tests:
// 111111111111 (default, us-east-1) owns app:1, app:1.1; 222222222222 owns
// shared:1 in eu-west-2 with no repository policy.
type clientWorld struct {
	b                   *Berth
	port                string
	host111, host222    string // registry hosts
	host222w1           string // 222222222222 in eu-west-1
	key222, secret222   string
	dir, bin, helperDir string
}

func newClientWorld(t *testing.T) *clientWorld {
	t.Helper()
	for _, h := range ecrTestHosts() {
		if addrs, err := net.LookupHost(h); err != nil || len(addrs) == 0 {
			unavailable(t, "%s does not resolve (run scripts/ecr-hosts.sh install): %v", h, err)
		}
	}
	b := StartBerth(t, WithArgs("--account-id", "111111111111", "--region", "us-east-1"))
	_, port, _ := net.SplitHostPort(b.Addr)
	w := &clientWorld{b: b, port: port, dir: t.TempDir(), bin: os.Getenv("BERTH_BIN"),
		host111:   "111111111111.dkr.ecr.us-east-1.localhost:" + port,
		host222:   "222222222222.dkr.ecr.eu-west-2.localhost:" + port,
		host222w1: "222222222222.dkr.ecr.eu-west-1.localhost:" + port}
	out := mustRun(t, Cmd{Name: w.bin, Args: []string{"admin", "create-account", "--id", "222222222222", "--endpoint", b.URL()},
		Env: []string{"BERTH_ROOT_ACCESS_KEY_ID=" + RootAccessKeyID, "BERTH_ROOT_SECRET_ACCESS_KEY=" + RootSecretAccessKey}})
	var acct struct{ AccessKeyId, SecretAccessKey string }
	if err := json.Unmarshal([]byte(out), &acct); err != nil {
		t.Fatalf("create-account output %q: %v", out, err)
	}
	w.key222, w.secret222 = acct.AccessKeyId, acct.SecretAccessKey
	push := func(ref, user, pass string) {
		img, err := random.Image(512, 2)
		if err != nil {
			t.Fatal(err)
		}
		r, err := name.ParseReference(ref, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(r, img, remote.WithAuth(&authn.Basic{Username: user, Password: pass})); err != nil {
			t.Fatalf("push %s: %v", ref, err)
		}
	}
	push(w.host111+"/app:1", RootAccessKeyID, RootSecretAccessKey)
	push(w.host111+"/app:1.1", RootAccessKeyID, RootSecretAccessKey)
	push(w.host222+"/shared:1", w.key222, w.secret222)
	w.helperDir = filepath.Join(w.dir, "bin")
	if err := os.MkdirAll(w.helperDir, 0o755); err != nil {
		t.Fatal(err)
	}
	mustRun(t, Cmd{Name: w.bin, Args: []string{"install-helper", "--dir", w.helperDir}})
	return w
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// env is the client-side environment: AWS credentials for keyID, private
// berth/docker dirs, the helper directory first on PATH.
func (w *clientWorld) env(keyID, secret, dockerDir string) []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + keyID, "AWS_SECRET_ACCESS_KEY=" + secret, "AWS_SESSION_TOKEN=",
		"AWS_REGION=us-east-1", "AWS_PROFILE=", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(w.dir, "aws-config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(w.dir, "aws-creds"),
		"BERTH_CACHE_DIR=" + filepath.Join(dockerDir, "berth-cache"), "BERTH_CONFIG_DIR=" + filepath.Join(w.dir, "berth-config"),
		"DOCKER_CONFIG=" + dockerDir, "PATH=" + w.helperDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"BERTH_ENDPOINT=", "BERTH_REGISTRY_MAP=", "REGISTRY_AUTH_FILE=" + filepath.Join(dockerDir, "auth.json"),
	}
}

func (w *clientWorld) berth(t *testing.T, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	out, errOut, err := run(t, Cmd{Name: w.bin, Args: args, Env: env, Stdin: stdin})
	code := 0
	if err != nil {
		code = -1
		if e, ok := err.(interface{ ExitCode() int }); ok {
			code = e.ExitCode()
		}
	}
	return out, errOut, code
}

func TestClientDockerPullThroughHelper(t *testing.T) {
	d := NewDocker(t)
	w := newClientWorld(t)
	env := w.env(RootAccessKeyID, RootSecretAccessKey, d.ConfigDir)
	if out, errOut, code := w.berth(t, env, "", "login", "--helper", w.host111); code != 0 {
		t.Fatalf("berth login --helper: %d %s %s", code, out, errOut)
	}
	img := w.host111 + "/app:1"
	t.Cleanup(func() { _, _, _ = run(t, Cmd{Name: "docker", Args: []string{"rmi", "-f", img}, Env: env}) })
	// No docker login: docker runs docker-credential-berth get.
	mustRun(t, Cmd{Name: "docker", Args: []string{"pull", img}, Env: env})

	// Force the cached token to look expired; the next pull must mint a new one.
	cachePath := filepath.Join(d.ConfigDir, "berth-cache", "tokens.json")
	raw, err := os.ReadFile(cachePath)
	if err != nil {
		t.Fatalf("token cache: %v", err)
	}
	var cache struct {
		Version    string                    `json:"version"`
		Registries map[string]map[string]any `json:"registries"`
	}
	if err := json.Unmarshal(raw, &cache); err != nil || len(cache.Registries) == 0 {
		t.Fatalf("token cache %s: %v", raw, err)
	}
	past := time.Now().Add(-13 * time.Hour)
	for _, e := range cache.Registries {
		e["requestedAt"] = past.Format(time.RFC3339)
		e["expiresAt"] = past.Add(12 * time.Hour).Format(time.RFC3339)
	}
	raw, _ = json.Marshal(cache)
	if err := os.WriteFile(cachePath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, Cmd{Name: "docker", Args: []string{"rmi", "-f", img}, Env: env})
	mustRun(t, Cmd{Name: "docker", Args: []string{"pull", img}, Env: env})
	raw, _ = os.ReadFile(cachePath)
	json.Unmarshal(raw, &cache)
	for k, e := range cache.Registries {
		// berth tokens have one-second resolution, so a re-mint within the same
		// second can be byte-identical; requestedAt proves the refresh.
		if req, _ := time.Parse(time.RFC3339, e["requestedAt"].(string)); !req.After(past.Add(time.Hour)) {
			t.Errorf("token %s was not refreshed after forced expiry (requestedAt %v)", k, req)
		}
		if exp, _ := time.Parse(time.RFC3339, e["expiresAt"].(string)); !exp.After(time.Now()) {
			t.Errorf("refreshed token %s expires %v", k, exp)
		}
	}
	if st, _ := os.Stat(cachePath); st == nil || st.Mode().Perm() != 0o600 {
		t.Errorf("token cache mode: %v", st)
	}
}

func TestClientKubeletProviderRoundTrip(t *testing.T) {
	w := newClientWorld(t)
	env := w.env(RootAccessKeyID, RootSecretAccessKey, t.TempDir())
	img := w.host111 + "/app:1"
	req := `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"` + img + `"}`
	out, errOut, code := w.berth(t, env, req, "kubelet-credential-provider")
	if code != 0 {
		t.Fatalf("provider: %d %s", code, errOut)
	}
	var resp credentialProviderResponse
	if err := json.Unmarshal([]byte(out), &resp); err != nil {
		t.Fatalf("response %q: %v", out, err)
	}
	if resp.Kind != "CredentialProviderResponse" || resp.APIVersion != "credentialprovider.kubelet.k8s.io/v1" || resp.CacheKeyType != "Registry" {
		t.Fatalf("envelope %+v", resp)
	}
	if d, err := time.ParseDuration(resp.CacheDuration); err != nil || d < 5*time.Hour || d > 6*time.Hour {
		t.Fatalf("cacheDuration %q", resp.CacheDuration)
	}
	a, ok := resp.Auth[w.host111]
	if !ok {
		t.Fatalf("auth not keyed by image host: %v", resp.Auth)
	}
	// The kubelet hands these to the runtime; use them the same way.
	r, _ := name.ParseReference(img, name.Insecure)
	if _, err := remote.Head(r, remote.WithAuth(&authn.Basic{Username: a.Username, Password: a.Password})); err != nil {
		t.Fatalf("pull with provider credentials: %v", err)
	}
	cfg, _, code := w.berth(t, env, "", "kubelet-credential-provider", "--print-config", "--registry", w.host111)
	if code != 0 || !strings.Contains(cfg, "- "+w.host111) || !strings.Contains(cfg, "name: berth") {
		t.Fatalf("print-config: %s", cfg)
	}
}

func TestClientDoctorBrokenSetups(t *testing.T) {
	w := newClientWorld(t)
	ctx := context.Background()
	doctor := func(t *testing.T, env []string, image string) (string, int) {
		out, errOut, code := w.berth(t, env, "", "doctor", "--platform", "linux/amd64", image)
		t.Logf("doctor %s → exit %d\n%s%s", image, code, out, errOut)
		return out, code
	}
	summary := func(out string) string {
		lines := strings.Split(strings.TrimSpace(out), "\n")
		return lines[len(lines)-1]
	}
	helperEnv := func(key, secret string) []string {
		dir := t.TempDir()
		env := w.env(key, secret, dir)
		if _, errOut, code := w.berth(t, env, "", "login", "--helper", w.host111); code != 0 {
			t.Fatalf("login --helper: %s", errOut)
		}
		if _, errOut, code := w.berth(t, env, "", "login", "--helper", w.host222); code != 0 {
			t.Fatalf("login --helper: %s", errOut)
		}
		return env
	}
	staticEnv := func(host, password string) []string {
		dir := t.TempDir()
		cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, host, b64("AWS:"+password))
		writeFile(t, filepath.Join(dir, "config.json"), cfg)
		return w.env("", "", dir)
	}

	t.Run("baseline pull works", func(t *testing.T) {
		out, code := doctor(t, helperEnv(RootAccessKeyID, RootSecretAccessKey), w.host111+"/app:1")
		if code != 0 || !strings.Contains(summary(out), "should succeed") {
			t.Fatalf("exit %d: %s", code, summary(out))
		}
		// The pushed image has layers; berth serves blobs itself (no redirect).
		if !regexp.MustCompile(`(?m)^PASS\s+layer\s+layer sha256:[0-9a-f]{64} downloads from the registry itself \(` + regexp.QuoteMeta(w.host111) + `\)$`).MatchString(out) {
			t.Fatalf("no passing layer step:\n%s", out)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		out, code := doctor(t, w.env("", "", t.TempDir()), w.host111+"/app:1")
		if code != 4 || !strings.Contains(summary(out), "will FAIL: no credential source matches "+w.host111) || !strings.Contains(summary(out), "fix: berth install-helper") {
			t.Fatalf("exit %d: %s", code, summary(out))
		}
	})
	t.Run("expired token", func(t *testing.T) {
		// berth tokens die with the access key they were minted from; berth answers
		// with ECR's expired-token message. Mint with a fresh IAM user's key, then
		// delete the key.
		api := iam.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(RootAccessKeyID, RootSecretAccessKey, "")},
			func(o *iam.Options) { o.BaseEndpoint = aws.String(w.b.URL()) })
		user := "doctor-expired-" + randomSuffix(t)
		if _, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: &user}); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		if _, err := api.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: &user, PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")}); err != nil {
			t.Fatalf("AttachUserPolicy: %v", err)
		}
		key, err := api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: &user})
		if err != nil {
			t.Fatalf("CreateAccessKey: %v", err)
		}
		pw, errOut, code := w.berth(t, w.env(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, t.TempDir()), "", "get-login-password", "--registry", w.host111)
		if code != 0 {
			t.Fatalf("get-login-password: %s", errOut)
		}
		if _, err := api.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: &user, AccessKeyId: key.AccessKey.AccessKeyId}); err != nil {
			t.Fatalf("DeleteAccessKey: %v", err)
		}
		out, code := doctor(t, staticEnv(w.host111, strings.TrimSpace(pw)), w.host111+"/app:1")
		if code != 4 || !strings.Contains(summary(out), "expired") {
			t.Fatalf("exit %d: %s", code, summary(out))
		}
	})
	t.Run("wrong region", func(t *testing.T) {
		pw, errOut, code := w.berth(t, w.env(w.key222, w.secret222, t.TempDir()), "", "get-login-password", "--registry", w.host222w1)
		if code != 0 {
			t.Fatalf("get-login-password: %s", errOut)
		}
		out, code := doctor(t, staticEnv(w.host222, strings.TrimSpace(pw)), w.host222+"/shared:1")
		if code != 4 || !strings.Contains(summary(out), "token minted in eu-west-1 but registry "+w.host222+" is in eu-west-2") {
			t.Fatalf("exit %d: %s", code, summary(out))
		}
	})
	t.Run("cross-account without repository policy", func(t *testing.T) {
		out, code := doctor(t, helperEnv(RootAccessKeyID, RootSecretAccessKey), w.host222+"/shared:1")
		s := summary(out)
		if code != 4 || !strings.Contains(s, "repository policy of shared in account 222222222222 does not allow") || !strings.Contains(s, "arn:aws:iam::111111111111:root") {
			t.Fatalf("exit %d: %s", code, s)
		}
	})
	t.Run("tag not found", func(t *testing.T) {
		out, code := doctor(t, helperEnv(RootAccessKeyID, RootSecretAccessKey), w.host111+"/app:1.2")
		s := summary(out)
		if code != 3 || !strings.Contains(s, "tag 1.2 not found") || !strings.Contains(s, "nearest tags: 1.1, 1") {
			t.Fatalf("exit %d: %s", code, s)
		}
	})
}

// containers/image (skopeo, podman) runs credHelpers with the bare host.
func TestClientSkopeoThroughHelper(t *testing.T) {
	skopeo := requireTool(t, "skopeo")
	w := newClientWorld(t)
	dir := t.TempDir()
	env := w.env(RootAccessKeyID, RootSecretAccessKey, dir)
	writeFile(t, filepath.Join(dir, "auth.json"), `{"credHelpers":{"`+w.host111+`":"berth"}}`)
	out := mustRun(t, Cmd{Name: skopeo, Args: []string{"inspect", "--tls-verify=false", "--raw", "docker://" + w.host111 + "/app:1"}, Env: env})
	if !strings.Contains(out, "schemaVersion") {
		t.Fatalf("skopeo inspect: %s", out)
	}
	// Without the helper entry the same pull is refused.
	writeFile(t, filepath.Join(dir, "auth.json"), `{}`)
	if _, _, err := run(t, Cmd{Name: skopeo, Args: []string{"inspect", "--tls-verify=false", "--raw", "docker://" + w.host111 + "/app:1"}, Env: env}); err == nil {
		t.Fatal("anonymous skopeo inspect succeeded; the helper test proves nothing")
	}
}
