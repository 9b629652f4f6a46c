package seed

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/ociref"
	"github.com/berth-dev/berth/internal/storage"
)

const refNameAnnotation = "org.opencontainers.image.ref.name"

// loadImage pushes the images of one seed entry into k through the images
// service (blobs streamed, verified and committed like a registry push).
// pushed reports whether any manifest was new to k.
func (a *applier) loadImage(ctx context.Context, k storage.RepoKey, img Image) (pushed bool, err error) {
	p := &pusher{svc: a.d.Images, k: k}
	switch {
	case img.OCILayout != "":
		err = p.layout(ctx, a.relative(img.OCILayout), img.Tags)
	default:
		err = p.dockerArchive(ctx, a.relative(img.DockerArchive), img.Tags)
	}
	return p.pushed, err
}

// relative resolves seed paths against the seed file's directory.
func (a *applier) relative(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(a.f.Path), p)
}

type pusher struct {
	svc    *images.Service
	k      storage.RepoKey
	pushed bool
}

// layout pushes every manifest the index.json of an OCI image layout names.
func (p *pusher) layout(ctx context.Context, dir string, tags []string) error {
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		return fmt.Errorf("ociLayout %s: not an OCI image layout (no index.json): %w", dir, err)
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return fmt.Errorf("ociLayout %s: %w", dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return fmt.Errorf("ociLayout %s: index.json: %w", dir, err)
	}
	if len(tags) > 0 && len(im.Manifests) != 1 {
		return fmt.Errorf("ociLayout %s names %d manifests; tags can only be given for a layout with one", dir, len(im.Manifests))
	}
	for _, d := range im.Manifests {
		want := tags
		if len(want) == 0 {
			if t := tagFromRefName(d.Annotations[refNameAnnotation]); t != "" {
				want = []string{t}
			}
		}
		if err := p.descriptor(ctx, idx, d, want); err != nil {
			return fmt.Errorf("ociLayout %s: %s: %w", dir, d.Digest, err)
		}
	}
	return nil
}

// tagFromRefName takes the tag out of a ref.name annotation, which is either
// a bare tag ("3.20") or a full reference ("docker.io/library/alpine:3.20").
func tagFromRefName(s string) string {
	if s == "" {
		return ""
	}
	if ociref.ValidateTag(s) == nil {
		return s
	}
	if r, err := name.NewTag(s, name.WeakValidation); err == nil {
		return r.TagStr()
	}
	return ""
}

// descriptor pushes the image or index d of idx (children first).
func (p *pusher) descriptor(ctx context.Context, idx v1.ImageIndex, d v1.Descriptor, tags []string) error {
	switch {
	case d.MediaType.IsIndex():
		child, err := idx.ImageIndex(d.Digest)
		if err != nil {
			return err
		}
		cm, err := child.IndexManifest()
		if err != nil {
			return err
		}
		for _, c := range cm.Manifests {
			if err := p.descriptor(ctx, child, c, nil); err != nil {
				return fmt.Errorf("%s: %w", c.Digest, err)
			}
		}
		raw, err := child.RawManifest()
		if err != nil {
			return err
		}
		return p.manifest(ctx, string(d.MediaType), raw, tags)
	case d.MediaType.IsImage():
		img, err := idx.Image(d.Digest)
		if err != nil {
			return err
		}
		return p.image(ctx, img, tags)
	default:
		// Artifacts with unusual manifest types still push as raw manifests
		// whose blobs must be present; berth's validation decides.
		return fmt.Errorf("unsupported manifest media type %q", d.MediaType)
	}
}

// dockerArchive pushes the images of a `docker save` tarball.
func (p *pusher) dockerArchive(ctx context.Context, file string, tags []string) error {
	opener := func() (io.ReadCloser, error) { return os.Open(file) }
	m, err := tarball.LoadManifest(opener)
	if err != nil {
		return fmt.Errorf("dockerArchive %s: not a docker save tarball: %w", file, err)
	}
	if len(tags) > 0 && len(m) != 1 {
		return fmt.Errorf("dockerArchive %s holds %d images; tags can only be given for an archive with one", file, len(m))
	}
	for i, entry := range m {
		var sel *name.Tag
		if len(m) > 1 {
			if len(entry.RepoTags) == 0 {
				return fmt.Errorf("dockerArchive %s: image %d has no RepoTags, so it cannot be selected among %d", file, i, len(m))
			}
			t, err := name.NewTag(entry.RepoTags[0], name.WeakValidation)
			if err != nil {
				return fmt.Errorf("dockerArchive %s: RepoTags %q: %w", file, entry.RepoTags[0], err)
			}
			sel = &t
		}
		img, err := tarball.Image(opener, sel)
		if err != nil {
			return fmt.Errorf("dockerArchive %s: %w", file, err)
		}
		want := tags
		if len(want) == 0 {
			for _, rt := range entry.RepoTags {
				if t := tagFromRefName(rt); t != "" {
					want = append(want, t)
				}
			}
		}
		if err := p.image(ctx, img, want); err != nil {
			return fmt.Errorf("dockerArchive %s: %w", file, err)
		}
	}
	return nil
}

// image pushes config and layers, then the manifest.
func (p *pusher) image(ctx context.Context, img v1.Image, tags []string) error {
	cfgName, err := img.ConfigName()
	if err != nil {
		return err
	}
	if err := p.blob(ctx, cfgName.String(), -1, func() (io.ReadCloser, error) {
		raw, err := img.RawConfigFile()
		if err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(raw)), nil
	}); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for i, l := range layers {
		dg, err := l.Digest()
		if err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
		size, err := l.Size()
		if err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
		if err := p.blob(ctx, dg.String(), size, l.Compressed); err != nil {
			return fmt.Errorf("layer %d (%s): %w", i, dg, err)
		}
	}
	mt, err := img.MediaType()
	if err != nil {
		return err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return err
	}
	return p.manifest(ctx, string(mt), raw, tags)
}

// blob uploads one blob unless the repository already has it; the stream
// is hashed and verified on its way to disk, never held in memory.
func (p *pusher) blob(ctx context.Context, dgs string, size int64, open func() (io.ReadCloser, error)) error {
	dg, err := digest.Parse(dgs)
	if err != nil {
		return err
	}
	if _, err := p.svc.StatBlob(ctx, p.k, dg); err == nil {
		return nil
	}
	id, err := p.svc.StartUpload(ctx, p.k)
	if err != nil {
		return err
	}
	err = p.svc.Upload(ctx, p.k, id, func(u storage.Upload) error {
		rc, err := open()
		if err != nil {
			return err
		}
		defer rc.Close()
		if _, err := u.Append(ctx, rc); err != nil {
			return err
		}
		_, err = p.svc.CommitUpload(ctx, p.k, u, dg, size)
		return err
	})
	if err != nil {
		_ = p.svc.CancelUpload(context.WithoutCancel(ctx), p.k, id)
	}
	return err
}

// manifest stores raw under its digest and tags. A tag that already points
// at this digest is left alone, so re-seeding an IMMUTABLE repository works.
func (p *pusher) manifest(ctx context.Context, mediaType string, raw []byte, tags []string) error {
	dg := digest.FromBytes(raw)
	var todo []string
	for _, t := range tags {
		m, err := p.svc.GetManifest(ctx, p.k, ociref.Reference{Tag: t})
		if err == nil && m.Digest == dg {
			continue
		}
		if err != nil && !apierr.HasCode(err, apierr.ManifestUnknown) {
			return err
		}
		todo = append(todo, t)
	}
	if len(todo) == 0 && len(tags) > 0 {
		return nil
	}
	if len(tags) == 0 {
		if _, err := p.svc.GetManifest(ctx, p.k, ociref.Reference{Digest: dg}); err == nil {
			return nil
		}
	}
	_, err := p.svc.PutManifest(ctx, p.k, images.PutManifestInput{
		Reference: ociref.Reference{Digest: dg}, Tags: todo, ContentType: mediaType, Payload: raw})
	if err != nil {
		return err
	}
	p.pushed = true
	return nil
}
