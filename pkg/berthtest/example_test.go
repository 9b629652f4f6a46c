package berthtest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/berth-dev/berth/pkg/berthtest"
)

// A server for one test: create a repository with the AWS SDK, push an
// image with go-containerregistry, and see it in DescribeImages.
func ExampleNew() {
	ctx := context.Background()
	srv, err := berthtest.New(ctx, berthtest.WithAccountID("123456789012"))
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	client := ecr.NewFromConfig(srv.AWSConfig())
	if _, err := client.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("team/app")}); err != nil {
		panic(err)
	}
	img, _ := random.Image(1024, 2)
	ref, _ := srv.Ref("team/app:v1")
	if err := remote.Write(ref, img, srv.RemoteOptions(ctx)...); err != nil {
		panic(err)
	}
	out, err := client.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("team/app")})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(out.ImageDetails), out.ImageDetails[0].ImageTags, *out.ImageDetails[0].RegistryId)
	// Output: 1 [v1] 123456789012
}

// Seeded IAM users with fixed keys: what they may do is decided by their
// policies, exactly as in AWS.
func ExampleWithSeed() {
	dir, _ := os.MkdirTemp("", "seed")
	defer os.RemoveAll(dir)
	seedFile := filepath.Join(dir, "seed.yaml")
	_ = os.WriteFile(seedFile, []byte(`version: 1
accounts:
  - users:
      - name: reader
        policies: [arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly]
        accessKeys: [{id: AKIAEXAMPLEREADER001, secret: exampleReaderSecretAccessKey000000000000}]
    repositories:
      - name: app
`), 0o600)

	ctx := context.Background()
	srv, err := berthtest.New(ctx, berthtest.WithSeed(seedFile))
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	cfg := srv.AWSConfigFor("AKIAEXAMPLEREADER001", "exampleReaderSecretAccessKey000000000000")
	who, _ := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	fmt.Println(*who.Arn)
	_, err = ecr.NewFromConfig(cfg).DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	fmt.Println("describe:", err == nil)
	_, err = ecr.NewFromConfig(cfg).CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("other")})
	fmt.Println("create denied:", err != nil)
	// Output:
	// arn:aws:iam::000000000000:user/reader
	// describe: true
	// create denied: true
}

// In a test, Start ties the server's life to t.
func TestStart(t *testing.T) {
	srv := berthtest.Start(t, berthtest.WithRegion("eu-west-1"))
	out, err := ecr.NewFromConfig(srv.AWSConfig()).GetAuthorizationToken(t.Context(), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.AuthorizationData) != 1 || *out.AuthorizationData[0].ProxyEndpoint != srv.Endpoint {
		t.Fatalf("authorization data %+v, want proxy endpoint %s", out.AuthorizationData, srv.Endpoint)
	}
	for _, kv := range srv.Env() {
		if kv == "AWS_REGION=eu-west-1" {
			return
		}
	}
	t.Fatalf("Env() = %v", srv.Env())
}
