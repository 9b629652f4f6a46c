//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// completedPush is a push whose manifest PUT got its 201 before the server died.
type completedPush struct {
	repo, tag string
	digest    v1.Hash
	blobs     []v1.Descriptor // config and layers
}

// TestCrashDuringConcurrentPushes kills berth with SIGKILL while several clients
// push multi-layer images (sharing one base layer), restarts it on the same data
// directory, and checks that every push that succeeded is fully readable, that
// no tag or manifest dangles, and that the registry still accepts pushes. Three
// kill/restart rounds run on the same data directory.
func TestCrashDuringConcurrentPushes(t *testing.T) {
	const (
		workers          = 8
		maxPushesPerWork = 40 // bounds the test even if the kill trigger never fires
		rounds           = 3
	)
	b := StartBerth(t, Persistent())
	shared, err := random.Layer(512<<10, types.DockerLayer)
	if err != nil {
		t.Fatal(err)
	}
	var completed []completedPush

	for round := range rounds {
		// Kill after a different number of acknowledged pushes each round, so the
		// kill lands in different phases of the in-flight pushes.
		killAfter := 5 + 7*round
		var (
			mu        sync.Mutex
			roundDone []completedPush
			failures  int
			healthy   []error // failures seen while the server was still up
			killed    atomic.Bool
			wg        sync.WaitGroup
		)
		trigger := make(chan struct{})
		var triggerOnce sync.Once
		ctx, cancel := context.WithCancel(context.Background())
		opts := append(b.Remote(ctx), remote.WithRetryBackoff(remote.Backoff{Steps: 1}), remote.WithJobs(3))
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range maxPushesPerWork {
					if ctx.Err() != nil {
						return
					}
					repo := fmt.Sprintf("crash/round%d/worker%d", round, w)
					tag := fmt.Sprintf("p%d", i)
					p, err := pushCrashImage(b, shared, repo, tag, opts)
					mu.Lock()
					if err == nil {
						roundDone = append(roundDone, p)
						if len(roundDone) >= killAfter {
							triggerOnce.Do(func() { close(trigger) })
						}
					} else {
						failures++
						if !killed.Load() {
							healthy = append(healthy, fmt.Errorf("%s:%s: %w", repo, tag, err))
						}
					}
					mu.Unlock()
				}
			}()
		}
		allDone := make(chan struct{})
		go func() { wg.Wait(); close(allDone) }()
		select {
		case <-trigger:
		case <-allDone:
		}
		killed.Store(true)
		b.Kill9()
		cancel()
		<-allDone
		mu.Lock()
		t.Logf("round %d: %d pushes completed before SIGKILL, %d failed (interrupted or refused)", round, len(roundDone), failures)
		for _, err := range healthy {
			t.Errorf("round %d: push failed while berth was up: %v", round, err)
		}
		if len(roundDone) < killAfter {
			mu.Unlock()
			t.Fatalf("round %d: only %d pushes succeeded before the workers stopped; want %d to exercise the crash", round, len(roundDone), killAfter)
		}
		completed = append(completed, roundDone...)
		mu.Unlock()

		b.Start(t)
		verifyCompletedPushes(t, b, completed)
		verifyNothingDangles(t, b, "crash/")
		if t.Failed() {
			return
		}
	}

	// The registry keeps working after the crashes.
	after := pushRandomImage(t, b, "crash/after:v1", 2)
	img, err := remote.Image(b.ParseRef(t, "crash/after:v1"), b.Remote(context.Background())...)
	if err != nil {
		t.Fatalf("push after restart not readable: %v", err)
	}
	if mustDigest(t, img) != mustDigest(t, after) {
		t.Errorf("push after restart: digest changed")
	}
	verifyNothingDangles(t, b, "crash/")
}

// pushCrashImage pushes a Docker image made of the shared layer plus two random layers.
func pushCrashImage(b *Berth, shared v1.Layer, repo, tag string, opts []remote.Option) (completedPush, error) {
	img := mutate.MediaType(empty.Image, types.DockerManifestSchema2)
	img, err := mutate.AppendLayers(img, shared)
	if err != nil {
		return completedPush{}, err
	}
	for range 2 {
		l, err := random.Layer(256<<10, types.DockerLayer)
		if err != nil {
			return completedPush{}, err
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			return completedPush{}, err
		}
	}
	ref, err := name.ParseReference(b.Ref(repo+":"+tag), name.Insecure)
	if err != nil {
		return completedPush{}, err
	}
	if err := remote.Write(ref, img, opts...); err != nil {
		return completedPush{}, err
	}
	// Also move a shared tag: after the crash it must still name a whole manifest
	// (old or new), never a missing one. Its outcome is not part of the record.
	if latest, err := name.ParseReference(b.Ref(repo+":latest"), name.Insecure); err == nil {
		_ = remote.Write(latest, img, opts...)
	}
	m, err := img.Manifest()
	if err != nil {
		return completedPush{}, err
	}
	d, err := img.Digest()
	if err != nil {
		return completedPush{}, err
	}
	return completedPush{repo: repo, tag: tag, digest: d, blobs: append([]v1.Descriptor{m.Config}, m.Layers...)}, nil
}

// verifyCompletedPushes checks every acknowledged push: tag → same digest, and
// every blob streams back with the right digest and size.
func verifyCompletedPushes(t *testing.T, b *Berth, pushes []completedPush) {
	t.Helper()
	ctx := context.Background()
	c := b.Client()
	for _, p := range pushes {
		desc, err := remote.Head(b.ParseRef(t, p.repo+":"+p.tag), b.Remote(ctx)...)
		if err != nil {
			t.Errorf("acknowledged push %s:%s lost after crash: %v", p.repo, p.tag, err)
			continue
		}
		if desc.Digest != p.digest {
			t.Errorf("%s:%s resolves to %s, pushed %s", p.repo, p.tag, desc.Digest, p.digest)
		}
		for _, blob := range p.blobs {
			if err := c.verifyBlob(ctx, p.repo, blob); err != nil {
				t.Errorf("acknowledged push %s:%s: %v", p.repo, p.tag, err)
			}
		}
	}
}

// verifyNothingDangles walks the catalog (following Link pagination) and every
// tag of every repository under prefix: each tag must resolve to a manifest
// whose blobs (or child manifests) all exist with the right content.
func verifyNothingDangles(t *testing.T, b *Berth, prefix string) {
	t.Helper()
	ctx := context.Background()
	c := b.Client()
	repos := listPaged(t, c, "/v2/_catalog?n=7", "repositories")
	checked := 0
	for _, repo := range repos {
		if !strings.HasPrefix(repo, prefix) {
			continue
		}
		for _, tag := range listPaged(t, c, "/v2/"+repo+"/tags/list?n=5", "tags") {
			checkManifestTree(t, c, ctx, repo, tag, 0)
			checked++
		}
	}
	if checked == 0 {
		t.Errorf("catalog lists no tags under %q", prefix)
	}
}

// checkManifestTree fetches a manifest by reference and checks what it references.
func checkManifestTree(t *testing.T, c *regClient, ctx context.Context, repo, reference string, depth int) {
	t.Helper()
	accept := strings.Join([]string{string(types.DockerManifestSchema2), string(types.DockerManifestList), string(types.OCIManifestSchema1), string(types.OCIImageIndex)}, ", ")
	resp, data := c.get(t, "/v2/"+repo+"/manifests/"+reference, http.Header{"Accept": {accept}})
	if resp.StatusCode != http.StatusOK {
		t.Errorf("%s:%s dangles: GET manifest %s", repo, reference, resp.Status)
		return
	}
	var m struct {
		MediaType string          `json:"mediaType"`
		Config    *v1.Descriptor  `json:"config"`
		Layers    []v1.Descriptor `json:"layers"`
		Manifests []v1.Descriptor `json:"manifests"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Errorf("%s:%s: manifest is not JSON: %v", repo, reference, err)
		return
	}
	if dcd := resp.Header.Get("Docker-Content-Digest"); dcd != "" {
		if h, err := v1.NewHash(dcd); err != nil {
			t.Errorf("%s:%s: bad Docker-Content-Digest %q", repo, reference, dcd)
		} else if _, err := verifyDigest(strings.NewReader(string(data)), h); err != nil {
			t.Errorf("%s:%s: manifest body does not match Docker-Content-Digest: %v", repo, reference, err)
		}
	}
	if m.Config != nil {
		if err := c.verifyBlob(ctx, repo, *m.Config); err != nil {
			t.Errorf("%s:%s dangles: config %v", repo, reference, err)
		}
	}
	for _, l := range m.Layers {
		if err := c.verifyBlob(ctx, repo, l); err != nil {
			t.Errorf("%s:%s dangles: layer %v", repo, reference, err)
		}
	}
	if depth < 2 {
		for _, child := range m.Manifests {
			checkManifestTree(t, c, ctx, repo, child.Digest.String(), depth+1)
		}
	}
}

// listPaged follows `Link: <…>; rel="next"` and collects the JSON array field.
func listPaged(t *testing.T, c *regClient, path, field string) []string {
	t.Helper()
	var all []string
	for page := 0; path != ""; page++ {
		if page > 10000 {
			t.Fatalf("pagination of %s does not end", path)
		}
		resp, data := c.get(t, path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %s", path, resp.Status, data)
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal(data, &body); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, data)
		}
		var items []string
		if raw, ok := body[field]; ok && string(raw) != "null" {
			if err := json.Unmarshal(raw, &items); err != nil {
				t.Fatalf("GET %s: field %s: %v", path, field, err)
			}
		}
		all = append(all, items...)
		path = nextLink(resp.Header.Get("Link"))
	}
	return all
}

// nextLink extracts the target of a `<url>; rel="next"` Link header.
func nextLink(h string) string {
	for _, part := range strings.Split(h, ",") {
		part = strings.TrimSpace(part)
		if !strings.Contains(part, `rel="next"`) {
			continue
		}
		start, end := strings.Index(part, "<"), strings.Index(part, ">")
		if start >= 0 && end > start {
			return part[start+1 : end]
		}
	}
	return ""
}
