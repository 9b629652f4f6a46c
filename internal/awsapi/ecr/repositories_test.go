package ecr_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

func TestCreateDescribeDeleteRepository(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	out := must[*ecrsdk.CreateRepositoryOutput](t)(e.root.CreateRepository(ctx, &ecrsdk.CreateRepositoryInput{
		RepositoryName:             aws.String("team/app"),
		Tags:                       []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}},
		ImageTagMutability:         types.ImageTagMutabilityImmutable,
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true},
		EncryptionConfiguration:    &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeKms, KmsKey: aws.String("arn:aws:kms:us-east-1:111111111111:key/k")},
	}))
	r := out.Repository
	want := fmt.Sprintf("arn:aws:ecr:%s:%s:repository/team/app", region, account)
	if *r.RepositoryArn != want || *r.RegistryId != account || *r.RepositoryUri != e.host+"/team/app" ||
		r.ImageTagMutability != types.ImageTagMutabilityImmutable || !r.ImageScanningConfiguration.ScanOnPush ||
		r.EncryptionConfiguration.EncryptionType != types.EncryptionTypeKms || r.CreatedAt == nil {
		t.Fatalf("repository %+v", r)
	}
	tags := must[*ecrsdk.ListTagsForResourceOutput](t)(e.root.ListTagsForResource(ctx, &ecrsdk.ListTagsForResourceInput{ResourceArn: r.RepositoryArn}))
	if len(tags.Tags) != 1 || *tags.Tags[0].Key != "env" || *tags.Tags[0].Value != "prod" {
		t.Fatalf("tags %+v", tags.Tags)
	}

	_, err := e.root.CreateRepository(ctx, &ecrsdk.CreateRepositoryInput{RepositoryName: aws.String("team/app")})
	apiErr(t, err, "RepositoryAlreadyExistsException", "The repository with name 'team/app' already exists in the registry with id '111111111111'")

	d := must[*ecrsdk.DescribeRepositoriesOutput](t)(e.root.DescribeRepositories(ctx, &ecrsdk.DescribeRepositoriesInput{RepositoryNames: []string{"team/app"}}))
	if len(d.Repositories) != 1 || *d.Repositories[0].RepositoryName != "team/app" || d.NextToken != nil {
		t.Fatalf("describe %+v", d)
	}
	_, err = e.root.DescribeRepositories(ctx, &ecrsdk.DescribeRepositoriesInput{RepositoryNames: []string{"team/app", "missing"}})
	apiErr(t, err, "RepositoryNotFoundException", "The repository with name 'missing' does not exist in the registry with id '111111111111'")

	pushImage(t, e.root, "team/app", "v1", 100)
	_, err = e.root.DeleteRepository(ctx, &ecrsdk.DeleteRepositoryInput{RepositoryName: aws.String("team/app")})
	apiErr(t, err, "RepositoryNotEmptyException", "The repository with name 'team/app' in registry with id '111111111111' cannot be deleted because it still contains images")
	del := must[*ecrsdk.DeleteRepositoryOutput](t)(e.root.DeleteRepository(ctx, &ecrsdk.DeleteRepositoryInput{RepositoryName: aws.String("team/app"), Force: true}))
	if *del.Repository.RepositoryName != "team/app" {
		t.Fatalf("deleted %+v", del.Repository)
	}
	_, err = e.root.DeleteRepository(ctx, &ecrsdk.DeleteRepositoryInput{RepositoryName: aws.String("team/app")})
	apiErr(t, err, "RepositoryNotFoundException", "does not exist")
}

func TestCreateRepositoryValidation(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("a", 257)
	tests := []struct {
		name string
		in   ecrsdk.CreateRepositoryInput
		code string
		msg  string
	}{
		{"too short", ecrsdk.CreateRepositoryInput{RepositoryName: aws.String("x")}, "InvalidParameterException", "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'Member must have length between 2 and 256'"},
		{"too long", ecrsdk.CreateRepositoryInput{RepositoryName: aws.String(long)}, "InvalidParameterException", "repositoryName"},
		{"upper case", ecrsdk.CreateRepositoryInput{RepositoryName: aws.String("Bad")}, "InvalidParameterException", "must satisfy regular expression"},
		{"trailing slash", ecrsdk.CreateRepositoryInput{RepositoryName: aws.String("a/")}, "InvalidParameterException", "must satisfy regular expression"},
		{"double separator", ecrsdk.CreateRepositoryInput{RepositoryName: aws.String("a..b")}, "InvalidParameterException", "must satisfy regular expression"},
		{"bad registry id", ecrsdk.CreateRepositoryInput{RepositoryName: aws.String("ok"), RegistryId: aws.String("12")}, "InvalidParameterException", "registryId"},
		{"bad mutability", ecrsdk.CreateRepositoryInput{RepositoryName: aws.String("ok"), ImageTagMutability: "SOMETIMES"}, "InvalidParameterException", "imageTagMutability"},
		{"exclusion without filters", ecrsdk.CreateRepositoryInput{RepositoryName: aws.String("ok"), ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion}, "InvalidParameterException", "Exclusion filters are required"},
		{"bad encryption", ecrsdk.CreateRepositoryInput{RepositoryName: aws.String("ok"), EncryptionConfiguration: &types.EncryptionConfiguration{EncryptionType: "ROT13"}}, "InvalidParameterException", "encryptionType"},
		{"kms key with AES256", ecrsdk.CreateRepositoryInput{RepositoryName: aws.String("ok"), EncryptionConfiguration: &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeAes256, KmsKey: aws.String("k")}}, "InvalidParameterException", "kmsKey"},
		{"reserved tag", ecrsdk.CreateRepositoryInput{RepositoryName: aws.String("ok"), Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}}, "InvalidTagParameterException", "reserved"},
		{"too many tags", ecrsdk.CreateRepositoryInput{RepositoryName: aws.String("ok"), Tags: manyTags(51)}, "TooManyTagsException", ""},
		{"cross account without policy", ecrsdk.CreateRepositoryInput{RepositoryName: aws.String("ok"), RegistryId: aws.String(other)}, "AccessDeniedException", "because no resource-based policy allows the ecr:CreateRepository action"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.root.CreateRepository(context.Background(), &tc.in)
			apiErr(t, err, tc.code, tc.msg)
		})
	}
	// The valid forms of the same parameters succeed.
	must[*ecrsdk.CreateRepositoryOutput](t)(e.root.CreateRepository(context.Background(), &ecrsdk.CreateRepositoryInput{
		RepositoryName: aws.String("a-b_c.d/e__f--g"), ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion,
		ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String("latest*")}},
		Tags:                               manyTags(50),
	}))
}

func manyTags(n int) []types.Tag {
	var out []types.Tag
	for i := range n {
		out = append(out, types.Tag{Key: aws.String(fmt.Sprintf("k%02d", i)), Value: aws.String("v")})
	}
	return out
}

func TestDescribeRepositoriesPagination(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var names []string
	for i := range 7 {
		n := fmt.Sprintf("repo-%d", i)
		names = append(names, n)
		createRepo(t, e.root, n)
	}
	for _, size := range []int32{1, 3, 7, 100} {
		p := ecrsdk.NewDescribeRepositoriesPaginator(e.root, &ecrsdk.DescribeRepositoriesInput{MaxResults: aws.Int32(size)})
		var got []string
		pages := 0
		for p.HasMorePages() {
			out := must[*ecrsdk.DescribeRepositoriesOutput](t)(p.NextPage(ctx))
			pages++
			for _, r := range out.Repositories {
				got = append(got, *r.RepositoryName)
			}
		}
		if !slices.Equal(got, names) {
			t.Fatalf("maxResults %d: got %v", size, got)
		}
		if want := (7 + int(size) - 1) / int(size); pages != want {
			t.Fatalf("maxResults %d: %d pages, want %d (last page must omit nextToken)", size, pages, want)
		}
	}
	for _, bad := range []int32{0, 1001} {
		_, err := e.root.DescribeRepositories(ctx, &ecrsdk.DescribeRepositoriesInput{MaxResults: aws.Int32(bad)})
		apiErr(t, err, "InvalidParameterException", "maxResults")
	}
	_, err := e.root.DescribeRepositories(ctx, &ecrsdk.DescribeRepositoriesInput{NextToken: aws.String("bm90IGEgdG9rZW4")})
	apiErr(t, err, "InvalidParameterException", "nextToken")
	_, err = e.root.DescribeRepositories(ctx, &ecrsdk.DescribeRepositoriesInput{RepositoryNames: []string{"repo-1"}, MaxResults: aws.Int32(2)})
	apiErr(t, err, "InvalidParameterException", "")
}

func TestReadOnlyUserIsDeniedWrites(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createRepo(t, e.root, "app")
	img := pushImage(t, e.root, "app", "v1", 64)
	ro, _ := e.user(account, "release", "AmazonEC2ContainerRegistryReadOnly")

	// Reads succeed.
	must[*ecrsdk.DescribeRepositoriesOutput](t)(ro.DescribeRepositories(ctx, &ecrsdk.DescribeRepositoriesInput{}))
	got := must[*ecrsdk.BatchGetImageOutput](t)(ro.BatchGetImage(ctx, &ecrsdk.BatchGetImageInput{RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}}))
	if len(got.Images) != 1 || *got.Images[0].ImageManifest != string(img.manifest) {
		t.Fatalf("read-only BatchGetImage %+v", got)
	}
	must[*ecrsdk.GetAuthorizationTokenOutput](t)(ro.GetAuthorizationToken(ctx, &ecrsdk.GetAuthorizationTokenInput{}))

	// Writes are denied with AWS's explanation.
	_, err := ro.CreateRepository(ctx, &ecrsdk.CreateRepositoryInput{RepositoryName: aws.String("new")})
	apiErr(t, err, "AccessDeniedException", "User: arn:aws:iam::111111111111:user/release is not authorized to perform: ecr:CreateRepository on resource: arn:aws:ecr:us-east-1:111111111111:repository/new because no identity-based policy allows the ecr:CreateRepository action")
	_, err = ro.PutImage(ctx, &ecrsdk.PutImageInput{RepositoryName: aws.String("app"), ImageManifest: aws.String(string(img.manifest)), ImageTag: aws.String("v2")})
	apiErr(t, err, "AccessDeniedException", "ecr:PutImage")
	_, err = ro.InitiateLayerUpload(ctx, &ecrsdk.InitiateLayerUploadInput{RepositoryName: aws.String("app")})
	apiErr(t, err, "AccessDeniedException", "ecr:InitiateLayerUpload")
	_, err = ro.DeleteRepository(ctx, &ecrsdk.DeleteRepositoryInput{RepositoryName: aws.String("app")})
	apiErr(t, err, "AccessDeniedException", "ecr:DeleteRepository")

	// A user without any policy cannot even get a token.
	none, _ := e.user(account, "nobody")
	_, err = none.GetAuthorizationToken(ctx, &ecrsdk.GetAuthorizationTokenInput{})
	apiErr(t, err, "AccessDeniedException", "ecr:GetAuthorizationToken on resource: *")
}

func TestTagMutabilityAndScanningConfiguration(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createRepo(t, e.root, "app")
	m := must[*ecrsdk.PutImageTagMutabilityOutput](t)(e.root.PutImageTagMutability(ctx, &ecrsdk.PutImageTagMutabilityInput{
		RepositoryName: aws.String("app"), ImageTagMutability: types.ImageTagMutabilityMutableWithExclusion,
		ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String("release-*")}},
	}))
	if m.ImageTagMutability != types.ImageTagMutabilityMutableWithExclusion || len(m.ImageTagMutabilityExclusionFilters) != 1 {
		t.Fatalf("mutability %+v", m)
	}
	_, err := e.root.PutImageTagMutability(ctx, &ecrsdk.PutImageTagMutabilityInput{RepositoryName: aws.String("nope"), ImageTagMutability: types.ImageTagMutabilityImmutable})
	apiErr(t, err, "RepositoryNotFoundException", "'nope'")

	s := must[*ecrsdk.PutImageScanningConfigurationOutput](t)(e.root.PutImageScanningConfiguration(ctx, &ecrsdk.PutImageScanningConfigurationInput{
		RepositoryName: aws.String("app"), ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true},
	}))
	if !s.ImageScanningConfiguration.ScanOnPush {
		t.Fatalf("scanning %+v", s)
	}
	b := must[*ecrsdk.BatchGetRepositoryScanningConfigurationOutput](t)(e.root.BatchGetRepositoryScanningConfiguration(ctx, &ecrsdk.BatchGetRepositoryScanningConfigurationInput{RepositoryNames: []string{"app", "nope"}}))
	if len(b.ScanningConfigurations) != 1 || !b.ScanningConfigurations[0].ScanOnPush || b.ScanningConfigurations[0].ScanFrequency != types.ScanFrequencyScanOnPush ||
		len(b.Failures) != 1 || *b.Failures[0].RepositoryName != "nope" {
		t.Fatalf("batch scanning %+v", b)
	}
	d := must[*ecrsdk.DescribeRepositoriesOutput](t)(e.root.DescribeRepositories(ctx, &ecrsdk.DescribeRepositoriesInput{RepositoryNames: []string{"app"}}))
	if r := d.Repositories[0]; !r.ImageScanningConfiguration.ScanOnPush || r.ImageTagMutability != types.ImageTagMutabilityMutableWithExclusion {
		t.Fatalf("settings not stored: %+v", r)
	}
}

func TestResourceTags(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createRepo(t, e.root, "app")
	repoARN := aws.String("arn:aws:ecr:us-east-1:111111111111:repository/app")
	must[*ecrsdk.TagResourceOutput](t)(e.root.TagResource(ctx, &ecrsdk.TagResourceInput{ResourceArn: repoARN, Tags: []types.Tag{
		{Key: aws.String("b"), Value: aws.String("2")}, {Key: aws.String("a"), Value: aws.String("1")},
	}}))
	must[*ecrsdk.UntagResourceOutput](t)(e.root.UntagResource(ctx, &ecrsdk.UntagResourceInput{ResourceArn: repoARN, TagKeys: []string{"b"}}))
	l := must[*ecrsdk.ListTagsForResourceOutput](t)(e.root.ListTagsForResource(ctx, &ecrsdk.ListTagsForResourceInput{ResourceArn: repoARN}))
	if len(l.Tags) != 1 || *l.Tags[0].Key != "a" {
		t.Fatalf("tags %+v", l.Tags)
	}
	tests := []struct {
		name string
		arn  string
		tags []types.Tag
		code string
	}{
		{"not an arn", "app", []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}, "InvalidParameterException"},
		{"other region", "arn:aws:ecr:eu-west-1:111111111111:repository/app", []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}, "InvalidParameterException"},
		{"missing repository", "arn:aws:ecr:us-east-1:111111111111:repository/nope", []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}, "RepositoryNotFoundException"},
		{"key too long", *repoARN, []types.Tag{{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("v")}}, "InvalidTagParameterException"},
		{"value too long", *repoARN, []types.Tag{{Key: aws.String("k"), Value: aws.String(strings.Repeat("v", 257))}}, "InvalidTagParameterException"},
		{"over fifty in total", *repoARN, manyTags(50), "TooManyTagsException"},
		// AWS's Tag type: letters, separators, numbers and _.:/=+-@ only.
		{"key characters", *repoARN, []types.Tag{{Key: aws.String("NOWAY!"), Value: aws.String("v")}}, "InvalidTagParameterException"},
		{"value characters", *repoARN, []types.Tag{{Key: aws.String("k"), Value: aws.String("a*b")}}, "InvalidTagParameterException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.root.TagResource(ctx, &ecrsdk.TagResourceInput{ResourceArn: aws.String(tc.arn), Tags: tc.tags})
			apiErr(t, err, tc.code, "")
		})
	}
}

// A repository whose policy explicitly denies the caller is left out of a
// DescribeRepositories listing, as it is from a named lookup and from
// /v2/_catalog; the others are listed as before.
func TestDescribeRepositoriesListingHonoursRepositoryDeny(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, n := range []string{"hidden", "shared", "visible"} {
		createRepo(t, e.root, n)
	}
	dev, _ := e.user(account, "dev", "AmazonEC2ContainerRegistryFullAccess")
	must[*ecrsdk.SetRepositoryPolicyOutput](t)(e.root.SetRepositoryPolicy(ctx, &ecrsdk.SetRepositoryPolicyInput{RepositoryName: aws.String("hidden"),
		PolicyText: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111111111111:user/dev"},"Action":"ecr:*"}]}`)}))
	must[*ecrsdk.SetRepositoryPolicyOutput](t)(e.root.SetRepositoryPolicy(ctx, &ecrsdk.SetRepositoryPolicyInput{RepositoryName: aws.String("shared"),
		PolicyText: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"ecr:BatchGetImage"}]}`)}))
	names := func(c *ecrsdk.Client) []string {
		t.Helper()
		var out []string
		p := ecrsdk.NewDescribeRepositoriesPaginator(c, &ecrsdk.DescribeRepositoriesInput{MaxResults: aws.Int32(1)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Repositories {
				out = append(out, aws.ToString(r.RepositoryName))
			}
		}
		return out
	}
	if got := names(dev); !slices.Equal(got, []string{"shared", "visible"}) {
		t.Fatalf("dev's listing = %v", got)
	}
	if got := names(e.root); !slices.Equal(got, []string{"hidden", "shared", "visible"}) {
		t.Fatalf("root's listing = %v", got)
	}
	_, err := dev.DescribeRepositories(ctx, &ecrsdk.DescribeRepositoriesInput{RepositoryNames: []string{"hidden"}})
	apiErr(t, err, "AccessDeniedException", "with an explicit deny in a resource-based policy")
}
