package s3blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/storage"
	"github.com/berth-dev/berth/internal/storage/s3blob"
	"github.com/berth-dev/berth/internal/storage/s3blob/miniotest"
	"github.com/berth-dev/berth/internal/storage/sqlmeta"
	"github.com/berth-dev/berth/internal/storage/storagetest"
)

const partSize = 5 << 20

// env is one MinIO server with one bucket; stores on it get their own
// prefix and session database per namespace.
type env struct {
	t     *testing.T
	minio *miniotest.Server
	dir   string
}

func newEnv(t *testing.T) *env {
	e := &env{t: t, minio: miniotest.Start(t), dir: t.TempDir()}
	s := e.open("bootstrap", false)
	if _, err := s.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("berth")}); err != nil {
		t.Fatal(err)
	}
	return e
}

// open returns a store on prefix ns whose sessions live in ns's SQLite file;
// two calls with the same ns are two nodes (or a restart) sharing state.
func (e *env) open(ns string, checkBucket bool) *s3blob.Store {
	e.t.Helper()
	meta, err := sqlmeta.Open(context.Background(), filepath.Join(e.dir, ns+".db"))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { meta.Close() })
	cfg := s3blob.Config{Bucket: "berth", Prefix: ns + "/", Endpoint: e.minio.Endpoint(), Region: "us-east-1",
		PathStyle: true, PartSize: partSize, BufferDir: e.t.TempDir(), RedirectTTL: s3blob.DefaultRedirectTTL}
	s, err := s3blob.NewUnchecked(context.Background(), cfg, meta)
	if err == nil && checkBucket {
		err = s.CheckBucket(context.Background())
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	e := newEnv(t)
	storagetest.RunBlobStore(t, func(t *testing.T, ns string) storage.BlobStore { return e.open(ns, true) })
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func appendAll(t *testing.T, u storage.Upload, data []byte) {
	t.Helper()
	if n, err := u.Append(context.Background(), bytes.NewReader(data)); err != nil || n != int64(len(data)) {
		t.Fatalf("append %d bytes = %d, %v", len(data), n, err)
	}
}

func readAll(t *testing.T, s storage.BlobStore, d digest.Digest) []byte {
	t.Helper()
	b, err := s.Open(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// A chunked upload alternates between two nodes with chunks smaller than a
// part, so parts are assembled from tails stored by the other node.
func TestChunkedUploadAcrossNodes(t *testing.T) {
	e := newEnv(t)
	nodes := []*s3blob.Store{e.open("shared", true), e.open("shared", true)}
	ctx := context.Background()
	data := randomBytes(t, 2*partSize+777)
	id := "cross-node"
	u, err := nodes[0].Uploads().Create(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	const chunk = 1<<20 + 13
	for i, off := 0, 0; off < len(data); i, off = i+1, off+chunk {
		u, err := nodes[i%2].Uploads().Resume(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if u.Size() != int64(off) {
			t.Fatalf("node %d resumed at %d, want %d", i%2, u.Size(), off)
		}
		appendAll(t, u, data[off:min(off+chunk, len(data))])
	}
	u, err = nodes[1].Uploads().Resume(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	d := digest.FromBytes(data)
	if _, err := u.Commit(ctx, d, int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, nodes[0], d); !bytes.Equal(got, data) {
		t.Fatal("blob read back differs")
	}
	// The session and its objects are gone.
	if _, err := nodes[0].Uploads().Resume(ctx, id); err == nil {
		t.Fatal("session survived its commit")
	}
	out, err := nodes[0].Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("berth"), Prefix: aws.String("shared/uploads/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 0 {
		t.Fatalf("%d upload objects left after commit", len(out.Contents))
	}
}

// Two nodes appending to one upload at the same offset: one wins, the other
// gets ErrConflict, and the winner's data is what gets committed.
func TestConcurrentAppendConflict(t *testing.T) {
	e := newEnv(t)
	a, b := e.open("cas", true), e.open("cas", true)
	ctx := context.Background()
	ua, err := a.Uploads().Create(ctx, "cas")
	if err != nil {
		t.Fatal(err)
	}
	ub, err := b.Uploads().Resume(ctx, "cas")
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, ua, []byte("winner"))
	if _, err := ub.Append(ctx, bytes.NewReader([]byte("loser"))); err == nil {
		t.Fatal("second writer at a stale version succeeded")
	}
	d := digest.FromString("winner")
	if _, err := ua.Commit(ctx, d, 6); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, a, d); string(got) != "winner" {
		t.Fatalf("got %q", got)
	}
}

// BlobURL presigns a GET that serves the blob and honours Range.
func TestPresignedRedirect(t *testing.T) {
	e := newEnv(t)
	s := e.open("redirect", true)
	ctx := context.Background()
	data := randomBytes(t, 100000)
	u, err := s.Uploads().Create(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, u, data)
	d := digest.FromBytes(data)
	if _, err := u.Commit(ctx, d, -1); err != nil {
		t.Fatal(err)
	}
	url, err := s.BlobURL(ctx, d)
	if err != nil || url == "" {
		t.Fatalf("BlobURL = %q, %v", url, err)
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Range", "bytes=10-19")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[10:20]) {
		t.Fatalf("ranged GET of presigned URL = %d %q", resp.StatusCode, body)
	}
}

// The S3 server goes away mid-push: Append and Commit fail with errors (the
// registry answers 500, which clients retry), the upload keeps its last
// acknowledged size, and after the server returns the same upload resumes
// and commits the exact bytes.
func TestS3OutageMidUpload(t *testing.T) {
	e := newEnv(t)
	s := e.open("outage", true)
	ctx := context.Background()
	data := randomBytes(t, partSize+partSize/2)
	u, err := s.Uploads().Create(ctx, "outage")
	if err != nil {
		t.Fatal(err)
	}
	half := len(data) / 2
	appendAll(t, u, data[:half])

	e.minio.Stop()
	if _, err := u.Append(ctx, bytes.NewReader(data[half:])); err == nil {
		t.Fatal("append succeeded with the S3 server down")
	}
	if u.Size() != int64(half) {
		t.Fatalf("size after failed append = %d, want %d", u.Size(), half)
	}
	d := digest.FromBytes(data)
	if _, err := s.Stat(ctx, d); err == nil || err == storage.ErrNotFound {
		t.Fatalf("Stat during outage = %v, want a transport error", err)
	}
	e.minio.StartAgain()

	u, err = s.Uploads().Resume(ctx, "outage")
	if err != nil {
		t.Fatal(err)
	}
	if u.Size() != int64(half) {
		t.Fatalf("resumed at %d, want %d", u.Size(), half)
	}
	appendAll(t, u, data[half:])
	if _, err := u.Commit(ctx, d, int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s, d); !bytes.Equal(got, data) {
		t.Fatal("blob after outage differs")
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    s3blob.Config
		wantErr bool
	}{
		{in: "s3://bucket", want: s3blob.Config{Bucket: "bucket", PartSize: 16 << 20}},
		{in: "s3://b/pre/fix/?endpoint=http://127.0.0.1:9000&region=eu-west-1",
			want: s3blob.Config{Bucket: "b", Prefix: "pre/fix/", Endpoint: "http://127.0.0.1:9000", Region: "eu-west-1", PathStyle: true, PartSize: 16 << 20}},
		{in: "s3://b?endpoint=https://s3.example&path_style=false&part_size=8388608",
			want: s3blob.Config{Bucket: "b", Endpoint: "https://s3.example", PartSize: 8 << 20}},
		{in: "s3://b?part_size=1024", wantErr: true},
		{in: "s3://b?endpoint=ftp://x", wantErr: true},
		{in: "s3://b?bogus=1", wantErr: true},
		{in: "s3:///prefix", wantErr: true},
		{in: "gs://b", wantErr: true},
	} {
		got, err := s3blob.ParseURL(tc.in)
		if tc.wantErr {
			if err == nil {
				t.Errorf("ParseURL(%q) = %+v, want error", tc.in, got)
			}
			continue
		}
		got.BufferDir = ""
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}
