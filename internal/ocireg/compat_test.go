package ocireg_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// sha512Layer is a layer addressed by a sha512 digest; go-containerregistry
// verifies sha512 content on pull, so this exercises berth's sha512 path
// end to end with a real client.
type sha512Layer struct{ data []byte }

func (l sha512Layer) Digest() (v1.Hash, error) {
	s := sha512.Sum512(l.data)
	return v1.Hash{Algorithm: "sha512", Hex: hex.EncodeToString(s[:])}, nil
}
func (l sha512Layer) DiffID() (v1.Hash, error) { return l.Digest() }
func (l sha512Layer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.data)), nil
}
func (l sha512Layer) Uncompressed() (io.ReadCloser, error) { return l.Compressed() }
func (l sha512Layer) Size() (int64, error)                 { return int64(len(l.data)), nil }
func (l sha512Layer) MediaType() (types.MediaType, error)  { return types.OCILayer, nil }

// TestCompatibility pushes and pulls through go-containerregistry's remote
// package against the real stores: images, indexes, cross-repository
// mounts, sha512 blobs, referrers, tag listing, catalog and deletes.
func TestCompatibility(t *testing.T) {
	hs := newHarness(t, harnessOpts{})
	host := strings.TrimPrefix(hs.srv.URL, "http://")
	auth := remote.WithAuth(&authn.Basic{Username: "root", Password: "rootpw"})
	repo, err := name.NewRepository(host+"/compat/app", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}

	img, err := random.Image(4096, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(repo.Tag("v1"), img, auth); err != nil {
		t.Fatalf("push image: %v", err)
	}
	pulled, err := remote.Image(repo.Tag("v1"), auth)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkImage(pulled); err != nil {
		t.Fatalf("pulled image invalid: %v", err)
	}
	wantDigest, _ := img.Digest()
	if gotDigest, _ := pulled.Digest(); gotDigest != wantDigest {
		t.Fatalf("digest %s, want %s", gotDigest, wantDigest)
	}

	t.Run("index", func(t *testing.T) {
		idx, err := random.Index(1024, 2, 3)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.WriteIndex(repo.Tag("multi"), idx, auth); err != nil {
			t.Fatalf("push index: %v", err)
		}
		got, err := remote.Index(repo.Tag("multi"), auth)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkIndex(got); err != nil {
			t.Fatalf("pulled index invalid: %v", err)
		}
	})

	t.Run("mount into another repository", func(t *testing.T) {
		other, _ := name.NewRepository(host+"/compat/copy", name.Insecure)
		// pulled's layers are remote layers of compat/app, so ggcr mounts them.
		if err := remote.Write(other.Tag("v1"), pulled, auth); err != nil {
			t.Fatalf("push with mount: %v", err)
		}
		got, err := remote.Image(other.Tag("v1"), auth)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkImage(got); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("sha512 blob", func(t *testing.T) {
		data := make([]byte, 100<<10)
		_, _ = rand.Read(data)
		l := sha512Layer{data}
		if err := remote.WriteLayer(repo, l, auth); err != nil {
			t.Fatalf("push sha512 layer: %v", err)
		}
		dg, _ := l.Digest()
		rl, err := remote.Layer(repo.Digest(dg.String()), auth)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := rl.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc) // ggcr verifies the sha512 digest at EOF
		rc.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("sha512 round trip: %v", err)
		}
	})

	t.Run("referrers", func(t *testing.T) {
		subj, err := partialDescriptor(img)
		if err != nil {
			t.Fatal(err)
		}
		art := mutate.ConfigMediaType(empty.Image, "application/vnd.example.sbom.v1+json")
		art = mutate.Subject(art, *subj).(v1.Image)
		artDigest, _ := art.Digest()
		if err := remote.Write(repo.Digest(artDigest.String()), art, auth); err != nil {
			t.Fatalf("push artifact: %v", err)
		}
		idx, err := remote.Referrers(repo.Digest(wantDigest.String()), auth)
		if err != nil {
			t.Fatal(err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		if len(im.Manifests) != 1 || im.Manifests[0].Digest != artDigest || im.Manifests[0].ArtifactType != "application/vnd.example.sbom.v1+json" {
			t.Fatalf("referrers = %+v", im.Manifests)
		}
	})

	t.Run("list, catalog, delete", func(t *testing.T) {
		tags, err := remote.List(repo, auth)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tags, []string{"multi", "v1"}) {
			t.Fatalf("tags %v", tags)
		}
		reg, _ := name.NewRegistry(host, name.Insecure)
		repos, err := remote.Catalog(t.Context(), reg, auth)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(repos, []string{"compat/app", "compat/copy"}) {
			t.Fatalf("catalog %v", repos)
		}
		if err := remote.Delete(repo.Tag("multi"), auth); err != nil {
			t.Fatal(err)
		}
		if _, err := remote.Head(repo.Tag("multi"), auth); err == nil {
			t.Fatal("deleted tag still resolves")
		}
		if err := remote.Delete(repo.Digest(wantDigest.String()), auth); err != nil {
			t.Fatal(err)
		}
		if _, err := remote.Head(repo.Tag("v1"), auth); err == nil {
			t.Fatal("deleting the manifest left its tag")
		}
	})

	t.Run("wrong password is rejected", func(t *testing.T) {
		_, err := remote.Image(repo.Tag("v1"), remote.WithAuth(&authn.Basic{Username: "root", Password: "wrong"}))
		if err == nil || !strings.Contains(err.Error(), "UNAUTHORIZED") {
			t.Fatalf("err = %v", err)
		}
	})
}

func partialDescriptor(img v1.Image) (*v1.Descriptor, error) {
	dg, err := img.Digest()
	if err != nil {
		return nil, err
	}
	size, err := img.Size()
	if err != nil {
		return nil, err
	}
	mt, err := img.MediaType()
	if err != nil {
		return nil, err
	}
	return &v1.Descriptor{Digest: dg, Size: size, MediaType: mt}, nil
}

// checkImage reads every blob of img; ggcr's remote layers verify digest
// and size at EOF, so a successful read is a verified pull.
func checkImage(img v1.Image) error {
	if _, err := img.RawConfigFile(); err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	if len(layers) == 0 {
		return fmt.Errorf("no layers")
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func checkIndex(idx v1.ImageIndex) error {
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			return err
		}
		if err := checkImage(img); err != nil {
			return err
		}
	}
	return nil
}
