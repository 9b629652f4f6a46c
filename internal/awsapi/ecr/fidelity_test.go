package ecr_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/smithy-go"
)

// apiErrExact asserts the exception code and the whole message: these are
// texts AWS clients and scripts match on.
func apiErrExact(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code || ae.ErrorMessage() != msg {
		t.Fatalf("got %s %q\nwant %s %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

// TestPutImageWithoutMediaType: ECR will not guess the type of a manifest
// that does not name it; the request must then carry imageManifestMediaType.
func TestPutImageWithoutMediaType(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createRepo(t, e.root, "helm/chart")
	cfg := []byte(`{"name":"chart","version":"1.0.0"}`)
	layer := randomBytes(t, 512)
	uploadLayer(t, e.root, "helm/chart", cfg, 1<<20)
	uploadLayer(t, e.root, "helm/chart", layer, 1<<20)
	manifest := `{"schemaVersion":2,"config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"` + sha(cfg) +
		`","size":` + strconv.Itoa(len(cfg)) + `},"layers":[{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":"` +
		sha(layer) + `","size":512}]}`
	const want = "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'"

	_, err := e.root.PutImage(ctx, &ecrsdk.PutImageInput{RepositoryName: aws.String("helm/chart"),
		ImageTag: aws.String("1.0.0"), ImageManifest: aws.String(manifest)})
	apiErrExact(t, err, "InvalidParameterException", want)
	imgs := must[*ecrsdk.ListImagesOutput](t)(e.root.ListImages(ctx, &ecrsdk.ListImagesInput{RepositoryName: aws.String("helm/chart")}))
	if len(imgs.ImageIds) != 0 {
		t.Fatalf("a refused PutImage stored %v", imgs.ImageIds)
	}

	// Malformed manifests get the same words (berth's reason goes to the log).
	for _, bad := range []string{`{"schemaVersion":2,`, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}`} {
		_, err = e.root.PutImage(ctx, &ecrsdk.PutImageInput{RepositoryName: aws.String("helm/chart"), ImageManifest: aws.String(bad)})
		apiErrExact(t, err, "InvalidParameterException", want)
	}

	out := must[*ecrsdk.PutImageOutput](t)(e.root.PutImage(ctx, &ecrsdk.PutImageInput{RepositoryName: aws.String("helm/chart"),
		ImageTag: aws.String("1.0.0"), ImageManifest: aws.String(manifest),
		ImageManifestMediaType: aws.String("application/vnd.oci.image.manifest.v1+json")}))
	if got := aws.ToString(out.Image.ImageManifestMediaType); got != "application/vnd.oci.image.manifest.v1+json" {
		t.Fatalf("stored media type %q", got)
	}
	if aws.ToString(out.Image.ImageId.ImageDigest) != sha([]byte(manifest)) || !strings.Contains(aws.ToString(out.Image.ImageManifest), "helm") {
		t.Fatalf("image %+v", out.Image)
	}
}
