package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/berth-dev/berth/internal/ocireg"
	"github.com/berth-dev/berth/internal/pullthrough/distregtest"
	"github.com/berth-dev/berth/internal/server"
)

const (
	upUser = "vendor"
	upPass = "vendor-upstream-password"
)

// ptcWorld is a berth in-process with a distribution registry upstream
// (htpasswd) on loopback, which the SSRF guard is told to allow.
type ptcWorld struct {
	*world
	up       *distregtest.Server
	dataDir  string
	metadata string
}

func newPTCWorld(t *testing.T, pt server.PullThroughConfig) *ptcWorld {
	t.Helper()
	up := distregtest.Start(t, distregtest.Options{Username: upUser, Password: upPass})
	pt.AllowUpstream = append(pt.AllowUpstream, "loopback")
	dataDir, metadata := t.TempDir(), testMetadata(t)
	s, err := server.New(context.Background(), server.Config{DataDir: dataDir, AccountID: acctA,
		RootAccessKeyID: opKey, RootSecretKey: opSecret, PullThrough: pt, Metadata: metadata}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	u, _ := url.Parse(ts.URL)
	w := &world{t: t, srv: s, ts: ts, port: u.Port(), rootA: creds{key: opKey, secret: opSecret}, region: "us-east-1"}
	return &ptcWorld{world: w, up: up, dataDir: dataDir, metadata: metadata}
}

// rule creates a secret with user/pass and a rule prefix → the upstream.
func (w *ptcWorld) rule(prefix, user, pass string) string {
	w.t.Helper()
	secret, _ := json.Marshal(map[string]string{"username": user, "accessToken": pass})
	body := w.mustOK(w.sm(w.rootA, "CreateSecret", map[string]string{"Name": "ecr-pullthroughcache/" + prefix, "SecretString": string(secret)}))
	var out struct{ ARN string }
	_ = json.Unmarshal([]byte(body), &out)
	w.mustOK(w.ecr(w.rootA, "CreatePullThroughCacheRule", map[string]string{
		"ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": w.up.URL(), "credentialArn": out.ARN}))
	return out.ARN
}

func (w *ptcWorld) pushUpstream(repoTag string, img v1.Image) {
	w.t.Helper()
	ref, err := name.ParseReference(w.up.Addr+"/"+repoTag, name.Insecure)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: upUser, Password: upPass})); err != nil {
		w.t.Fatal(err)
	}
}

func (w *ptcWorld) ref(repo string) name.Reference { return w.refAt(w.port, repo) }

func (w *ptcWorld) refAt(port, repo string) name.Reference {
	w.t.Helper()
	r, err := name.ParseReference("127.0.0.1:"+port+"/"+repo, name.Insecure)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *ptcWorld) auth(c creds) remote.Option {
	return remote.WithAuth(&authn.Basic{Username: c.key, Password: c.secret})
}

// pullAll pulls repo through berth as c and reads every layer, returning
// the manifest digest.
func (w *ptcWorld) pullAll(c creds, repo string) (v1.Hash, error) {
	return w.pullAllAt(w.port, c, repo)
}

func (w *ptcWorld) pullAllAt(port string, c creds, repo string) (v1.Hash, error) {
	img, err := remote.Image(w.refAt(port, repo), w.auth(c))
	if err != nil {
		return v1.Hash{}, err
	}
	layers, err := img.Layers()
	if err != nil {
		return v1.Hash{}, err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return v1.Hash{}, err
		}
		_, err = io.Copy(io.Discard, rc) // go-containerregistry verifies the digest at EOF
		rc.Close()
		if err != nil {
			return v1.Hash{}, err
		}
	}
	if _, err := img.RawConfigFile(); err != nil {
		return v1.Hash{}, err
	}
	return img.Digest()
}

func (w *ptcWorld) blobGets(img v1.Image) map[string]int {
	w.t.Helper()
	out := map[string]int{}
	layers, _ := img.Layers()
	for _, l := range layers {
		d, _ := l.Digest()
		out[d.String()] = w.up.Requests("GET", "/blobs/"+d.String(), 200)
	}
	cfg, _ := img.ConfigName()
	out["config "+cfg.String()] = w.up.Requests("GET", "/blobs/"+cfg.String(), 200)
	return out
}

// waitStored polls until the tag is in the registry proper (the import
// runs in the background after the manifest was served).
func (w *ptcWorld) waitStored(repo, tag string) {
	w.t.Helper()
	for i := 0; i < 400; i++ {
		st, body := w.ecr(w.rootA, "DescribeImages", fmt.Sprintf(`{"repositoryName":%q,"imageIds":[{"imageTag":%q}]}`, repo, tag))
		if st == 200 {
			return
		}
		if !strings.Contains(body, "ImageNotFound") && !strings.Contains(body, "RepositoryNotFound") {
			w.t.Fatalf("DescribeImages: %d %s", st, body)
		}
		time.Sleep(25 * time.Millisecond)
	}
	w.t.Fatalf("%s:%s never stored", repo, tag)
}

func TestPullThroughDistribution(t *testing.T) {
	w := newPTCWorld(t, server.PullThroughConfig{})
	img, err := random.Image(256<<10, 3)
	if err != nil {
		t.Fatal(err)
	}
	w.pushUpstream("team/app:v1", img)
	want, _ := img.Digest()
	arn := w.rule("up", upUser, upPass)
	badARN := w.rule("bad", upUser, "wrong-password")

	st, body := w.ecr(w.rootA, "ValidatePullThroughCacheRule", `{"ecrRepositoryPrefix":"up"}`)
	if st != 200 || !strings.Contains(body, `"isValid":true`) {
		t.Fatalf("validate good rule: %d %s", st, body)
	}
	st, body = w.ecr(w.rootA, "ValidatePullThroughCacheRule", `{"ecrRepositoryPrefix":"bad"}`)
	if st != 200 || !strings.Contains(body, `"isValid":false`) || !strings.Contains(body, badARN) {
		t.Fatalf("validate bad rule: %d %s", st, body)
	}

	got, err := w.pullAll(w.rootA, "up/team/app:v1")
	if err != nil {
		t.Fatalf("cold pull: %v", err)
	}
	if got != want {
		t.Fatalf("pulled %s, want %s", got, want)
	}
	w.waitStored("up/team/app", "v1")
	if got, err = w.pullAll(w.rootA, "up/team/app:v1"); err != nil || got != want {
		t.Fatalf("warm pull: %v %s", err, got)
	}
	if _, err := w.pullAll(w.rootA, "up/team/app@"+want.String()); err != nil {
		t.Fatalf("pull by digest: %v", err)
	}
	for d, n := range w.blobGets(img) {
		if n != 1 {
			t.Errorf("upstream served blob %s %d times, want 1\n%s", d, n, w.up.Log())
		}
	}
	if n := w.up.Requests("GET", "/manifests/v1", 200); n != 1 {
		t.Errorf("upstream manifest GETs: %d, want 1", n)
	}

	// Wrong upstream credentials: a clear error naming the secret.
	w.pushUpstream("team/other:v1", img)
	_, err = w.pullAll(w.rootA, "bad/team/other:v1")
	if err == nil || !strings.Contains(err.Error(), badARN) || !strings.Contains(err.Error(), "rejected the credentials") {
		t.Fatalf("pull with wrong upstream credentials: %v", err)
	}
	_ = arn

	// An unknown upstream tag is MANIFEST_UNKNOWN, not an upstream failure.
	_, err = remote.Image(w.ref("up/team/app:nope"), w.auth(w.rootA))
	if err == nil || !strings.Contains(err.Error(), "MANIFEST_UNKNOWN") {
		t.Fatalf("unknown tag: %v", err)
	}
}

func TestPullThroughAuthorization(t *testing.T) {
	w := newPTCWorld(t, server.PullThroughConfig{})
	img, _ := random.Image(64<<10, 1)
	w.pushUpstream("lib/x:1", img)
	w.pushUpstream("lib/y:1", img)
	w.rule("up", upUser, upPass)
	ro := w.newUser(w.rootA, "reader", "", "AmazonEC2ContainerRegistryReadOnly")
	pull := w.newUser(w.rootA, "puller", "", "AmazonEC2ContainerRegistryPullOnly")

	// ReadOnly lacks ecr:BatchImportUpstreamImage: no first pull.
	if _, err := w.pullAll(ro, "up/lib/x:1"); err == nil || !strings.Contains(err.Error(), "ecr:BatchImportUpstreamImage") {
		t.Fatalf("read-only first pull: %v", err)
	}
	// PullOnly may import but not create the repository.
	if _, err := w.pullAll(pull, "up/lib/x:1"); err == nil || !strings.Contains(err.Error(), "ecr:CreateRepository") {
		t.Fatalf("pull-only first pull into a new repository: %v", err)
	}
	if _, err := w.pullAll(w.rootA, "up/lib/x:1"); err != nil {
		t.Fatalf("root first pull: %v", err)
	}
	w.waitStored("up/lib/x", "1")
	// Once cached, the read actions suffice.
	if _, err := w.pullAll(ro, "up/lib/x:1"); err != nil {
		t.Fatalf("read-only pull of a cached image: %v", err)
	}
	st, body := w.ecr(w.rootA, "CreateRepository", `{"repositoryName":"up/lib/y"}`)
	w.mustOK(st, body)
	if _, err := w.pullAll(pull, "up/lib/y:1"); err != nil {
		t.Fatalf("pull-only import into an existing repository: %v", err)
	}
}

func TestPullThroughConcurrentColdPulls(t *testing.T) {
	w := newPTCWorld(t, server.PullThroughConfig{})
	img, _ := random.Image(1<<20, 4)
	w.pushUpstream("big/app:v1", img)
	w.rule("up", upUser, upPass)
	const pullers = 20
	var wg sync.WaitGroup
	errs := make(chan error, pullers)
	for i := 0; i < pullers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if i%5 == 4 {
				// A client that gives up early: the others must not notice.
				ctx, cancel := context.WithCancel(context.Background())
				img, err := remote.Image(w.ref("up/big/app:v1"), w.auth(w.rootA), remote.WithContext(ctx))
				if err == nil {
					ls, _ := img.Layers()
					if rc, err := ls[0].Compressed(); err == nil {
						buf := make([]byte, 1024)
						_, _ = rc.Read(buf)
						cancel()
						rc.Close()
					}
				}
				cancel()
				return
			}
			_, err := w.pullAll(w.rootA, "up/big/app:v1")
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	w.waitStored("up/big/app", "v1")
	for d, n := range w.blobGets(img) {
		if n != 1 {
			t.Errorf("upstream served blob %s %d times, want exactly 1", d, n)
		}
	}
}

func TestPullThroughServeStale(t *testing.T) {
	w := newPTCWorld(t, server.PullThroughConfig{Revalidate: time.Millisecond})
	img, _ := random.Image(64<<10, 2)
	w.pushUpstream("app:v1", img)
	w.rule("up", upUser, upPass)
	want, _ := img.Digest()
	if _, err := w.pullAll(w.rootA, "up/app:v1"); err != nil {
		t.Fatal(err)
	}
	w.waitStored("up/app", "v1")

	w.up.Stop()
	time.Sleep(2 * time.Millisecond) // past the revalidation interval
	got, err := w.pullAll(w.rootA, "up/app:v1")
	if err != nil || got != want {
		t.Fatalf("pull while the upstream is down: %v %s", err, got)
	}
	r := w.v2(w.host("", ""), opKey, opSecret, "GET", "/v2/up/app/manifests/v1", map[string]string{"Accept": string(types.DockerManifestSchema2)}, nil)
	if r.status != 200 || r.header.Get(ocireg.CacheHeader) != "stale" || r.header.Get(ocireg.UnreachableHeader) == "" || !strings.HasPrefix(r.header.Get("Warning"), "110 ") {
		t.Fatalf("stale answer: %d %v", r.status, r.header)
	}
	// Never cached: nothing to serve, the upstream's failure is reported.
	r = w.v2(w.host("", ""), opKey, opSecret, "GET", "/v2/up/app/manifests/v2", nil, nil)
	if r.status != http.StatusBadGateway || !strings.Contains(r.body, "UNAVAILABLE") {
		t.Fatalf("uncached tag while down: %d %s", r.status, r.body)
	}

	// Upstream back with the tag moved: re-validated to the new image.
	w.up.StartAgain()
	img2, _ := random.Image(64<<10, 1)
	w.pushUpstream("app:v1", img2)
	want2, _ := img2.Digest()
	time.Sleep(2 * time.Millisecond)
	got, err = w.pullAll(w.rootA, "up/app:v1")
	if err != nil || got != want2 {
		t.Fatalf("pull after the upstream is back: %v %s, want %s", err, got, want2)
	}
	w.waitStoredDigest("up/app", "v1", want2.String())
}

func (w *ptcWorld) waitStoredDigest(repo, tag, dg string) {
	w.t.Helper()
	for i := 0; i < 400; i++ {
		st, body := w.ecr(w.rootA, "DescribeImages", fmt.Sprintf(`{"repositoryName":%q,"imageIds":[{"imageTag":%q}]}`, repo, tag))
		if st == 200 && strings.Contains(body, dg) {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	w.t.Fatalf("%s:%s never pointed at %s", repo, tag, dg)
}

func TestPullThroughMultiArch(t *testing.T) {
	w := newPTCWorld(t, server.PullThroughConfig{})
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var children []v1.Image
	for _, arch := range []string{"amd64", "arm64"} {
		img, _ := random.Image(32<<10, 1)
		img = mutate.MediaType(img, types.OCIManifestSchema1)
		children = append(children, img)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	ref, _ := name.ParseReference(w.up.Addr+"/multi:v1", name.Insecure)
	if err := remote.WriteIndex(ref, idx, remote.WithAuth(&authn.Basic{Username: upUser, Password: upPass})); err != nil {
		t.Fatal(err)
	}
	w.rule("up", upUser, upPass)
	img, err := remote.Image(w.ref("up/multi:v1"), w.auth(w.rootA), remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "arm64"}))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := img.Digest()
	want, _ := children[1].Digest()
	if got != want {
		t.Fatalf("arm64 child %s, want %s", got, want)
	}
	if _, err := w.pullAll(w.rootA, "up/multi@"+want.String()); err != nil {
		t.Fatal(err)
	}
	// Only the pulled platform came from the upstream.
	amd, _ := children[0].Layers()
	d, _ := amd[0].Digest()
	if n := w.up.Requests("GET", "/blobs/"+d.String(), 0); n != 0 {
		t.Fatalf("amd64 layer fetched %d times without being pulled", n)
	}
	// Pulling the other platform completes the index, which is then stored with its tag.
	amdDigest, _ := children[0].Digest()
	if _, err := w.pullAll(w.rootA, "up/multi@"+amdDigest.String()); err != nil {
		t.Fatal(err)
	}
	w.waitStored("up/multi", "v1")
}

// TestPullThroughTwoNodes: two berth nodes on one metadata database and one
// blob directory (the scale-out shape); 20 cold pulls spread over both make
// one upstream fetch per blob — the node holding the database lease fetches,
// the other streams the blob from the shared store once it is there.
func TestPullThroughTwoNodes(t *testing.T) {
	w := newPTCWorld(t, server.PullThroughConfig{})
	img, _ := random.Image(1<<20, 4)
	w.pushUpstream("big/app:v1", img)
	w.rule("up", upUser, upPass)
	s2, err := server.New(context.Background(), server.Config{DataDir: w.dataDir, AccountID: acctA,
		RootAccessKeyID: opKey, RootSecretKey: opSecret, Metadata: w.metadata,
		PullThrough: server.PullThroughConfig{AllowUpstream: []string{"loopback"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s2.Close() })
	ts2 := httptest.NewServer(s2.Handler())
	t.Cleanup(ts2.Close)
	u2, _ := url.Parse(ts2.URL)
	nodes := []string{w.port, u2.Port()}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(port string) {
			defer wg.Done()
			_, err := w.pullAllAt(port, w.rootA, "up/big/app:v1")
			errs <- err
		}(nodes[i%2])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for d, n := range w.blobGets(img) {
		if n != 1 {
			t.Errorf("upstream served blob %s %d times over two nodes, want exactly 1", d, n)
		}
	}
}

// TestPullThroughFromBerthWithAccessKeys: the upstream is another berth
// (ECR's protocol); the rule's secret holds an IAM user's access keys,
// which berth exchanges for a registry token with GetAuthorizationToken
// (once, reused) — the keys themselves never reach /v2/.
func TestPullThroughFromBerthWithAccessKeys(t *testing.T) {
	down := newPTCWorld(t, server.PullThroughConfig{})
	upSrv, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), AccountID: acctA,
		RootAccessKeyID: "AKIABERTHUPSTREAM001", RootSecretKey: "berthUpstreamRootSecretAccessKey00000000"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { upSrv.Close() })
	var mu sync.Mutex
	var v2Users []string
	mints := 0
	upTS := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if strings.HasPrefix(r.URL.Path, "/v2/") {
			u, _, _ := r.BasicAuth()
			v2Users = append(v2Users, u)
		}
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".GetAuthorizationToken") {
			mints++
		}
		mu.Unlock()
		upSrv.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(upTS.Close)
	upURL, _ := url.Parse(upTS.URL)
	up := &world{t: t, srv: upSrv, ts: upTS, port: upURL.Port(),
		rootA: creds{key: "AKIABERTHUPSTREAM001", secret: "berthUpstreamRootSecretAccessKey00000000"}, region: "us-east-1"}
	img, _ := random.Image(64<<10, 2)
	ref, _ := name.ParseReference(upURL.Host+"/vendor/app:1", name.Insecure)
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: up.rootA.key, Password: up.rootA.secret})); err != nil {
		t.Fatal(err)
	}
	reader := up.newUser(up.rootA, "proxy", "", "AmazonEC2ContainerRegistryReadOnly")
	mu.Lock()
	v2Users = nil // the test's own push used root keys
	mu.Unlock()

	rule := func(prefix, key, secret string) string {
		s, _ := json.Marshal(map[string]string{"username": key, "accessToken": secret})
		body := down.mustOK(down.sm(down.rootA, "CreateSecret", map[string]string{"Name": "ecr-pullthroughcache/" + prefix, "SecretString": string(s)}))
		var out struct{ ARN string }
		_ = json.Unmarshal([]byte(body), &out)
		down.mustOK(down.ecr(down.rootA, "CreatePullThroughCacheRule", map[string]string{
			"ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": upTS.URL, "credentialArn": out.ARN}))
		return out.ARN
	}
	rule("berth", reader.key, reader.secret)
	badARN := rule("revoked", reader.key, "not-the-secret-access-key-000000000000000")

	st, body := down.ecr(down.rootA, "ValidatePullThroughCacheRule", `{"ecrRepositoryPrefix":"berth"}`)
	if st != 200 || !strings.Contains(body, `"isValid":true`) {
		t.Fatalf("validate: %d %s", st, body)
	}
	want, _ := img.Digest()
	for range 2 {
		got, err := down.pullAll(down.rootA, "berth/vendor/app:1")
		if err != nil || got != want {
			t.Fatalf("pull through berth upstream: %v %s", err, got)
		}
	}
	mu.Lock()
	users, n := append([]string(nil), v2Users...), mints
	mu.Unlock()
	if len(users) == 0 {
		t.Fatal("the upstream saw no /v2/ requests")
	}
	for _, u := range users {
		if u != "" && u != "AWS" {
			t.Fatalf("the upstream's /v2/ saw user %q: access keys must be exchanged for a token", u)
		}
	}
	if n != 1 {
		t.Fatalf("GetAuthorizationToken called %d times, want 1 (token reused until shortly before expiry)", n)
	}
	st, body = down.ecr(down.rootA, "ValidatePullThroughCacheRule", `{"ecrRepositoryPrefix":"revoked"}`)
	if st != 200 || !strings.Contains(body, `"isValid":false`) || !strings.Contains(body, badARN) {
		t.Fatalf("validate with a wrong secret key: %d %s", st, body)
	}
}

// TestPullThroughBearerToken: the upstream is distribution with token auth
// (Docker Hub's flow): berth answers the Bearer challenge at the realm with
// the secret's credentials, caches the token per repository scope, and a
// wrong password is reported naming the secret.
func TestPullThroughBearerToken(t *testing.T) {
	up := distregtest.Start(t, distregtest.Options{Username: upUser, Password: upPass})
	s, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), AccountID: acctA,
		RootAccessKeyID: opKey, RootSecretKey: opSecret, Metadata: testMetadata(t),
		PullThrough: server.PullThroughConfig{AllowUpstream: []string{"loopback"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	u, _ := url.Parse(ts.URL)
	w := &ptcWorld{world: &world{t: t, srv: s, ts: ts, port: u.Port(), rootA: creds{key: opKey, secret: opSecret}, region: "us-east-1"}, up: up}
	img, _ := random.Image(128<<10, 3)
	// go-containerregistry refuses token realms on loopback, so the image
	// is pushed with htpasswd and the registry then restarted with tokens.
	w.pushUpstream("hub/app:v1", img)
	up.Reconfigure(distregtest.Options{Username: upUser, Password: upPass, Token: true})
	before := up.TokensIssued()
	w.rule("up", upUser, upPass)
	bad := w.rule("bad", upUser, "wrong")
	want, _ := img.Digest()
	if got, err := w.pullAll(w.rootA, "up/hub/app:v1"); err != nil || got != want {
		t.Fatalf("pull through a token-auth upstream: %v %s", err, got)
	}
	w.waitStored("up/hub/app", "v1")
	if n := up.TokensIssued() - before; n < 1 || n > 2 {
		t.Fatalf("%d tokens issued for one repository, want 1 (cached per scope; 2 with the /v2/ ping)", n)
	}
	for d, n := range w.blobGets(img) {
		if n != 1 {
			t.Errorf("blob %s fetched %d times", d, n)
		}
	}
	st, body := w.ecr(w.rootA, "ValidatePullThroughCacheRule", `{"ecrRepositoryPrefix":"up"}`)
	if st != 200 || !strings.Contains(body, `"isValid":true`) {
		t.Fatalf("validate: %d %s", st, body)
	}
	if _, err := w.pullAll(w.rootA, "bad/hub/app:v1"); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("wrong password at the token endpoint: %v", err)
	}
}

// TestPullThroughTemplateAndExpiredCredentials: the first pull creates the
// repository with the PULL_THROUGH_CACHE creation template (not the
// CREATE_ON_PUSH one); later, credentials the upstream rejects (rotated
// upstream, stale secret) make a due tag come from the cache, marked stale.
func TestPullThroughTemplateAndExpiredCredentials(t *testing.T) {
	w := newPTCWorld(t, server.PullThroughConfig{Revalidate: time.Millisecond})
	img, _ := random.Image(64<<10, 1)
	w.pushUpstream("lib/app:1", img)
	arn := w.rule("up", upUser, upPass)
	w.mustOK(w.ecr(w.rootA, "CreateRepositoryCreationTemplate", `{"prefix":"up","appliedFor":["PULL_THROUGH_CACHE"],
		"imageTagMutability":"MUTABLE","resourceTags":[{"Key":"source","Value":"pull-through"}],"description":"ptc"}`))
	w.mustOK(w.ecr(w.rootA, "CreateRepositoryCreationTemplate", `{"prefix":"up/lib","appliedFor":["CREATE_ON_PUSH"],
		"imageTagMutability":"IMMUTABLE"}`))
	if _, err := w.pullAll(w.rootA, "up/lib/app:1"); err != nil {
		t.Fatal(err)
	}
	st, body := w.ecr(w.rootA, "DescribeRepositories", `{"repositoryNames":["up/lib/app"]}`)
	if st != 200 || !strings.Contains(body, `"imageTagMutability":"MUTABLE"`) {
		t.Fatalf("repository created by the first pull: %d %s", st, body)
	}
	var repo struct {
		Repositories []struct{ RepositoryArn string } `json:"repositories"`
	}
	_ = json.Unmarshal([]byte(body), &repo)
	st, body = w.ecr(w.rootA, "ListTagsForResource", `{"resourceArn":"`+repo.Repositories[0].RepositoryArn+`"}`)
	if st != 200 || !strings.Contains(body, `"pull-through"`) {
		t.Fatalf("template tags on the created repository: %d %s", st, body)
	}
	w.waitStored("up/lib/app", "1")

	w.mustOK(w.sm(w.rootA, "PutSecretValue", map[string]string{"SecretId": arn, "SecretString": `{"username":"vendor","accessToken":"expired"}`}))
	time.Sleep(2 * time.Millisecond)
	r := w.v2(w.host("", ""), opKey, opSecret, "GET", "/v2/up/lib/app/manifests/1", map[string]string{"Accept": string(types.DockerManifestSchema2)}, nil)
	if r.status != 200 || r.header.Get(ocireg.CacheHeader) != "stale" {
		t.Fatalf("pull with rejected upstream credentials: %d %v %s", r.status, r.header, r.body)
	}
	if _, err := w.pullAll(w.rootA, "up/lib/app:2"); err == nil || !strings.Contains(err.Error(), arn) {
		t.Fatalf("uncached tag with rejected credentials: %v", err)
	}
}

// TestPullThroughRateLimited: an upstream answering 429 (Docker Hub's pull
// limit) behind a proxy: cached tags are served stale, uncached ones fail
// with the upstream's reason.
func TestPullThroughRateLimited(t *testing.T) {
	w := newPTCWorld(t, server.PullThroughConfig{Revalidate: time.Millisecond})
	target, _ := url.Parse(w.up.URL())
	var limited atomic.Bool
	proxy := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if limited.Load() {
			rw.Header().Set("Retry-After", "3600")
			rw.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(rw, `{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}`)
			return
		}
		httputil.NewSingleHostReverseProxy(target).ServeHTTP(rw, r)
	}))
	t.Cleanup(proxy.Close)
	img, _ := random.Image(64<<10, 1)
	w.pushUpstream("lib/app:1", img)
	w.pushUpstream("lib/app:2", img)
	secret, _ := json.Marshal(map[string]string{"username": upUser, "accessToken": upPass})
	body := w.mustOK(w.sm(w.rootA, "CreateSecret", map[string]string{"Name": "ecr-pullthroughcache/hub", "SecretString": string(secret)}))
	var out struct{ ARN string }
	_ = json.Unmarshal([]byte(body), &out)
	w.mustOK(w.ecr(w.rootA, "CreatePullThroughCacheRule", map[string]string{
		"ecrRepositoryPrefix": "hub", "upstreamRegistryUrl": proxy.URL, "credentialArn": out.ARN}))
	if _, err := w.pullAll(w.rootA, "hub/lib/app:1"); err != nil {
		t.Fatal(err)
	}
	w.waitStored("hub/lib/app", "1")
	limited.Store(true)
	time.Sleep(2 * time.Millisecond)
	r := w.v2(w.host("", ""), opKey, opSecret, "GET", "/v2/hub/lib/app/manifests/1", map[string]string{"Accept": string(types.DockerManifestSchema2)}, nil)
	if r.status != 200 || r.header.Get(ocireg.CacheHeader) != "stale" {
		t.Fatalf("cached tag while rate limited: %d %v", r.status, r.header)
	}
	r = w.v2(w.host("", ""), opKey, opSecret, "GET", "/v2/hub/lib/app/manifests/2", nil, nil)
	if r.status != http.StatusBadGateway || !strings.Contains(r.body, "429") || !strings.Contains(r.body, "pull rate limit") {
		t.Fatalf("uncached tag while rate limited: %d %s", r.status, r.body)
	}
}

// TestPullThroughTagImmutability: a cached repository set to
// IMMUTABLE_WITH_EXCLUSION keeps an immutable tag where it was cached when
// the upstream moves it, while an excluded tag follows the upstream.
func TestPullThroughTagImmutability(t *testing.T) {
	w := newPTCWorld(t, server.PullThroughConfig{Revalidate: time.Millisecond})
	w.rule("up", upUser, upPass)
	w.mustOK(w.ecr(w.rootA, "CreateRepository", `{"repositoryName":"up/app","imageTagMutability":"IMMUTABLE_WITH_EXCLUSION",
		"imageTagMutabilityExclusionFilters":[{"filterType":"WILDCARD","filter":"latest"},{"filterType":"WILDCARD","filter":"dev-*"}]}`))
	first, _ := random.Image(32<<10, 1)
	firstDg, _ := first.Digest()
	tags := []string{"v1", "latest", "dev-7"}
	for _, tag := range tags {
		w.pushUpstream("app:"+tag, first)
		if got, err := w.pullAll(w.rootA, "up/app:"+tag); err != nil || got != firstDg {
			t.Fatalf("first pull of %s: %v %s", tag, err, got)
		}
		w.waitStoredDigest("up/app", tag, firstDg.String())
	}
	second, _ := random.Image(32<<10, 1)
	secondDg, _ := second.Digest()
	for _, tag := range tags {
		w.pushUpstream("app:"+tag, second)
	}
	time.Sleep(2 * time.Millisecond) // past the revalidation interval
	for _, tc := range []struct {
		tag  string
		want v1.Hash
	}{{"v1", firstDg}, {"latest", secondDg}, {"dev-7", secondDg}} {
		got, err := w.pullAll(w.rootA, "up/app:"+tc.tag)
		if err != nil || got != tc.want {
			t.Fatalf("pull of %s after the upstream moved it: %v %s, want %s", tc.tag, err, got, tc.want)
		}
		w.waitStoredDigest("up/app", tc.tag, tc.want.String())
	}
	// The frozen tag stays frozen on later pulls too.
	time.Sleep(2 * time.Millisecond)
	if got, err := w.pullAll(w.rootA, "up/app:v1"); err != nil || got != firstDg {
		t.Fatalf("second pull of frozen v1: %v %s", err, got)
	}
}
