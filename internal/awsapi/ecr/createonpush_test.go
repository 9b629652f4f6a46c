package ecr_test

import (
	"context"
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

// crossAccountPull lets account 222222222222 pull; only a repository
// policy can grant that, so a pull by that account proves the policy is in
// force (and not hidden by the authorizer's cache of the absent repository).
const crossAccountPull = `{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},
 "Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]}]}`

// TestCreateOnPushAppliesTemplate pushes over /v2/ to names that do not
// exist yet and checks which repository creation template each new
// repository got: the longest prefix applied for CREATE_ON_PUSH, ROOT
// otherwise, nothing for templates applied only to other scenarios, and
// never for an explicit CreateRepository.
func TestCreateOnPushAppliesTemplate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	onPush := []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush}
	for _, in := range []ecrsdk.CreateRepositoryCreationTemplateInput{
		{Prefix: aws.String("team/"), AppliedFor: onPush, ImageTagMutability: types.ImageTagMutabilityImmutable,
			ResourceTags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("team")}}, RepositoryPolicy: aws.String(crossAccountPull)},
		{Prefix: aws.String("team/special"), AppliedFor: onPush, ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion,
			ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String("latest")}},
			EncryptionConfiguration:            &types.EncryptionConfigurationForRepositoryCreationTemplate{EncryptionType: types.EncryptionTypeKms},
			LifecyclePolicy:                    aws.String(keepTwoUntagged)},
		// Longer than team/ but not for pushes: ignored.
		{Prefix: aws.String("team/app"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForReplication}, ImageTagMutability: types.ImageTagMutabilityMutable},
		{Prefix: aws.String("ROOT"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForPullThroughCache}, ImageTagMutability: types.ImageTagMutabilityImmutable},
	} {
		must[*ecrsdk.CreateRepositoryCreationTemplateOutput](t)(e.root.CreateRepositoryCreationTemplate(ctx, &in))
	}
	push := func(ref string, auth remote.Option) error {
		t.Helper()
		img, err := random.Image(512, 1)
		if err != nil {
			t.Fatal(err)
		}
		r, err := name.ParseReference(e.host+"/"+ref, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		return remote.Write(r, img, auth)
	}
	for _, ref := range []string{"team/app:v1", "team/special/svc:v1", "other/app:v1"} {
		if err := push(ref, rootAuth()); err != nil {
			t.Fatalf("push %s: %v", ref, err)
		}
	}
	createRepo(t, e.root, "team/x")

	type want struct {
		mutability, filter, encryption, policy, lifecycle string
		tags                                              map[string]string
	}
	cases := []struct {
		repo string
		want want
	}{
		{"team/app", want{mutability: "IMMUTABLE", encryption: "AES256", policy: crossAccountPull, tags: map[string]string{"owner": "team"}}},
		{"team/special/svc", want{mutability: "IMMUTABLE_WITH_EXCLUSION", filter: "latest", encryption: "KMS", lifecycle: keepTwoUntagged}},
		{"other/app", want{mutability: "MUTABLE", encryption: "AES256"}},
		{"team/x", want{mutability: "MUTABLE", encryption: "AES256"}},
	}
	for _, c := range cases {
		t.Run(c.repo, func(t *testing.T) {
			d := must[*ecrsdk.DescribeRepositoriesOutput](t)(e.root.DescribeRepositories(ctx, &ecrsdk.DescribeRepositoriesInput{RepositoryNames: []string{c.repo}}))
			r := d.Repositories[0]
			var filter string
			if len(r.ImageTagMutabilityExclusionFilters) == 1 {
				filter = *r.ImageTagMutabilityExclusionFilters[0].Filter
			}
			if string(r.ImageTagMutability) != c.want.mutability || filter != c.want.filter || string(r.EncryptionConfiguration.EncryptionType) != c.want.encryption {
				t.Errorf("mutability %s %v, encryption %s; want %+v", r.ImageTagMutability, r.ImageTagMutabilityExclusionFilters, r.EncryptionConfiguration.EncryptionType, c.want)
			}
			tags := must[*ecrsdk.ListTagsForResourceOutput](t)(e.root.ListTagsForResource(ctx, &ecrsdk.ListTagsForResourceInput{ResourceArn: r.RepositoryArn}))
			got := map[string]string{}
			for _, tg := range tags.Tags {
				got[*tg.Key] = *tg.Value
			}
			if len(got) != len(c.want.tags) || (len(got) > 0 && got["owner"] != c.want.tags["owner"]) {
				t.Errorf("tags %v, want %v", got, c.want.tags)
			}
			pol, err := e.root.GetRepositoryPolicy(ctx, &ecrsdk.GetRepositoryPolicyInput{RepositoryName: aws.String(c.repo)})
			if c.want.policy == "" {
				apiErr(t, err, "RepositoryPolicyNotFoundException", "")
			} else if err != nil || *pol.PolicyText != c.want.policy {
				t.Errorf("policy %v, %v", pol, err)
			}
			lc, err := e.root.GetLifecyclePolicy(ctx, &ecrsdk.GetLifecyclePolicyInput{RepositoryName: aws.String(c.repo)})
			if c.want.lifecycle == "" {
				apiErr(t, err, "LifecyclePolicyNotFoundException", "")
			} else if err != nil || *lc.LifecyclePolicyText != c.want.lifecycle {
				t.Errorf("lifecycle %v, %v", lc, err)
			}
		})
	}

	// The template's policy holds at once for the other account.
	if err := e.srv.Identity().EnsureAccount(ctx, other); err != nil {
		t.Fatal(err)
	}
	k, err := e.srv.Identity().CreateAccessKey(ctx, other, "")
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(e.host+"/team/app:v1", name.Insecure)
	if _, err := remote.Image(ref, remote.WithAuth(&authn.Basic{Username: k.AccessKeyID, Password: k.SecretAccessKey})); err != nil {
		t.Errorf("cross-account pull granted by the template's policy: %v", err)
	}
	ref, _ = name.ParseReference(e.host+"/other/app:v1", name.Insecure)
	if _, err := remote.Image(ref, remote.WithAuth(&authn.Basic{Username: k.AccessKeyID, Password: k.SecretAccessKey})); err == nil {
		t.Error("cross-account pull of a repository without policy succeeded")
	}

	// IMMUTABLE from the template is enforced on /v2/; the mutable ones take a new image.
	if err := push("team/app:v1", rootAuth()); err == nil || !strings.Contains(err.Error(), "TAG_INVALID") {
		t.Errorf("re-push to immutable tag: %v, want TAG_INVALID", err)
	}
	if err := push("team/special/svc:latest", rootAuth()); err != nil {
		t.Errorf("excluded tag: %v", err)
	}
	if err := push("team/special/svc:latest", rootAuth()); err != nil {
		t.Errorf("re-push of an excluded tag: %v", err)
	}
	for _, ref := range []string{"other/app:v1", "team/x:v1", "team/x:v1"} {
		if err := push(ref, rootAuth()); err != nil {
			t.Errorf("push %s: %v", ref, err)
		}
	}
}
