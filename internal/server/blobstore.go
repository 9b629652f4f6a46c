package server

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/berth-dev/berth/internal/storage"
	"github.com/berth-dev/berth/internal/storage/fsblob"
	"github.com/berth-dev/berth/internal/storage/s3blob"
)

// openBlobStore picks the blob backend from cfg.Storage: "" (filesystem
// under the data directory) or s3://BUCKET/PREFIX?endpoint=&region=. S3
// keeps its resumable upload state in the metadata store, so meta must
// implement s3blob.SessionStore (sqlmeta and the PostgreSQL store do).
func openBlobStore(ctx context.Context, cfg Config, meta storage.MetaStore) (storage.BlobStore, error) {
	switch {
	case cfg.Storage == "" || cfg.Storage == "filesystem":
		return fsblob.New(filepath.Join(cfg.DataDir, "blobs"))
	case strings.HasPrefix(cfg.Storage, "s3://"):
		sc, err := s3blob.ParseURL(cfg.Storage)
		if err != nil {
			return nil, err
		}
		sessions, ok := meta.(s3blob.SessionStore)
		if !ok {
			return nil, fmt.Errorf("--storage s3:// needs a metadata store that keeps upload sessions; %T does not", meta)
		}
		// Part buffers are per node and need no durability: a crash loses
		// only the Append in flight, which the client repeats.
		sc.BufferDir = filepath.Join(cfg.DataDir, "s3-buffer")
		if cfg.S3Redirect {
			sc.RedirectTTL = s3blob.DefaultRedirectTTL
		}
		return s3blob.New(ctx, sc, sessions)
	default:
		return nil, fmt.Errorf("--storage %q: want empty (filesystem under --data) or s3://BUCKET/PREFIX?endpoint=URL&region=R", cfg.Storage)
	}
}
