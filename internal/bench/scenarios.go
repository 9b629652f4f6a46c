package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opencontainers/go-digest"
)

// Seeds of the generated content; pullSeed is also what WriteBlob writes.
const (
	pullSeed   = 1
	pushSeed   = 2
	layerSeed  = 3
	fixtureTag = "berth-bench-small"
)

type bencher struct {
	cfg      Config
	reg      *registry
	requests *atomic.Int64
	bufs     *sync.Pool
	streamed *atomic.Int64 // bytes downloaded so far by streaming scenarios
	runID    string
	uniq     atomic.Uint64 // distinguishes every pushed blob of this run
	pull     *content
	push     *content
	layers   *content
	fixture  *image // the small image manifest-get and cold-start pull
}

type image struct {
	manifest []byte
	config   []byte
	layers   []digest.Digest
	sizes    []int64
}

func newBencher(cfg Config) (*bencher, error) {
	var id [4]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	b := &bencher{cfg: cfg, requests: new(atomic.Int64), streamed: new(atomic.Int64), runID: hex.EncodeToString(id[:]),
		bufs: &sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}}
	b.reg = b.newRegistry(b.transport(), basicHeader(cfg.Creds))
	b.pull, b.push, b.layers = newContent(pullSeed), newContent(pushSeed), newContent(layerSeed)
	return b, nil
}

func (b *bencher) transport() http.RoundTripper {
	if b.cfg.Transport != nil {
		return b.cfg.Transport
	}
	return newTransport(b.cfg.Concurrency)
}

func (b *bencher) newRegistry(rt http.RoundTripper, auth string) *registry {
	return &registry{base: b.cfg.URL, repo: b.cfg.Repo, auth: auth, hc: &http.Client{Transport: rt}, requests: b.requests, bufs: b.bufs}
}

func (b *bencher) authKind() string {
	switch {
	case b.cfg.Creds.User == "AWS":
		return "ecr-token"
	case b.cfg.Creds.User != "":
		return "basic"
	}
	return "none"
}

func (b *bencher) run(ctx context.Context, name string) ([]ScenarioResult, error) {
	c := b.cfg
	switch name {
	case ManifestGet:
		if _, err := b.ensureFixture(ctx); err != nil {
			return nil, err
		}
		return []ScenarioResult{b.loop(ctx, name, "", c.Concurrency, c.MaxOps, false, func(ctx context.Context, _ int) (int64, error) {
			return b.reg.getManifest(ctx, fixtureTag, nil)
		})}, nil
	case BlobPull:
		dg, err := b.ensurePullBlob(ctx)
		if err != nil {
			return nil, err
		}
		return []ScenarioResult{b.loop(ctx, name, "", c.Concurrency, c.MaxOps, true, func(ctx context.Context, _ int) (int64, error) {
			n, err := b.reg.getBlob(ctx, dg, counter{b.streamed})
			if err == nil && n != c.BlobSize {
				err = fmt.Errorf("GET blob: %d bytes, want %d", n, c.BlobSize)
			}
			return n, err
		})}, nil
	case BlobPush:
		return b.blobPush(ctx)
	case SmallPushes:
		if c.Images < 1 {
			return nil, nil
		}
		return []ScenarioResult{b.loop(ctx, name, "", min(c.Concurrency, c.Images), int64(c.Images), false, func(ctx context.Context, _ int) (int64, error) {
			return b.pushImage(ctx, b.reg, fmt.Sprintf("ci-%s-%d", b.runID, b.uniq.Add(1)))
		})}, nil
	case ColdStart:
		if _, err := b.ensureFixture(ctx); err != nil {
			return nil, err
		}
		return []ScenarioResult{b.coldStart(ctx)}, nil
	}
	return nil, fmt.Errorf("unknown scenario %q", name)
}

// blobPush measures monolithic then chunked uploads of distinct BlobSize blobs.
func (b *bencher) blobPush(ctx context.Context) ([]ScenarioResult, error) {
	c := b.cfg
	if _, err := b.push.prefixHash(c.BlobSize); err != nil { // hash the shared prefix before the clock starts
		return nil, err
	}
	var out []ScenarioResult
	for _, mode := range []string{"monolithic", "chunked"} {
		out = append(out, b.loop(ctx, BlobPush, mode, c.Concurrency, c.MaxOps, false, func(ctx context.Context, _ int) (int64, error) {
			u := b.uniq.Add(1)
			dg, err := b.push.digest(c.BlobSize, u)
			if err != nil {
				return 0, err
			}
			body := b.push.reader(c.BlobSize, u)
			if mode == "monolithic" {
				err = b.reg.pushMonolithic(ctx, body, c.BlobSize, dg)
			} else {
				err = b.reg.pushChunked(ctx, body, c.BlobSize, c.ChunkSize, dg)
			}
			if err != nil {
				return 0, err
			}
			return c.BlobSize, nil
		}))
	}
	return out, nil
}

// pushBlobOnce pushes a blob unless the registry already has it.
func (b *bencher) pushBlobOnce(ctx context.Context, reg *registry, src *content, size int64, uniq uint64) (digest.Digest, error) {
	dg, err := src.digest(size, uniq)
	if err != nil {
		return "", err
	}
	ok, err := reg.hasBlob(ctx, dg)
	if err != nil || ok {
		return dg, err
	}
	return dg, reg.pushMonolithic(ctx, src.reader(size, uniq), size, dg)
}

func (b *bencher) ensurePullBlob(ctx context.Context) (digest.Digest, error) {
	fmt.Fprintf(b.cfg.Progress, "blob-pull: pushing the %d-byte fixture blob (skipped if present)\n", b.cfg.BlobSize)
	return b.pushBlobOnce(ctx, b.reg, b.pull, b.cfg.BlobSize, 0)
}

// pushImage pushes Layers fresh layers, a config and a manifest tagged tag,
// as a CI job does (HEAD each blob, then upload it), and returns the bytes sent.
func (b *bencher) pushImage(ctx context.Context, reg *registry, tag string) (int64, error) {
	img, err := b.buildImage(ctx, reg, tag, b.cfg.Layers, func() uint64 { return b.uniq.Add(1) })
	if err != nil {
		return 0, err
	}
	if err := reg.putManifest(ctx, tag, img.manifest); err != nil {
		return 0, err
	}
	n := int64(len(img.manifest) + len(img.config))
	for _, s := range img.sizes {
		n += s
	}
	return n, nil
}

func (b *bencher) buildImage(ctx context.Context, reg *registry, label string, layers int, next func() uint64) (*image, error) {
	img := &image{}
	for range layers {
		dg, err := b.pushBlobOnce(ctx, reg, b.layers, b.cfg.LayerSize, next())
		if err != nil {
			return nil, err
		}
		img.layers = append(img.layers, dg)
		img.sizes = append(img.sizes, b.cfg.LayerSize)
	}
	cfg, err := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"rootfs":  map[string]any{"type": "layers", "diff_ids": img.layers},
		"created": time.Unix(0, 0).UTC(), "config": map[string]any{"Labels": map[string]string{"berth.bench": label}},
	})
	if err != nil {
		return nil, err
	}
	img.config = cfg
	cfgDigest := digest.FromBytes(cfg)
	if ok, err := reg.hasBlob(ctx, cfgDigest); err != nil {
		return nil, err
	} else if !ok {
		if err := reg.pushMonolithic(ctx, bytes.NewReader(cfg), int64(len(cfg)), cfgDigest); err != nil {
			return nil, err
		}
	}
	type desc struct {
		MediaType string        `json:"mediaType"`
		Digest    digest.Digest `json:"digest"`
		Size      int64         `json:"size"`
	}
	m := struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		Config        desc   `json:"config"`
		Layers        []desc `json:"layers"`
	}{SchemaVersion: 2, MediaType: mediaOCIManifest, Config: desc{mediaOCIConfig, cfgDigest, int64(len(cfg))}, Layers: []desc{}}
	for i, l := range img.layers {
		m.Layers = append(m.Layers, desc{mediaOCILayer, l, img.sizes[i]})
	}
	if img.manifest, err = json.Marshal(m); err != nil {
		return nil, err
	}
	return img, nil
}

// ensureFixture pushes the small image that manifest-get and cold-start pull.
func (b *bencher) ensureFixture(ctx context.Context) (*image, error) {
	if b.fixture != nil {
		return b.fixture, nil
	}
	// Fixed uniq values make the fixture identical across runs.
	next := uint64(1 << 62)
	img, err := b.buildImage(ctx, b.reg, "fixture", 2, func() uint64 { next++; return next })
	if err != nil {
		return nil, fmt.Errorf("push fixture image: %w", err)
	}
	// A read-only identity can bench a repository whose fixture an
	// administrator pushed: only PUT the manifest when it differs.
	var have bytes.Buffer
	if _, err := b.reg.getManifest(ctx, fixtureTag, &have); err != nil || !bytes.Equal(have.Bytes(), img.manifest) {
		if err := b.reg.putManifest(ctx, fixtureTag, img.manifest); err != nil {
			return nil, fmt.Errorf("push fixture manifest: %w", err)
		}
	}
	b.fixture = img
	return img, nil
}

// coldStart pulls the fixture image the way a freshly booted node does: new
// connections, credentials from the token source (GetAuthorizationToken),
// then /v2/ ping, manifest, config and layers.
func (b *bencher) coldStart(ctx context.Context) ScenarioResult {
	c := b.cfg
	img := b.fixture
	tokenLat := make([][]time.Duration, c.Concurrency)
	r := b.loop(ctx, ColdStart, "", min(c.Concurrency, c.Images), int64(c.Images), false, func(ctx context.Context, w int) (int64, error) {
		tr := b.transport()
		if t, ok := tr.(*http.Transport); ok && b.cfg.Transport == nil {
			defer t.CloseIdleConnections()
		}
		auth := b.reg.auth
		if c.Token != nil {
			t0 := time.Now()
			creds, err := c.Token(ctx, &http.Client{Transport: tr})
			if err != nil {
				return 0, fmt.Errorf("token: %w", err)
			}
			tokenLat[w] = append(tokenLat[w], time.Since(t0))
			auth = basicHeader(creds)
		}
		reg := b.newRegistry(tr, auth)
		if err := reg.ping(ctx); err != nil {
			return 0, err
		}
		n, err := reg.getManifest(ctx, fixtureTag, io.Discard)
		if err != nil {
			return 0, err
		}
		for _, dg := range append([]digest.Digest{digest.FromBytes(img.config)}, img.layers...) {
			m, err := reg.getBlob(ctx, dg, nil)
			if err != nil {
				return 0, err
			}
			n += m
		}
		return n, nil
	})
	var all []time.Duration
	for _, l := range tokenLat {
		all = append(all, l...)
	}
	r.TokenP50Ms, r.TokenP99Ms, _ = percentiles(all)
	return r
}

// counter counts bytes written through it.
type counter struct{ n *atomic.Int64 }

func (c counter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return len(p), nil
}
