package ecr_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// pushReferrer PutImage's an OCI artifact manifest whose subject is
// subject, with the given artifactType, and returns its digest. The empty
// config blob "{}" must have been uploaded to repo.
func pushReferrer(t *testing.T, c *ecrsdk.Client, repo string, subject testImage, artifactType, note string) string {
	t.Helper()
	empty := []byte("{}")
	type desc struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int    `json:"size"`
	}
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"artifactType":  artifactType,
		"config":        desc{"application/vnd.oci.empty.v1+json", sha(empty), len(empty)},
		"layers":        []desc{},
		"subject":       desc{"application/vnd.oci.image.manifest.v1+json", subject.digest, len(subject.manifest)},
		"annotations":   map[string]string{"note": note},
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	out := must[*ecrsdk.PutImageOutput](t)(c.PutImage(context.Background(), &ecrsdk.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(string(b))}))
	return *out.Image.ImageId.ImageDigest
}

func TestListImageReferrers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createRepo(t, e.root, "app")
	img := pushImage(t, e.root, "app", "v1", 16)
	uploadLayer(t, e.root, "app", []byte("{}"), 1<<20)
	sig := pushReferrer(t, e.root, "app", img, "application/vnd.dev.sigstore.bundle.v0.3+json", "sig")
	sbom := pushReferrer(t, e.root, "app", img, "application/spdx+json", "sbom")
	sbom2 := pushReferrer(t, e.root, "app", img, "application/spdx+json", "sbom2")

	list := func(c *ecrsdk.Client, in *ecrsdk.ListImageReferrersInput) (*ecrsdk.ListImageReferrersOutput, error) {
		in.RepositoryName = aws.String("app")
		if in.SubjectId == nil {
			in.SubjectId = &types.SubjectIdentifier{ImageDigest: aws.String(img.digest)}
		}
		return c.ListImageReferrers(ctx, in)
	}
	all := must[*ecrsdk.ListImageReferrersOutput](t)(list(e.root, &ecrsdk.ListImageReferrersInput{}))
	if len(all.Referrers) != 3 || all.NextToken != nil {
		t.Fatalf("referrers %+v next %v", all.Referrers, all.NextToken)
	}
	byDigest := map[string]types.ImageReferrer{}
	for _, r := range all.Referrers {
		byDigest[*r.Digest] = r
	}
	if r := byDigest[sig]; *r.ArtifactType != "application/vnd.dev.sigstore.bundle.v0.3+json" || r.ArtifactStatus != types.ArtifactStatusActive ||
		*r.MediaType != "application/vnd.oci.image.manifest.v1+json" || *r.Size == 0 || r.Annotations["note"] != "sig" {
		t.Fatalf("signature referrer %+v", r)
	}

	// artifactTypes filter and pagination (maxResults 1 walks all pages).
	var seen []string
	filter := &types.ListImageReferrersFilter{ArtifactTypes: []string{"application/spdx+json"}}
	var token *string
	for pages := 0; ; pages++ {
		page := must[*ecrsdk.ListImageReferrersOutput](t)(list(e.root, &ecrsdk.ListImageReferrersInput{MaxResults: aws.Int32(1), Filter: filter, NextToken: token}))
		if len(page.Referrers) > 1 || pages > 3 {
			t.Fatalf("page %d of %d with maxResults 1", pages, len(page.Referrers))
		}
		for _, r := range page.Referrers {
			seen = append(seen, *r.Digest)
		}
		if token = page.NextToken; token == nil {
			break
		}
	}
	if len(seen) != 2 || !(seen[0] == sbom || seen[0] == sbom2) || seen[0] == seen[1] {
		t.Fatalf("spdx referrers %v, want %s and %s", seen, sbom, sbom2)
	}

	// An archived referrer leaves the default (ACTIVE) listing.
	must[*ecrsdk.UpdateImageStorageClassOutput](t)(e.root.UpdateImageStorageClass(ctx, &ecrsdk.UpdateImageStorageClassInput{
		RepositoryName: aws.String("app"), ImageId: &types.ImageIdentifier{ImageDigest: aws.String(sig)}, TargetStorageClass: types.TargetStorageClassArchive}))
	active := must[*ecrsdk.ListImageReferrersOutput](t)(list(e.root, &ecrsdk.ListImageReferrersInput{}))
	archived := must[*ecrsdk.ListImageReferrersOutput](t)(list(e.root, &ecrsdk.ListImageReferrersInput{Filter: &types.ListImageReferrersFilter{ArtifactStatus: types.ArtifactStatusFilterArchived}}))
	if len(active.Referrers) != 2 || len(archived.Referrers) != 1 || *archived.Referrers[0].Digest != sig || archived.Referrers[0].ArtifactStatus != types.ArtifactStatusArchived {
		t.Fatalf("active %d archived %+v", len(active.Referrers), archived.Referrers)
	}

	// A subject without referrers is an empty list; the read-only user may list.
	ro, _ := e.user(account, "ro", "AmazonEC2ContainerRegistryReadOnly")
	none := must[*ecrsdk.ListImageReferrersOutput](t)(list(ro, &ecrsdk.ListImageReferrersInput{SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String(sig)}}))
	if len(none.Referrers) != 0 {
		t.Fatalf("referrers of a referrer: %+v", none.Referrers)
	}

	errs := []struct {
		name      string
		in        *ecrsdk.ListImageReferrersInput
		code, msg string
	}{
		{"missing repository", &ecrsdk.ListImageReferrersInput{RepositoryName: aws.String("nope"), SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String(img.digest)}},
			"RepositoryNotFoundException", "The repository with name 'nope' does not exist in the registry with id '111111111111'"},
		{"bad digest", &ecrsdk.ListImageReferrersInput{RepositoryName: aws.String("app"), SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String("sha256:xyz")}},
			"InvalidParameterException", "Invalid parameter at 'subjectId.imageDigest'"},
		{"maxResults over 50", &ecrsdk.ListImageReferrersInput{RepositoryName: aws.String("app"), MaxResults: aws.Int32(51), SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String(img.digest)}},
			"InvalidParameterException", "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between 1 and 50'"},
		{"six artifact types", &ecrsdk.ListImageReferrersInput{RepositoryName: aws.String("app"), SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String(img.digest)},
			Filter: &types.ListImageReferrersFilter{ArtifactTypes: []string{"a", "b", "c", "d", "e", "f"}}}, "InvalidParameterException", "filter.artifactTypes"},
		{"foreign token", &ecrsdk.ListImageReferrersInput{RepositoryName: aws.String("app"), NextToken: aws.String("bm9wZQ"), SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String(img.digest)}},
			"InvalidParameterException", "nextToken"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.root.ListImageReferrers(ctx, tc.in)
			apiErr(t, err, tc.code, tc.msg)
		})
	}
	// ECR documents ecr:BatchGetImage as this operation's permission: a user
	// without it is denied.
	noPull, _ := e.user(account, "nopull")
	_, err := list(noPull, &ecrsdk.ListImageReferrersInput{})
	apiErr(t, err, "AccessDeniedException", "ecr:BatchGetImage")
}
