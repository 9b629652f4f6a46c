// Package fsblob stores content-addressed blobs and resumable uploads on a
// local filesystem.
//
// Layout under root:
//
//	blobs/<algorithm>/<first two hex>/<hex>   committed blobs, read-only once linked
//	uploads/<id>/data                         bytes received so far
//	uploads/<id>/state                        size + serialised sha256 state (JSON)
//
// An upload becomes a blob by hard-linking its fsynced data file to the blob
// path, so a blob path either does not exist or names complete, verified
// content; there is no window in which a reader can see a partial blob.
package fsblob

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/storage"
)

const (
	dirPerm  = 0o700
	filePerm = 0o600
	// copyBufSize is large because per-syscall overhead dominates small
	// reads, and both the socket and sha256 run at GB/s.
	copyBufSize = 1 << 20
	tmpMarker   = ".tmp-"
)

// Store is a filesystem BlobStore. It is safe for concurrent use; concurrent
// commits of the same content are harmless because the second link fails with
// EEXIST and is treated as success.
type Store struct {
	root    string
	uploads *Uploads
}

var _ storage.BlobStore = (*Store)(nil)

// New opens (creating if needed) a store under root and removes temporary
// files a crash may have left behind.
func New(root string) (*Store, error) {
	if root == "" {
		return nil, errors.New("fsblob: empty root")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("fsblob: %w", err)
	}
	for _, d := range []string{
		filepath.Join(abs, "blobs", string(digest.SHA256)),
		filepath.Join(abs, "blobs", string(digest.SHA512)),
		filepath.Join(abs, "uploads"),
	} {
		if err := os.MkdirAll(d, dirPerm); err != nil {
			return nil, fmt.Errorf("fsblob: %w", err)
		}
	}
	s := &Store{root: abs}
	s.uploads = &Uploads{dir: filepath.Join(abs, "uploads"), blobPath: s.path}
	if err := s.removeTemps(); err != nil {
		return nil, err
	}
	return s, nil
}

// Root returns the absolute directory the store lives in.
func (s *Store) Root() string { return s.root }

// Uploads returns the upload store sharing this store's root.
func (s *Store) Uploads() storage.UploadStore { return s.uploads }

// removeTemps deletes half-written state files of a crashed process. Upload
// data itself is never a temp file: it is trimmed to the durable size on Resume.
func (s *Store) removeTemps() error {
	ents, err := os.ReadDir(s.uploads.dir)
	if err != nil {
		return fmt.Errorf("fsblob: %w", err)
	}
	for _, e := range ents {
		p := filepath.Join(s.uploads.dir, e.Name())
		if strings.Contains(e.Name(), tmpMarker) {
			_ = os.RemoveAll(p)
			continue
		}
		if !e.IsDir() {
			continue
		}
		inner, err := os.ReadDir(p)
		if err != nil {
			continue
		}
		for _, f := range inner {
			if strings.Contains(f.Name(), tmpMarker) {
				_ = os.Remove(filepath.Join(p, f.Name()))
			}
		}
	}
	return nil
}

// path maps a digest to its blob file. The digest is validated first so that
// the hex part can never contain path separators.
func (s *Store) path(d digest.Digest) (string, error) {
	if err := storage.CheckDigest(d); err != nil {
		return "", err
	}
	hex := d.Encoded()
	return filepath.Join(s.root, "blobs", string(d.Algorithm()), hex[:2], hex), nil
}

func newHash(a digest.Algorithm) hash.Hash {
	if a == digest.SHA512 {
		return sha512.New()
	}
	return sha256.New()
}

// noSpace reports a full filesystem (or an exhausted quota) as StorageFull,
// so the caller is told the registry is out of space instead of getting an
// internal error or, worse, being blamed for its request body.
func noSpace(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return apierr.Wrap(apierr.StorageFull, err, "the registry is out of storage space; nothing was stored, retry after space is freed")
	}
	return err
}

func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %w", storage.ErrNotFound, err)
	}
	return err
}

// Stat returns the size of a committed blob.
func (s *Store) Stat(ctx context.Context, d digest.Digest) (int64, error) {
	p, err := s.path(d)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return 0, notFound(err)
	}
	return fi.Size(), nil
}

// File is an open blob. It embeds *os.File so that, when passed directly to
// http.ServeContent, net/http finds the file's SyscallConn through io.CopyN's
// LimitedReader and serves the body with sendfile(2). Do not wrap it in
// another reader (that hides SyscallConn and falls back to a userspace copy).
type File struct {
	*os.File
	size int64
}

var _ storage.Blob = (*File)(nil)

// Size is the blob's length in bytes.
func (f *File) Size() int64 { return f.size }

// OSFile exposes the underlying file for callers that need it explicitly.
func (f *File) OSFile() *os.File { return f.File }

// Open returns a committed blob as a *File.
func (s *Store) Open(ctx context.Context, d digest.Digest) (storage.Blob, error) {
	p, err := s.path(d)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, notFound(err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{File: f, size: fi.Size()}, nil
}

// Delete removes a committed blob. Readers that already opened it keep
// reading the unlinked inode until they close it.
func (s *Store) Delete(ctx context.Context, d digest.Digest) error {
	p, err := s.path(d)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		return notFound(err)
	}
	return syncDir(filepath.Dir(p))
}

// syncDir makes directory entries (new links, renames, removals) durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
