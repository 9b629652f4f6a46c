//go:build e2e

package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestTLSAutoWithPrintEnv is the CI recipe over HTTPS: the export lines of
// `serve --ephemeral --tls auto --print-env --background` are all the aws
// CLI, boto3 and berth's own client need (AWS_CA_BUNDLE among them); a
// client without the CA is refused; and skopeo trusts berth through the
// per-registry directory the banner names (/etc/containers/certs.d/HOST:PORT,
// created by the test as root and removed at cleanup).
func TestTLSAutoWithPrintEnv(t *testing.T) {
	requireTool(t, "aws")
	noAWSProfile(t)
	bin := os.Getenv("BERTH_BIN")
	tmp := t.TempDir()
	out := mustRun(t, Cmd{Name: bin, Args: []string{"serve", "--ephemeral", "--addr", "127.0.0.1:0", "--tls", "auto", "--print-env", "--background"},
		Env: []string{"TMPDIR=" + tmp, "BERTH_ROOT_ACCESS_KEY_ID=" + RootAccessKeyID, "BERTH_ROOT_SECRET_ACCESS_KEY=" + RootSecretAccessKey}})
	exports := parseExports(t, out)
	t.Cleanup(func() {
		_, _, _ = run(t, Cmd{Name: bin, Args: []string{"stop"}, Env: []string{"BERTH_PID_FILE=" + exports["BERTH_PID_FILE"]}})
	})
	endpoint, bundle, registry := exports["AWS_ENDPOINT_URL"], exports["AWS_CA_BUNDLE"], exports["BERTH_REGISTRY"]
	if !strings.HasPrefix(endpoint, "https://127.0.0.1:") || registry == "" || endpoint != "https://"+registry {
		t.Fatalf("export lines:\n%s", out)
	}
	pemCA, err := os.ReadFile(bundle)
	if err != nil || !strings.Contains(string(pemCA), "BEGIN CERTIFICATE") || !strings.HasPrefix(bundle, tmp) {
		t.Fatalf("AWS_CA_BUNDLE=%s: %v", bundle, err)
	}
	env := []string{"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull, "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=",
		"BERTH_CACHE_DIR=" + filepath.Join(tmp, "cache"), "BERTH_CONFIG_DIR=" + filepath.Join(tmp, "config")}
	for k, v := range exports {
		env = append(env, k+"="+v)
	}

	uri := strings.TrimSpace(mustRun(t, Cmd{Name: "aws", Args: []string{"ecr", "create-repository", "--repository-name", "tls/app", "--query", "repository.repositoryUri", "--output", "text"}, Env: env}))
	if uri != registry+"/tls/app" {
		t.Errorf("repositoryUri %q, want %s/tls/app", uri, registry)
	}
	// Unset, not empty: the aws CLI reads AWS_CA_BUNDLE="" as "do not verify".
	_, errOut, err := run(t, Cmd{Name: "env", Args: []string{"-u", "AWS_CA_BUNDLE", "aws", "ecr", "describe-repositories"}, Env: append(env, "AWS_MAX_ATTEMPTS=1")})
	if err == nil || !strings.Contains(strings.ToLower(errOut), "certificate verify failed") {
		t.Errorf("aws CLI without the CA: %v %s", err, errOut)
	}
	if python := requireTool(t, "python3"); python != "" {
		got := mustRun(t, Cmd{Name: python, Args: []string{"-c", `import os, boto3
c = boto3.client("ecr", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
print(c.describe_repositories(repositoryNames=["tls/app"])["repositories"][0]["repositoryUri"])`}, Env: env})
		if strings.TrimSpace(got) != uri {
			t.Errorf("boto3 over TLS: %q", got)
		}
	}

	// berth's own client finds out that this loopback port speaks TLS.
	password := strings.TrimSpace(mustRun(t, Cmd{Name: bin, Args: []string{"get-login-password", "--registry", registry}, Env: env}))
	if password == "" {
		t.Fatal("empty password")
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemCA)
	ref, err := name.ParseReference(registry+"/tls/app:1", name.StrictValidation)
	if err != nil {
		t.Fatal(err)
	}
	img, _ := random.Image(1024, 1)
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: "AWS", Password: password}), remote.WithTransport(transport)); err != nil {
		t.Fatalf("push over TLS with the token: %v", err)
	}

	t.Run("skopeo trusts berth through /etc/containers/certs.d", func(t *testing.T) {
		skopeo := requireTool(t, "skopeo")
		if os.Geteuid() != 0 {
			unavailable(t, "needs root to write /etc/containers/certs.d")
		}
		args := []string{"inspect", "--format", "{{.Digest}}", "docker://" + registry + "/tls/app:1"}
		penv := podmanEnv(t) // its REGISTRY_AUTH_FILE gets the token, so no secret is on a command line
		for _, kv := range penv {
			if f, ok := strings.CutPrefix(kv, "REGISTRY_AUTH_FILE="); ok {
				writeFile(t, f, `{"auths":{"`+registry+`":{"auth":"`+b64("AWS:"+password)+`"}}}`)
			}
		}
		_, errOut, err := run(t, Cmd{Name: skopeo, Args: args, Env: penv})
		if err == nil || !strings.Contains(errOut, "certificate") {
			t.Fatalf("skopeo without the CA: %v %s", err, errOut)
		}
		dir := filepath.Join("/etc/containers/certs.d", registry)
		if _, err := os.Stat(dir); err == nil {
			t.Fatalf("%s exists; not touching it", dir)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		writeFile(t, filepath.Join(dir, "ca.crt"), string(pemCA))
		digest, _ := img.Digest()
		if got := strings.TrimSpace(mustRun(t, Cmd{Name: skopeo, Args: args, Env: penv})); got != digest.String() {
			t.Fatalf("skopeo inspect digest %s, pushed %s", got, digest)
		}
	})
}
