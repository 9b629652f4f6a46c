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
	"testing"
	"time"

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
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	haproxy := requireTool(t, "haproxy")
	_, storage := startMinIOBucket(t)
	args := []string{"--storage", storage, "--metadata", pgtest.DSN(t), "--metadata-pool", "8"}
	c := &cluster{nodes: map[string]*Berth{}}
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
	})
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
