package images

// Operations only the ECR API needs: repositories created with explicit
// settings, read-modify-write of repository settings, and the index-parent
// lookup behind BatchDeleteImage's ImageReferencedByManifestList. They live
// here (not in the ECR adapter) so that every write still passes through
// Service and its cache invalidation.

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/storage"
)

// CreateRepositoryWith creates r.Key with r's settings (empty mutability and
// encryption take ECR's defaults). An existing repository is
// RepositoryAlreadyExists with ECR's message.
func (s *Service) CreateRepositoryWith(ctx context.Context, r *storage.Repository) error {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now().UTC()
	}
	if r.TagMutability == "" {
		r.TagMutability = "MUTABLE"
	}
	if r.EncryptionType == "" {
		r.EncryptionType = "AES256"
	}
	err := s.meta.CreateRepository(ctx, r)
	if errors.Is(err, storage.ErrAlreadyExists) || apierr.HasCode(err, apierr.RepositoryAlreadyExists) {
		return apierr.New(apierr.RepositoryAlreadyExists,
			"The repository with name '%s' already exists in the registry with id '%s'", r.Key.Name, r.Key.Account)
	}
	if err != nil {
		return fmt.Errorf("create repository %s: %w", r.Key.Name, err)
	}
	return nil
}

// UpdateRepository applies change to the current settings of k and stores
// the result; concurrent updates of one repository in this process are
// serialised so that two settings changes cannot lose each other. change
// may return an error to abort. NameUnknown when k does not exist.
func (s *Service) UpdateRepository(ctx context.Context, k storage.RepoKey, change func(*storage.Repository) error) (*storage.Repository, error) {
	unlock := s.locks.lock("repo\x00" + k.Account + "\x00" + k.Region + "\x00" + k.Name)
	defer unlock()
	r, err := s.Repository(ctx, k)
	if err != nil {
		return nil, err
	}
	if err := change(r); err != nil {
		return nil, err
	}
	err = s.meta.UpdateRepository(ctx, r)
	if errors.Is(err, storage.ErrNotFound) || apierr.HasCode(err, apierr.NameUnknown) {
		return nil, s.RepositoryNotFound(ctx, k)
	}
	if err != nil {
		return nil, fmt.Errorf("update repository %s: %w", k.Name, err)
	}
	return r, nil
}

// ManifestParents lists the indexes in k that reference dg as a child.
func (s *Service) ManifestParents(ctx context.Context, k storage.RepoKey, dg digest.Digest) ([]digest.Digest, error) {
	ps, err := s.meta.ManifestParents(ctx, k, dg)
	if err != nil {
		return nil, translate("manifest parents", err)
	}
	return ps, nil
}
