package ecr_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

func TestRepositoryCreationTemplates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	create := func(in ecrsdk.CreateRepositoryCreationTemplateInput) (*ecrsdk.CreateRepositoryCreationTemplateOutput, error) {
		return e.root.CreateRepositoryCreationTemplate(ctx, &in)
	}
	out := must[*ecrsdk.CreateRepositoryCreationTemplateOutput](t)(create(ecrsdk.CreateRepositoryCreationTemplateInput{
		Prefix: aws.String("prod"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush, types.RCTAppliedForPullThroughCache},
		Description: aws.String("production"), ImageTagMutability: types.ImageTagMutabilityImmutable,
		ResourceTags:     []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}},
		RepositoryPolicy: aws.String(pullPolicy),
	}))
	tpl := out.RepositoryCreationTemplate
	if *out.RegistryId != account || *tpl.Prefix != "prod" || tpl.ImageTagMutability != types.ImageTagMutabilityImmutable ||
		tpl.EncryptionConfiguration.EncryptionType != types.EncryptionTypeAes256 || len(tpl.AppliedFor) != 2 ||
		*tpl.RepositoryPolicy != pullPolicy || tpl.CreatedAt == nil || tpl.UpdatedAt == nil || *tpl.ResourceTags[0].Key != "team" {
		t.Fatalf("created %+v", tpl)
	}
	must[*ecrsdk.CreateRepositoryCreationTemplateOutput](t)(create(ecrsdk.CreateRepositoryCreationTemplateInput{Prefix: aws.String("ROOT"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForReplication}}))
	must[*ecrsdk.CreateRepositoryCreationTemplateOutput](t)(create(ecrsdk.CreateRepositoryCreationTemplateInput{Prefix: aws.String("dev/team"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush}}))

	// "prod/" names the same namespace as "prod".
	_, err := create(ecrsdk.CreateRepositoryCreationTemplateInput{Prefix: aws.String("prod/"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush}})
	apiErr(t, err, "TemplateAlreadyExistsException", "The repository creation template with prefix 'prod/' already exists in the registry with id '111111111111'")

	var prefixes []string
	p := ecrsdk.NewDescribeRepositoryCreationTemplatesPaginator(e.root, &ecrsdk.DescribeRepositoryCreationTemplatesInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page := must[*ecrsdk.DescribeRepositoryCreationTemplatesOutput](t)(p.NextPage(ctx))
		if len(page.RepositoryCreationTemplates) > 2 || *page.RegistryId != account {
			t.Fatalf("page %+v", page)
		}
		for _, tp := range page.RepositoryCreationTemplates {
			prefixes = append(prefixes, *tp.Prefix)
		}
	}
	if len(prefixes) != 3 {
		t.Fatalf("templates %v", prefixes)
	}
	named := must[*ecrsdk.DescribeRepositoryCreationTemplatesOutput](t)(e.root.DescribeRepositoryCreationTemplates(ctx, &ecrsdk.DescribeRepositoryCreationTemplatesInput{Prefixes: []string{"prod/", "missing"}}))
	if len(named.RepositoryCreationTemplates) != 1 || *named.RepositoryCreationTemplates[0].Description != "production" {
		t.Fatalf("by prefix: %+v", named.RepositoryCreationTemplates)
	}

	upd := must[*ecrsdk.UpdateRepositoryCreationTemplateOutput](t)(e.root.UpdateRepositoryCreationTemplate(ctx, &ecrsdk.UpdateRepositoryCreationTemplateInput{
		Prefix: aws.String("prod"), ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion,
		ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String("latest")}},
	}))
	if u := upd.RepositoryCreationTemplate; u.ImageTagMutability != types.ImageTagMutabilityImmutableWithExclusion || *u.Description != "production" || len(u.ImageTagMutabilityExclusionFilters) != 1 || len(u.AppliedFor) != 2 {
		t.Fatalf("updated %+v", u)
	}
	del := must[*ecrsdk.DeleteRepositoryCreationTemplateOutput](t)(e.root.DeleteRepositoryCreationTemplate(ctx, &ecrsdk.DeleteRepositoryCreationTemplateInput{Prefix: aws.String("dev/team")}))
	if *del.RepositoryCreationTemplate.Prefix != "dev/team" {
		t.Fatalf("deleted %+v", del.RepositoryCreationTemplate)
	}
	_, err = e.root.DeleteRepositoryCreationTemplate(ctx, &ecrsdk.DeleteRepositoryCreationTemplateInput{Prefix: aws.String("dev/team")})
	apiErr(t, err, "TemplateNotFoundException", "The repository creation template with prefix 'dev/team' does not exist in the registry with id '111111111111'")
	_, err = e.root.UpdateRepositoryCreationTemplate(ctx, &ecrsdk.UpdateRepositoryCreationTemplateInput{Prefix: aws.String("nope"), Description: aws.String("x")})
	apiErr(t, err, "TemplateNotFoundException", "")

	bad := []struct {
		name string
		in   ecrsdk.CreateRepositoryCreationTemplateInput
		msg  string
	}{
		{"empty appliedFor", ecrsdk.CreateRepositoryCreationTemplateInput{Prefix: aws.String("a"), AppliedFor: []types.RCTAppliedFor{}},
			"Invalid parameter at 'appliedFor' failed to satisfy constraint: 'Member must have length greater than or equal to 1'"},
		{"bad appliedFor", ecrsdk.CreateRepositoryCreationTemplateInput{Prefix: aws.String("a"), AppliedFor: []types.RCTAppliedFor{"ON_PULL"}},
			"Member must satisfy enum value set: [REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH]"},
		{"bad prefix", ecrsdk.CreateRepositoryCreationTemplateInput{Prefix: aws.String("Prod"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush}},
			"Invalid parameter at 'prefix' failed to satisfy constraint: 'must satisfy regular expression"},
		{"bad policy", ecrsdk.CreateRepositoryCreationTemplateInput{Prefix: aws.String("a"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush}, RepositoryPolicy: aws.String("{")},
			"Invalid repository policy provided"},
		{"bad lifecycle", ecrsdk.CreateRepositoryCreationTemplateInput{Prefix: aws.String("a"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush}, LifecyclePolicy: aws.String(`{"rules":[]}`)},
			"lifecyclePolicyText"},
		{"kms key with AES256", ecrsdk.CreateRepositoryCreationTemplateInput{Prefix: aws.String("a"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush},
			EncryptionConfiguration: &types.EncryptionConfigurationForRepositoryCreationTemplate{EncryptionType: types.EncryptionTypeAes256, KmsKey: aws.String("arn:aws:kms:us-east-1:111111111111:key/abc")}},
			"encryptionConfiguration.kmsKey"},
		{"role of another account", ecrsdk.CreateRepositoryCreationTemplateInput{Prefix: aws.String("a"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush},
			CustomRoleArn: aws.String("arn:aws:iam::222222222222:role/ecr")}, "same account"},
		{"reserved tag", ecrsdk.CreateRepositoryCreationTemplateInput{Prefix: aws.String("a"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush},
			ResourceTags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("y")}}}, "reserved"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := create(tc.in)
			code := "InvalidParameterException"
			if tc.name == "reserved tag" {
				code = "InvalidTagParameterException"
			}
			apiErr(t, err, code, tc.msg)
		})
	}

	ro, _ := e.user(account, "ro", "AmazonEC2ContainerRegistryReadOnly")
	_, err = ro.CreateRepositoryCreationTemplate(ctx, &ecrsdk.CreateRepositoryCreationTemplateInput{Prefix: aws.String("x"), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush}})
	apiErr(t, err, "AccessDeniedException", "ecr:CreateRepositoryCreationTemplate")
	_, err = ro.DeleteRepositoryCreationTemplate(ctx, &ecrsdk.DeleteRepositoryCreationTemplateInput{Prefix: aws.String("prod")})
	apiErr(t, err, "AccessDeniedException", "ecr:DeleteRepositoryCreationTemplate")
}
