//go:build e2e

package e2e

import (
	"strings"
	"testing"
)

// Issue 16 with the real aws CLI: a region guardrail on aws:RequestedRegion
// and an identity-policy Deny on one repository hold for the CLI, and the
// listing leaves the denied repository out.
func TestAWSCLISecurityGuardrails(t *testing.T) {
	requireTool(t, "aws")
	noAWSProfile(t)
	b := StartBerth(t, WithArgs("--account-id", iamTestAccount))
	root := awsEnv(RootAccessKeyID, RootSecretAccessKey, "")
	for _, n := range []string{"pub", "hidden"} {
		awsCLI(t, b, root, nil, "ecr", "create-repository", "--region", "us-east-1", "--repository-name", n)
	}
	policy := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":"*","Resource":"*"},
	 {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}},
	 {"Effect":"Deny","Action":"ecr:DescribeRepositories","Resource":"arn:aws:ecr:us-east-1:` + iamTestAccount + `:repository/hidden"},
	 {"Effect":"Deny","Action":"iam:AttachUserPolicy","Resource":"*","Condition":{"ArnEquals":{"iam:PolicyARN":"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess"}}}]}`
	awsCLI(t, b, root, nil, "iam", "create-user", "--user-name", "guarded")
	awsCLI(t, b, root, nil, "iam", "put-user-policy", "--user-name", "guarded", "--policy-name", "guard", "--policy-document", policy)
	var key cliAccessKey
	awsCLI(t, b, root, &key, "iam", "create-access-key", "--user-name", "guarded")
	user := awsEnv(key.AccessKey.AccessKeyId, key.AccessKey.SecretAccessKey, "")

	var out struct {
		Repositories []struct{ RepositoryName string }
	}
	awsCLI(t, b, user, &out, "ecr", "describe-repositories", "--region", "us-east-1")
	if len(out.Repositories) != 1 || out.Repositories[0].RepositoryName != "pub" {
		t.Errorf("describe-repositories as guarded: %+v", out.Repositories)
	}
	stderr := awsCLIFails(t, b, user, "ecr", "describe-repositories", "--region", "eu-west-1")
	if !strings.Contains(stderr, "AccessDeniedException") || !strings.Contains(stderr, "explicit deny") {
		t.Errorf("describe-repositories in eu-west-1: %s", stderr)
	}
	stderr = awsCLIFails(t, b, user, "ecr", "describe-repositories", "--region", "us-east-1", "--repository-names", "hidden")
	if !strings.Contains(stderr, "AccessDeniedException") {
		t.Errorf("describe-repositories --repository-names hidden: %s", stderr)
	}
	// IAM is signed with the client's region (us-east-1 here).
	awsCLI(t, b, root, nil, "iam", "create-user", "--user-name", "target")
	stderr = awsCLIFails(t, b, append(user, "AWS_DEFAULT_REGION=us-east-1"), "iam", "attach-user-policy", "--user-name", "target",
		"--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess")
	if !strings.Contains(stderr, "AccessDenied") {
		t.Errorf("attach-user-policy of the guarded policy: %s", stderr)
	}
	awsCLI(t, b, append(user, "AWS_DEFAULT_REGION=us-east-1"), nil, "iam", "attach-user-policy", "--user-name", "target",
		"--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
}
