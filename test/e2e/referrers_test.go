//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	sbomType      = "application/vnd.example.sbom.v1+json"
	signatureType = "application/vnd.example.signature.v1"
	emptyJSONType = "application/vnd.oci.empty.v1+json"
)

type ociManifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        v1.Descriptor     `json:"config"`
	Layers        []v1.Descriptor   `json:"layers"`
	Subject       *v1.Descriptor    `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

type ociIndex struct {
	SchemaVersion int             `json:"schemaVersion"`
	MediaType     string          `json:"mediaType"`
	Manifests     []v1.Descriptor `json:"manifests"`
}

// TestReferrersRawAPI pushes an image and two artifacts whose subject is that
// image with plain HTTP calls (as oras does), then finds them through the
// referrers API, with and without the artifactType filter, and with
// go-containerregistry as a second client.
func TestReferrersRawAPI(t *testing.T) {
	b := StartBerth(t)
	c := b.Client()
	const repo = "e2e/referrers/app"

	// The subject: a small OCI image pushed by tag.
	cfg := c.pushBlob(t, repo, string(types.OCIConfigJSON), []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`))
	layer := c.pushBlob(t, repo, string(types.OCILayer), []byte("not really a tarball, the registry must not care"))
	subjectJSON := mustJSON(t, ociManifest{SchemaVersion: 2, MediaType: string(types.OCIManifestSchema1), Config: cfg, Layers: []v1.Descriptor{layer}})
	resp, body := c.putManifest(t, repo, "v1", string(types.OCIManifestSchema1), subjectJSON)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT subject manifest: %s %s", resp.Status, body)
	}
	subject := v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: sha256Hash(subjectJSON), Size: int64(len(subjectJSON))}

	empty := c.pushBlob(t, repo, emptyJSONType, []byte("{}"))
	pushArtifact := func(artifactType string, content string) v1.Descriptor {
		t.Helper()
		blob := c.pushBlob(t, repo, "application/octet-stream", []byte(content))
		m := ociManifest{
			SchemaVersion: 2, MediaType: string(types.OCIManifestSchema1), ArtifactType: artifactType,
			Config: empty, Layers: []v1.Descriptor{blob}, Subject: &subject,
			Annotations: map[string]string{"org.example.kind": artifactType},
		}
		raw := mustJSON(t, m)
		d := sha256Hash(raw)
		resp, body := c.putManifest(t, repo, d.String(), string(types.OCIManifestSchema1), raw)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT artifact %s: %s %s", artifactType, resp.Status, body)
		}
		if got := resp.Header.Get("OCI-Subject"); got != subject.Digest.String() {
			t.Errorf("PUT artifact: OCI-Subject %q, want %s", got, subject.Digest)
		}
		return v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: d, Size: int64(len(raw)), ArtifactType: artifactType,
			Annotations: m.Annotations}
	}
	sbom := pushArtifact(sbomType, "spdx document")
	sig := pushArtifact(signatureType, "signature bytes")

	referrers := func(t *testing.T, query string) (ociIndex, http.Header) {
		t.Helper()
		resp, data := c.get(t, "/v2/"+repo+"/referrers/"+subject.Digest.String()+query, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET referrers%s: %s %s", query, resp.Status, data)
		}
		if ct := resp.Header.Get("Content-Type"); ct != string(types.OCIImageIndex) {
			t.Errorf("referrers Content-Type %q, want %s", ct, types.OCIImageIndex)
		}
		var idx ociIndex
		if err := json.Unmarshal(data, &idx); err != nil {
			t.Fatalf("referrers body: %v\n%s", err, data)
		}
		if idx.SchemaVersion != 2 || idx.MediaType != string(types.OCIImageIndex) {
			t.Errorf("referrers index header fields: schemaVersion %d mediaType %q", idx.SchemaVersion, idx.MediaType)
		}
		return idx, resp.Header
	}
	matches := func(got []v1.Descriptor, want ...v1.Descriptor) bool {
		if len(got) != len(want) {
			return false
		}
		for _, w := range want {
			found := slices.ContainsFunc(got, func(g v1.Descriptor) bool {
				return g.Digest == w.Digest && g.Size == w.Size && g.MediaType == w.MediaType &&
					g.ArtifactType == w.ArtifactType && g.Annotations["org.example.kind"] == w.Annotations["org.example.kind"]
			})
			if !found {
				return false
			}
		}
		return true
	}

	t.Run("all referrers", func(t *testing.T) {
		idx, _ := referrers(t, "")
		if !matches(idx.Manifests, sbom, sig) {
			t.Errorf("referrers %+v, want sbom %s and signature %s", idx.Manifests, sbom.Digest, sig.Digest)
		}
	})
	t.Run("artifactType filter", func(t *testing.T) {
		idx, hdr := referrers(t, "?artifactType="+url.QueryEscape(sbomType))
		if !matches(idx.Manifests, sbom) {
			t.Errorf("filtered referrers %+v, want only %s", idx.Manifests, sbom.Digest)
		}
		if got := hdr.Get("OCI-Filters-Applied"); got != "artifactType" {
			t.Errorf("OCI-Filters-Applied %q, want artifactType", got)
		}
	})
	t.Run("unknown subject has an empty list", func(t *testing.T) {
		resp, data := c.get(t, "/v2/"+repo+"/referrers/"+sha256Hash([]byte("nothing refers to this")).String(), nil)
		var idx ociIndex
		if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &idx) != nil || len(idx.Manifests) != 0 {
			t.Errorf("referrers of an unknown digest: %s %s, want 200 with an empty index", resp.Status, data)
		}
	})
	t.Run("go-containerregistry sees the same", func(t *testing.T) {
		ref := b.ParseRef(t, repo+"@"+subject.Digest.String())
		idx, err := remote.Referrers(ref.Context().Digest(subject.Digest.String()), b.Remote(context.Background())...)
		if err != nil {
			t.Fatalf("remote.Referrers: %v", err)
		}
		m, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		if !matches(m.Manifests, sbom, sig) {
			t.Errorf("ggcr referrers %+v", m.Manifests)
		}
	})
	t.Run("a deleted artifact leaves the list", func(t *testing.T) {
		resp, err := c.do(context.Background(), http.MethodDelete, "/v2/"+repo+"/manifests/"+sig.Digest.String(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if body := readAll(resp); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("DELETE signature manifest: %s %s", resp.Status, body)
		}
		idx, _ := referrers(t, "")
		if !matches(idx.Manifests, sbom) {
			t.Errorf("referrers after delete %+v, want only %s", idx.Manifests, sbom.Digest)
		}
	})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
