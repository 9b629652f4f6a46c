package ecr_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

func TestUpdateImageStorageClass(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createRepo(t, e.root, "app")
	img := pushImage(t, e.root, "app", "v1", 16)
	update := func(c *ecrsdk.Client, id types.ImageIdentifier, class types.TargetStorageClass) (*ecrsdk.UpdateImageStorageClassOutput, error) {
		return c.UpdateImageStorageClass(ctx, &ecrsdk.UpdateImageStorageClassInput{RepositoryName: aws.String("app"), ImageId: &id, TargetStorageClass: class})
	}
	status := func() types.ImageDetail {
		t.Helper()
		out := must[*ecrsdk.DescribeImagesOutput](t)(e.root.DescribeImages(ctx, &ecrsdk.DescribeImagesInput{RepositoryName: aws.String("app"),
			ImageIds: []types.ImageIdentifier{{ImageDigest: aws.String(img.digest)}}}))
		return out.ImageDetails[0]
	}
	if d := status(); d.ImageStatus != types.ImageStatusActive || d.LastArchivedAt != nil {
		t.Fatalf("new image %s archived %v", d.ImageStatus, d.LastArchivedAt)
	}

	out := must[*ecrsdk.UpdateImageStorageClassOutput](t)(update(e.root, types.ImageIdentifier{ImageTag: aws.String("v1")}, types.TargetStorageClassArchive))
	if out.ImageStatus != types.ImageStatusArchived || *out.ImageId.ImageDigest != img.digest || *out.ImageId.ImageTag != "v1" || *out.RegistryId != account || *out.RepositoryName != "app" {
		t.Fatalf("archive: %+v", out)
	}
	if d := status(); d.ImageStatus != types.ImageStatusArchived || d.LastArchivedAt == nil {
		t.Fatalf("after archive: %s %v", d.ImageStatus, d.LastArchivedAt)
	}
	// StartImageScan on an archived image is ImageArchivedException.
	_, err := e.root.StartImageScan(ctx, &ecrsdk.StartImageScanInput{RepositoryName: aws.String("app"), ImageId: &types.ImageIdentifier{ImageTag: aws.String("v1")}})
	apiErr(t, err, "ImageArchivedException", "")

	_, err = update(e.root, types.ImageIdentifier{ImageDigest: aws.String(img.digest)}, types.TargetStorageClassArchive)
	apiErr(t, err, "ImageStorageClassUpdateNotSupportedException", "cannot be moved to the ARCHIVE storage class")

	out = must[*ecrsdk.UpdateImageStorageClassOutput](t)(update(e.root, types.ImageIdentifier{ImageDigest: aws.String(img.digest)}, types.TargetStorageClassStandard))
	if out.ImageStatus != types.ImageStatusActive {
		t.Fatalf("restore: %s", out.ImageStatus)
	}
	if d := status(); d.ImageStatus != types.ImageStatusActive || d.LastActivatedAt == nil || d.LastArchivedAt == nil {
		t.Fatalf("after restore: %+v", d)
	}

	// Deleted and pushed again: a new push is ACTIVE whatever the old record said.
	must[*ecrsdk.UpdateImageStorageClassOutput](t)(update(e.root, types.ImageIdentifier{ImageDigest: aws.String(img.digest)}, types.TargetStorageClassArchive))
	must[*ecrsdk.BatchDeleteImageOutput](t)(e.root.BatchDeleteImage(ctx, &ecrsdk.BatchDeleteImageInput{RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{{ImageDigest: aws.String(img.digest)}}}))
	must[*ecrsdk.PutImageOutput](t)(e.root.PutImage(ctx, &ecrsdk.PutImageInput{RepositoryName: aws.String("app"), ImageManifest: aws.String(string(img.manifest)), ImageTag: aws.String("v1")}))
	if d := status(); d.ImageStatus != types.ImageStatusActive || d.LastArchivedAt != nil {
		t.Fatalf("re-pushed image: %s %v", d.ImageStatus, d.LastArchivedAt)
	}

	errs := []struct {
		name      string
		in        ecrsdk.UpdateImageStorageClassInput
		code, msg string
	}{
		{"missing image", ecrsdk.UpdateImageStorageClassInput{RepositoryName: aws.String("app"), ImageId: &types.ImageIdentifier{ImageTag: aws.String("nope")}, TargetStorageClass: types.TargetStorageClassArchive},
			"ImageNotFoundException", "The image with imageId {imageDigest:'null', imageTag:'nope'} does not exist within the repository with name 'app' in the registry with id '111111111111'"},
		{"missing repository", ecrsdk.UpdateImageStorageClassInput{RepositoryName: aws.String("nope"), ImageId: &types.ImageIdentifier{ImageTag: aws.String("v1")}, TargetStorageClass: types.TargetStorageClassArchive},
			"RepositoryNotFoundException", "'nope'"},
		{"bad class", ecrsdk.UpdateImageStorageClassInput{RepositoryName: aws.String("app"), ImageId: &types.ImageIdentifier{ImageTag: aws.String("v1")}, TargetStorageClass: "GLACIER"},
			"InvalidParameterException", "Invalid parameter at 'targetStorageClass' failed to satisfy constraint: 'Member must satisfy enum value set: [STANDARD, ARCHIVE]'"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.root.UpdateImageStorageClass(ctx, &tc.in)
			apiErr(t, err, tc.code, tc.msg)
		})
	}
	ro, _ := e.user(account, "ro", "AmazonEC2ContainerRegistryReadOnly")
	_, err = update(ro, types.ImageIdentifier{ImageTag: aws.String("v1")}, types.TargetStorageClassArchive)
	apiErr(t, err, "AccessDeniedException", "ecr:UpdateImageStorageClass")
}
