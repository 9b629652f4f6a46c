package ecr_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// BenchmarkBatchGetImage is one SDK BatchGetImage round trip over loopback:
// SigV4 verification, authorization, tag resolution and encoding.
func BenchmarkBatchGetImage(b *testing.B) {
	e := newEnv(b)
	createRepo(b, e.root, "app")
	pushImage(b, e.root, "app", "v1", 1024)
	ctx := context.Background()
	in := &ecrsdk.BatchGetImageInput{RepositoryName: aws.String("app"), ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}}
	for b.Loop() {
		out, err := e.root.BatchGetImage(ctx, in)
		if err != nil || len(out.Images) != 1 {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetAuthorizationToken is the call every `aws ecr get-login-password` makes.
func BenchmarkGetAuthorizationToken(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := e.root.GetAuthorizationToken(ctx, &ecrsdk.GetAuthorizationTokenInput{}); err != nil {
			b.Fatal(err)
		}
	}
}
