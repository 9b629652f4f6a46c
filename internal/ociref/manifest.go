package ociref

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Media types berth understands structurally. Anything else that is a JSON
// object is stored and served verbatim (see ParseManifest).
const (
	MediaTypeOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeOCIIndex       = "application/vnd.oci.image.index.v1+json"
	MediaTypeDockerV2       = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerV1       = "application/vnd.docker.distribution.manifest.v1+json"
	MediaTypeDockerV1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
	MediaTypeOCIEmptyJSON   = "application/vnd.oci.empty.v1+json"
	MediaTypeOctetStream    = "application/octet-stream"
)

// ErrInvalidManifest wraps every manifest validation failure.
var ErrInvalidManifest = errors.New("invalid manifest")

// Kind is the structural family of a manifest.
type Kind int

const (
	// KindOpaque: a JSON document of a media type berth does not interpret
	// (schema 1, vendor types). It references nothing berth must check.
	KindOpaque Kind = iota
	KindImage       // OCI image manifest or Docker schema 2: config + layers
	KindIndex       // OCI index or Docker manifest list: child manifests
)

// Descriptor is an OCI content descriptor as found in manifests.
type Descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       digest.Digest     `json:"digest"`
	Size         int64             `json:"size"`
	URLs         []string          `json:"urls,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Data         []byte            `json:"data,omitempty"`
	Platform     json.RawMessage   `json:"platform,omitempty"`
}

// Manifest is what berth extracts from a manifest document. The document
// itself is always stored and served byte for byte.
type Manifest struct {
	Kind      Kind
	MediaType string // the effective media type, from Content-Type or the document
	// ArtifactType is the referrers API's value: artifactType, else the
	// config media type for image manifests.
	ArtifactType string
	Config       *Descriptor  // KindImage
	Layers       []Descriptor // KindImage
	Manifests    []Descriptor // KindIndex
	Subject      *Descriptor
	Annotations  map[string]string
}

// IsNonDistributable reports whether a layer may legitimately be absent from
// the registry: foreign/non-distributable layers are fetched from their URLs.
func IsNonDistributable(d Descriptor) bool {
	return len(d.URLs) > 0 ||
		strings.Contains(d.MediaType, ".nondistributable.") ||
		strings.HasPrefix(d.MediaType, "application/vnd.docker.image.rootfs.foreign.")
}

// KindOf classifies a media type.
func KindOf(mediaType string) Kind {
	switch mediaType {
	case MediaTypeOCIManifest, MediaTypeDockerV2:
		return KindImage
	case MediaTypeOCIIndex, MediaTypeDockerList:
		return KindIndex
	}
	return KindOpaque
}

type wireManifest struct {
	SchemaVersion *int              `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        *Descriptor       `json:"config"`
	Layers        []Descriptor      `json:"layers"`
	Manifests     []Descriptor      `json:"manifests"`
	Subject       *Descriptor       `json:"subject"`
	Annotations   map[string]string `json:"annotations"`
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidManifest, fmt.Sprintf(format, args...))
}

// ParseManifest validates payload as a manifest sent with contentType (the
// request's Content-Type, possibly empty) and returns what berth indexes.
//
// The effective media type is the Content-Type when it names a manifest
// type, otherwise the document's mediaType; both naming different known
// types is an error. Unknown types are accepted when the payload is a JSON
// object, as the distribution spec asks registries to do for new artifact
// types, and are served back with the same type.
func ParseManifest(contentType string, payload []byte) (*Manifest, error) {
	ct := baseMediaType(contentType)
	var w wireManifest
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, invalid("not a JSON manifest object: %v", err)
	}
	if t := bytes.TrimLeft(payload, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, invalid("not a JSON object")
	}
	mt, err := effectiveMediaType(ct, w)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Kind: KindOf(mt), MediaType: mt, ArtifactType: w.ArtifactType, Annotations: w.Annotations}
	if m.Kind == KindOpaque {
		return m, nil
	}
	if w.SchemaVersion == nil || *w.SchemaVersion != 2 {
		return nil, invalid("schemaVersion must be 2")
	}
	if w.Subject != nil {
		if err := checkDescriptor("subject", *w.Subject); err != nil {
			return nil, err
		}
		m.Subject = w.Subject
	}
	switch m.Kind {
	case KindImage:
		if w.Config == nil {
			return nil, invalid("config descriptor missing")
		}
		if err := checkDescriptor("config", *w.Config); err != nil {
			return nil, err
		}
		if w.Manifests != nil {
			return nil, invalid("an image manifest has no manifests list")
		}
		for i, l := range w.Layers {
			if err := checkDescriptor(fmt.Sprintf("layers[%d]", i), l); err != nil {
				return nil, err
			}
		}
		m.Config, m.Layers = w.Config, w.Layers
		if m.ArtifactType == "" {
			m.ArtifactType = w.Config.MediaType
		}
	case KindIndex:
		if w.Config != nil || w.Layers != nil {
			return nil, invalid("an index has no config or layers")
		}
		for i, c := range w.Manifests {
			if err := checkDescriptor(fmt.Sprintf("manifests[%d]", i), c); err != nil {
				return nil, err
			}
		}
		m.Manifests = w.Manifests
	}
	return m, nil
}

func effectiveMediaType(ct string, w wireManifest) (string, error) {
	bt := w.MediaType
	switch {
	case KindOf(ct) != KindOpaque:
		if bt != "" && bt != ct {
			return "", invalid("mediaType %q does not match Content-Type %q", bt, ct)
		}
		return ct, nil
	case KindOf(bt) != KindOpaque:
		return bt, nil
	case ct != "" && ct != MediaTypeOctetStream && ct != "application/x-www-form-urlencoded":
		return ct, nil
	case bt != "":
		return bt, nil
	}
	// No type anywhere: OCI manifests may omit mediaType, so infer it from
	// the structure the way the image spec's guidance for readers does.
	switch {
	case w.Config != nil:
		return MediaTypeOCIManifest, nil
	case w.Manifests != nil:
		return MediaTypeOCIIndex, nil
	}
	return "", invalid("cannot determine the manifest media type: no Content-Type and no mediaType field")
}

func checkDescriptor(where string, d Descriptor) error {
	if d.MediaType == "" {
		return invalid("%s: mediaType missing", where)
	}
	if !validMediaType(d.MediaType) {
		return invalid("%s: malformed mediaType %q", where, d.MediaType)
	}
	if _, err := ParseDigest(string(d.Digest)); err != nil {
		return invalid("%s: digest %q: %v", where, d.Digest, err)
	}
	if d.Size < 0 {
		return invalid("%s: negative size", where)
	}
	if d.Data != nil {
		if int64(len(d.Data)) != d.Size || d.Digest.Algorithm().FromBytes(d.Data) != d.Digest {
			return invalid("%s: data does not match digest and size", where)
		}
	}
	return nil
}

// validMediaType accepts RFC 6838 type/subtype names (parameters are not
// allowed inside descriptors).
func validMediaType(s string) bool {
	typ, sub, ok := strings.Cut(s, "/")
	return ok && restrictedName(typ) && restrictedName(sub)
}

func restrictedName(s string) bool {
	if len(s) == 0 || len(s) > 127 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
		if i == 0 && !alnum {
			return false
		}
		if !alnum && !strings.ContainsRune("!#$&-^_.+", rune(c)) {
			return false
		}
	}
	return true
}

// baseMediaType strips parameters and whitespace from a Content-Type.
func baseMediaType(ct string) string {
	if ct == "" {
		return ""
	}
	if i := strings.IndexByte(ct, ';'); i < 0 {
		return strings.TrimSpace(ct)
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		return mt
	}
	return strings.TrimSpace(ct[:strings.IndexByte(ct, ';')])
}
