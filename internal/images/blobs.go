package images

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/storage"
)

func blobUnknown(dg digest.Digest) error {
	return apierr.New(apierr.BlobUnknown, "blob unknown to registry").WithDetail(map[string]string{"digest": string(dg)})
}

// StatBlob returns the descriptor of a blob linked to k.
func (s *Service) StatBlob(ctx context.Context, k storage.RepoKey, dg digest.Digest) (storage.Descriptor, error) {
	d, err := s.meta.LinkedBlob(ctx, k, dg)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Descriptor{}, s.notFound(ctx, k, blobUnknown(dg))
	}
	if err != nil {
		return storage.Descriptor{}, translate("stat blob", err)
	}
	return d, nil
}

// OpenBlob opens a blob linked to k. The caller closes it. Filesystem blobs
// expose their *os.File (OSFile) so HTTP can use sendfile.
func (s *Service) OpenBlob(ctx context.Context, k storage.RepoKey, dg digest.Digest) (storage.Blob, storage.Descriptor, error) {
	d, err := s.StatBlob(ctx, k, dg)
	if err != nil {
		return nil, d, err
	}
	b, err := s.blobs.Open(ctx, dg)
	if errors.Is(err, storage.ErrNotFound) {
		// Linked but gone from the blob store: only an operator deleting
		// files causes this; report it as missing rather than failing.
		return nil, d, blobUnknown(dg)
	}
	if err != nil {
		return nil, d, fmt.Errorf("open blob %s: %w", dg, err)
	}
	return b, d, nil
}

// DeleteBlob unlinks a blob from k; the bytes stay until garbage collection
// finds no repository or manifest using them.
func (s *Service) DeleteBlob(ctx context.Context, k storage.RepoKey, dg digest.Digest) error {
	if _, err := s.StatBlob(ctx, k, dg); err != nil {
		return err
	}
	err := s.meta.UnlinkBlob(ctx, k, dg)
	if errors.Is(err, storage.ErrNotFound) {
		return blobUnknown(dg)
	}
	return translate("delete blob", err)
}

// MountBlob links a blob of from into to without copying bytes. BlobUnknown
// when from does not have it (callers fall back to a normal upload).
// Authorization for both repositories is the caller's job.
func (s *Service) MountBlob(ctx context.Context, from, to storage.RepoKey, dg digest.Digest) (storage.Descriptor, error) {
	d, err := s.meta.LinkedBlob(ctx, from, dg)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Descriptor{}, blobUnknown(dg)
	}
	if err != nil {
		return storage.Descriptor{}, translate("mount blob", err)
	}
	if err := s.meta.LinkBlob(ctx, to, d); err != nil {
		return storage.Descriptor{}, translate("link blob", err)
	}
	return d, nil
}

// BlobLinkLister is an optional MetaStore capability: the repositories of
// one registry that link a blob. Without it, BlobSources scans repositories.
type BlobLinkLister interface {
	BlobRepositories(ctx context.Context, account, region string, dg digest.Digest, limit int) ([]storage.RepoKey, error)
}

// maxMountScan bounds the fallback scan for anonymous mounts; a registry
// larger than this needs BlobLinkLister for mounts without "from".
const maxMountScan = 2000

// BlobSources lists up to limit repositories of account+region (other than
// exclude) that hold dg, for mounts without a "from" repository. The caller
// picks one it is allowed to read.
func (s *Service) BlobSources(ctx context.Context, account, region string, dg digest.Digest, exclude storage.RepoKey, limit int) ([]storage.RepoKey, error) {
	if l, ok := s.meta.(BlobLinkLister); ok {
		keys, err := l.BlobRepositories(ctx, account, region, dg, limit+1)
		if err != nil {
			return nil, err
		}
		out := keys[:0]
		for _, k := range keys {
			if k != exclude && len(out) < limit {
				out = append(out, k)
			}
		}
		return out, nil
	}
	if _, err := s.blobs.Stat(ctx, dg); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	var out []storage.RepoKey
	after := ""
	for scanned := 0; scanned < maxMountScan && len(out) < limit; {
		repos, err := s.meta.ListRepositories(ctx, account, region, storage.Page{After: after, Limit: 200})
		if err != nil {
			return nil, err
		}
		for _, r := range repos {
			scanned++
			if r.Key == exclude {
				continue
			}
			if _, err := s.meta.LinkedBlob(ctx, r.Key, dg); err == nil {
				out = append(out, r.Key)
				if len(out) >= limit {
					break
				}
			}
		}
		if len(repos) < 200 {
			break
		}
		after = repos[len(repos)-1].Key.Name
	}
	return out, nil
}
