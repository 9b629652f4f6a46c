// Package example shows a project's own CI tests using berth as its ECR:
// pkg/berthtest starts a server in-process, go-containerregistry pushes
// and pulls, and the AWS SDK manages repositories and IAM.
package example

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/berth-dev/berth/pkg/berthtest"
)

func TestPushAndPullAsRootAndAsLimitedUser(t *testing.T) {
	srv := berthtest.Start(t, berthtest.WithSeed("testdata/seed.yaml"))
	ctx := t.Context()

	// The seed made "app" immutable; push v1 as root with the keychain.
	img, err := random.Image(4096, 3)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := srv.Ref("app:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, srv.RemoteOptions(ctx)...); err != nil {
		t.Fatalf("push as root: %v", err)
	}
	other, _ := random.Image(100, 1)
	if err := remote.Write(ref, other, srv.RemoteOptions(ctx)...); err == nil {
		t.Fatal("overwriting an immutable tag succeeded")
	}

	ecrc := ecr.NewFromConfig(srv.AWSConfig())
	desc, err := ecrc.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"app"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := desc.Repositories[0].ImageTagMutability; got != "IMMUTABLE" {
		t.Fatalf("seeded mutability = %s", got)
	}

	// An IAM user made through the IAM API, with ECR read-only: pulls
	// work, pushes are denied by policy.
	iamc := iam.NewFromConfig(srv.AWSConfig())
	if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("puller")}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("puller"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")}); err != nil {
		t.Fatal(err)
	}
	key, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("puller")})
	if err != nil {
		t.Fatal(err)
	}
	puller := authn.FromConfig(authn.AuthConfig{Username: *key.AccessKey.AccessKeyId, Password: *key.AccessKey.SecretAccessKey})
	pulled, err := remote.Image(ref, remote.WithContext(ctx), remote.WithAuth(puller))
	if err != nil {
		t.Fatalf("pull as read-only user: %v", err)
	}
	want, _ := img.Digest()
	if got, _ := pulled.Digest(); got != want {
		t.Fatalf("pulled %s, pushed %s", got, want)
	}
	ref2, _ := srv.Ref("app:v2")
	if err := remote.Write(ref2, other, remote.WithContext(ctx), remote.WithAuth(puller)); err == nil {
		t.Fatal("read-only user could push")
	}

	// The seeded CI user (fixed keys) may push to app but not create repositories.
	ci := ecr.NewFromConfig(srv.AWSConfigFor("AKIAEXAMPLECIPUSHER1", "exampleCiPusherSecretAccessKey0000000000"))
	_, err = ci.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("not-allowed")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("CreateRepository as ci user: %v, want AccessDeniedException", err)
	}
	ciAuth := authn.FromConfig(authn.AuthConfig{Username: "AKIAEXAMPLECIPUSHER1", Password: "exampleCiPusherSecretAccessKey0000000000"})
	if err := remote.Write(ref2, other, remote.WithContext(ctx), remote.WithAuth(ciAuth)); err != nil {
		t.Fatalf("push as seeded ci user: %v", err)
	}
}
