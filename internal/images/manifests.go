package images

import (
	"context"
	"errors"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/ociref"
	"github.com/berth-dev/berth/internal/storage"
)

// imageNotFound is ECR's registry-API message for a missing tag or digest.
func imageNotFound(ref ociref.Reference) error {
	return apierr.New(apierr.ManifestUnknown, "Requested image not found").WithDetail(map[string]string{"reference": ref.String()})
}

// GetManifest resolves a tag or digest in k. The returned manifest may be
// shared with the cache and must not be modified.
func (s *Service) GetManifest(ctx context.Context, k storage.RepoKey, ref ociref.Reference) (*storage.Manifest, error) {
	key := ref.String()
	if m := s.cache.get(k, key); m != nil {
		return m, nil
	}
	gen := s.cache.generation()
	var m *storage.Manifest
	var err error
	if ref.IsDigest() {
		m, err = s.meta.GetManifest(ctx, k, ref.Digest)
	} else {
		m, err = s.meta.ResolveTag(ctx, k, ref.Tag)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, s.notFound(ctx, k, imageNotFound(ref))
	}
	if err != nil {
		return nil, translate("get manifest", err)
	}
	s.cache.put(k, key, m, gen)
	return m, nil
}

// PutManifestInput is one manifest push.
type PutManifestInput struct {
	// Reference is the tag or digest the manifest is pushed as: a digest is
	// verified against the payload with the digest's own algorithm (so
	// sha512 pushes work); a tag is tagged. Zero: untagged, sha256.
	Reference ociref.Reference
	// Tags are further tags to point at the manifest (OCI ?tag= parameters,
	// ECR imageTag).
	Tags []string
	// ContentType is the request's Content-Type (or ECR's imageManifestMediaType).
	ContentType string
	Payload     []byte
}

// PutManifestResult describes the stored manifest.
type PutManifestResult struct {
	Manifest *storage.Manifest
	Tags     []string // tags now pointing at the manifest from this push
}

// PutManifest validates and stores a manifest. The repository must exist
// (callers create it first when policy allows). Validation failures:
// ManifestInvalid (bad JSON/structure, oversized), DigestInvalid (payload
// does not hash to the pushed digest), TagInvalid, ManifestBlobUnknown
// (config/layer not in the repository), ReferencedImagesNotFound (index
// child missing), TagImmutable (from the store).
func (s *Service) PutManifest(ctx context.Context, k storage.RepoKey, in PutManifestInput) (*PutManifestResult, error) {
	if int64(len(in.Payload)) > s.maxManifest {
		return nil, apierr.New(apierr.ManifestInvalid, "manifest is %d bytes, larger than the %d byte limit", len(in.Payload), s.maxManifest)
	}
	var tags []string
	if in.Reference.Tag != "" {
		tags = append(tags, in.Reference.Tag)
	}
	for _, t := range in.Tags {
		if err := ociref.ValidateTag(t); err != nil {
			return nil, apierr.New(apierr.TagInvalid, "invalid tag %q", t)
		}
		if !contains(tags, t) {
			tags = append(tags, t)
		}
	}
	parsed, err := ociref.ParseManifest(in.ContentType, in.Payload)
	if err != nil {
		return nil, apierr.Wrap(apierr.ManifestInvalid, err, "%s", err.Error())
	}
	dg := digest.SHA256.FromBytes(in.Payload)
	if in.Reference.IsDigest() {
		alg := in.Reference.Digest.Algorithm()
		if alg != digest.SHA256 {
			dg = alg.FromBytes(in.Payload)
		}
		if dg != in.Reference.Digest {
			return nil, apierr.New(apierr.DigestInvalid, "manifest digest %s does not match the digest %s in the request", dg, in.Reference.Digest).
				WithDetail(map[string]string{"digest": string(in.Reference.Digest)})
		}
	}
	m := &storage.Manifest{
		Digest:       dg,
		MediaType:    parsed.MediaType,
		ArtifactType: parsed.ArtifactType,
		Payload:      in.Payload,
		Size:         int64(len(in.Payload)),
		Annotations:  parsed.Annotations,
		PushedAt:     s.now().UTC(),
	}
	if parsed.Subject != nil {
		m.Subject = parsed.Subject.Digest
	}
	if parsed.Config != nil {
		m.Blobs = append(m.Blobs, toStorage(*parsed.Config))
	}
	for _, l := range parsed.Layers {
		if !ociref.IsNonDistributable(l) {
			m.Blobs = append(m.Blobs, toStorage(l))
		}
	}
	for _, c := range parsed.Manifests {
		m.Manifests = append(m.Manifests, toStorage(c))
	}
	if err := s.checkReferences(ctx, k, m); err != nil {
		return nil, err
	}
	first := ""
	if len(tags) > 0 {
		first = tags[0]
	}
	err = s.meta.PutManifest(ctx, k, m, first)
	for i := 1; err == nil && i < len(tags); i++ {
		err = s.meta.PutManifest(ctx, k, m, tags[i])
	}
	s.cache.invalidate(k)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, s.notFound(ctx, k, apierr.New(apierr.ManifestBlobUnknown, "a blob referenced by the manifest is unknown to the repository"))
	}
	if err != nil {
		return nil, translate("put manifest", err)
	}
	return &PutManifestResult{Manifest: m, Tags: tags}, nil
}

// checkReferences gives precise errors for missing references before the
// store's transactional check (which remains the guarantee under races).
func (s *Service) checkReferences(ctx context.Context, k storage.RepoKey, m *storage.Manifest) error {
	for _, b := range m.Blobs {
		if _, err := s.meta.LinkedBlob(ctx, k, b.Digest); errors.Is(err, storage.ErrNotFound) {
			return apierr.New(apierr.ManifestBlobUnknown, "blob %s referenced by the manifest is unknown to repository %s", b.Digest, k.Name).
				WithDetail(map[string]string{"digest": string(b.Digest)})
		} else if err != nil {
			return translate("check blob", err)
		}
	}
	for _, c := range m.Manifests {
		if _, err := s.GetManifest(ctx, k, ociref.Reference{Digest: c.Digest}); apierr.HasCode(err, apierr.ManifestUnknown) {
			return apierr.New(apierr.ReferencedImagesNotFound, "manifest %s referenced by the index is unknown to repository %s", c.Digest, k.Name).
				WithDetail(map[string]string{"digest": string(c.Digest)})
		} else if err != nil {
			return err
		}
	}
	return nil
}

func toStorage(d ociref.Descriptor) storage.Descriptor {
	return storage.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size, ArtifactType: d.ArtifactType, Annotations: d.Annotations}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// DeleteManifest removes a manifest and every tag on it.
func (s *Service) DeleteManifest(ctx context.Context, k storage.RepoKey, dg digest.Digest) error {
	err := s.meta.DeleteManifest(ctx, k, dg)
	s.cache.invalidate(k)
	if errors.Is(err, storage.ErrNotFound) {
		return s.notFound(ctx, k, imageNotFound(ociref.Reference{Digest: dg}))
	}
	return translate("delete manifest", err)
}

// DeleteTag removes one tag; the manifest stays (untagged if it was the last).
func (s *Service) DeleteTag(ctx context.Context, k storage.RepoKey, tag string) error {
	err := s.meta.DeleteTag(ctx, k, tag)
	s.cache.invalidate(k)
	if errors.Is(err, storage.ErrNotFound) {
		return s.notFound(ctx, k, imageNotFound(ociref.Reference{Tag: tag}))
	}
	return translate("delete tag", err)
}

// ListTags returns up to limit tags after `after` in lexical order, and
// whether more follow. A missing repository is NameUnknown.
func (s *Service) ListTags(ctx context.Context, k storage.RepoKey, after string, limit int) ([]string, bool, error) {
	tags, err := s.meta.ListTags(ctx, k, storage.Page{After: after, Limit: limit + 1})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, false, s.RepositoryNotFound(ctx, k)
	}
	if err != nil {
		return nil, false, translate("list tags", err)
	}
	if len(tags) == 0 {
		if err := s.CheckRepository(ctx, k); err != nil {
			return nil, false, err
		}
	}
	more := len(tags) > limit
	if more {
		tags = tags[:limit]
	}
	return tags, more, nil
}

// ListManifests pages the images of a repository (ECR ListImages/DescribeImages).
func (s *Service) ListManifests(ctx context.Context, k storage.RepoKey, f storage.ImageFilter, p storage.Page) ([]storage.Manifest, error) {
	ms, err := s.meta.ListManifests(ctx, k, f, p)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, s.RepositoryNotFound(ctx, k)
	}
	if err != nil {
		return nil, translate("list manifests", err)
	}
	if len(ms) == 0 {
		if err := s.CheckRepository(ctx, k); err != nil {
			return nil, err
		}
	}
	return ms, nil
}

// Referrers lists manifests whose subject is dg, optionally filtered by
// artifact type. An unknown subject or repository has no referrers.
func (s *Service) Referrers(ctx context.Context, k storage.RepoKey, dg digest.Digest, artifactType string) ([]storage.Descriptor, error) {
	ds, err := s.meta.Referrers(ctx, k, dg, artifactType)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, translate("referrers", err)
	}
	// No repository check: the distribution spec forbids 404 from the
	// referrers API, so a missing repository simply has no referrers.
	return ds, nil
}
