//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestAWSCLITagMutabilityExclusions: `aws ecr put-image-tag-mutability
// --image-tag-mutability-exclusion-filters` (the installed CLI v1 knows the
// parameter) makes every tag but latest and dev-* immutable; the /v2/ push
// and `aws ecr put-image` are both held to it.
func TestAWSCLITagMutabilityExclusions(t *testing.T) {
	requireTool(t, "aws")
	noAWSProfile(t)
	b := StartBerth(t, WithArgs("--account-id", ecrTestAccount, "--region", "us-east-1"))
	root := ecrCLIEnv(RootAccessKeyID, RootSecretAccessKey)
	ctx := context.Background()
	awsCLI(t, b, root, nil, "ecr", "create-repository", "--repository-name", "web")

	var put struct {
		ImageTagMutability                 string
		ImageTagMutabilityExclusionFilters []struct{ FilterType, Filter string }
	}
	awsCLI(t, b, root, &put, "ecr", "put-image-tag-mutability", "--repository-name", "web",
		"--image-tag-mutability", "IMMUTABLE_WITH_EXCLUSION",
		"--image-tag-mutability-exclusion-filters", "filterType=WILDCARD,filter=latest", "filterType=WILDCARD,filter=dev-*")
	if put.ImageTagMutability != "IMMUTABLE_WITH_EXCLUSION" || len(put.ImageTagMutabilityExclusionFilters) != 2 ||
		put.ImageTagMutabilityExclusionFilters[1].Filter != "dev-*" || put.ImageTagMutabilityExclusionFilters[1].FilterType != "WILDCARD" {
		t.Fatalf("put-image-tag-mutability: %+v", put)
	}
	var desc struct {
		Repositories []struct {
			ImageTagMutability                 string
			ImageTagMutabilityExclusionFilters []struct{ FilterType, Filter string }
		}
	}
	awsCLI(t, b, root, &desc, "ecr", "describe-repositories", "--repository-names", "web")
	if r := desc.Repositories[0]; r.ImageTagMutability != "IMMUTABLE_WITH_EXCLUSION" || len(r.ImageTagMutabilityExclusionFilters) != 2 {
		t.Fatalf("describe-repositories: %+v", desc)
	}

	first, _ := random.Image(1024, 1)
	second, _ := random.Image(1024, 1)
	for _, tag := range []string{"v1", "latest", "dev-3"} {
		if err := remote.Write(b.ParseRef(t, "web:"+tag), first, b.Remote(ctx)...); err != nil {
			t.Fatalf("push %s: %v", tag, err)
		}
	}
	if err := remote.Write(b.ParseRef(t, "web:candidate"), second, b.Remote(ctx)...); err != nil {
		t.Fatal(err)
	}
	// /v2/: the excluded tags move, v1 does not.
	for _, tag := range []string{"latest", "dev-3"} {
		if err := remote.Write(b.ParseRef(t, "web:"+tag), second, b.Remote(ctx)...); err != nil {
			t.Fatalf("moving excluded tag %s: %v", tag, err)
		}
	}
	if err := remote.Write(b.ParseRef(t, "web:v1"), second, b.Remote(ctx)...); err == nil || !strings.Contains(err.Error(), "TAG_INVALID") {
		t.Fatalf("moving immutable v1 over /v2/: %v", err)
	}
	// ECR PutImage through the CLI.
	manifest, _ := second.RawManifest()
	stderr := awsCLIFails(t, b, root, "ecr", "put-image", "--repository-name", "web", "--image-tag", "v1", "--image-manifest", string(manifest))
	if !strings.Contains(stderr, "(ImageTagAlreadyExistsException)") ||
		!strings.Contains(stderr, "The image tag 'v1' already exists in the 'web' repository and cannot be overwritten because the repository is immutable.") {
		t.Fatalf("put-image over immutable v1: %s", stderr)
	}
	awsCLI(t, b, root, nil, "ecr", "put-image", "--repository-name", "web", "--image-tag", "dev-9", "--image-manifest", string(manifest))
	awsCLI(t, b, root, nil, "ecr", "put-image", "--repository-name", "web", "--image-tag", "dev-3", "--image-manifest", string(mustManifest(t, first)))

	var imgs struct {
		ImageDetails []struct {
			ImageDigest string
			ImageTags   []string
		}
	}
	awsCLI(t, b, root, &imgs, "ecr", "describe-images", "--repository-name", "web", "--image-ids", "imageTag=v1")
	firstDg, _ := first.Digest()
	if len(imgs.ImageDetails) != 1 || imgs.ImageDetails[0].ImageDigest != firstDg.String() {
		t.Fatalf("v1 moved: %+v", imgs)
	}

	// Filters outside the model's pattern, and filters without an exclusion mode.
	stderr = awsCLIFails(t, b, root, "ecr", "put-image-tag-mutability", "--repository-name", "web",
		"--image-tag-mutability", "IMMUTABLE_WITH_EXCLUSION", "--image-tag-mutability-exclusion-filters", "filterType=WILDCARD,filter=v1/x")
	if !strings.Contains(stderr, "(InvalidParameterException)") {
		t.Fatalf("bad filter: %s", stderr)
	}
	stderr = awsCLIFails(t, b, root, "ecr", "put-image-tag-mutability", "--repository-name", "web",
		"--image-tag-mutability", "IMMUTABLE", "--image-tag-mutability-exclusion-filters", "filterType=WILDCARD,filter=latest")
	if !strings.Contains(stderr, "(InvalidParameterException)") {
		t.Fatalf("filters with IMMUTABLE: %s", stderr)
	}
}

func mustManifest(t *testing.T, img interface{ RawManifest() ([]byte, error) }) []byte {
	t.Helper()
	b, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
