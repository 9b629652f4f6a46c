//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestDockerPushPull: images built without network (docker import of a static
// binary rootfs, then a multi-layer docker build on top), docker login with the
// root key, push, rmi, pull by digest and by tag, and run.
func TestDockerPushPull(t *testing.T) {
	d := NewDocker(t)
	b := StartBerth(t)
	ctx := context.Background()
	suffix := randomSuffix(t)
	base := b.Ref("e2e/docker/base:" + suffix)
	multiRepo := "e2e/docker/multi"
	multi := b.Ref(multiRepo + ":" + suffix)
	t.Cleanup(func() { _, _, _ = d.Run("rmi", "-f", base, multi) })

	d.Must("import", "--change", `ENTRYPOINT ["/hello"]`, buildRootfsTar(t, suffix), base)
	buildCtx := t.TempDir()
	writeFile(t, filepath.Join(buildCtx, "a.txt"), "layer a "+suffix)
	writeFile(t, filepath.Join(buildCtx, "b.txt"), "layer b "+suffix)
	writeFile(t, filepath.Join(buildCtx, "Dockerfile"), "FROM "+base+"\nCOPY a.txt /a.txt\nCOPY b.txt /data/b.txt\n")
	d.Must("build", "-t", multi, buildCtx)
	imageID := strings.TrimSpace(d.Must("image", "inspect", "--format", "{{.Id}}", multi))

	t.Run("push without login is refused", func(t *testing.T) {
		out, errOut, err := d.Run("push", base)
		expectAuthRefusal(t, "anonymous docker push", out+errOut, err)
	})
	t.Run("login with a wrong secret is refused", func(t *testing.T) {
		out, err := d.Login(b.Addr, RootAccessKeyID, "wrong-secret")
		expectAuthRefusal(t, "docker login with a wrong secret", out, err)
	})
	if out, err := d.Login(b.Addr, RootAccessKeyID, RootSecretAccessKey); err != nil {
		t.Fatalf("docker login: %v\n%s", err, out)
	}
	d.Must("push", base)
	d.Must("push", multi)

	// Docker records the digest the registry returned; the registry must serve the
	// same manifest with three layers (import + two COPY) and docker's config.
	var pushedDigest string
	for _, rd := range strings.Fields(d.Must("image", "inspect", "--format", "{{range .RepoDigests}}{{.}} {{end}}", multi)) {
		if strings.HasPrefix(rd, b.Ref(multiRepo)+"@") {
			pushedDigest = strings.TrimPrefix(rd, b.Ref(multiRepo)+"@")
		}
	}
	if pushedDigest == "" {
		t.Fatalf("docker recorded no repo digest for %s", multi)
	}
	img, err := remote.Image(b.ParseRef(t, multiRepo+":"+suffix), b.Remote(ctx)...)
	if err != nil {
		t.Fatalf("reading pushed image back: %v", err)
	}
	if got, _ := img.Digest(); got.String() != pushedDigest {
		t.Errorf("registry digest %s, docker recorded %s", got, pushedDigest)
	}
	if cfg, _ := img.ConfigName(); cfg.String() != imageID {
		t.Errorf("config digest %s, docker image id %s", cfg, imageID)
	}
	if layers, err := img.Layers(); err != nil || len(layers) != 3 {
		t.Errorf("layers: %d (%v), want 3", len(layers), err)
	}

	// Remove every local copy so the pulls really download the layers.
	d.Must("rmi", multi, base)
	if _, _, err := d.Run("image", "inspect", imageID); err == nil {
		t.Fatalf("image %s still present locally after rmi", imageID)
	}
	d.Must("pull", b.Ref(multiRepo+"@"+pushedDigest))
	if got := strings.TrimSpace(d.Must("image", "inspect", "--format", "{{.Id}}", b.Ref(multiRepo+"@"+pushedDigest))); got != imageID {
		t.Errorf("pulled by digest: image id %s, want %s", got, imageID)
	}
	d.Must("rmi", b.Ref(multiRepo+"@"+pushedDigest))
	d.Must("pull", multi)
	if got := strings.TrimSpace(d.Must("image", "inspect", "--format", "{{.Id}}", multi)); got != imageID {
		t.Errorf("pulled by tag: image id %s, want %s", got, imageID)
	}

	if os.Getenv("BERTH_E2E_DOCKER_NO_RUN") != "" {
		t.Log("BERTH_E2E_DOCKER_NO_RUN set: not running the pulled image")
		return
	}
	out := d.Must("run", "--rm", "--network=none", multi, "/etc/berth-e2e", "/a.txt", "/data/b.txt")
	for _, want := range []string{"hello from berth e2e", "/etc/berth-e2e: " + suffix, "/a.txt: layer a " + suffix, "/data/b.txt: layer b " + suffix} {
		if !strings.Contains(out, want) {
			t.Errorf("docker run output lacks %q:\n%s", want, out)
		}
	}
}

// TestDockerECRHostsPlainHTTP checks the test machine's set-up for ECR-style host
// names (scripts/ecr-hosts.sh): they resolve to loopback and dockerd talks plain
// HTTP to them. It uses a stand-in registry that only answers /v2/, so it tests
// the harness, not berth; the identity tests rely on it.
func TestDockerECRHostsPlainHTTP(t *testing.T) {
	for _, h := range ecrTestHosts() {
		addrs, err := net.LookupHost(h)
		if err != nil || !slices.Contains(addrs, "127.0.0.1") {
			unavailable(t, "%s does not resolve to 127.0.0.1 (%v %v): run scripts/ecr-hosts.sh install", h, addrs, err)
		}
	}
	d := NewDocker(t)
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/" {
			http.NotFound(w, r)
			return
		}
		if _, _, ok := r.BasicAuth(); !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="stand-in"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		seen[r.Host] = true
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	_, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range ecrTestHosts() {
		host := h + ":" + port
		if out, err := d.Login(host, "AWS", "token"); err != nil {
			t.Errorf("docker login %s over plain HTTP: %v\n%s", host, err, out)
		}
		mu.Lock()
		ok := seen[host]
		mu.Unlock()
		if !ok {
			t.Errorf("stand-in registry never saw an authenticated request for Host %s (saw %v)", host, fmt.Sprint(seen))
		}
	}
}
