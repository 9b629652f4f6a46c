//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// pushRandomImage writes a random image with layers layers to repoTag and returns it.
func pushRandomImage(t testing.TB, b *Berth, repoTag string, layers int64) v1.Image {
	t.Helper()
	img, err := random.Image(64<<10, layers)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(b.ParseRef(t, repoTag), img, b.Remote(context.Background())...); err != nil {
		t.Fatalf("push %s: %v", repoTag, err)
	}
	return img
}

func mustDigest(t testing.TB, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func layerDigests(t testing.TB, img v1.Image) []string {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range m.Layers {
		out = append(out, l.Digest.String())
	}
	return out
}

// TestSkopeoCopyAndInspect copies between two berth repositories by tag and by
// digest (cross-repository blob reuse) and inspects the result.
func TestSkopeoCopyAndInspect(t *testing.T) {
	skopeo := requireTool(t, "skopeo")
	b := StartBerth(t)
	src := pushRandomImage(t, b, "e2e/skopeo/src:v1", 3)
	srcDigest := mustDigest(t, src)
	creds := rootCreds()

	t.Run("anonymous copy is refused", func(t *testing.T) {
		out, errOut, err := run(t, Cmd{Name: skopeo, Args: []string{"copy", "--src-tls-verify=false", "--dest-tls-verify=false",
			"docker://" + b.Ref("e2e/skopeo/src:v1"), "docker://" + b.Ref("e2e/skopeo/anon:v1")}, Env: podmanEnv(t)})
		expectAuthRefusal(t, "anonymous skopeo copy", out+errOut, err)
	})

	cases := []struct{ from, to string }{
		{"e2e/skopeo/src:v1", "e2e/skopeo/dst:v1"},
		{"e2e/skopeo/src@" + srcDigest.String(), "e2e/skopeo/nested/dst:by-digest"},
	}
	for _, c := range cases {
		t.Run(c.from+" to "+c.to, func(t *testing.T) {
			mustRun(t, Cmd{Name: skopeo, Args: []string{"copy", "--src-creds", creds, "--dest-creds", creds,
				"--src-tls-verify=false", "--dest-tls-verify=false",
				"docker://" + b.Ref(c.from), "docker://" + b.Ref(c.to)}})
			out := mustRun(t, Cmd{Name: skopeo, Args: []string{"inspect", "--creds", creds, "--tls-verify=false", "docker://" + b.Ref(c.to)}})
			var info struct {
				Digest string
				Layers []string
			}
			if err := json.Unmarshal([]byte(out), &info); err != nil {
				t.Fatalf("skopeo inspect output: %v\n%s", err, out)
			}
			if info.Digest != srcDigest.String() {
				t.Errorf("inspect digest %s, want %s", info.Digest, srcDigest)
			}
			if strings.Join(info.Layers, ",") != strings.Join(layerDigests(t, src), ",") {
				t.Errorf("inspect layers %v, want %v", info.Layers, layerDigests(t, src))
			}
			raw := mustRun(t, Cmd{Name: skopeo, Args: []string{"inspect", "--raw", "--creds", creds, "--tls-verify=false", "docker://" + b.Ref(c.to)}})
			want, _ := src.RawManifest()
			if raw != string(want) {
				t.Errorf("inspect --raw differs from the pushed manifest:\n got %s\nwant %s", raw, want)
			}
		})
	}
}

// TestPodmanPushPull pulls an image with podman, pushes it to another repository
// and pulls that back, comparing image ids (config digests).
func TestPodmanPushPull(t *testing.T) {
	podman := requireTool(t, "podman")
	b := StartBerth(t)
	env := podmanEnv(t)
	src := pushRandomImage(t, b, "e2e/podman/src:v1", 2)
	cfg, err := src.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	creds := rootCreds()
	srcRef, dstRef := b.Ref("e2e/podman/src:v1"), b.Ref("e2e/podman/dst:v1")
	pm := func(args ...string) string {
		t.Helper()
		return mustRun(t, Cmd{Name: podman, Args: args, Env: env})
	}

	out, errOut, err := run(t, Cmd{Name: podman, Args: []string{"pull", "--tls-verify=false", srcRef}, Env: env})
	expectAuthRefusal(t, "anonymous podman pull", out+errOut, err)
	pm("pull", "--tls-verify=false", "--creds", creds, srcRef)
	if id := strings.TrimSpace(pm("image", "inspect", "--format", "{{.Id}}", srcRef)); id != cfg.Hex {
		t.Errorf("pulled image id %s, want %s", id, cfg.Hex)
	}
	pm("tag", srcRef, dstRef)
	pm("push", "--tls-verify=false", "--creds", creds, dstRef)

	pushed, err := remote.Image(b.ParseRef(t, "e2e/podman/dst:v1"), b.Remote(context.Background())...)
	if err != nil {
		t.Fatalf("reading podman's push back: %v", err)
	}
	if got, _ := pushed.ConfigName(); got != cfg {
		t.Errorf("pushed config %s, want %s", got, cfg)
	}
	wantDiff, _ := src.ConfigFile()
	gotDiff, _ := pushed.ConfigFile()
	if wantDiff == nil || gotDiff == nil || len(gotDiff.RootFS.DiffIDs) != len(wantDiff.RootFS.DiffIDs) {
		t.Errorf("pushed image lost layers: %+v vs %+v", gotDiff, wantDiff)
	}

	pm("rmi", "-f", srcRef, dstRef)
	pm("pull", "--tls-verify=false", "--creds", creds, dstRef)
	if id := strings.TrimSpace(pm("image", "inspect", "--format", "{{.Id}}", dstRef)); id != cfg.Hex {
		t.Errorf("re-pulled image id %s, want %s", id, cfg.Hex)
	}
}
