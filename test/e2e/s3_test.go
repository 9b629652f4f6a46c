//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/berth-dev/berth/internal/storage/s3blob/miniotest"
)

// startS3Berth starts MinIO with a fresh bucket and berth on it (--storage
// s3:// + the embedded SQLite metadata).
func startS3Berth(t *testing.T, extra ...string) (*Berth, *miniotest.Server, string) {
	t.Helper()
	minio, storage := startMinIOBucket(t)
	b := StartBerth(t, WithArgs(append([]string{"--storage", storage}, extra...)...))
	return b, minio, storage
}

// startMinIOBucket starts MinIO with a fresh bucket and returns it with the
// --storage URL of a berth on it (5 MiB parts, so layers span several).
func startMinIOBucket(t testing.TB) (*miniotest.Server, string) {
	t.Helper()
	minio := miniotest.Start(t)
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(minio.Endpoint())
		o.UsePathStyle = true
	})
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("berth-e2e")}); err != nil {
		t.Fatal(err)
	}
	return minio, fmt.Sprintf("s3://berth-e2e/reg?endpoint=%s&region=us-east-1&part_size=%d", minio.Endpoint(), 5<<20)
}

// verifyImage pulls every blob of img through berth; go-containerregistry
// checks each digest while reading.
func verifyImage(t *testing.T, b *Berth, repoTag string, want v1.Image) {
	t.Helper()
	got, err := remote.Image(b.ParseRef(t, repoTag), b.Remote(context.Background())...)
	if err != nil {
		t.Fatalf("pull %s: %v", repoTag, err)
	}
	if mustDigest(t, got) != mustDigest(t, want) {
		t.Fatalf("%s: manifest digest differs", repoTag)
	}
	layers, err := got.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatalf("%s: layer: %v", repoTag, err)
		}
		if err := rc.Close(); err != nil { // digest verification happens here
			t.Fatalf("%s: layer digest: %v", repoTag, err)
		}
	}
}

// TestS3StoragePushPull: berth on MinIO serves pushes (one layer spans
// several multipart parts) and pulls, skopeo copies between repositories,
// and the S3 server going away mid-push gives a retryable 5xx, corrupts
// nothing and the push succeeds once it is back.
func TestS3StoragePushPull(t *testing.T) {
	skopeo := requireTool(t, "skopeo")
	b, minio, _ := startS3Berth(t)
	img, err := random.Image(12<<20, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(b.ParseRef(t, "e2e/s3/app:v1"), img, b.Remote(context.Background())...); err != nil {
		t.Fatal(err)
	}
	verifyImage(t, b, "e2e/s3/app:v1", img)

	creds := rootCreds()
	mustRun(t, Cmd{Name: skopeo, Args: []string{"copy", "--src-creds", creds, "--dest-creds", creds,
		"--src-tls-verify=false", "--dest-tls-verify=false",
		"docker://" + b.Ref("e2e/s3/app:v1"), "docker://" + b.Ref("e2e/s3/copy:v1")}})
	out := mustRun(t, Cmd{Name: skopeo, Args: []string{"inspect", "--creds", creds, "--tls-verify=false", "docker://" + b.Ref("e2e/s3/copy:v1")}})
	var info struct{ Digest string }
	if err := json.Unmarshal([]byte(out), &info); err != nil || info.Digest != mustDigest(t, img).String() {
		t.Fatalf("skopeo inspect digest %q (%v), want %s", info.Digest, err, mustDigest(t, img))
	}

	t.Run("S3 outage mid-push", func(t *testing.T) {
		img2, err := random.Image(6<<20, 2)
		if err != nil {
			t.Fatal(err)
		}
		minio.Stop()
		err = remote.Write(b.ParseRef(t, "e2e/s3/outage:v1"), img2, b.Remote(context.Background())...)
		if err == nil {
			t.Fatal("push succeeded while S3 was down")
		}
		if !strings.Contains(err.Error(), "UNAVAILABLE") {
			t.Fatalf("push during outage failed with %v, want 503 UNAVAILABLE (retryable)", err)
		}
		minio.StartAgain()
		if err := remote.Write(b.ParseRef(t, "e2e/s3/outage:v1"), img2, b.Remote(context.Background())...); err != nil {
			t.Fatalf("push after S3 returned: %v", err)
		}
		verifyImage(t, b, "e2e/s3/outage:v1", img2)
		verifyImage(t, b, "e2e/s3/app:v1", img)
	})
}

// TestS3Redirect: with --s3-redirect a blob GET answers 307 to a presigned
// S3 URL that serves the bytes and honours Range; without credentials there
// is no redirect at all.
func TestS3Redirect(t *testing.T) {
	b, minio, _ := startS3Berth(t, "--s3-redirect")
	img := pushRandomImage(t, b, "e2e/s3/redir:v1", 1)
	layer := layerDigests(t, img)[0]
	url := b.URL() + "/v2/e2e/s3/redir/blobs/" + layer
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	anon, err := noFollow.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	anon.Body.Close()
	if anon.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous blob GET = %d, want 401", anon.StatusCode)
	}

	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.SetBasicAuth(RootAccessKeyID, RootSecretAccessKey)
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusTemporaryRedirect || !strings.HasPrefix(loc, minio.Endpoint()+"/berth-e2e/reg/blobs/sha256/") ||
		!strings.Contains(loc, "X-Amz-Expires=600") {
		t.Fatalf("blob GET = %d Location %q, want 307 to a presigned MinIO URL", resp.StatusCode, loc)
	}
	want := readLayer(t, img, layer)
	rreq, _ := http.NewRequest(http.MethodGet, loc, nil)
	rreq.Header.Set("Range", "bytes=100-199")
	rresp, err := http.DefaultClient.Do(rreq)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rresp.Body)
	rresp.Body.Close()
	if rresp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, want[100:200]) {
		t.Fatalf("ranged GET of the presigned URL = %d, %d bytes", rresp.StatusCode, len(body))
	}
	// A real client follows the redirect (and verifies the digest).
	verifyImage(t, b, "e2e/s3/redir:v1", img)
}

func readLayer(t *testing.T, img v1.Image, dg string) []byte {
	t.Helper()
	h, err := v1.NewHash(dg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := img.LayerByDigest(h)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
