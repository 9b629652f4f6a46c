//go:build e2e

package e2e

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

const ecrTestAccount = "111111111111"

// ecrCLIEnv is awsEnv pinned to us-east-1, berth's default region here
// (later entries win in os/exec environments).
func ecrCLIEnv(key, secret string) []string {
	return append(awsEnv(key, secret, ""), "AWS_DEFAULT_REGION=us-east-1")
}

// TestAWSCLIECRSeed003 runs seed 003's flow with the installed aws CLI v1
// and docker: a read-only IAM user with AmazonEC2ContainerRegistryReadOnly
// and an access key, `aws ecr get-login-password | docker login --username
// AWS --password-stdin <registry>`, docker pull, and the user's push
// refused; then a repository policy round trip and the CLI's error text
// for a missing repository.
func TestAWSCLIECRSeed003(t *testing.T) {
	requireTool(t, "aws")
	noAWSProfile(t)
	b := StartBerth(t, WithArgs("--account-id", ecrTestAccount, "--region", "us-east-1"))
	root := ecrCLIEnv(RootAccessKeyID, RootSecretAccessKey)
	_, port, err := net.SplitHostPort(b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	registry := ecrTestAccount + ".dkr.ecr.us-east-1.localhost:" + port

	var created struct {
		Repository struct{ RepositoryUri, RepositoryArn string }
	}
	awsCLI(t, b, root, &created, "ecr", "create-repository", "--repository-name", "demo-apps/nginx")
	if created.Repository.RepositoryArn != "arn:aws:ecr:us-east-1:111111111111:repository/demo-apps/nginx" {
		t.Fatalf("create-repository: %+v", created)
	}
	// The image the vendor pushed (seed: docker push …/demo-apps/nginx).
	img, err := random.Image(2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(b.ParseRef(t, "demo-apps/nginx:latest"), img, b.Remote(context.Background())...); err != nil {
		t.Fatal(err)
	}

	// Seed 003: the read-only service account.
	awsCLI(t, b, root, nil, "iam", "create-user", "--user-name", "replicated")
	awsCLI(t, b, root, nil, "iam", "attach-user-policy", "--user-name", "replicated", "--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
	var key cliAccessKey
	awsCLI(t, b, root, &key, "iam", "create-access-key", "--user-name", "replicated")
	ro := ecrCLIEnv(key.AccessKey.AccessKeyId, key.AccessKey.SecretAccessKey)

	var repos struct {
		Repositories []struct{ RepositoryName string }
	}
	awsCLI(t, b, ro, &repos, "ecr", "describe-repositories")
	if len(repos.Repositories) != 1 || repos.Repositories[0].RepositoryName != "demo-apps/nginx" {
		t.Fatalf("describe-repositories as the read-only user: %+v", repos)
	}
	var images struct {
		ImageIds []struct{ ImageTag, ImageDigest string }
	}
	awsCLI(t, b, ro, &images, "ecr", "list-images", "--repository-name", "demo-apps/nginx")
	if dg, _ := img.Digest(); len(images.ImageIds) != 1 || images.ImageIds[0].ImageTag != "latest" || images.ImageIds[0].ImageDigest != dg.String() {
		t.Fatalf("list-images: %+v", images)
	}

	t.Run("docker login with get-login-password and pull", func(t *testing.T) {
		d := NewDocker(t)
		ref := registry + "/demo-apps/nginx"
		t.Cleanup(func() { _, _, _ = d.Run("rmi", "-f", ref) })
		// Verbatim pipe from the seed, with --endpoint-url added.
		script := "aws --endpoint-url " + b.URL() + " ecr get-login-password --region us-east-1 | docker login --username AWS --password-stdin " + registry
		out := mustRun(t, Cmd{Name: "sh", Args: []string{"-c", script}, Env: append(ro, d.env()...)})
		if !strings.Contains(out, "Login Succeeded") {
			t.Fatalf("docker login: %s", out)
		}
		d.Must("pull", ref)
		dg, _ := img.Digest()
		digests := d.Must("image", "inspect", "--format", "{{range .RepoDigests}}{{.}} {{end}}", ref)
		if !strings.Contains(digests, ref+"@"+dg.String()) {
			t.Fatalf("pulled %s, want digest %s", digests, dg)
		}
		// Read-only: pushing is refused with ECR's explanation.
		d.Must("tag", ref, registry+"/demo-apps/nginx:mine")
		out, errOut, err := d.Run("push", registry+"/demo-apps/nginx:mine")
		if err == nil || !strings.Contains(out+errOut, "not authorized to perform: ecr:") {
			t.Fatalf("read-only push: err=%v\n%s%s", err, out, errOut)
		}
	})

	t.Run("repository policy round trip", func(t *testing.T) {
		policy := `{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]}]}`
		file := filepath.Join(t.TempDir(), "policy.json")
		if err := os.WriteFile(file, []byte(policy), 0o600); err != nil {
			t.Fatal(err)
		}
		var set, got struct{ RegistryId, RepositoryName, PolicyText string }
		awsCLI(t, b, root, &set, "ecr", "set-repository-policy", "--repository-name", "demo-apps/nginx", "--policy-text", "file://"+file)
		awsCLI(t, b, ro, &got, "ecr", "get-repository-policy", "--repository-name", "demo-apps/nginx")
		if set.PolicyText != policy || got.PolicyText != policy || got.RegistryId != ecrTestAccount {
			t.Fatalf("set %+v\nget %+v", set, got)
		}
		msg := awsCLIFails(t, b, root, "ecr", "set-repository-policy", "--repository-name", "demo-apps/nginx", "--policy-text", `{"Version":"2012-10-17","Statement":[]}`)
		if !strings.Contains(msg, "(InvalidParameterException) when calling the SetRepositoryPolicy operation: Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'") {
			t.Fatalf("invalid policy: %s", msg)
		}
		awsCLI(t, b, root, nil, "ecr", "delete-repository-policy", "--repository-name", "demo-apps/nginx")
		msg = awsCLIFails(t, b, root, "ecr", "get-repository-policy", "--repository-name", "demo-apps/nginx")
		if !strings.Contains(msg, "An error occurred (RepositoryPolicyNotFoundException) when calling the GetRepositoryPolicy operation: Repository policy does not exist for the repository with name 'demo-apps/nginx' in the registry with id '111111111111'") {
			t.Fatalf("get after delete: %s", msg)
		}
	})

	t.Run("errors as the CLI prints them", func(t *testing.T) {
		msg := awsCLIFails(t, b, root, "ecr", "describe-repositories", "--repository-names", "nope")
		want := "An error occurred (RepositoryNotFoundException) when calling the DescribeRepositories operation: The repository with name 'nope' does not exist in the registry with id '111111111111'"
		if !strings.Contains(msg, want) {
			t.Fatalf("stderr %q lacks %q", msg, want)
		}
		msg = awsCLIFails(t, b, ro, "ecr", "create-repository", "--repository-name", "other")
		want = "An error occurred (AccessDeniedException) when calling the CreateRepository operation: User: arn:aws:iam::111111111111:user/replicated is not authorized to perform: ecr:CreateRepository on resource: arn:aws:ecr:us-east-1:111111111111:repository/other because no identity-based policy allows the ecr:CreateRepository action"
		if !strings.Contains(msg, want) {
			t.Fatalf("stderr %q lacks %q", msg, want)
		}
	})

	t.Run("paginated listings through the CLI", func(t *testing.T) {
		for _, n := range []string{"p/a", "p/b", "p/c", "p/d", "p/e"} {
			awsCLI(t, b, root, nil, "ecr", "create-repository", "--repository-name", n)
		}
		var all struct {
			Repositories []struct{ RepositoryName string }
		}
		// --page-size makes the CLI follow nextToken page by page.
		awsCLI(t, b, root, &all, "ecr", "describe-repositories", "--page-size", "2")
		var names []string
		for _, r := range all.Repositories {
			names = append(names, r.RepositoryName)
		}
		if !slices.Equal(names, []string{"demo-apps/nginx", "p/a", "p/b", "p/c", "p/d", "p/e"}) {
			t.Fatalf("paginated names %v", names)
		}
	})

	t.Run("get-login prints the proxy endpoint", func(t *testing.T) {
		out := mustRun(t, Cmd{Name: "aws", Args: []string{"--endpoint-url", b.URL(), "ecr", "get-login", "--no-include-email"}, Env: ro})
		if !strings.HasPrefix(out, "docker login -u AWS -p ") || !strings.HasSuffix(strings.TrimSpace(out), " "+b.URL()) {
			t.Fatalf("get-login: %s", redact(out))
		}
	})
}
