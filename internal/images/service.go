// Package images is the registry's domain service, shared by the /v2/
// distribution API and the ECR API: repositories as the registry sees them,
// manifests (validation, tags, referrers), blobs and upload sessions. It
// turns storage sentinels into apierr codes with ECR's wording, because
// only here is it known whether a missing row means "repository", "image"
// or "layer" to the caller. It does no authorization: callers decide who
// may call what, before calling.
package images

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/storage"
)

// DefaultMaxManifestBytes is the manifest size limit (ECR's PutImage limit).
const DefaultMaxManifestBytes = 4 << 20

// Service implements registry operations over a BlobStore and a MetaStore.
//
// Every write to manifests and tags in this process must go through Service
// (the ECR API included), because Service keeps an in-process cache of
// resolved manifests that it invalidates on its own writes. With several
// berth processes over one database (the scale-out backend), the cache must
// be disabled with WithManifestCache(0, 0) or given cross-process
// invalidation.
type Service struct {
	blobs       storage.BlobStore
	meta        storage.MetaStore
	log         *slog.Logger
	now         func() time.Time
	maxManifest int64
	cache       *manifestCache
	locks       keyedMutex
	clusterLock func(ctx context.Context, key string) (unlock func(), err error)
	newID       func() (string, error)
	mayKnow     func(ctx context.Context, k storage.RepoKey) bool
	onPush      func(ctx context.Context, k storage.RepoKey) (*storage.Repository, error)
}

// Option tunes a Service.
type Option func(*Service)

// WithMaxManifestBytes sets the largest manifest accepted.
func WithMaxManifestBytes(n int64) Option { return func(s *Service) { s.maxManifest = n } }

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger for background work (upload cleanup).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithManifestCache bounds the resolved-manifest cache; zero entries disables it.
func WithManifestCache(entries int, bytes int64) Option {
	return func(s *Service) { s.cache = newManifestCache(entries, bytes) }
}

// WithRegionHint lets RepositoryNotFound name the other regions where the
// account has the repository, but only those for which mayKnow (typically:
// the caller may ecr:DescribeRepositories there) says yes. Without it no hint
// is given: the existence of a repository is itself information.
func WithRegionHint(mayKnow func(ctx context.Context, k storage.RepoKey) bool) Option {
	return func(s *Service) { s.mayKnow = mayKnow }
}

// WithRepositoryDefaults makes CreateRepository (the create-on-push path)
// take its settings from settings(k): ECR applies repository creation
// templates to the repositories it creates on the caller's behalf, not to
// explicit CreateRepository calls (CreateRepositoryWith). settings returns
// nil for ECR's defaults; its Key and CreatedAt are ignored.
func WithRepositoryDefaults(settings func(ctx context.Context, k storage.RepoKey) (*storage.Repository, error)) Option {
	return func(s *Service) { s.onPush = settings }
}

// WithUploadLock adds a lock shared by every process on the same metadata
// (a PostgreSQL advisory lock) around each upload's chunks.
func WithUploadLock(lock func(ctx context.Context, key string) (unlock func(), err error)) Option {
	return func(s *Service) { s.clusterLock = lock }
}

// WithUploadIDs replaces the upload id generator (tests).
func WithUploadIDs(f func() (string, error)) Option { return func(s *Service) { s.newID = f } }

// New builds a Service.
func New(blobs storage.BlobStore, meta storage.MetaStore, opts ...Option) (*Service, error) {
	if blobs == nil || meta == nil {
		return nil, errors.New("images: blob store and metadata store are required")
	}
	s := &Service{
		blobs:       blobs,
		meta:        meta,
		log:         slog.New(slog.DiscardHandler),
		now:         time.Now,
		maxManifest: DefaultMaxManifestBytes,
		cache:       newManifestCache(16384, 128<<20),
		newID:       newUUID,
	}
	for _, o := range opts {
		o(s)
	}
	if s.maxManifest <= 0 {
		return nil, fmt.Errorf("images: max manifest size must be positive, got %d", s.maxManifest)
	}
	return s, nil
}

// MaxManifestBytes is the configured manifest size limit, for callers that
// read request bodies.
func (s *Service) MaxManifestBytes() int64 { return s.maxManifest }

// ---- Repositories ------------------------------------------------------------

// RepositoryNotFound builds ECR's NAME_UNKNOWN / RepositoryNotFoundException
// for k, naming the regions where the account does have the repository
// (ECR repositories are regional; the hint explains a pull from the wrong
// regional endpoint).
func (s *Service) RepositoryNotFound(ctx context.Context, k storage.RepoKey) error {
	msg := fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", k.Name, k.Account)
	if regions, err := s.meta.RepositoryRegions(ctx, k.Account, k.Name); err == nil && s.mayKnow != nil {
		var other []string
		for _, r := range regions {
			if r != k.Region && s.mayKnow(ctx, storage.RepoKey{Account: k.Account, Region: r, Name: k.Name}) {
				other = append(other, r)
			}
		}
		switch len(other) {
		case 0:
		case 1:
			msg += " (it exists in region " + other[0] + ")"
		default:
			msg += " (it exists in regions " + strings.Join(other, ", ") + ")"
		}
	}
	return apierr.New(apierr.NameUnknown, "%s", msg).WithDetail(map[string]string{"name": k.Name})
}

// Repository returns the repository or NameUnknown.
func (s *Service) Repository(ctx context.Context, k storage.RepoKey) (*storage.Repository, error) {
	r, err := s.meta.GetRepository(ctx, k)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, s.RepositoryNotFound(ctx, k)
	}
	if err != nil {
		return nil, fmt.Errorf("get repository %s: %w", k.Name, err)
	}
	return r, nil
}

// CheckRepository returns nil when k exists, else NameUnknown.
func (s *Service) CheckRepository(ctx context.Context, k storage.RepoKey) error {
	_, err := s.Repository(ctx, k)
	return err
}

// CreateRepository creates k as a push to a new name does: with the
// settings WithRepositoryDefaults gives, else ECR's defaults (mutable tags,
// AES256). An existing repository is not an error. Authorizing
// ecr:CreateRepository is the caller's job.
func (s *Service) CreateRepository(ctx context.Context, k storage.RepoKey) error {
	r := &storage.Repository{}
	if s.onPush != nil {
		d, err := s.onPush(ctx, k)
		if err != nil {
			return fmt.Errorf("repository settings for %s: %w", k.Name, err)
		}
		if d != nil {
			r = d
		}
	}
	r.Key, r.CreatedAt = k, s.now().UTC()
	if r.TagMutability == "" {
		r.TagMutability = "MUTABLE"
	}
	if r.EncryptionType == "" {
		r.EncryptionType = "AES256"
	}
	err := s.meta.CreateRepository(ctx, r)
	if err == nil || errors.Is(err, storage.ErrAlreadyExists) || apierr.HasCode(err, apierr.RepositoryAlreadyExists) {
		return nil
	}
	return translate("create repository "+k.Name, err)
}

// DeleteRepository deletes k (with force, including its images) and drops
// its cached manifests. The ECR API must delete through here.
func (s *Service) DeleteRepository(ctx context.Context, k storage.RepoKey, force bool) error {
	err := s.meta.DeleteRepository(ctx, k, force)
	s.cache.invalidate(k)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return s.RepositoryNotFound(ctx, k)
	case errors.Is(err, storage.ErrNotEmpty):
		return apierr.New(apierr.RepositoryNotEmpty,
			"The repository with name '%s' in registry with id '%s' cannot be deleted because it still contains images", k.Name, k.Account)
	}
	return err
}

// ListRepositories pages the repositories of one registry (account+region).
func (s *Service) ListRepositories(ctx context.Context, account, region string, p storage.Page) ([]storage.Repository, error) {
	return s.meta.ListRepositories(ctx, account, region, p)
}

// notFound distinguishes "no such repository" from "no such thing in an
// existing repository" after a lookup said ErrNotFound.
func (s *Service) notFound(ctx context.Context, k storage.RepoKey, thing error) error {
	if _, err := s.meta.GetRepository(ctx, k); errors.Is(err, storage.ErrNotFound) {
		return s.RepositoryNotFound(ctx, k)
	} else if err != nil {
		return err
	}
	return thing
}

// translate maps storage errors that already carry an apierr code through
// unchanged, reports a full disk as StorageFull and wraps anything else as
// internal.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := apierr.As(err); ok {
		return err
	}
	if diskFull(err) {
		return apierr.Wrap(apierr.StorageFull, fmt.Errorf("%s: %w", op, err), "the registry is out of storage space; nothing was stored, retry after space is freed")
	}
	return fmt.Errorf("%s: %w", op, err)
}

// sqliteFull is SQLITE_FULL, the primary result code SQLite returns when a
// write fails with ENOSPC (extended codes keep it in the low byte).
const sqliteFull = 13

// diskFull recognises ENOSPC/EDQUOT from any store and SQLite's "database or
// disk is full" without importing a driver: the SQLite driver's error
// exposes Code() int.
func diskFull(err error) bool {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == sqliteFull
}
