//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ociPlatformImage is an OCI image with two random layers and a config that
// names platform p.
func ociPlatformImage(t testing.TB, p v1.Platform) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for range 2 {
		l, err := random.Layer(32<<10, types.OCILayer)
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestMultiArchIndexSkopeo builds a two-platform OCI index in an OCI layout,
// pushes it with `skopeo copy --all`, pulls it back into another layout and
// compares digests; `skopeo inspect --override-arch` must resolve each platform.
func TestMultiArchIndexSkopeo(t *testing.T) {
	skopeo := requireTool(t, "skopeo")
	b := StartBerth(t)
	creds := rootCreds()
	platforms := []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64", Variant: "v8"}}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	children := map[string]v1.Hash{}
	for _, p := range platforms {
		img := ociPlatformImage(t, p)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
		children[p.Architecture] = mustDigest(t, img)
	}
	idxDigest := mustDigest(t, idx)

	srcDir := filepath.Join(t.TempDir(), "src")
	lp, err := layout.Write(srcDir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "v1"})); err != nil {
		t.Fatal(err)
	}

	dest := "docker://" + b.Ref("e2e/multiarch/app:v1")
	mustRun(t, Cmd{Name: skopeo, Args: []string{"copy", "--all", "--dest-creds", creds, "--dest-tls-verify=false", "oci:" + srcDir + ":v1", dest}})

	// skopeo may re-encode the index itself (1.9 drops fields it does not know, such
	// as the descriptors' artifactType that go-containerregistry writes), so the
	// index digest is what the registry holds; the platform manifests must be
	// byte-identical to the ones pushed.
	got, err := remote.Index(b.ParseRef(t, "e2e/multiarch/app:v1"), b.Remote(context.Background())...)
	if err != nil {
		t.Fatalf("reading the index back: %v", err)
	}
	regDigest := mustDigest(t, got)
	regManifest, err := got.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(regManifest.Manifests) != len(platforms) {
		t.Fatalf("registry index lists %d manifests, want %d", len(regManifest.Manifests), len(platforms))
	}
	for _, desc := range regManifest.Manifests {
		if desc.Platform == nil || children[desc.Platform.Architecture] != desc.Digest {
			t.Errorf("registry index child %s (platform %+v) is not one that was pushed", desc.Digest, desc.Platform)
		}
	}
	if regDigest == idxDigest {
		t.Logf("index digest preserved: %s", regDigest)
	}
	for arch, want := range children {
		if _, err := remote.Image(b.ParseRef(t, "e2e/multiarch/app@"+want.String()), b.Remote(context.Background())...); err != nil {
			t.Errorf("%s manifest %s not readable: %v", arch, want, err)
		}
		out := mustRun(t, Cmd{Name: skopeo, Args: []string{"inspect", "--override-os", "linux", "--override-arch", arch,
			"--creds", creds, "--tls-verify=false", dest}})
		var info struct {
			Digest, Architecture string
			Layers               []string
		}
		if err := json.Unmarshal([]byte(out), &info); err != nil {
			t.Fatalf("skopeo inspect: %v\n%s", err, out)
		}
		img, err := remote.Image(b.ParseRef(t, "e2e/multiarch/app@"+want.String()), b.Remote(context.Background())...)
		if err != nil {
			t.Fatal(err)
		}
		if info.Architecture != arch || strings.Join(info.Layers, ",") != strings.Join(layerDigests(t, img), ",") {
			t.Errorf("inspect for %s resolved architecture %s with layers %v, want the %s image's layers", arch, info.Architecture, info.Layers, want)
		}
	}

	dstDir := filepath.Join(t.TempDir(), "dst")
	mustRun(t, Cmd{Name: skopeo, Args: []string{"copy", "--all", "--src-creds", creds, "--src-tls-verify=false", dest, "oci:" + dstDir + ":v1"}})
	pulled, err := layout.ImageIndexFromPath(dstDir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := pulled.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Digest != regDigest {
		t.Fatalf("pulled layout index.json %+v, want one entry %s", im.Manifests, regDigest)
	}
	inner, err := pulled.ImageIndex(regDigest)
	if err != nil {
		t.Fatal(err)
	}
	innerManifest, err := inner.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(innerManifest.Manifests) != len(platforms) {
		t.Fatalf("pulled index has %d manifests, want %d", len(innerManifest.Manifests), len(platforms))
	}
	for _, desc := range innerManifest.Manifests {
		if desc.Platform == nil || children[desc.Platform.Architecture] != desc.Digest {
			t.Errorf("pulled child %s platform %+v does not match what was pushed", desc.Digest, desc.Platform)
			continue
		}
		img, err := inner.Image(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range layers {
			dg, err := l.Digest()
			if err != nil {
				t.Fatal(err)
			}
			rc, err := l.Compressed()
			if err != nil {
				t.Fatal(err)
			}
			_, err = verifyDigest(rc, dg)
			rc.Close()
			if err != nil {
				t.Errorf("layer of %s: %v", desc.Digest, err)
			}
		}
	}
}
