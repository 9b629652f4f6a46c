package ecr_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// TestTagMutabilityExclusionsOnEveryPushPath: each mutability setting ×
// tag, moved once through ECR PutImage and once through a /v2/ manifest
// PUT; both paths agree on which tags are frozen.
func TestTagMutabilityExclusionsOnEveryPushPath(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	filters := func(fs ...string) []types.ImageTagMutabilityExclusionFilter {
		var out []types.ImageTagMutabilityExclusionFilter
		for _, f := range fs {
			out = append(out, types.ImageTagMutabilityExclusionFilter{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String(f)})
		}
		return out
	}
	cases := []struct {
		mutability types.ImageTagMutability
		filters    []string
		tag        string
		frozen     bool
	}{
		{types.ImageTagMutabilityMutable, nil, "v1", false},
		{types.ImageTagMutabilityImmutable, nil, "latest", true},
		{types.ImageTagMutabilityImmutableWithExclusion, []string{"latest", "dev-*"}, "latest", false},
		{types.ImageTagMutabilityImmutableWithExclusion, []string{"latest", "dev-*"}, "dev-42", false},
		{types.ImageTagMutabilityImmutableWithExclusion, []string{"latest", "dev-*"}, "v1", true},
		{types.ImageTagMutabilityImmutableWithExclusion, []string{"*-rc*"}, "2.0-rc1", false},
		{types.ImageTagMutabilityImmutableWithExclusion, []string{"*-rc*"}, "2.0", true},
		{types.ImageTagMutabilityMutableWithExclusion, []string{"release-*"}, "release-1", true},
		{types.ImageTagMutabilityMutableWithExclusion, []string{"release-*"}, "latest", false},
		{types.ImageTagMutabilityMutableWithExclusion, []string{"prod"}, "production", false},
	}
	for i, tc := range cases {
		for _, path := range []string{"PutImage", "/v2/"} {
			name := fmt.Sprintf("m%d-%s", i, map[string]string{"PutImage": "ecr", "/v2/": "v2"}[path])
			createRepo(t, e.root, name)
			must[*ecrsdk.PutImageTagMutabilityOutput](t)(e.root.PutImageTagMutability(ctx, &ecrsdk.PutImageTagMutabilityInput{
				RepositoryName: aws.String(name), ImageTagMutability: tc.mutability, ImageTagMutabilityExclusionFilters: filters(tc.filters...)}))
			first := pushImage(t, e.root, name, tc.tag, 64)
			second := pushImage(t, e.root, name, "", 64)
			var err error
			switch path {
			case "PutImage":
				_, err = e.root.PutImage(ctx, &ecrsdk.PutImageInput{RepositoryName: aws.String(name), ImageManifest: aws.String(string(second.manifest)), ImageTag: aws.String(tc.tag)})
				if tc.frozen {
					apiErr(t, err, "ImageTagAlreadyExistsException", fmt.Sprintf("The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the repository is immutable.", tc.tag, name))
				} else if err != nil {
					t.Fatalf("%s %v %q via PutImage: %v", tc.mutability, tc.filters, tc.tag, err)
				}
			case "/v2/":
				resp := e.v2(http.MethodPut, "/v2/"+name+"/manifests/"+tc.tag, rootKey, rootSecre, "application/vnd.oci.image.manifest.v1+json", second.manifest)
				resp.Body.Close()
				want := http.StatusCreated
				if tc.frozen {
					want = http.StatusBadRequest
				}
				if resp.StatusCode != want {
					t.Fatalf("%s %v %q via /v2/: %d, want %d", tc.mutability, tc.filters, tc.tag, resp.StatusCode, want)
				}
			}
			got := must[*ecrsdk.BatchGetImageOutput](t)(e.root.BatchGetImage(ctx, &ecrsdk.BatchGetImageInput{RepositoryName: aws.String(name), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String(tc.tag)}}}))
			wantDigest := second.digest
			if tc.frozen {
				wantDigest = first.digest
			}
			if *got.Images[0].ImageId.ImageDigest != wantDigest {
				t.Fatalf("%s %v %q via %s: tag at %s, want %s", tc.mutability, tc.filters, tc.tag, path, *got.Images[0].ImageId.ImageDigest, wantDigest)
			}
		}
	}
}
