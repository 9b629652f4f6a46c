package images

import (
	"context"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/storage"
)

// BlobRedirector is an optional BlobStore capability: a short-lived URL
// from which a client downloads the blob itself (S3 presigned GET), or ""
// when the store serves blobs through berth.
type BlobRedirector interface {
	BlobURL(ctx context.Context, dg digest.Digest) (string, error)
}

// BlobRedirectURL returns where a client may fetch a blob linked to k
// directly, or "" when it must be streamed. The link is checked first, so a
// URL is only ever issued for a blob the repository holds.
func (s *Service) BlobRedirectURL(ctx context.Context, k storage.RepoKey, dg digest.Digest) (string, error) {
	r, ok := s.blobs.(BlobRedirector)
	if !ok {
		return "", nil
	}
	if _, err := s.StatBlob(ctx, k, dg); err != nil {
		return "", err
	}
	return r.BlobURL(ctx, dg)
}
