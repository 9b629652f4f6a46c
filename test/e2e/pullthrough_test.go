//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/berth-dev/berth/internal/pullthrough/distregtest"
)

const (
	vendorUser = "vendor"
	vendorPass = "vendor-upstream-password"
)

// ptcSetup starts a distribution registry with htpasswd (the vendor's
// upstream) and a berth that may reach loopback upstreams, and creates the
// secret and the rule prefix → upstream with the aws CLI.
func ptcSetup(t *testing.T, prefix string, extra ...string) (*distregtest.Server, *Berth, []string) {
	t.Helper()
	requireTool(t, "aws")
	noAWSProfile(t)
	up := distregtest.Start(t, distregtest.Options{Username: vendorUser, Password: vendorPass})
	b := StartBerth(t, WithArgs(append([]string{"--allow-upstream", "loopback"}, extra...)...))
	env := ecrCLIEnv(RootAccessKeyID, RootSecretAccessKey)
	var secret struct{ ARN string }
	awsCLI(t, b, env, &secret, "secretsmanager", "create-secret", "--name", "ecr-pullthroughcache/"+prefix,
		"--secret-string", `{"username":"`+vendorUser+`","accessToken":"`+vendorPass+`"}`)
	// --cli-input-json: aws CLI v1 fetches parameter values that start
	// with http:// (paramfile URLs) instead of sending them.
	rule, _ := json.Marshal(map[string]string{"ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": up.URL(), "credentialArn": secret.ARN})
	awsCLI(t, b, env, nil, "ecr", "create-pull-through-cache-rule", "--cli-input-json", string(rule))
	var v struct {
		IsValid bool
		Failure string
	}
	awsCLI(t, b, env, &v, "ecr", "validate-pull-through-cache-rule", "--ecr-repository-prefix", prefix)
	if !v.IsValid {
		t.Fatalf("rule not valid: %s", v.Failure)
	}
	return up, b, env
}

// TestPullThroughDockerAndSkopeo: the vendor pushes with docker to its
// htpasswd registry; docker and skopeo pull through berth's cache rule
// (first pull creates the repository and fetches, later pulls are local).
func TestPullThroughDockerAndSkopeo(t *testing.T) {
	skopeo := requireTool(t, "skopeo")
	d := NewDocker(t)
	up, b, env := ptcSetup(t, "vendor")
	suffix := randomSuffix(t)
	upRef := up.Addr + "/acme/app:" + suffix
	if out, err := d.Login(up.Addr, vendorUser, vendorPass); err != nil {
		t.Fatalf("docker login upstream: %v\n%s", err, out)
	}
	d.Must("import", "--change", `ENTRYPOINT ["/hello"]`, buildRootfsTar(t, suffix), upRef)
	d.Must("push", upRef)
	wantID := strings.TrimSpace(d.Must("image", "inspect", "--format", "{{.Id}}", upRef))
	d.Must("rmi", "-f", upRef)
	d.Must("logout", up.Addr)

	cached := b.Ref("vendor/acme/app:" + suffix)
	if out, err := d.Login(b.Addr, RootAccessKeyID, RootSecretAccessKey); err != nil {
		t.Fatalf("docker login berth: %v\n%s", err, out)
	}
	d.Must("pull", cached)
	t.Cleanup(func() { _, _, _ = d.Run("rmi", "-f", cached) })
	if id := strings.TrimSpace(d.Must("image", "inspect", "--format", "{{.Id}}", cached)); id != wantID {
		t.Fatalf("image id through the cache %s, want %s", id, wantID)
	}
	var repos struct {
		Repositories []struct{ RepositoryName string }
	}
	awsCLI(t, b, env, &repos, "ecr", "describe-repositories", "--repository-names", "vendor/acme/app")

	// skopeo reads the same image (now local) and copies it out.
	creds := rootCreds()
	out := mustRun(t, Cmd{Name: skopeo, Args: []string{"inspect", "--creds", creds, "--tls-verify=false", "docker://" + cached}})
	var info struct{ Digest string }
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatal(err)
	}
	mustRun(t, Cmd{Name: skopeo, Args: []string{"copy", "--src-creds", creds, "--src-tls-verify=false",
		"docker://" + cached, "dir:" + t.TempDir()}})
	// Blobs came from the upstream once, however many clients read them.
	var m struct {
		Layers []struct{ Digest string }
	}
	raw := mustRun(t, Cmd{Name: skopeo, Args: []string{"inspect", "--raw", "--creds", creds, "--tls-verify=false", "docker://" + cached}})
	if err := json.Unmarshal([]byte(raw), &m); err != nil || len(m.Layers) == 0 {
		t.Fatalf("raw manifest: %v %s", err, raw)
	}
	for _, l := range m.Layers {
		if n := up.Requests("GET", "/blobs/"+l.Digest, 200); n != 1 {
			t.Errorf("upstream served %s %d times, want 1", l.Digest, n)
		}
	}

	// skopeo as the first puller of a multi-arch index (--all: every child).
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}} {
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: ociPlatformImage(t, p), Descriptor: v1.Descriptor{Platform: &p}})
	}
	ref, _ := name.ParseReference(up.Addr+"/acme/multi:"+suffix, name.Insecure)
	if err := remote.WriteIndex(ref, idx, remote.WithAuth(&authn.Basic{Username: vendorUser, Password: vendorPass}), remote.WithContext(context.Background())); err != nil {
		t.Fatal(err)
	}
	multi := b.Ref("vendor/acme/multi:" + suffix)
	out = mustRun(t, Cmd{Name: skopeo, Args: []string{"inspect", "--override-arch", "arm64", "--override-variant", "v8", "--creds", creds, "--tls-verify=false", "docker://" + multi}})
	if !strings.Contains(out, `"Architecture": "arm64"`) {
		t.Fatalf("arm64 child through the cache:\n%s", out)
	}
	mustRun(t, Cmd{Name: skopeo, Args: []string{"copy", "--all", "--src-creds", creds, "--src-tls-verify=false",
		"docker://" + multi, "oci:" + t.TempDir() + ":x"}})
	// docker pulls one platform of the index.
	d.Must("pull", "--platform", "linux/amd64", multi)
	t.Cleanup(func() { _, _, _ = d.Run("rmi", "-f", multi) })
}

// TestPullThroughUpstreamDown: with the upstream stopped docker still pulls
// the cached tag, the manifest is marked stale and berth doctor says so;
// with the upstream back and the tag moved, the next pull re-validates it.
func TestPullThroughUpstreamDown(t *testing.T) {
	d := NewDocker(t)
	up, b, _ := ptcSetup(t, "vendor", "--pull-through-revalidate", "1ms")
	suffix := randomSuffix(t)
	upAuth := remote.WithAuth(&authn.Basic{Username: vendorUser, Password: vendorPass})
	pushUp := func(p v1.Platform) v1.Hash {
		img := ociPlatformImage(t, p)
		ref, _ := name.ParseReference(up.Addr+"/acme/app:"+suffix, name.Insecure)
		if err := remote.Write(ref, img, upAuth); err != nil {
			t.Fatal(err)
		}
		h, _ := img.Digest()
		return h
	}
	first := pushUp(v1.Platform{OS: "linux", Architecture: "amd64"})
	cached := b.Ref("vendor/acme/app:" + suffix)
	if out, err := d.Login(b.Addr, RootAccessKeyID, RootSecretAccessKey); err != nil {
		t.Fatalf("docker login: %v\n%s", err, out)
	}
	d.Must("pull", cached)
	t.Cleanup(func() { _, _, _ = d.Run("rmi", "-f", cached) })
	repoDigest := func() string {
		return strings.TrimSpace(d.Must("image", "inspect", "--format", "{{index .RepoDigests 0}}", cached))
	}
	if got := repoDigest(); !strings.HasSuffix(got, first.String()) {
		t.Fatalf("pulled %s, want %s", got, first)
	}

	up.Stop()
	d.Must("rmi", "-f", cached)
	d.Must("pull", cached) // the last good copy
	if got := repoDigest(); !strings.HasSuffix(got, first.String()) {
		t.Fatalf("stale pull gave %s, want %s", got, first)
	}
	if !strings.Contains(b.LogTail(200), "pull-through: serving cached copy, upstream failed") {
		t.Fatalf("no stale log line:\n%s", b.LogTail(40))
	}
	out, errOut, err := run(t, Cmd{Name: os.Getenv("BERTH_BIN"), Args: []string{"doctor", "--platform", "linux/amd64", cached},
		Env: []string{"DOCKER_CONFIG=" + d.ConfigDir}})
	if err != nil || !strings.Contains(out, "served from cache, upstream unreachable since ") {
		t.Fatalf("doctor while the upstream is down: %v\n%s%s", err, out, errOut)
	}

	up.StartAgain()
	second := pushUp(v1.Platform{OS: "linux", Architecture: "amd64"})
	d.Must("pull", cached)
	if got := repoDigest(); !strings.HasSuffix(got, second.String()) {
		t.Fatalf("after the upstream came back: %s, want the moved tag %s", got, second)
	}
	out, _, _ = run(t, Cmd{Name: os.Getenv("BERTH_BIN"), Args: []string{"doctor", "--platform", "linux/amd64", cached},
		Env: []string{"DOCKER_CONFIG=" + d.ConfigDir}})
	if strings.Contains(out, "served from cache") {
		t.Fatalf("doctor still reports stale after the upstream is back:\n%s", out)
	}
}

// TestPullThroughVendorProxy is seed 003 through the cache: the vendor's
// images sit in its own registry; berth holds the vendor's credentials in
// the rule's secret; a customer gets an IAM user with
// AmazonEC2ContainerRegistryReadOnly (+ BatchImportUpstreamImage on the
// vendor's prefix), logs in with get-login-password and pulls — never
// seeing the vendor's credentials — and the access log names the customer.
func TestPullThroughVendorProxy(t *testing.T) {
	d := NewDocker(t)
	up, b, env := ptcSetup(t, "vendor")
	suffix := randomSuffix(t)
	upRef := up.Addr + "/demo-apps/nginx:" + suffix
	if out, err := d.Login(up.Addr, vendorUser, vendorPass); err != nil {
		t.Fatalf("docker login upstream: %v\n%s", err, out)
	}
	d.Must("import", buildRootfsTar(t, suffix), upRef)
	d.Must("push", upRef)
	d.Must("rmi", "-f", upRef)
	d.Must("logout", up.Addr)

	awsCLI(t, b, env, nil, "iam", "create-user", "--user-name", "customer-acme")
	awsCLI(t, b, env, nil, "iam", "attach-user-policy", "--user-name", "customer-acme",
		"--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
	awsCLI(t, b, env, nil, "iam", "put-user-policy", "--user-name", "customer-acme", "--policy-name", "import-vendor-images",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchImportUpstreamImage","Resource":"arn:aws:ecr:us-east-1:000000000000:repository/vendor/*"}]}`)
	var key cliAccessKey
	awsCLI(t, b, env, &key, "iam", "create-access-key", "--user-name", "customer-acme")
	customer := ecrCLIEnv(key.AccessKey.AccessKeyId, key.AccessKey.SecretAccessKey)

	// The operator pre-warms the repository (the first pull creates it,
	// which needs ecr:CreateRepository the customer does not have).
	warm := b.Ref("vendor/demo-apps/nginx:" + suffix)
	if out, err := d.Login(b.Addr, RootAccessKeyID, RootSecretAccessKey); err != nil {
		t.Fatalf("docker login: %v\n%s", err, out)
	}
	d.Must("pull", warm)
	d.Must("rmi", "-f", warm)
	d.Must("logout", b.Addr)

	password := strings.TrimSpace(mustRun(t, Cmd{Name: "aws", Args: []string{"--endpoint-url", b.URL(), "ecr", "get-login-password"}, Env: customer}))
	if out, err := d.Login(b.Addr, "AWS", password); err != nil {
		t.Fatalf("customer docker login: %v\n%s", err, out)
	}
	d.Must("pull", warm)
	t.Cleanup(func() { _, _, _ = d.Run("rmi", "-f", warm) })
	// A tag the cache has not seen yet: imported with the customer's
	// ecr:BatchImportUpstreamImage on vendor/*.
	upRef2 := up.Addr + "/demo-apps/nginx:" + suffix + "-2"
	if out, err := d.Login(up.Addr, vendorUser, vendorPass); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	d.Must("import", buildRootfsTar(t, suffix+"-2"), upRef2)
	d.Must("push", upRef2)
	d.Must("rmi", "-f", upRef2)
	d.Must("logout", up.Addr)
	fresh := b.Ref("vendor/demo-apps/nginx:" + suffix + "-2")
	d.Must("pull", fresh)
	t.Cleanup(func() { _, _, _ = d.Run("rmi", "-f", fresh) })
	// The customer may not push, and cannot read the vendor's secret.
	d.Must("tag", fresh, b.Ref("vendor/demo-apps/nginx:mine"))
	if out, errOut, err := d.Run("push", b.Ref("vendor/demo-apps/nginx:mine")); err == nil || !strings.Contains(out+errOut, "denied") {
		t.Fatalf("customer push: %v\n%s%s", err, out, errOut)
	}
	_, _, _ = d.Run("rmi", "-f", b.Ref("vendor/demo-apps/nginx:mine"))
	if msg := awsCLIFails(t, b, customer, "secretsmanager", "get-secret-value", "--secret-id", "ecr-pullthroughcache/vendor"); !strings.Contains(msg, "AccessDenied") {
		t.Fatalf("customer read the vendor secret: %s", msg)
	}
	log := b.LogTail(400)
	if !strings.Contains(log, `"principal":"arn:aws:iam::000000000000:user/customer-acme"`) || strings.Contains(log, vendorPass) {
		t.Fatalf("access log does not attribute the customer's pulls (or leaks the vendor password):\n%s", b.LogTail(30))
	}
}
