package ecr_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/server"
)

const (
	account   = "111111111111"
	other     = "222222222222"
	region    = "us-east-1"
	rootKey   = "AKIAECRTESTROOT00001"
	rootSecre = "ecrTestRootSecretAccessKey00000000000000"
)

// env is one in-process berth (server.New over a temp dir, real stores)
// behind an httptest listener on 127.0.0.1.
type env struct {
	t    testing.TB
	srv  *server.Server
	http *httptest.Server
	url  string
	host string // 127.0.0.1:port
	root *ecrsdk.Client
}

func newEnv(t testing.TB) *env {
	t.Helper()
	s, err := server.New(t.Context(), server.Config{DataDir: t.TempDir(), AccountID: account, Region: region,
		RootAccessKeyID: rootKey, RootSecretKey: rootSecre,
		// Pull-through tests run their upstreams on loopback.
		PullThrough: server.PullThroughConfig{AllowUpstream: []string{"loopback"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		s.Close()
	})
	e := &env{t: t, srv: s, http: hs, url: hs.URL, host: strings.TrimPrefix(hs.URL, "http://")}
	e.root = e.client(rootKey, rootSecre, region)
	return e
}

// client is an aws-sdk-go-v2 ECR client for the given credentials; retries
// are off so that every error surfaces at once.
func (e *env) client(id, secret, reg string) *ecrsdk.Client {
	return e.clientAt(e.url, id, secret, reg, nil)
}

// clientAt talks to baseURL but dials the test listener whatever the
// host name (to exercise ACCOUNT.dkr.ecr.REGION.DOMAIN hosts).
func (e *env) clientAt(baseURL, id, secret, reg string, hc *http.Client) *ecrsdk.Client {
	if hc == nil {
		addr := e.host
		hc = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}}
	}
	cfg := aws.Config{Region: reg, Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""), HTTPClient: hc}
	return ecrsdk.NewFromConfig(cfg, func(o *ecrsdk.Options) {
		o.BaseEndpoint = aws.String(baseURL)
		o.Retryer = aws.NopRetryer{}
	})
}

// user creates an IAM user with AWS-managed policies (by name) and returns
// an ECR client signed with its new access key.
func (e *env) user(acct, name string, managed ...string) (*ecrsdk.Client, *iamsvc.AccessKey) {
	e.t.Helper()
	ctx := context.Background()
	ids := e.srv.Identity()
	if err := ids.EnsureAccount(ctx, acct); err != nil {
		e.t.Fatal(err)
	}
	if _, err := ids.CreateUser(ctx, acct, iamsvc.CreateUserInput{UserName: name}); err != nil {
		e.t.Fatal(err)
	}
	for _, m := range managed {
		if err := ids.AttachPolicy(ctx, acct, iamsvc.UserEntity, name, "arn:aws:iam::aws:policy/"+m); err != nil {
			e.t.Fatal(err)
		}
	}
	k, err := ids.CreateAccessKey(ctx, acct, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.client(k.AccessKeyID, k.SecretAccessKey, region), k
}

// accountRoot returns a client for the root user of another account.
func (e *env) accountRoot(acct string) *ecrsdk.Client {
	e.t.Helper()
	ctx := context.Background()
	if err := e.srv.Identity().EnsureAccount(ctx, acct); err != nil {
		e.t.Fatal(err)
	}
	k, err := e.srv.Identity().CreateAccessKey(ctx, acct, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return e.client(k.AccessKeyID, k.SecretAccessKey, region)
}

// secretsManager is a client of berth's own Secrets Manager API, as the
// root user.
func (e *env) secretsManager() *secretsmanager.Client {
	cfg := aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider(rootKey, rootSecre, "")}
	return secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
		o.BaseEndpoint = aws.String(e.url)
		o.Retryer = aws.NopRetryer{}
	})
}

// secret creates a Secrets Manager secret through berth's own Secrets
// Manager API (as the root user) and returns its ARN.
func (e *env) secret(name string) string {
	e.t.Helper()
	out, err := e.secretsManager().CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(`{"username":"u","accessToken":"t"}`)})
	if err != nil {
		e.t.Fatal(err)
	}
	return *out.ARN
}

// apiErr asserts err is the AWS exception code (and, when msg != "", that
// the message contains msg).
func apiErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	if msg != "" && !strings.Contains(ae.ErrorMessage(), msg) {
		t.Fatalf("%s message %q does not contain %q", code, ae.ErrorMessage(), msg)
	}
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// uploadLayer pushes blob through InitiateLayerUpload / UploadLayerPart
// (in parts of partSize) / CompleteLayerUpload.
func uploadLayer(t testing.TB, c *ecrsdk.Client, repo string, blob []byte, partSize int) string {
	t.Helper()
	ctx := context.Background()
	up := must[*ecrsdk.InitiateLayerUploadOutput](t)(c.InitiateLayerUpload(ctx, &ecrsdk.InitiateLayerUploadInput{RepositoryName: aws.String(repo)}))
	for off := 0; off < len(blob); off += partSize {
		end := min(off+partSize, len(blob))
		out := must[*ecrsdk.UploadLayerPartOutput](t)(c.UploadLayerPart(ctx, &ecrsdk.UploadLayerPartInput{
			RepositoryName: aws.String(repo), UploadId: up.UploadId,
			PartFirstByte: aws.Int64(int64(off)), PartLastByte: aws.Int64(int64(end - 1)), LayerPartBlob: blob[off:end],
		}))
		if *out.LastByteReceived != int64(end-1) {
			t.Fatalf("lastByteReceived %d, want %d", *out.LastByteReceived, end-1)
		}
	}
	dg := sha(blob)
	out := must[*ecrsdk.CompleteLayerUploadOutput](t)(c.CompleteLayerUpload(ctx, &ecrsdk.CompleteLayerUploadInput{
		RepositoryName: aws.String(repo), UploadId: up.UploadId, LayerDigests: []string{dg},
	}))
	if *out.LayerDigest != dg {
		t.Fatalf("layer digest %s, want %s", *out.LayerDigest, dg)
	}
	return dg
}

type testImage struct {
	manifest     []byte
	digest       string
	config       []byte
	layers       [][]byte
	layerDigests []string
}

// ociManifest builds an OCI image manifest over config and layers (whose
// blobs the caller uploads).
func ociManifest(t testing.TB, config []byte, layers ...[]byte) testImage {
	t.Helper()
	type desc struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int    `json:"size"`
	}
	m := struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		Config        desc   `json:"config"`
		Layers        []desc `json:"layers"`
	}{2, "application/vnd.oci.image.manifest.v1+json", desc{"application/vnd.oci.image.config.v1+json", sha(config), len(config)}, []desc{}}
	img := testImage{config: config, layers: layers}
	for _, l := range layers {
		m.Layers = append(m.Layers, desc{"application/vnd.oci.image.layer.v1.tar+gzip", sha(l), len(l)})
		img.layerDigests = append(img.layerDigests, sha(l))
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	img.manifest, img.digest = b, sha(b)
	return img
}

// pushImage uploads a fresh random image's blobs through the ECR layer API
// and PutImage's it under tag ("" = untagged).
func pushImage(t testing.TB, c *ecrsdk.Client, repo, tag string, layerSizes ...int) testImage {
	t.Helper()
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"nonce":"` + hex.EncodeToString(randomBytes(t, 8)) + `"}`)
	var layers [][]byte
	for _, n := range layerSizes {
		layers = append(layers, randomBytes(t, n))
	}
	img := ociManifest(t, cfg, layers...)
	uploadLayer(t, c, repo, cfg, 1<<20)
	for _, l := range layers {
		uploadLayer(t, c, repo, l, 1<<20)
	}
	in := &ecrsdk.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(string(img.manifest))}
	if tag != "" {
		in.ImageTag = aws.String(tag)
	}
	out := must[*ecrsdk.PutImageOutput](t)(c.PutImage(context.Background(), in))
	if *out.Image.ImageId.ImageDigest != img.digest {
		t.Fatalf("PutImage digest %s, want sha256 of the manifest bytes %s", *out.Image.ImageId.ImageDigest, img.digest)
	}
	return img
}

func createRepo(t testing.TB, c *ecrsdk.Client, name string) {
	t.Helper()
	must[*ecrsdk.CreateRepositoryOutput](t)(c.CreateRepository(context.Background(), &ecrsdk.CreateRepositoryInput{RepositoryName: aws.String(name)}))
}

// v2 does one /v2/ request with Basic auth.
func (e *env) v2(method, path, user, pass, contentType string, body []byte) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.SetBasicAuth(user, pass)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}
