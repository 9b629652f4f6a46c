package images

// Blob writes of the pull-through cache engine: a blob fetched from an
// upstream is stored through an ordinary upload session (so crash cleanup
// and digest verification are the same as for a push), and a blob that is
// already in the blob store is linked without fetching it again.

import (
	"context"
	"errors"
	"io"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/storage"
)

// ImportBlob streams r into the blob store as dg (verified against dg and
// size when size >= 0) and links it to k. Nothing is visible unless the
// whole content verified.
func (s *Service) ImportBlob(ctx context.Context, k storage.RepoKey, r io.Reader, dg digest.Digest, size int64) (storage.Descriptor, error) {
	id, err := s.StartUpload(ctx, k)
	if err != nil {
		return storage.Descriptor{}, err
	}
	var d storage.Descriptor
	err = s.Upload(ctx, k, id, func(u storage.Upload) error {
		if _, err := u.Append(ctx, r); err != nil {
			return translate("import blob", err)
		}
		d, err = s.CommitUpload(ctx, k, u, dg, size)
		return err
	})
	if err != nil {
		_ = s.CancelUpload(context.WithoutCancel(ctx), k, id)
	}
	return d, err
}

// AdoptBlob links dg to k when the blob store already holds it (another
// repository or node fetched it); ok is false when it does not.
func (s *Service) AdoptBlob(ctx context.Context, k storage.RepoKey, dg digest.Digest) (storage.Descriptor, bool, error) {
	if d, err := s.meta.LinkedBlob(ctx, k, dg); err == nil {
		return d, true, nil
	}
	size, err := s.blobs.Stat(ctx, dg)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Descriptor{}, false, nil
	}
	if err != nil {
		return storage.Descriptor{}, false, translate("stat blob", err)
	}
	d := storage.Descriptor{MediaType: "application/octet-stream", Digest: dg, Size: size}
	if err := s.meta.LinkBlob(ctx, k, d); err != nil {
		return storage.Descriptor{}, false, translate("link blob", err)
	}
	return d, true, nil
}
