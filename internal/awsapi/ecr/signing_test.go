package ecr_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

func TestSigningConfiguration(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.root.GetSigningConfiguration(ctx, &ecrsdk.GetSigningConfigurationInput{})
	apiErr(t, err, "SigningConfigurationNotFoundException", "Signing configuration does not exist in the registry with id '111111111111'")
	_, err = e.root.DeleteSigningConfiguration(ctx, &ecrsdk.DeleteSigningConfigurationInput{})
	apiErr(t, err, "SigningConfigurationNotFoundException", "")

	const profile = "arn:aws:signer:us-east-1:111111111111:/signing-profiles/release_profile"
	cfg := &types.SigningConfiguration{Rules: []types.SigningRule{{SigningProfileArn: aws.String(profile),
		RepositoryFilters: []types.SigningRepositoryFilter{{Filter: aws.String("prod/*"), FilterType: types.SigningRepositoryFilterTypeWildcardMatch}}}}}
	put := must[*ecrsdk.PutSigningConfigurationOutput](t)(e.root.PutSigningConfiguration(ctx, &ecrsdk.PutSigningConfigurationInput{SigningConfiguration: cfg}))
	if *put.SigningConfiguration.Rules[0].SigningProfileArn != profile {
		t.Fatalf("put %+v", put.SigningConfiguration)
	}
	got := must[*ecrsdk.GetSigningConfigurationOutput](t)(e.root.GetSigningConfiguration(ctx, &ecrsdk.GetSigningConfigurationInput{}))
	if *got.RegistryId != account || *got.SigningConfiguration.Rules[0].RepositoryFilters[0].Filter != "prod/*" {
		t.Fatalf("get %+v", got)
	}

	bad := []struct{ name, profile, filter, msg string }{
		{"bad profile", "arn:aws:iam::111111111111:role/x", "prod", "signingConfiguration.rules.signingProfileArn"},
		{"bad filter", profile, "Prod//x", "signingConfiguration.rules.repositoryFilters.filter"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.root.PutSigningConfiguration(ctx, &ecrsdk.PutSigningConfigurationInput{SigningConfiguration: &types.SigningConfiguration{Rules: []types.SigningRule{{
				SigningProfileArn: aws.String(tc.profile), RepositoryFilters: []types.SigningRepositoryFilter{{Filter: aws.String(tc.filter), FilterType: types.SigningRepositoryFilterTypeWildcardMatch}}}}}})
			apiErr(t, err, "InvalidParameterException", tc.msg)
		})
	}

	createRepo(t, e.root, "app")
	img := pushImage(t, e.root, "app", "v1", 16)
	st := must[*ecrsdk.DescribeImageSigningStatusOutput](t)(e.root.DescribeImageSigningStatus(ctx, &ecrsdk.DescribeImageSigningStatusInput{
		RepositoryName: aws.String("app"), ImageId: &types.ImageIdentifier{ImageTag: aws.String("v1")}}))
	if *st.ImageId.ImageDigest != img.digest || *st.RegistryId != account || st.SigningStatuses == nil || len(st.SigningStatuses) != 0 {
		t.Fatalf("signing status %+v", st)
	}
	_, err = e.root.DescribeImageSigningStatus(ctx, &ecrsdk.DescribeImageSigningStatusInput{RepositoryName: aws.String("app"), ImageId: &types.ImageIdentifier{ImageTag: aws.String("nope")}})
	apiErr(t, err, "ImageNotFoundException", "")

	ro, _ := e.user(account, "ro", "AmazonEC2ContainerRegistryReadOnly")
	_, err = ro.PutSigningConfiguration(ctx, &ecrsdk.PutSigningConfigurationInput{SigningConfiguration: cfg})
	apiErr(t, err, "AccessDeniedException", "ecr:PutSigningConfiguration")
	_, err = ro.DeleteSigningConfiguration(ctx, &ecrsdk.DeleteSigningConfigurationInput{})
	apiErr(t, err, "AccessDeniedException", "ecr:DeleteSigningConfiguration")

	del := must[*ecrsdk.DeleteSigningConfigurationOutput](t)(e.root.DeleteSigningConfiguration(ctx, &ecrsdk.DeleteSigningConfigurationInput{}))
	if *del.SigningConfiguration.Rules[0].SigningProfileArn != profile {
		t.Fatalf("delete %+v", del)
	}
	_, err = e.root.GetSigningConfiguration(ctx, &ecrsdk.GetSigningConfigurationInput{})
	apiErr(t, err, "SigningConfigurationNotFoundException", "")
}
