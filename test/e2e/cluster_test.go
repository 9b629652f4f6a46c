//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/berth-dev/berth/internal/storage/sqldb/pgtest"
)

// cluster is three berth processes on one MinIO bucket and one PostgreSQL
// database behind HAProxy on loopback, balancing every request round-robin
// (so consecutive requests of one push land on different nodes).
type cluster struct {
	nodes map[string]*Berth // by HAProxy server name (n1, n2, n3)
	lb    string            // 127.0.0.1:PORT of HAProxy
	pg    *pgtest.Server
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	haproxy := requireTool(t, "haproxy")
	_, storage := startMinIOBucket(t)
	// A PostgreSQL of its own: the test restarts it.
	pg, err := pgtest.Start()
	if err != nil {
		if os.Getenv("BERTH_TEST_REQUIRE_PG") == "" && !requireTools() {
			t.Skipf("no PostgreSQL: %v", err)
		}
		t.Fatalf("PostgreSQL: %v", err)
	}
	t.Cleanup(func() { pg.Close() })
	args := []string{"--storage", storage, "--metadata", pg.URL("postgres"), "--metadata-pool", "8"}
	c := &cluster{nodes: map[string]*Berth{}, pg: pg}
	var first string
	for i := 1; i <= 3; i++ {
		dir := filepath.Join(t.TempDir(), "data")
		if first != "" {
			// Secrets are sealed under the master key: every node needs the same one.
			copyFile(t, filepath.Join(first, "keys", "master.key"), filepath.Join(dir, "keys", "master.key"))
		} else {
			first = dir
		}
		c.nodes[fmt.Sprintf("n%d", i)] = StartBerth(t, WithDataDir(dir), WithArgs(args...))
	}

	c.lb = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	var servers strings.Builder
	for i := 1; i <= 3; i++ {
		n := fmt.Sprintf("n%d", i)
		fmt.Fprintf(&servers, "\tserver %s %s check\n", n, c.nodes[n].Addr)
	}
	// The health check wants berth's 401 on /v2/ (no anonymous access); a
	// node that stops answering is out after one failed check, 200 ms apart,
	// and a request whose connection is refused is redispatched.
	cfg := `global
	maxconn 512
defaults
	mode http
	timeout connect 2s
	timeout client 5m
	timeout server 5m
	retries 3
	option redispatch 1
frontend registry
	bind ` + c.lb + `
	default_backend berth
backend berth
	balance roundrobin
	option httpchk GET /v2/
	http-check expect status 401
	default-server inter 200ms fall 1 rise 2
	http-response set-header X-Berth-Node %[srv_name]
` + servers.String()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(dir, "haproxy.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(haproxy, "-db", "-f", cfgPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting haproxy: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logFile.Close(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			out, _ := os.ReadFile(logFile.Name())
			t.Logf("haproxy log:\n%s", out)
		}
	})
	if err := waitForV2("http://"+c.lb+"/v2/", exited); err != nil {
		t.Fatalf("haproxy: %v", err)
	}
	// Every server up before the test relies on round-robin over three.
	for i := 0; i < 200 && len(c.servedBy(t, 6)) < 3; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if got := c.servedBy(t, 6); len(got) < 3 {
		t.Fatalf("haproxy balances over %v, want all of n1 n2 n3", got)
	}
	return c
}

// servedBy sends n GET /v2/ through the balancer and returns the set of
// nodes that answered.
func (c *cluster) servedBy(t *testing.T, n int) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		resp, err := http.Get("http://" + c.lb + "/v2/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if s := resp.Header.Get("X-Berth-Node"); s != "" {
			seen[s] = true
		}
	}
	return seen
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestClusterThreeNodes: through HAProxy in front of three nodes, docker
// pushes and pulls (its requests spread over the nodes), the OCI
// conformance suite passes, and an upload whose node is killed with
// SIGKILL between two chunks is finished on the other nodes and pulled by
// docker.
func TestClusterThreeNodes(t *testing.T) {
	d := NewDocker(t)
	c := startCluster(t)
	lbRef := func(s string) string { return c.lb + "/" + s }
	suffix := randomSuffix(t)
	image := lbRef("e2e/cluster/app:" + suffix)
	t.Cleanup(func() { _, _, _ = d.Run("rmi", "-f", image) })

	if out, err := d.Login(c.lb, RootAccessKeyID, RootSecretAccessKey); err != nil {
		t.Fatalf("docker login through haproxy: %v\n%s", err, out)
	}
	t.Run("docker push and pull through the balancer", func(t *testing.T) {
		before := c.uploadRequests()
		d.Must("import", "--change", `ENTRYPOINT ["/hello"]`, buildRootfsTar(t, suffix), image)
		id := strings.TrimSpace(d.Must("image", "inspect", "--format", "{{.Id}}", image))
		d.Must("push", image)
		after := c.uploadRequests()
		var nodes []string
		for n := range c.nodes {
			if after[n] > before[n] {
				nodes = append(nodes, n)
			}
		}
		t.Logf("upload requests of the push per node: before %v, after %v", before, after)
		if len(nodes) < 2 {
			t.Fatalf("the push's upload requests reached only %v; round-robin should spread them", nodes)
		}
		d.Must("rmi", image)
		d.Must("pull", image)
		if got := strings.TrimSpace(d.Must("image", "inspect", "--format", "{{.Id}}", image)); got != id {
			t.Fatalf("pulled image id %s, pushed %s", got, id)
		}
	})

	t.Run("OCI conformance through the balancer", func(t *testing.T) {
		runConformance(t, c.lb)
	})

	t.Run("node killed mid-upload", func(t *testing.T) {
		layer, err := random.Layer(9<<20, types.DockerLayer)
		if err != nil {
			t.Fatal(err)
		}
		ldg, err := layer.Digest()
		if err != nil {
			t.Fatal(err)
		}
		rc, err := layer.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		blob, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		repo := "e2e/cluster/killed"
		loc, node := c.request(t, http.MethodPost, "/v2/"+repo+"/blobs/uploads/", nil, "", http.StatusAccepted)
		// The first chunk fills one S3 part (5 MiB) and leaves a tail.
		split := 6 << 20
		loc, victim := c.request(t, http.MethodPatch, loc, blob[:split], fmt.Sprintf("0-%d", split-1), http.StatusAccepted)
		t.Logf("upload started on %s, first chunk on %s; killing %s", node, victim, victim)
		c.nodes[victim].Kill9()
		loc, rest := c.request(t, http.MethodPatch, loc, blob[split:], fmt.Sprintf("%d-%d", split, len(blob)-1), http.StatusAccepted)
		u, _ := url.Parse(loc)
		q := u.Query()
		q.Set("digest", ldg.String())
		u.RawQuery = q.Encode()
		_, done := c.request(t, http.MethodPut, u.String(), nil, "", http.StatusCreated)
		t.Logf("second chunk on %s, commit on %s", rest, done)
		if rest == victim || done == victim {
			t.Fatalf("a request reached the killed node %s", victim)
		}

		cfg, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH,
			Config: v1.Config{Cmd: []string{"/hello"}}})
		if err != nil {
			t.Fatal(err)
		}
		img, err := mutate.AppendLayers(mutate.MediaType(cfg, types.DockerManifestSchema2), layer)
		if err != nil {
			t.Fatal(err)
		}
		ref := c.nodes[done].ParseRef(t, repo+":"+suffix)
		// The layer is there already: remote.Write only adds config and manifest.
		if err := remote.Write(ref, img, c.nodes[done].Remote(context.Background())...); err != nil {
			t.Fatal(err)
		}
		pulled := lbRef(repo + ":" + suffix)
		t.Cleanup(func() { _, _, _ = d.Run("rmi", "-f", pulled) })
		d.Must("pull", pulled)
		want, _ := img.ConfigName()
		if got := strings.TrimSpace(d.Must("image", "inspect", "--format", "{{.Id}}", pulled)); got != want.String() {
			t.Fatalf("pulled image id %s, want %s", got, want)
		}
		c.revive(t, victim)
	})

	t.Run("node killed during 20 concurrent pushes", func(t *testing.T) {
		c.killDuringPushes(t, 20)
	})

	t.Run("PostgreSQL restart", func(t *testing.T) {
		c.restartPostgres(t)
	})
}

// revive starts a killed node again on its address and waits until the
// balancer sends it requests.
func (c *cluster) revive(t *testing.T, name string) {
	t.Helper()
	c.nodes[name].StartOnSameAddr(t)
	for i := 0; i < 200 && !c.servedBy(t, 6)[name]; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if !c.servedBy(t, 6)[name] {
		t.Fatalf("haproxy does not send requests to %s again", name)
	}
}

// killDuringPushes pushes n images at once through the balancer (each with
// three 1 MiB layers, go-containerregistry with its default retries), kills
// one node with SIGKILL while they run, and then reads back every image
// whose push succeeded — manifest, config and each layer with its digest
// checked — through the surviving nodes.
func (c *cluster) killDuringPushes(t *testing.T, n int) {
	t.Helper()
	lbBerth := &Berth{t: t, Addr: c.lb} // for ParseRef/Remote only
	imgs := make([]v1.Image, n)
	for i := range imgs {
		img, err := random.Image(1<<20, 3)
		if err != nil {
			t.Fatal(err)
		}
		imgs[i] = img
	}
	errs := make([]error, n)
	finished := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i := range imgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { finished <- struct{}{} }()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			ref, err := name.ParseReference(fmt.Sprintf("%s/e2e/cluster/burst-%d:v1", c.lb, i), name.Insecure)
			if err != nil {
				errs[i] = err
				return
			}
			errs[i] = remote.Write(ref, imgs[i], lbBerth.Remote(ctx)...)
		}()
	}
	// Kill when the first push is through: the others are mid-way.
	<-finished
	c.nodes["n2"].Kill9()
	done := 1 + len(finished)
	wg.Wait()
	t.Logf("n2 killed when %d of %d pushes had finished", done, n)
	ok := 0
	for i, err := range errs {
		if err != nil {
			t.Logf("push %d failed (allowed: its node died): %v", i, err)
			continue
		}
		ok++
		verifyImage(t, lbBerth, fmt.Sprintf("e2e/cluster/burst-%d:v1", i), imgs[i])
	}
	t.Logf("%d of %d pushes succeeded while n2 was killed; every one of them reads back intact through n1/n3", ok, n)
	if ok == 0 {
		t.Fatal("no push survived the loss of one node of three")
	}
	c.revive(t, "n2")
}

// restartPostgres stops PostgreSQL under the running cluster, checks that
// requests fail cleanly and no node dies, starts it again and checks that
// the nodes reconnect by themselves: pushes work and an access key deleted
// through one node is refused by the others (the listeners came back).
func (c *cluster) restartPostgres(t *testing.T) {
	t.Helper()
	lbBerth := &Berth{t: t, Addr: c.lb}
	if err := c.pg.Stop(); err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(64<<10, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = remote.Write(lbBerth.ParseRef(t, "e2e/cluster/pgdown:v1"), img, append(lbBerth.Remote(ctx), remote.WithRetryBackoff(remote.Backoff{Steps: 1}))...)
	cancel()
	if err == nil {
		t.Fatal("a push succeeded while PostgreSQL was down")
	}
	t.Logf("push while PostgreSQL is down: %v", err)
	if !strings.Contains(err.Error(), "503") {
		t.Errorf("push while PostgreSQL is down failed with %v, want 503 (retryable)", err)
	}
	if err := c.pg.Restart(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var werr error
	for i := 0; i < 60; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		werr = remote.Write(lbBerth.ParseRef(t, "e2e/cluster/pgdown:v1"), img, lbBerth.Remote(ctx)...)
		cancel()
		if werr == nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if werr != nil {
		t.Fatalf("pushes still fail after PostgreSQL came back: %v", werr)
	}
	t.Logf("first push after PostgreSQL restart succeeded %v after it was back", time.Since(start).Round(time.Millisecond))
	verifyImage(t, lbBerth, "e2e/cluster/pgdown:v1", img)
	for name, b := range c.nodes {
		if b.cmd == nil {
			t.Fatalf("node %s is not running", name)
		}
	}

	// Coherence after the restart: a key deleted through n1 is refused by n2 and n3.
	root := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(RootAccessKeyID, RootSecretAccessKey, "")}
	iamVia := func(b *Berth) *iam.Client {
		return iam.NewFromConfig(root, func(o *iam.Options) { o.BaseEndpoint = aws.String(b.URL()) })
	}
	bg := context.Background()
	if _, err := iamVia(c.nodes["n1"]).CreateUser(bg, &iam.CreateUserInput{UserName: aws.String("after-restart")}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamVia(c.nodes["n1"]).AttachUserPolicy(bg, &iam.AttachUserPolicyInput{UserName: aws.String("after-restart"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")}); err != nil {
		t.Fatal(err)
	}
	key, err := iamVia(c.nodes["n1"]).CreateAccessKey(bg, &iam.CreateAccessKeyInput{UserName: aws.String("after-restart")})
	if err != nil {
		t.Fatal(err)
	}
	user := &authn.Basic{Username: *key.AccessKey.AccessKeyId, Password: *key.AccessKey.SecretAccessKey}
	canPull := func(b *Berth) bool {
		_, err := remote.Get(b.ParseRef(t, "e2e/cluster/pgdown:v1"), remote.WithAuth(user))
		return err == nil
	}
	for _, n := range []string{"n2", "n3"} {
		if !canPull(c.nodes[n]) {
			t.Fatalf("%s refuses a key created through n1", n)
		}
	}
	if _, err := iamVia(c.nodes["n1"]).DeleteAccessKey(bg, &iam.DeleteAccessKeyInput{UserName: aws.String("after-restart"),
		AccessKeyId: key.AccessKey.AccessKeyId}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"n2", "n3"} {
		start := time.Now()
		refused := false
		for i := 0; i < 1000 && !refused; i++ { // bounded: at most ~10 s
			if refused = !canPull(c.nodes[n]); !refused {
				time.Sleep(10 * time.Millisecond)
			}
		}
		if !refused {
			t.Fatalf("%s still accepts a key deleted through n1", n)
		}
		t.Logf("key deleted through n1 refused by %s after %v", n, time.Since(start).Round(time.Millisecond))
	}
}

// request sends one registry request with root's Basic credentials through
// the balancer and returns the next upload Location and the node that
// answered. A 503 from HAProxy itself (the killed node not yet marked down
// and no retry left) is repeated; berth's own answers never are.
func (c *cluster) request(t *testing.T, method, target string, body []byte, contentRange string, want int) (string, string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("http://" + c.lb)
	u = base.ResolveReference(u)
	u.Host = c.lb // berth answers with its own absolute Location; stay on the balancer
	for attempt := 1; ; attempt++ {
		req, _ := http.NewRequest(method, u.String(), bytes.NewReader(body))
		req.SetBasicAuth(RootAccessKeyID, RootSecretAccessKey)
		if body != nil {
			req.Header.Set("Content-Type", "application/octet-stream")
			req.ContentLength = int64(len(body))
		}
		if contentRange != "" {
			req.Header.Set("Content-Range", contentRange)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, u, err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		node := resp.Header.Get("X-Berth-Node")
		if resp.StatusCode == http.StatusServiceUnavailable && node == "" && attempt < 20 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if resp.StatusCode != want {
			t.Fatalf("%s %s via %q = %d, want %d: %s", method, u.Path, node, resp.StatusCode, want, msg)
		}
		return resp.Header.Get("Location"), node
	}
}

// uploadRequests counts the blob upload requests in each node's log.
func (c *cluster) uploadRequests() map[string]int {
	out := map[string]int{}
	for n, b := range c.nodes {
		out[n] = strings.Count(b.LogTail(1<<20), `"route":"upload.`)
	}
	return out
}
