package images

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/storage"
)

func uploadUnknown(id string) error {
	return apierr.New(apierr.BlobUploadUnknown, "blob upload unknown to registry").WithDetail(map[string]string{"uuid": id})
}

// StartUpload opens a resumable upload session in k and returns its id.
// The session is durable: it survives a restart until committed, cancelled
// or cleaned up as abandoned.
func (s *Service) StartUpload(ctx context.Context, k storage.RepoKey) (string, error) {
	id, err := s.newID()
	if err != nil {
		return "", err
	}
	// Data first, then the row naming its repository: a crash in between
	// leaves only an orphan directory that cleanup removes.
	u, err := s.blobs.Uploads().Create(ctx, id)
	if err != nil {
		return "", fmt.Errorf("create upload: %w", err)
	}
	_ = u.Close()
	if err := s.meta.CreateUpload(ctx, id, k, s.now().UTC()); err != nil {
		_ = s.blobs.Uploads().Remove(ctx, id)
		return "", translate("record upload", err)
	}
	return id, nil
}

// Upload runs fn with exclusive access to upload id of repository k;
// concurrent requests for the same id wait their turn, so chunks can never
// interleave. BlobUploadUnknown when the id is unknown or belongs to
// another repository.
func (s *Service) Upload(ctx context.Context, k storage.RepoKey, id string, fn func(storage.Upload) error) error {
	unlock, err := s.lockUpload(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.ownUpload(ctx, k, id); err != nil {
		return err
	}
	u, err := s.blobs.Uploads().Resume(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return uploadUnknown(id)
	}
	if err != nil {
		return fmt.Errorf("resume upload: %w", err)
	}
	defer u.Close()
	return fn(u)
}

// ownUpload is BlobUploadUnknown unless upload id exists and belongs to
// repository k: another repository's session id is as good as unknown.
func (s *Service) ownUpload(ctx context.Context, k storage.RepoKey, id string) error {
	owner, err := s.meta.GetUpload(ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && owner != k) {
		return uploadUnknown(id)
	}
	if err != nil {
		return translate("get upload", err)
	}
	return nil
}

// CommitUpload verifies u against expected (and size when >= 0), publishes
// the blob, links it to k and ends the session. Call it inside Upload.
// DigestInvalid / SizeInvalid leave the session open.
func (s *Service) CommitUpload(ctx context.Context, k storage.RepoKey, u storage.Upload, expected digest.Digest, size int64) (storage.Descriptor, error) {
	// The data is all here: finish even if the client hangs up now. A
	// cancelled link after a successful publish would leave the blob
	// unreachable and the session's data gone, so the client could neither
	// see its blob nor resume.
	ctx = context.WithoutCancel(ctx)
	d, err := u.Commit(ctx, expected, size)
	if err != nil {
		return storage.Descriptor{}, translate("commit upload", err)
	}
	if d.MediaType == "" {
		d.MediaType = "application/octet-stream"
	}
	if err := s.meta.LinkBlob(ctx, k, d); err != nil {
		return storage.Descriptor{}, translate("link blob", err)
	}
	s.endUpload(ctx, u.ID())
	return d, nil
}

// CancelUpload deletes an upload session and its data.
func (s *Service) CancelUpload(ctx context.Context, k storage.RepoKey, id string) error {
	unlock, err := s.lockUpload(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.ownUpload(ctx, k, id); err != nil {
		return err
	}
	if err := s.blobs.Uploads().Remove(ctx, id); err != nil {
		return fmt.Errorf("remove upload: %w", err)
	}
	if err := s.meta.DeleteUpload(ctx, id); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return translate("delete upload", err)
	}
	return nil
}

// endUpload drops a finished session; failures only leave garbage that
// CleanupUploads removes later.
func (s *Service) endUpload(ctx context.Context, id string) {
	if err := s.meta.DeleteUpload(ctx, id); err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.log.Warn("upload: deleting session row failed", "upload", id, "err", err)
	}
	if err := s.blobs.Uploads().Remove(ctx, id); err != nil {
		s.log.Warn("upload: removing session data failed", "upload", id, "err", err)
	}
}

// CleanupUploads removes sessions idle since before olderThan and returns
// how many it removed. Sessions in use are skipped via the per-id lock.
func (s *Service) CleanupUploads(ctx context.Context, olderThan time.Time) (int, error) {
	ids, err := s.blobs.Uploads().List(ctx, olderThan)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		unlock, err := s.lockUpload(ctx, id)
		if err != nil {
			return n, err
		}
		err = s.blobs.Uploads().Remove(ctx, id)
		if err == nil {
			err = s.meta.DeleteUpload(ctx, id)
			if errors.Is(err, storage.ErrNotFound) {
				err = nil
			}
		}
		unlock()
		if err != nil {
			s.log.Warn("upload cleanup failed", "upload", id, "err", err)
			continue
		}
		n++
	}
	return n, nil
}

// lockUpload serialises work on upload id: in this process with a keyed
// mutex, and across processes with the cluster lock when one is configured
// (WithUploadLock), so the chunks of one upload never interleave whichever
// nodes they reach.
func (s *Service) lockUpload(ctx context.Context, id string) (func(), error) {
	unlock := s.locks.lock(id)
	if s.clusterLock == nil {
		return unlock, nil
	}
	release, err := s.clusterLock(ctx, "upload:"+id)
	if err != nil {
		unlock()
		return nil, apierr.Wrap(apierr.Internal, err, "upload lock unavailable, retry")
	}
	return func() { release(); unlock() }, nil
}
