// Package s3blob is the BlobStore on any S3-compatible object store
// (aws-sdk-go-v2). Blobs are content-addressed objects under a prefix;
// uploads stream into S3 multipart uploads whose resumable state (parts,
// hash state, buffered tail) lives in the metadata database, so a chunked
// upload started on one berth node continues on another.
//
// Layout under PREFIX:
//
//	blobs/<alg>/<hex[:2]>/<hex>    committed, verified content
//	uploads/<id>/data              multipart target, completed at commit
//	uploads/<id>/tail-<size>       bytes after the last full part, ending at <size>
//
// A blob becomes visible only through a single atomic S3 write (CopyObject or
// CompleteMultipartUpload of a copy) to its content key, issued after the
// digest was verified; a concurrent reader sees 404 or the whole blob.
package s3blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/storage"
)

// S3 limits that shape the upload mapping.
const (
	minPartSize     = 5 << 20 // every part but the last
	maxParts        = 10000
	maxCopyObject   = 5 << 30 // CopyObject's limit; larger blobs copy in parts
	copyPartSize    = 1 << 30
	defaultPartSize = 16 << 20
	// DefaultRedirectTTL is how long a presigned blob URL stays valid: long
	// enough for a client to start the download, short enough that a
	// leaked URL is useless soon (the connection may outlive it).
	DefaultRedirectTTL = 10 * time.Minute
)

// Config selects the bucket and tunes the upload mapping.
type Config struct {
	Bucket   string
	Prefix   string // "" or ends with "/"
	Endpoint string // "" = AWS
	Region   string
	// PathStyle addresses http://endpoint/bucket/key (MinIO and most
	// S3-compatible servers); default true when Endpoint is set.
	PathStyle bool
	// PartSize is the multipart part size (>= 5 MiB). Chunks are buffered
	// on local disk until a part is full.
	PartSize int64
	// BufferDir holds the on-disk part buffers (one file per active Append).
	BufferDir string
	// RedirectTTL > 0 makes BlobURL hand out presigned GET URLs.
	RedirectTTL time.Duration
}

// ParseURL parses s3://BUCKET/PREFIX?endpoint=URL&region=R[&path_style=0|1][&part_size=BYTES].
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("--storage %q: %w", raw, err)
	}
	if u.Scheme != "s3" || u.Host == "" {
		return Config{}, fmt.Errorf("--storage %q: want s3://BUCKET/PREFIX?endpoint=URL&region=R", raw)
	}
	q := u.Query()
	c := Config{Bucket: u.Host, Endpoint: q.Get("endpoint"), Region: q.Get("region"), PartSize: defaultPartSize}
	if p := strings.Trim(u.Path, "/"); p != "" {
		c.Prefix = p + "/"
	}
	c.PathStyle = c.Endpoint != ""
	if v := q.Get("path_style"); v != "" {
		if c.PathStyle, err = strconv.ParseBool(v); err != nil {
			return Config{}, fmt.Errorf("--storage: path_style=%q: %w", v, err)
		}
	}
	if v := q.Get("part_size"); v != "" {
		if c.PartSize, err = strconv.ParseInt(v, 10, 64); err != nil {
			return Config{}, fmt.Errorf("--storage: part_size=%q: %w", v, err)
		}
	}
	for k := range q {
		switch k {
		case "endpoint", "region", "path_style", "part_size":
		default:
			return Config{}, fmt.Errorf("--storage: unknown parameter %q (known: endpoint, region, path_style, part_size)", k)
		}
	}
	if c.Endpoint != "" {
		if e, err := url.Parse(c.Endpoint); err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" {
			return Config{}, fmt.Errorf("--storage: endpoint %q must be an http(s) URL", c.Endpoint)
		}
	}
	return c, c.validate()
}

func (c *Config) validate() error {
	if c.Bucket == "" {
		return errors.New("s3blob: bucket is required")
	}
	if c.PartSize == 0 {
		c.PartSize = defaultPartSize
	}
	if c.PartSize < minPartSize || c.PartSize > 5<<30 {
		return fmt.Errorf("s3blob: part size %d outside S3's 5 MiB..5 GiB", c.PartSize)
	}
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
		c.Prefix += "/"
	}
	if c.BufferDir == "" {
		c.BufferDir = os.TempDir()
	}
	return nil
}

// SessionStore keeps upload sessions in the metadata database (sqlmeta, and
// the PostgreSQL store) so that every node sees the same state. State is
// opaque to it; Update is a compare-and-swap on version.
type SessionStore interface {
	CreateBlobUploadSession(ctx context.Context, id string, state []byte, now time.Time) error // storage.ErrAlreadyExists
	BlobUploadSession(ctx context.Context, id string) (state []byte, version int64, err error) // storage.ErrNotFound
	UpdateBlobUploadSession(ctx context.Context, id string, version int64, state []byte, now time.Time) error
	DeleteBlobUploadSession(ctx context.Context, id string) error
	BlobUploadSessionsBefore(ctx context.Context, t time.Time) ([]string, error)
}

// Store is the S3 BlobStore. It is safe for concurrent use.
type Store struct {
	cfg      Config
	client   *s3.Client
	presign  *s3.PresignClient
	sessions SessionStore
	uploads  *Uploads
}

var _ storage.BlobStore = (*Store)(nil)

// New connects with credentials from the default AWS chain (env, shared
// files, web identity, IMDS) and checks that the bucket is reachable.
func New(ctx context.Context, cfg Config, sessions SessionStore) (*Store, error) {
	s, err := NewUnchecked(ctx, cfg, sessions)
	if err != nil {
		return nil, err
	}
	return s, s.CheckBucket(ctx)
}

// CheckBucket fails with a clear error when the bucket is unreachable.
func (s *Store) CheckBucket(ctx context.Context) error {
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.cfg.Bucket)}); err != nil {
		return fmt.Errorf("s3blob: bucket %q at %s: %w", s.cfg.Bucket, endpointName(s.cfg), err)
	}
	return nil
}

// NewUnchecked is New without the bucket check (for tools that create it).
func NewUnchecked(ctx context.Context, cfg Config, sessions SessionStore) (*Store, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3blob: AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// Parts are signed with their SHA-256 (SigV4 payload hash), which
		// already protects them in transit; extra CRC trailers only break
		// S3-compatible servers that lack them.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	if err := os.MkdirAll(cfg.BufferDir, 0o700); err != nil {
		return nil, fmt.Errorf("s3blob: buffer directory: %w", err)
	}
	s := &Store{cfg: cfg, client: client, presign: s3.NewPresignClient(client), sessions: sessions}
	s.uploads = &Uploads{s: s}
	return s, nil
}

func endpointName(c Config) string {
	if c.Endpoint == "" {
		return "AWS S3"
	}
	return c.Endpoint
}

// Client is the underlying S3 client (for tools and tests).
func (s *Store) Client() *s3.Client { return s.client }

// Config returns the effective configuration.
func (s *Store) Config() Config { return s.cfg }

// BlobKey is the object key of a committed blob; d must be valid.
func (s *Store) BlobKey(d digest.Digest) string {
	hex := d.Encoded()
	return s.cfg.Prefix + "blobs/" + string(d.Algorithm()) + "/" + hex[:2] + "/" + hex
}

func (s *Store) uploadPrefix(id string) string { return s.cfg.Prefix + "uploads/" + id + "/" }

func (s *Store) Stat(ctx context.Context, d digest.Digest) (int64, error) {
	if err := storage.CheckDigest(d); err != nil {
		return 0, err
	}
	return s.head(ctx, s.BlobKey(d), d)
}

func (s *Store) head(ctx context.Context, key string, what any) (int64, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.cfg.Bucket, Key: &key})
	if err != nil {
		if isNotFound(err) {
			return 0, fmt.Errorf("blob %v: %w", what, storage.ErrNotFound)
		}
		return 0, unavailable(err, "head %s", key)
	}
	return aws.ToInt64(out.ContentLength), nil
}

// Open returns a lazily-fetched blob: each read after a seek issues one
// ranged GET, so http.ServeContent's Range handling costs one request.
func (s *Store) Open(ctx context.Context, d digest.Digest) (storage.Blob, error) {
	if err := storage.CheckDigest(d); err != nil {
		return nil, err
	}
	key := s.BlobKey(d)
	size, err := s.head(ctx, key, d)
	if err != nil {
		return nil, err
	}
	return &object{ctx: ctx, s: s, key: key, size: size}, nil
}

func (s *Store) Delete(ctx context.Context, d digest.Digest) error {
	if err := storage.CheckDigest(d); err != nil {
		return err
	}
	key := s.BlobKey(d)
	if _, err := s.head(ctx, key, d); err != nil {
		return err
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.cfg.Bucket, Key: &key}); err != nil {
		return unavailable(err, "delete %s", key)
	}
	return nil
}

func (s *Store) Uploads() storage.UploadStore { return s.uploads }

// BlobURL returns a presigned GET URL for a committed blob valid for the
// configured RedirectTTL, or "" when redirects are off. The caller has
// already checked that the blob exists and the requester may read it.
func (s *Store) BlobURL(ctx context.Context, d digest.Digest) (string, error) {
	if s.cfg.RedirectTTL <= 0 {
		return "", nil
	}
	if err := storage.CheckDigest(d); err != nil {
		return "", err
	}
	key := s.BlobKey(d)
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: &key},
		s3.WithPresignExpires(s.cfg.RedirectTTL))
	if err != nil {
		return "", unavailable(err, "presign %s", key)
	}
	return req.URL, nil
}

// Walk calls fn for every committed blob with its size and last-modified
// time (for garbage collection's orphan sweep), in key order.
func (s *Store) Walk(ctx context.Context, fn func(d digest.Digest, size int64, modified time.Time) error) error {
	prefix := s.cfg.Prefix + "blobs/"
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.cfg.Bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return unavailable(err, "list blobs")
		}
		for _, o := range page.Contents {
			rest := strings.TrimPrefix(aws.ToString(o.Key), prefix)
			alg, tail, _ := strings.Cut(rest, "/")
			_, hex, _ := strings.Cut(tail, "/")
			d := digest.NewDigestFromEncoded(digest.Algorithm(alg), hex)
			if d.Validate() != nil {
				continue // not ours
			}
			if err := fn(d, aws.ToInt64(o.Size), aws.ToTime(o.LastModified)); err != nil {
				return err
			}
		}
	}
	return nil
}

func isNotFound(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NotFound", "NoSuchKey", "NoSuchUpload":
			return true
		}
	}
	return false
}

// object is an open blob; Read issues a ranged GET from the current offset
// on first use after a Seek.
type object struct {
	ctx  context.Context
	s    *Store
	key  string
	size int64
	off  int64
	body interface {
		Read([]byte) (int, error)
		Close() error
	}
}

func (o *object) Size() int64 { return o.size }

func (o *object) Read(p []byte) (int, error) {
	if o.off >= o.size {
		return 0, io.EOF
	}
	if o.body == nil {
		rng := "bytes=" + strconv.FormatInt(o.off, 10) + "-"
		out, err := o.s.client.GetObject(o.ctx, &s3.GetObjectInput{Bucket: &o.s.cfg.Bucket, Key: &o.key, Range: &rng})
		if err != nil {
			return 0, unavailable(err, "get %s", o.key)
		}
		o.body = out.Body
	}
	n, err := o.body.Read(p)
	o.off += int64(n)
	if err == io.EOF && o.off < o.size {
		err = fmt.Errorf("s3blob: get %s: body ended at %d of %d bytes", o.key, o.off, o.size)
	}
	return n, err
}

func (o *object) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case 0:
		abs = offset
	case 1:
		abs = o.off + offset
	case 2:
		abs = o.size + offset
	default:
		return 0, errors.New("s3blob: invalid whence")
	}
	if abs < 0 {
		return 0, errors.New("s3blob: negative position")
	}
	if abs != o.off && o.body != nil {
		o.body.Close()
		o.body = nil
	}
	o.off = abs
	return abs, nil
}

func (o *object) Close() error {
	if o.body != nil {
		err := o.body.Close()
		o.body = nil
		return err
	}
	return nil
}

// unavailable marks a failed S3 call: the client sees a retryable 503
// (UNAVAILABLE), the log sees the cause.
func unavailable(err error, format string, args ...any) error {
	cause := fmt.Errorf("s3blob: "+format+": %w", append(args, err)...)
	return apierr.Wrap(apierr.StorageUnavailable, cause, "the blob store is unavailable, retry later")
}
