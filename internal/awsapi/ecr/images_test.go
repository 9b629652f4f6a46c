package ecr_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func rootAuth() remote.Option {
	return remote.WithAuth(&authn.Basic{Username: rootKey, Password: rootSecre})
}

// TestPushViaECRPullViaV2 pushes with the layer-upload operations and
// PutImage, then pulls the same image through /v2/ with go-containerregistry.
func TestPushViaECRPullViaV2(t *testing.T) {
	e := newEnv(t)
	createRepo(t, e.root, "team/app")
	// 2.5 MiB in 1 MiB parts: three UploadLayerPart calls.
	img := pushImage(t, e.root, "team/app", "v1", 5<<19, 300)

	ref, err := name.ParseReference(e.host+"/team/app:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := remote.Image(ref, rootAuth())
	if err != nil {
		t.Fatal(err)
	}
	dg, err := pulled.Digest()
	if err != nil || dg.String() != img.digest {
		t.Fatalf("/v2/ digest %v %v, want %s", dg, err, img.digest)
	}
	layers, err := pulled.Layers()
	if err != nil || len(layers) != 2 {
		t.Fatalf("layers %v %v", layers, err)
	}
	for i, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || sha(b) != img.layerDigests[i] {
			t.Fatalf("layer %d bytes differ (%v)", i, err)
		}
	}
}

// TestPushViaV2ReadViaECR pushes with go-containerregistry through /v2/ and
// reads the image back with BatchGetImage, DescribeImages, ListImages,
// BatchCheckLayerAvailability and GetDownloadUrlForLayer (fetched with a
// plain http.Get).
func TestPushViaV2ReadViaECR(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createRepo(t, e.root, "web")
	img, err := random.Image(4096, 3)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(e.host+"/web:1.0", name.Insecure)
	if err := remote.Write(ref, img, rootAuth()); err != nil {
		t.Fatal(err)
	}
	dg, _ := img.Digest()
	raw, _ := img.RawManifest()
	mt, _ := img.MediaType()

	got := must[*ecrsdk.BatchGetImageOutput](t)(e.root.BatchGetImage(ctx, &ecrsdk.BatchGetImageInput{
		RepositoryName: aws.String("web"),
		ImageIds:       []types.ImageIdentifier{{ImageTag: aws.String("1.0")}, {ImageDigest: aws.String(dg.String())}, {ImageTag: aws.String("nope")}},
	}))
	if len(got.Images) != 2 || *got.Images[0].ImageManifest != string(raw) || *got.Images[0].ImageId.ImageDigest != dg.String() ||
		*got.Images[0].ImageId.ImageTag != "1.0" || *got.Images[0].ImageManifestMediaType != string(mt) {
		t.Fatalf("BatchGetImage images %+v", got.Images)
	}
	sum := sha256.Sum256([]byte(*got.Images[1].ImageManifest))
	if "sha256:"+hex.EncodeToString(sum[:]) != dg.String() {
		t.Fatal("manifest bytes from BatchGetImage do not hash to the digest")
	}
	if len(got.Failures) != 1 || got.Failures[0].FailureCode != types.ImageFailureCodeImageNotFound || *got.Failures[0].FailureReason != "Requested image not found" {
		t.Fatalf("failures %+v", got.Failures)
	}
	// acceptedMediaTypes that exclude the stored type give a per-image failure.
	acc := must[*ecrsdk.BatchGetImageOutput](t)(e.root.BatchGetImage(ctx, &ecrsdk.BatchGetImageInput{
		RepositoryName: aws.String("web"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("1.0")}},
		AcceptedMediaTypes: []string{"application/vnd.docker.distribution.manifest.v1+json"},
	}))
	if len(acc.Images) != 0 || len(acc.Failures) != 1 {
		t.Fatalf("acceptedMediaTypes %+v", acc)
	}
	acc = must[*ecrsdk.BatchGetImageOutput](t)(e.root.BatchGetImage(ctx, &ecrsdk.BatchGetImageInput{
		RepositoryName: aws.String("web"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("1.0")}},
		AcceptedMediaTypes: []string{string(mt)},
	}))
	if len(acc.Images) != 1 {
		t.Fatalf("acceptedMediaTypes with the stored type %+v", acc)
	}
	_, err = e.root.BatchGetImage(ctx, &ecrsdk.BatchGetImageInput{RepositoryName: aws.String("nope"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("1")}}})
	apiErr(t, err, "RepositoryNotFoundException", "The repository with name 'nope' does not exist in the registry with id '111111111111'")

	// DescribeImages: size is the total of the compressed layers.
	layers, _ := img.Layers()
	var size int64
	for _, l := range layers {
		n, _ := l.Size()
		size += n
	}
	cf, _ := img.ConfigFile()
	_ = cf
	di := must[*ecrsdk.DescribeImagesOutput](t)(e.root.DescribeImages(ctx, &ecrsdk.DescribeImagesInput{RepositoryName: aws.String("web")}))
	if len(di.ImageDetails) != 1 {
		t.Fatalf("details %+v", di.ImageDetails)
	}
	d := di.ImageDetails[0]
	if *d.ImageDigest != dg.String() || !slices.Equal(d.ImageTags, []string{"1.0"}) || *d.ImageSizeInBytes != size || d.ImagePushedAt == nil ||
		*d.ImageManifestMediaType != string(mt) || *d.RegistryId != account || *d.RepositoryName != "web" {
		t.Fatalf("detail %+v (size want %d)", d, size)
	}

	li := must[*ecrsdk.ListImagesOutput](t)(e.root.ListImages(ctx, &ecrsdk.ListImagesInput{RepositoryName: aws.String("web")}))
	if len(li.ImageIds) != 1 || *li.ImageIds[0].ImageTag != "1.0" || li.NextToken != nil {
		t.Fatalf("list %+v", li)
	}

	ld, _ := layers[0].Digest()
	avail := must[*ecrsdk.BatchCheckLayerAvailabilityOutput](t)(e.root.BatchCheckLayerAvailability(ctx, &ecrsdk.BatchCheckLayerAvailabilityInput{
		RepositoryName: aws.String("web"), LayerDigests: []string{ld.String(), "sha256:" + strings.Repeat("0", 64), "bogus"},
	}))
	if len(avail.Layers) != 1 || avail.Layers[0].LayerAvailability != types.LayerAvailabilityAvailable || *avail.Layers[0].LayerSize != 4096 && *avail.Layers[0].LayerSize <= 0 {
		t.Fatalf("layers %+v", avail.Layers)
	}
	codes := []string{string(avail.Failures[0].FailureCode), string(avail.Failures[1].FailureCode)}
	sort.Strings(codes)
	if len(avail.Failures) != 2 || !slices.Equal(codes, []string{"InvalidLayerDigest", "MissingLayerDigest"}) {
		t.Fatalf("failures %+v", avail.Failures)
	}

	u := must[*ecrsdk.GetDownloadUrlForLayerOutput](t)(e.root.GetDownloadUrlForLayer(ctx, &ecrsdk.GetDownloadUrlForLayerInput{RepositoryName: aws.String("web"), LayerDigest: aws.String(ld.String())}))
	resp, err := http.Get(*u.DownloadUrl)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || sha(body) != ld.String() {
		t.Fatalf("download %d, %d bytes", resp.StatusCode, len(body))
	}
	// Any change to the signed URL is refused.
	for _, tamper := range []string{
		strings.Replace(*u.DownloadUrl, "/web/", "/web2/", 1),
		strings.Replace(*u.DownloadUrl, "X-Berth-Credential=", "X-Berth-Credential=AKIA", 1),
		*u.DownloadUrl + "0",
	} {
		resp, err := http.Get(tamper)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
			t.Fatalf("tampered URL %s answered %d", tamper, resp.StatusCode)
		}
	}
	_, err = e.root.GetDownloadUrlForLayer(ctx, &ecrsdk.GetDownloadUrlForLayerInput{RepositoryName: aws.String("web"), LayerDigest: aws.String("sha256:" + strings.Repeat("1", 64))})
	apiErr(t, err, "LayersNotFoundException", "")
	_, err = e.root.GetDownloadUrlForLayer(ctx, &ecrsdk.GetDownloadUrlForLayerInput{RepositoryName: aws.String("web"), LayerDigest: aws.String("nodigest")})
	apiErr(t, err, "InvalidParameterException", "layerDigest")
}

// TestDownloadURLFollowsPermissions: a link stops working when the key that
// requested it is deleted.
func TestDownloadURLFollowsPermissions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createRepo(t, e.root, "app")
	img := pushImage(t, e.root, "app", "v1", 512)
	ro, key := e.user(account, "puller", "AmazonEC2ContainerRegistryReadOnly")
	u := must[*ecrsdk.GetDownloadUrlForLayerOutput](t)(ro.GetDownloadUrlForLayer(ctx, &ecrsdk.GetDownloadUrlForLayerInput{RepositoryName: aws.String("app"), LayerDigest: aws.String(img.layerDigests[0])}))
	get := func() int {
		resp, err := http.Get(*u.DownloadUrl)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(); code != 200 {
		t.Fatalf("fresh link: %d", code)
	}
	if err := e.srv.Identity().DeleteAccessKey(ctx, account, "puller", key.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	if code := get(); code != http.StatusForbidden {
		t.Fatalf("link of a deleted key: %d", code)
	}
}

func TestLayerUploadErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createRepo(t, e.root, "app")
	up := must[*ecrsdk.InitiateLayerUploadOutput](t)(e.root.InitiateLayerUpload(ctx, &ecrsdk.InitiateLayerUploadInput{RepositoryName: aws.String("app")}))
	if up.PartSize == nil || *up.PartSize <= 0 || len(*up.UploadId) != 36 {
		t.Fatalf("initiate %+v", up)
	}
	part := func(first, last int64, b []byte) error {
		_, err := e.root.UploadLayerPart(ctx, &ecrsdk.UploadLayerPartInput{RepositoryName: aws.String("app"), UploadId: up.UploadId,
			PartFirstByte: aws.Int64(first), PartLastByte: aws.Int64(last), LayerPartBlob: b})
		return err
	}
	complete := func(id *string, dg string) error {
		_, err := e.root.CompleteLayerUpload(ctx, &ecrsdk.CompleteLayerUploadInput{RepositoryName: aws.String("app"), UploadId: id, LayerDigests: []string{dg}})
		return err
	}
	apiErr(t, complete(up.UploadId, sha(nil)), "EmptyUploadException", "")
	data := randomBytes(t, 100)
	if err := part(0, 49, data[:50]); err != nil {
		t.Fatal(err)
	}
	apiErr(t, part(60, 109, data[50:]), "InvalidLayerPartException", "last valid byte received is 49")
	apiErr(t, part(50, 60, data[50:]), "InvalidLayerPartException", "")
	if err := part(50, 99, data[50:]); err != nil {
		t.Fatal(err)
	}
	apiErr(t, complete(up.UploadId, sha([]byte("other"))), "InvalidLayerException", "")
	if err := complete(up.UploadId, sha(data)); err != nil {
		t.Fatal(err)
	}
	apiErr(t, complete(up.UploadId, sha(data)), "UploadNotFoundException", "")
	apiErr(t, part(100, 100, []byte{1}), "UploadNotFoundException", "")
	_, err := e.root.UploadLayerPart(ctx, &ecrsdk.UploadLayerPartInput{RepositoryName: aws.String("app"), UploadId: aws.String("not-a-uuid"),
		PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(0), LayerPartBlob: []byte{1}})
	apiErr(t, err, "InvalidParameterException", "uploadId")
	// The same layer again: LayerAlreadyExists.
	up2 := must[*ecrsdk.InitiateLayerUploadOutput](t)(e.root.InitiateLayerUpload(ctx, &ecrsdk.InitiateLayerUploadInput{RepositoryName: aws.String("app")}))
	must[*ecrsdk.UploadLayerPartOutput](t)(e.root.UploadLayerPart(ctx, &ecrsdk.UploadLayerPartInput{RepositoryName: aws.String("app"), UploadId: up2.UploadId,
		PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(99), LayerPartBlob: data}))
	apiErr(t, complete(up2.UploadId, sha(data)), "LayerAlreadyExistsException", "")
	_, err = e.root.InitiateLayerUpload(ctx, &ecrsdk.InitiateLayerUploadInput{RepositoryName: aws.String("missing")})
	apiErr(t, err, "RepositoryNotFoundException", "")
}

func TestPutImageErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createRepo(t, e.root, "app")
	img := pushImage(t, e.root, "app", "v1", 100)
	put := func(manifest, tag, dg string) error {
		in := &ecrsdk.PutImageInput{RepositoryName: aws.String("app"), ImageManifest: aws.String(manifest)}
		if tag != "" {
			in.ImageTag = aws.String(tag)
		}
		if dg != "" {
			in.ImageDigest = aws.String(dg)
		}
		_, err := e.root.PutImage(ctx, in)
		return err
	}
	apiErr(t, put(string(img.manifest), "v1", ""), "ImageAlreadyExistsException",
		fmt.Sprintf("Image with digest '%s' and tag 'v1' already exists in the repository with name 'app' in registry with id '111111111111'", img.digest))
	if err := put(string(img.manifest), "v1-again", img.digest); err != nil {
		t.Fatalf("second tag with matching digest: %v", err)
	}
	apiErr(t, put(string(img.manifest), "v3", "sha256:"+strings.Repeat("a", 64)), "ImageDigestDoesNotMatchException", "")
	missingLayer := ociManifest(t, img.config, []byte("never uploaded"))
	apiErr(t, put(string(missingLayer.manifest), "v4", ""), "LayersNotFoundException", "required for pushing image into repository with name 'app'")
	apiErr(t, put("{not json", "v5", ""), "InvalidParameterException", "'ImageManifest'")
	apiErr(t, put(string(img.manifest), "bad tag!", ""), "InvalidParameterException", "imageTag")
	_, err := e.root.PutImage(ctx, &ecrsdk.PutImageInput{RepositoryName: aws.String("nope"), ImageManifest: aws.String(string(img.manifest))})
	apiErr(t, err, "RepositoryNotFoundException", "The repository with name 'nope' does not exist in the registry with id '111111111111'")
}

// TestImmutableTagsOnBothAPIs: PutImageTagMutability IMMUTABLE stops moving
// a tag through ECR PutImage and through a /v2/ manifest PUT.
func TestImmutableTagsOnBothAPIs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createRepo(t, e.root, "app")
	first := pushImage(t, e.root, "app", "v1", 100)
	second := pushImage(t, e.root, "app", "", 100)
	must[*ecrsdk.PutImageTagMutabilityOutput](t)(e.root.PutImageTagMutability(ctx, &ecrsdk.PutImageTagMutabilityInput{
		RepositoryName: aws.String("app"), ImageTagMutability: types.ImageTagMutabilityImmutable}))

	_, err := e.root.PutImage(ctx, &ecrsdk.PutImageInput{RepositoryName: aws.String("app"), ImageManifest: aws.String(string(second.manifest)), ImageTag: aws.String("v1")})
	apiErr(t, err, "ImageTagAlreadyExistsException", "The image tag 'v1' already exists in the 'app' repository and cannot be overwritten because the repository is immutable.")

	resp := e.v2(http.MethodPut, "/v2/app/manifests/v1", rootKey, rootSecre, "application/vnd.oci.image.manifest.v1+json", second.manifest)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "TAG_INVALID") {
		t.Fatalf("/v2/ PUT over an immutable tag: %d %s", resp.StatusCode, body)
	}
	// A new tag is still fine, and v1 still names the first image.
	resp = e.v2(http.MethodPut, "/v2/app/manifests/v2", rootKey, rootSecre, "application/vnd.oci.image.manifest.v1+json", second.manifest)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("/v2/ PUT of a new tag: %d", resp.StatusCode)
	}
	got := must[*ecrsdk.BatchGetImageOutput](t)(e.root.BatchGetImage(ctx, &ecrsdk.BatchGetImageInput{RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}}))
	if *got.Images[0].ImageId.ImageDigest != first.digest {
		t.Fatal("immutable tag moved")
	}
	// Back to MUTABLE: the tag moves.
	must[*ecrsdk.PutImageTagMutabilityOutput](t)(e.root.PutImageTagMutability(ctx, &ecrsdk.PutImageTagMutabilityInput{
		RepositoryName: aws.String("app"), ImageTagMutability: types.ImageTagMutabilityMutable}))
	must[*ecrsdk.PutImageOutput](t)(e.root.PutImage(ctx, &ecrsdk.PutImageInput{RepositoryName: aws.String("app"), ImageManifest: aws.String(string(second.manifest)), ImageTag: aws.String("v1")}))
}

// TestListAndDescribeImagesPagination walks every page size over a mix of
// multi-tagged, single-tagged and untagged images.
func TestListAndDescribeImagesPagination(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createRepo(t, e.root, "app")
	var want []string // "digest tag" entries
	untagged := map[string]bool{}
	for i := range 6 {
		img := pushImage(t, e.root, "app", "", 10)
		switch i % 3 {
		case 0:
			untagged[img.digest] = true
			want = append(want, img.digest+" ")
		default:
			for j := range i % 3 {
				tag := fmt.Sprintf("t%d-%d", i, j)
				must[*ecrsdk.PutImageOutput](t)(e.root.PutImage(ctx, &ecrsdk.PutImageInput{RepositoryName: aws.String("app"), ImageManifest: aws.String(string(img.manifest)), ImageTag: aws.String(tag)}))
				want = append(want, img.digest+" "+tag)
			}
		}
	}
	sort.Strings(want)
	for _, size := range []int32{1, 2, 3, 1000} {
		for _, status := range []types.TagStatus{types.TagStatusAny, types.TagStatusTagged, types.TagStatusUntagged} {
			p := ecrsdk.NewListImagesPaginator(e.root, &ecrsdk.ListImagesInput{RepositoryName: aws.String("app"), MaxResults: aws.Int32(size), Filter: &types.ListImagesFilter{TagStatus: status}})
			var got []string
			for p.HasMorePages() {
				out := must[*ecrsdk.ListImagesOutput](t)(p.NextPage(ctx))
				if len(out.ImageIds) > int(size) {
					t.Fatalf("page of %d > maxResults %d", len(out.ImageIds), size)
				}
				for _, id := range out.ImageIds {
					got = append(got, *id.ImageDigest+" "+aws.ToString(id.ImageTag))
				}
			}
			var exp []string
			for _, w := range want {
				isUntagged := strings.HasSuffix(w, " ")
				if status == types.TagStatusAny || (status == types.TagStatusUntagged) == isUntagged {
					exp = append(exp, w)
				}
			}
			sort.Strings(got)
			if !slices.Equal(got, exp) {
				t.Fatalf("ListImages size %d %s:\n got %v\nwant %v", size, status, got, exp)
			}
		}
		p := ecrsdk.NewDescribeImagesPaginator(e.root, &ecrsdk.DescribeImagesInput{RepositoryName: aws.String("app"), MaxResults: aws.Int32(size)})
		n := 0
		for p.HasMorePages() {
			out := must[*ecrsdk.DescribeImagesOutput](t)(p.NextPage(ctx))
			for _, d := range out.ImageDetails {
				n++
				if untagged[*d.ImageDigest] != (len(d.ImageTags) == 0) {
					t.Fatalf("detail tags %+v", d)
				}
			}
		}
		if n != 6 {
			t.Fatalf("DescribeImages size %d: %d images", size, n)
		}
	}
}

func TestDescribeImagesAndDeleteImages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createRepo(t, e.root, "app")
	a := pushImage(t, e.root, "app", "a1", 10)
	must[*ecrsdk.PutImageOutput](t)(e.root.PutImage(ctx, &ecrsdk.PutImageInput{RepositoryName: aws.String("app"), ImageManifest: aws.String(string(a.manifest)), ImageTag: aws.String("a2")}))
	b := pushImage(t, e.root, "app", "b1", 10)

	d := must[*ecrsdk.DescribeImagesOutput](t)(e.root.DescribeImages(ctx, &ecrsdk.DescribeImagesInput{RepositoryName: aws.String("app"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("a2")}, {ImageDigest: aws.String(b.digest)}}}))
	if len(d.ImageDetails) != 2 || !slices.Equal(d.ImageDetails[0].ImageTags, []string{"a1", "a2"}) {
		t.Fatalf("describe by ids %+v", d.ImageDetails)
	}
	// A missing imageId fails the whole DescribeImages call.
	_, err := e.root.DescribeImages(ctx, &ecrsdk.DescribeImagesInput{RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("a1")}, {ImageTag: aws.String("zz")}}})
	apiErr(t, err, "ImageNotFoundException", "The image with imageId {imageDigest:'null', imageTag:'zz'} does not exist within the repository with name 'app' in the registry with id '111111111111'")

	// Tag only, image keeps another tag: just the tag goes.
	del := must[*ecrsdk.BatchDeleteImageOutput](t)(e.root.BatchDeleteImage(ctx, &ecrsdk.BatchDeleteImageInput{RepositoryName: aws.String("app"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("a1")}, {ImageTag: aws.String("nope")}, {}}}))
	if len(del.ImageIds) != 1 || *del.ImageIds[0].ImageTag != "a1" || len(del.Failures) != 2 ||
		del.Failures[0].FailureCode != types.ImageFailureCodeImageNotFound || del.Failures[1].FailureCode != types.ImageFailureCodeMissingDigestAndTag {
		t.Fatalf("delete tag %+v", del)
	}
	// Last tag: the image goes with it.
	must[*ecrsdk.BatchDeleteImageOutput](t)(e.root.BatchDeleteImage(ctx, &ecrsdk.BatchDeleteImageInput{RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("a2")}}}))
	_, err = e.root.DescribeImages(ctx, &ecrsdk.DescribeImagesInput{RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{{ImageDigest: aws.String(a.digest)}}})
	apiErr(t, err, "ImageNotFoundException", "")
	// By digest: image and all tags.
	del = must[*ecrsdk.BatchDeleteImageOutput](t)(e.root.BatchDeleteImage(ctx, &ecrsdk.BatchDeleteImageInput{RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{{ImageDigest: aws.String(b.digest)}}}))
	if len(del.ImageIds) != 1 || *del.ImageIds[0].ImageTag != "b1" || len(del.Failures) != 0 {
		t.Fatalf("delete digest %+v", del)
	}
	li := must[*ecrsdk.ListImagesOutput](t)(e.root.ListImages(ctx, &ecrsdk.ListImagesInput{RepositoryName: aws.String("app")}))
	if len(li.ImageIds) != 0 {
		t.Fatalf("left %+v", li.ImageIds)
	}
	// Empty repository: DeleteRepository without force works now.
	must[*ecrsdk.DeleteRepositoryOutput](t)(e.root.DeleteRepository(ctx, &ecrsdk.DeleteRepositoryInput{RepositoryName: aws.String("app")}))
}

func TestDescribeImageReplicationStatus(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createRepo(t, e.root, "app")
	img := pushImage(t, e.root, "app", "v1", 10)
	out := must[*ecrsdk.DescribeImageReplicationStatusOutput](t)(e.root.DescribeImageReplicationStatus(ctx, &ecrsdk.DescribeImageReplicationStatusInput{
		RepositoryName: aws.String("app"), ImageId: &types.ImageIdentifier{ImageTag: aws.String("v1")}}))
	if *out.ImageId.ImageDigest != img.digest || *out.RepositoryName != "app" || out.ReplicationStatuses == nil {
		t.Fatalf("status %+v", out)
	}
	_, err := e.root.DescribeImageReplicationStatus(ctx, &ecrsdk.DescribeImageReplicationStatusInput{RepositoryName: aws.String("app"), ImageId: &types.ImageIdentifier{ImageTag: aws.String("v9")}})
	apiErr(t, err, "ImageNotFoundException", "")
}
