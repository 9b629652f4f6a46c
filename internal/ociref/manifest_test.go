package ociref

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

var (
	cfgDigest   = digest.FromString("config")
	layerDigest = digest.FromString("layer")
)

func desc(mt string, d digest.Digest) string {
	return `{"mediaType":"` + mt + `","digest":"` + string(d) + `","size":6}`
}

func TestParseManifest(t *testing.T) {
	image := `{"schemaVersion":2,"mediaType":"` + MediaTypeOCIManifest + `","config":` + desc("application/vnd.oci.image.config.v1+json", cfgDigest) +
		`,"layers":[` + desc("application/vnd.oci.image.layer.v1.tar+gzip", layerDigest) + `]}`
	imageNoMT := `{"schemaVersion":2,"config":` + desc("application/vnd.example+json", cfgDigest) + `,"layers":[]}`
	artifact := `{"schemaVersion":2,"artifactType":"application/vnd.example.sbom","config":` + desc(MediaTypeOCIEmptyJSON, cfgDigest) +
		`,"layers":[],"subject":` + desc(MediaTypeOCIManifest, layerDigest) + `}`
	index := `{"schemaVersion":2,"mediaType":"` + MediaTypeOCIIndex + `","manifests":[` + desc(MediaTypeOCIManifest, cfgDigest) + `]}`
	dockerList := `{"schemaVersion":2,"mediaType":"` + MediaTypeDockerList + `","manifests":[]}`
	tests := []struct {
		name      string
		ct        string
		payload   string
		kind      Kind
		mediaType string
		artifact  string
		subject   bool
		err       bool
	}{
		{name: "oci image", ct: MediaTypeOCIManifest, payload: image, kind: KindImage, mediaType: MediaTypeOCIManifest, artifact: "application/vnd.oci.image.config.v1+json"},
		{name: "oci image no content type", payload: image, kind: KindImage, mediaType: MediaTypeOCIManifest, artifact: "application/vnd.oci.image.config.v1+json"},
		{name: "content type with params", ct: MediaTypeOCIManifest + "; charset=utf-8", payload: image, kind: KindImage, mediaType: MediaTypeOCIManifest, artifact: "application/vnd.oci.image.config.v1+json"},
		{name: "inferred from structure", payload: imageNoMT, kind: KindImage, mediaType: MediaTypeOCIManifest, artifact: "application/vnd.example+json"},
		{name: "artifact with subject", ct: MediaTypeOCIManifest, payload: artifact, kind: KindImage, mediaType: MediaTypeOCIManifest, artifact: "application/vnd.example.sbom", subject: true},
		{name: "index", ct: MediaTypeOCIIndex, payload: index, kind: KindIndex, mediaType: MediaTypeOCIIndex},
		{name: "docker list", ct: MediaTypeDockerList, payload: dockerList, kind: KindIndex, mediaType: MediaTypeDockerList},
		{name: "unknown json type", ct: "application/vnd.example.thing+json", payload: `{"hello":"world"}`, kind: KindOpaque, mediaType: "application/vnd.example.thing+json"},
		{name: "schema1 opaque", ct: MediaTypeDockerV1Signed, payload: `{"schemaVersion":1,"name":"x"}`, kind: KindOpaque, mediaType: MediaTypeDockerV1Signed},
		{name: "type mismatch", ct: MediaTypeOCIIndex, payload: image, err: true},
		{name: "not json", ct: MediaTypeOCIManifest, payload: `{"schemaVersion":2`, err: true},
		{name: "json array", ct: "application/vnd.example+json", payload: `[1,2]`, err: true},
		{name: "schema version 1", ct: MediaTypeOCIManifest, payload: strings.Replace(image, `"schemaVersion":2`, `"schemaVersion":1`, 1), err: true},
		{name: "no schema version", ct: MediaTypeOCIManifest, payload: strings.Replace(image, `"schemaVersion":2,`, ``, 1), err: true},
		{name: "no config", ct: MediaTypeOCIManifest, payload: `{"schemaVersion":2,"layers":[]}`, err: true},
		{name: "bad layer digest", ct: MediaTypeOCIManifest, payload: strings.Replace(image, string(layerDigest), "sha256:nope", 1), err: true},
		{name: "negative size", ct: MediaTypeOCIIndex, payload: strings.Replace(index, `"size":6`, `"size":-1`, 1), err: true},
		{name: "wrong field type", ct: MediaTypeOCIManifest, payload: strings.Replace(image, `"size":6`, `"size":"6"`, 1), err: true},
		{name: "index with layers", ct: MediaTypeOCIIndex, payload: `{"schemaVersion":2,"manifests":[],"layers":[]}`, err: true},
		{name: "nothing to go on", payload: `{"schemaVersion":2}`, err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseManifest(tc.ct, []byte(tc.payload))
			if tc.err {
				if !errors.Is(err, ErrInvalidManifest) {
					t.Fatalf("err = %v, want ErrInvalidManifest", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Kind != tc.kind || m.MediaType != tc.mediaType || m.ArtifactType != tc.artifact || (m.Subject != nil) != tc.subject {
				t.Fatalf("got %+v", m)
			}
		})
	}
}

func TestDataFieldMustMatch(t *testing.T) {
	data := []byte("config")
	good := Descriptor{MediaType: "application/x", Digest: digest.FromBytes(data), Size: int64(len(data)), Data: data}
	if err := checkDescriptor("d", good); err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.Data = []byte("other!")
	if err := checkDescriptor("d", bad); err == nil {
		t.Fatal("mismatching data accepted")
	}
}

// FuzzParseManifest: ParseManifest never panics, rejects with
// ErrInvalidManifest only, and what it accepts is internally consistent:
// every descriptor it returns carries a digest berth can parse, the kind
// matches the media type, and image manifests always have a config.
func FuzzParseManifest(f *testing.F) {
	f.Add(MediaTypeOCIManifest, `{"schemaVersion":2,"config":`+desc("application/x", cfgDigest)+`,"layers":[`+desc("application/y", layerDigest)+`]}`)
	f.Add(MediaTypeOCIIndex, `{"schemaVersion":2,"manifests":[`+desc(MediaTypeOCIManifest, cfgDigest)+`]}`)
	f.Add("", `{"schemaVersion":2,"mediaType":"`+MediaTypeDockerV2+`","config":`+desc("application/x", cfgDigest)+`,"layers":[]}`)
	f.Add("application/vnd.x+json", `{"a":1}`)
	f.Add("", `{}`)
	f.Add(MediaTypeOCIManifest, `[]`)
	f.Fuzz(func(t *testing.T, ct, payload string) {
		m, err := ParseManifest(ct, []byte(payload))
		if err != nil {
			if !errors.Is(err, ErrInvalidManifest) {
				t.Fatalf("unexpected error type: %v", err)
			}
			return
		}
		if !json.Valid([]byte(payload)) {
			t.Fatalf("accepted invalid JSON %q", payload)
		}
		if m.MediaType == "" || KindOf(m.MediaType) != m.Kind {
			t.Fatalf("kind %v does not match media type %q", m.Kind, m.MediaType)
		}
		var all []Descriptor
		switch m.Kind {
		case KindImage:
			if m.Config == nil {
				t.Fatal("image manifest without config accepted")
			}
			all = append(append(all, *m.Config), m.Layers...)
			if m.ArtifactType == "" && m.Config.MediaType != "" {
				t.Fatal("artifactType not defaulted to config media type")
			}
		case KindIndex:
			all = append(all, m.Manifests...)
		case KindOpaque:
			if m.Config != nil || m.Layers != nil || m.Manifests != nil || m.Subject != nil {
				t.Fatal("opaque manifest carries references")
			}
		}
		if m.Subject != nil {
			all = append(all, *m.Subject)
		}
		for _, d := range all {
			if _, err := ParseDigest(string(d.Digest)); err != nil || d.Size < 0 {
				t.Fatalf("accepted bad descriptor %+v", d)
			}
		}
	})
}
