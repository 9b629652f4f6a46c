package ecr_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

func TestAccountSettings(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	get := func(name string) string {
		t.Helper()
		out := must[*ecrsdk.GetAccountSettingOutput](t)(e.root.GetAccountSetting(ctx, &ecrsdk.GetAccountSettingInput{Name: aws.String(name)}))
		if *out.Name != name {
			t.Fatalf("name %s", *out.Name)
		}
		return *out.Value
	}
	for name, def := range map[string]string{"BASIC_SCAN_TYPE_VERSION": "AWS_NATIVE", "REGISTRY_POLICY_SCOPE": "V2", "BLOB_MOUNTING": "DISABLED"} {
		if v := get(name); v != def {
			t.Errorf("%s default %s, want %s", name, v, def)
		}
	}
	put := must[*ecrsdk.PutAccountSettingOutput](t)(e.root.PutAccountSetting(ctx, &ecrsdk.PutAccountSettingInput{Name: aws.String("BLOB_MOUNTING"), Value: aws.String("ENABLED")}))
	if *put.Name != "BLOB_MOUNTING" || *put.Value != "ENABLED" || get("BLOB_MOUNTING") != "ENABLED" {
		t.Fatalf("put %+v", put)
	}
	_, err := e.root.GetAccountSetting(ctx, &ecrsdk.GetAccountSettingInput{Name: aws.String("NOPE")})
	apiErr(t, err, "InvalidParameterException", "Invalid parameter at 'name'")
	_, err = e.root.PutAccountSetting(ctx, &ecrsdk.PutAccountSettingInput{Name: aws.String("BASIC_SCAN_TYPE_VERSION"), Value: aws.String("CLAIR2")})
	apiErr(t, err, "InvalidParameterException", "Invalid parameter at 'value'")

	ro, _ := e.user(account, "ro", "AmazonEC2ContainerRegistryReadOnly")
	_, err = ro.PutAccountSetting(ctx, &ecrsdk.PutAccountSettingInput{Name: aws.String("BLOB_MOUNTING"), Value: aws.String("DISABLED")})
	apiErr(t, err, "AccessDeniedException", "ecr:PutAccountSetting")
}

func TestRegistryScanningConfiguration(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createRepo(t, e.root, "prod/api")
	createRepo(t, e.root, "dev/api")
	must[*ecrsdk.PutImageScanningConfigurationOutput](t)(e.root.PutImageScanningConfiguration(ctx, &ecrsdk.PutImageScanningConfigurationInput{
		RepositoryName: aws.String("dev/api"), ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true}}))
	batch := func() map[string]types.RepositoryScanningConfiguration {
		t.Helper()
		out := must[*ecrsdk.BatchGetRepositoryScanningConfigurationOutput](t)(e.root.BatchGetRepositoryScanningConfiguration(ctx,
			&ecrsdk.BatchGetRepositoryScanningConfigurationInput{RepositoryNames: []string{"prod/api", "dev/api", "gone"}}))
		if len(out.Failures) != 1 || *out.Failures[0].RepositoryName != "gone" || out.Failures[0].FailureCode != types.ScanningConfigurationFailureCodeRepositoryNotFound {
			t.Fatalf("failures %+v", out.Failures)
		}
		m := map[string]types.RepositoryScanningConfiguration{}
		for _, c := range out.ScanningConfigurations {
			m[*c.RepositoryName] = c
		}
		return m
	}
	// No registry configuration yet: ECR's default, and repositories keep their own scanOnPush.
	def := must[*ecrsdk.GetRegistryScanningConfigurationOutput](t)(e.root.GetRegistryScanningConfiguration(ctx, &ecrsdk.GetRegistryScanningConfigurationInput{}))
	if *def.RegistryId != account || def.ScanningConfiguration.ScanType != types.ScanTypeBasic || def.ScanningConfiguration.Rules == nil || len(def.ScanningConfiguration.Rules) != 0 {
		t.Fatalf("default %+v", def.ScanningConfiguration)
	}
	if m := batch(); m["dev/api"].ScanFrequency != types.ScanFrequencyScanOnPush || !m["dev/api"].ScanOnPush || m["prod/api"].ScanFrequency != types.ScanFrequencyManual {
		t.Fatalf("before: %+v", m)
	}

	rules := []types.RegistryScanningRule{
		{ScanFrequency: types.ScanFrequencyContinuousScan, RepositoryFilters: []types.ScanningRepositoryFilter{{Filter: aws.String("prod/*"), FilterType: types.ScanningRepositoryFilterTypeWildcard}}},
		{ScanFrequency: types.ScanFrequencyScanOnPush, RepositoryFilters: []types.ScanningRepositoryFilter{{Filter: aws.String("*"), FilterType: types.ScanningRepositoryFilterTypeWildcard}}},
	}
	put := must[*ecrsdk.PutRegistryScanningConfigurationOutput](t)(e.root.PutRegistryScanningConfiguration(ctx, &ecrsdk.PutRegistryScanningConfigurationInput{ScanType: types.ScanTypeEnhanced, Rules: rules}))
	if put.RegistryScanningConfiguration.ScanType != types.ScanTypeEnhanced || len(put.RegistryScanningConfiguration.Rules) != 2 {
		t.Fatalf("put %+v", put.RegistryScanningConfiguration)
	}
	got := must[*ecrsdk.GetRegistryScanningConfigurationOutput](t)(e.root.GetRegistryScanningConfiguration(ctx, &ecrsdk.GetRegistryScanningConfigurationInput{}))
	if *got.ScanningConfiguration.Rules[0].RepositoryFilters[0].Filter != "prod/*" {
		t.Fatalf("get %+v", got.ScanningConfiguration)
	}
	m := batch()
	if c := m["prod/api"]; c.ScanFrequency != types.ScanFrequencyContinuousScan || c.ScanOnPush || *c.AppliedScanFilters[0].Filter != "prod/*" {
		t.Fatalf("prod/api %+v", c)
	}
	if c := m["dev/api"]; c.ScanFrequency != types.ScanFrequencyScanOnPush || !c.ScanOnPush || *c.AppliedScanFilters[0].Filter != "*" {
		t.Fatalf("dev/api %+v", c)
	}

	bad := []struct {
		name string
		in   ecrsdk.PutRegistryScanningConfigurationInput
		msg  string
	}{
		{"continuous with basic", ecrsdk.PutRegistryScanningConfigurationInput{ScanType: types.ScanTypeBasic, Rules: rules[:1]}, "requires the ENHANCED scan type"},
		{"bad scan type", ecrsdk.PutRegistryScanningConfigurationInput{ScanType: "DEEP"}, "Invalid parameter at 'scanType'"},
		{"bad filter", ecrsdk.PutRegistryScanningConfigurationInput{Rules: []types.RegistryScanningRule{{ScanFrequency: types.ScanFrequencyScanOnPush,
			RepositoryFilters: []types.ScanningRepositoryFilter{{Filter: aws.String("Prod"), FilterType: types.ScanningRepositoryFilterTypeWildcard}}}}}, "rules.repositoryFilters.filter"},
		{"three rules", ecrsdk.PutRegistryScanningConfigurationInput{ScanType: types.ScanTypeEnhanced, Rules: append(rules, rules[0])}, "Invalid parameter at 'rules'"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.root.PutRegistryScanningConfiguration(ctx, &tc.in)
			apiErr(t, err, "InvalidParameterException", tc.msg)
		})
	}
	ro, _ := e.user(account, "ro", "AmazonEC2ContainerRegistryReadOnly")
	_, err := ro.PutRegistryScanningConfiguration(ctx, &ecrsdk.PutRegistryScanningConfigurationInput{ScanType: types.ScanTypeBasic})
	apiErr(t, err, "AccessDeniedException", "ecr:PutRegistryScanningConfiguration")
}

func TestImageScansDoNotExist(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createRepo(t, e.root, "app")
	img := pushImage(t, e.root, "app", "v1", 16)
	ro, _ := e.user(account, "ro", "AmazonEC2ContainerRegistryReadOnly")

	_, err := ro.DescribeImageScanFindings(ctx, &ecrsdk.DescribeImageScanFindingsInput{RepositoryName: aws.String("app"), ImageId: &types.ImageIdentifier{ImageTag: aws.String("v1")}})
	apiErr(t, err, "ScanNotFoundException",
		"Image scan does not exist for the image with '{imageDigest:'null', imageTag:'v1'}' in the repository with name 'app' in the registry with id '111111111111'")
	_, err = e.root.DescribeImageScanFindings(ctx, &ecrsdk.DescribeImageScanFindingsInput{RepositoryName: aws.String("app"), ImageId: &types.ImageIdentifier{ImageTag: aws.String("nope")}})
	apiErr(t, err, "ImageNotFoundException", "")
	_, err = e.root.DescribeImageScanFindings(ctx, &ecrsdk.DescribeImageScanFindingsInput{RepositoryName: aws.String("nope"), ImageId: &types.ImageIdentifier{ImageTag: aws.String("v1")}})
	apiErr(t, err, "RepositoryNotFoundException", "")

	_, err = e.root.StartImageScan(ctx, &ecrsdk.StartImageScanInput{RepositoryName: aws.String("app"), ImageId: &types.ImageIdentifier{ImageDigest: aws.String(img.digest)}})
	apiErr(t, err, "ValidationException", "berth does not scan images")
	_, err = e.root.StartImageScan(ctx, &ecrsdk.StartImageScanInput{RepositoryName: aws.String("app"), ImageId: &types.ImageIdentifier{ImageTag: aws.String("nope")}})
	apiErr(t, err, "ImageNotFoundException", "")
	_, err = ro.StartImageScan(ctx, &ecrsdk.StartImageScanInput{RepositoryName: aws.String("app"), ImageId: &types.ImageIdentifier{ImageTag: aws.String("v1")}})
	apiErr(t, err, "AccessDeniedException", "ecr:StartImageScan")
}
