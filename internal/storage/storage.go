// Package storage declares what berth needs from its persistence layers and the
// domain types they exchange. Implementations: fsblob (filesystem blobs) and
// sqlmeta (SQLite metadata); S3 + PostgreSQL follow for scale-out, so nothing
// here may assume a local filesystem or a single process.
//
// Crash-safety contract shared by every implementation: blob bytes become
// visible only after they are durable and verified, and metadata rows are
// written after the blobs they reference, in one transaction per logical
// change. A crash can leave orphan blobs (garbage collection removes them) but
// never a tag pointing at a missing manifest or a manifest at a missing blob.
package storage

import (
	"context"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
)

// RepoKey identifies a repository: ECR repositories live in an account and a
// region, and the same name in two regions is two repositories.
type RepoKey struct {
	Account string // 12 digits
	Region  string // e.g. us-east-1
	Name    string // e.g. team/app
}

// Descriptor is the subset of an OCI descriptor berth indexes.
type Descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       digest.Digest     `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// ---- Blobs ----------------------------------------------------------------

// Blob is an open, seekable blob. Filesystem implementations return a type
// that wraps *os.File so that net/http can use sendfile; callers should pass
// Blob to http.ServeContent and not wrap it.
type Blob interface {
	io.ReadSeekCloser
	Size() int64
}

// BlobStore holds content-addressed blobs shared by all repositories; access
// control per repository is a metadata concern (blob links).
type BlobStore interface {
	// Stat returns the size of a committed blob, or ErrNotFound.
	Stat(ctx context.Context, d digest.Digest) (int64, error)
	// Open returns a committed blob, or ErrNotFound.
	Open(ctx context.Context, d digest.Digest) (Blob, error)
	// Delete removes a committed blob; used only by garbage collection.
	Delete(ctx context.Context, d digest.Digest) error
	// Uploads returns the store for in-progress uploads.
	Uploads() UploadStore
}

// UploadStore keeps resumable upload sessions. Upload data and the running
// hash state survive a restart of the process after every successful Append,
// so an upload resumes without re-reading earlier chunks. Durability against
// power loss is only promised at Commit; after one, Resume reports the size
// that really survived and the client continues from there.
type UploadStore interface {
	// Create starts an empty upload with the given id (a random UUID chosen by the caller).
	Create(ctx context.Context, id string) (Upload, error)
	// Resume reopens an upload created earlier, possibly by a previous process; ErrNotFound if unknown.
	Resume(ctx context.Context, id string) (Upload, error)
	// Remove deletes an upload's data (cancel, or cleanup after commit); missing uploads are not an error.
	Remove(ctx context.Context, id string) error
	// List returns ids of uploads last touched before olderThan, for cleanup of abandoned sessions.
	List(ctx context.Context, olderThan time.Time) ([]string, error)
}

// Upload is one in-progress upload. It is not safe for concurrent use; the
// caller serialises requests for one upload id.
type Upload interface {
	ID() string
	// Size is the number of bytes received so far (after Resume: that survived).
	Size() int64
	// Append streams r to the end of the upload, hashing as it goes, then
	// records the new size and hash state. On error the upload is left at
	// its previous size (partial data is truncated away).
	Append(ctx context.Context, r io.Reader) (int64, error)
	// Commit verifies that the content hashes to expected (sha256 or sha512)
	// and that the size matches when size >= 0, makes it durable, then moves
	// it into the blob store atomically. Digest mismatch returns an apierr DigestInvalid error
	// and leaves the upload intact; SizeInvalid likewise.
	Commit(ctx context.Context, expected digest.Digest, size int64) (Descriptor, error)
	// Close releases resources without deleting anything.
	Close() error
}

// ---- Metadata -------------------------------------------------------------

// Repository is a repository's metadata; ECR settings live here too.
type Repository struct {
	Key                RepoKey
	CreatedAt          time.Time
	TagMutability      string // MUTABLE | IMMUTABLE | IMMUTABLE_WITH_EXCLUSION | MUTABLE_WITH_EXCLUSION
	MutabilityFilters  []string
	ScanOnPush         bool
	EncryptionType     string // AES256 | KMS | KMS_DSSE
	KMSKey             string
	Tags               map[string]string // resource tags (ecr:ResourceTag/*)
	Policy             string            // repository policy JSON, "" when none
	LifecyclePolicy    string
	LifecycleEvaluated time.Time
}

// Manifest is a stored manifest. Payload is bounded (4 MiB by default) and
// kept with the metadata so that a manifest GET is one lookup.
type Manifest struct {
	Digest       digest.Digest
	MediaType    string
	ArtifactType string // artifactType, or config.mediaType for image manifests
	Payload      []byte
	Size         int64
	Subject      digest.Digest // "" when the manifest has no subject
	Annotations  map[string]string
	// References: config + layers for image manifests, children for indexes.
	Blobs     []Descriptor // config + layers (must be linked blobs of the repository)
	Manifests []Descriptor // index children (must be manifests of the repository)
	PushedAt  time.Time
	Tags      []string // filled by reads that say so; ignored by PutManifest
}

// ImageFilter selects images for listings.
type ImageFilter int

const (
	AnyImages ImageFilter = iota
	TaggedImages
	UntaggedImages
)

// Page asks for one page of a listing: entries strictly after After, at most Limit (<=0: implementation default).
type Page struct {
	After string
	Limit int
}

// MetaStore is the registry's metadata. Every method that changes more than
// one row does so in one transaction.
type MetaStore interface {
	// Repositories.
	CreateRepository(ctx context.Context, r *Repository) error // ErrAlreadyExists
	GetRepository(ctx context.Context, k RepoKey) (*Repository, error)
	UpdateRepository(ctx context.Context, r *Repository) error
	// DeleteRepository removes the repository; with force=false it fails with ErrNotEmpty when images exist.
	DeleteRepository(ctx context.Context, k RepoKey, force bool) error
	// ListRepositories lists repositories of one account+region ordered by name (Region "" = all regions, Account "" = all accounts).
	ListRepositories(ctx context.Context, account, region string, p Page) ([]Repository, error)
	// RepositoryRegions lists the regions in which account has a repository named name
	// (for "not found here, but exists in eu-west-2" diagnostics).
	RepositoryRegions(ctx context.Context, account, name string) ([]string, error)

	// Blob links: a blob is readable through a repository once linked to it.
	LinkBlob(ctx context.Context, k RepoKey, d Descriptor) error
	LinkedBlob(ctx context.Context, k RepoKey, dg digest.Digest) (Descriptor, error) // ErrNotFound
	UnlinkBlob(ctx context.Context, k RepoKey, dg digest.Digest) error

	// PutManifest stores m, checks (in the same transaction) that every
	// referenced blob is linked and every child manifest exists (ErrBlobUnknown /
	// ErrManifestUnknown wrapped in apierr errors), records the subject for
	// the referrers API, and points tag at it when tag != "". Immutability is
	// enforced here: moving an existing tag in an IMMUTABLE repository fails
	// with apierr.TagImmutable.
	PutManifest(ctx context.Context, k RepoKey, m *Manifest, tag string) error
	GetManifest(ctx context.Context, k RepoKey, dg digest.Digest) (*Manifest, error) // ErrNotFound
	ResolveTag(ctx context.Context, k RepoKey, tag string) (*Manifest, error)        // ErrNotFound
	// DeleteManifest removes the manifest and every tag pointing at it.
	DeleteManifest(ctx context.Context, k RepoKey, dg digest.Digest) error
	DeleteTag(ctx context.Context, k RepoKey, tag string) error
	ListTags(ctx context.Context, k RepoKey, p Page) ([]string, error)
	// ListManifests pages manifests by digest, each with its Tags filled (Payload may be nil).
	ListManifests(ctx context.Context, k RepoKey, f ImageFilter, p Page) ([]Manifest, error)
	// Referrers returns descriptors of manifests whose subject is dg, filtered by artifactType when non-empty.
	Referrers(ctx context.Context, k RepoKey, dg digest.Digest, artifactType string) ([]Descriptor, error)
	// ManifestParents returns the digests of indexes in k that list dg as a child
	// (so a caller can refuse to delete a manifest an index still references).
	ManifestParents(ctx context.Context, k RepoKey, dg digest.Digest) ([]digest.Digest, error)

	// Uploads: which repository an upload session belongs to (data lives in the UploadStore).
	CreateUpload(ctx context.Context, id string, k RepoKey, started time.Time) error
	GetUpload(ctx context.Context, id string) (RepoKey, error) // ErrNotFound
	DeleteUpload(ctx context.Context, id string) error

	Close() error
}
