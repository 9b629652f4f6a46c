//go:build e2e

package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/client/resolve/mototest"
)

const iamTestAccount = "111111111111"

// awsEnv is the environment of an aws CLI / boto3 process talking to berth
// with the given key. The region is eu-west-1 on purpose: with an endpoint
// override the CLI signs IAM with the client's region, not us-east-1.
func awsEnv(key, secret, token string) []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + key,
		"AWS_SECRET_ACCESS_KEY=" + secret,
		"AWS_SESSION_TOKEN=" + token,
		"AWS_DEFAULT_REGION=eu-west-1",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
	}
}

// noAWSProfile removes AWS_PROFILE for the test: with the config files
// pointed at /dev/null any profile name (even "") makes botocore fail with
// ProfileNotFound, and exec cannot unset a variable through Cmd.Env.
func noAWSProfile(t *testing.T) {
	t.Helper()
	t.Setenv("AWS_PROFILE", "") // restores the original value at cleanup
	if err := os.Unsetenv("AWS_PROFILE"); err != nil {
		t.Fatal(err)
	}
}

// awsCLI runs `aws --endpoint-url <berth> args...` and decodes its JSON output into out (when non-nil).
func awsCLI(t *testing.T, b *Berth, env []string, out any, args ...string) {
	t.Helper()
	stdout := mustRun(t, Cmd{Name: "aws", Args: append([]string{"--endpoint-url", b.URL(), "--output", "json"}, args...), Env: env})
	if out != nil {
		if err := json.Unmarshal([]byte(stdout), out); err != nil {
			t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, stdout)
		}
	}
}

// awsCLIFails runs the CLI expecting failure and returns its stderr.
func awsCLIFails(t *testing.T, b *Berth, env []string, args ...string) string {
	t.Helper()
	_, stderr, err := run(t, Cmd{Name: "aws", Args: append([]string{"--endpoint-url", b.URL()}, args...), Env: env})
	if err == nil {
		t.Fatalf("aws %s succeeded, want failure", strings.Join(args, " "))
	}
	return strings.TrimSpace(stderr)
}

type cliAccessKey struct {
	AccessKey struct{ UserName, AccessKeyId, SecretAccessKey, Status string }
}

type cliCallerIdentity struct{ UserId, Account, Arn string }

// TestAWSCLIIAM runs seed 003's IAM commands verbatim (read-only ECR user,
// its access key), then uses that key, AssumeRole and the session credentials
// with the installed aws CLI v1.
func TestAWSCLIIAM(t *testing.T) {
	requireTool(t, "aws")
	noAWSProfile(t)
	b := StartBerth(t, WithArgs("--account-id", iamTestAccount))
	root := awsEnv(RootAccessKeyID, RootSecretAccessKey, "")

	var user struct {
		User struct{ UserName, Arn, UserId, CreateDate string }
	}
	awsCLI(t, b, root, &user, "iam", "create-user", "--user-name", "replicated")
	if user.User.Arn != "arn:aws:iam::111111111111:user/replicated" || !strings.HasPrefix(user.User.UserId, "AIDA") {
		t.Fatalf("create-user = %+v", user.User)
	}
	awsCLI(t, b, root, nil, "iam", "attach-user-policy", "--user-name", "replicated",
		"--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
	var key cliAccessKey
	awsCLI(t, b, root, &key, "iam", "create-access-key", "--user-name", "replicated")
	if !strings.HasPrefix(key.AccessKey.AccessKeyId, "AKIA") || len(key.AccessKey.SecretAccessKey) != 40 || key.AccessKey.Status != "Active" {
		t.Fatalf("create-access-key = %+v", key.AccessKey.AccessKeyId)
	}

	stderr := awsCLIFails(t, b, root, "iam", "create-user", "--user-name", "replicated")
	if !strings.Contains(stderr, "An error occurred (EntityAlreadyExists) when calling the CreateUser operation: User with name replicated already exists.") {
		t.Fatalf("duplicate create-user stderr: %s", stderr)
	}
	stderr = awsCLIFails(t, b, root, "iam", "get-user", "--user-name", "nobody")
	if !strings.Contains(stderr, "An error occurred (NoSuchEntity) when calling the GetUser operation: The user with name nobody cannot be found.") {
		t.Fatalf("get-user stderr: %s", stderr)
	}

	var attached struct {
		AttachedPolicies []struct{ PolicyName, PolicyArn string }
	}
	awsCLI(t, b, root, &attached, "iam", "list-attached-user-policies", "--user-name", "replicated")
	if len(attached.AttachedPolicies) != 1 || attached.AttachedPolicies[0].PolicyName != "AmazonEC2ContainerRegistryReadOnly" {
		t.Fatalf("list-attached-user-policies = %+v", attached)
	}
	// botocore URL-decodes and parses policy documents: JSON in, JSON out.
	var version struct {
		PolicyVersion struct {
			Document struct{ Statement []struct{ Action []string } }
		}
	}
	awsCLI(t, b, root, &version, "iam", "get-policy-version", "--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly", "--version-id", "v3")
	if len(version.PolicyVersion.Document.Statement) != 1 || !iamContains(version.PolicyVersion.Document.Statement[0].Action, "ecr:BatchGetImage") {
		t.Fatalf("get-policy-version document = %+v", version.PolicyVersion.Document)
	}

	// The read-only user's key.
	reader := awsEnv(key.AccessKey.AccessKeyId, key.AccessKey.SecretAccessKey, "")
	var me cliCallerIdentity
	awsCLI(t, b, reader, &me, "sts", "get-caller-identity")
	if me.Arn != user.User.Arn || me.Account != iamTestAccount || me.UserId != user.User.UserId {
		t.Fatalf("get-caller-identity = %+v", me)
	}
	stderr = awsCLIFails(t, b, reader, "iam", "list-users")
	want := "An error occurred (AccessDenied) when calling the ListUsers operation: User: arn:aws:iam::111111111111:user/replicated is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::111111111111:user/ because no identity-based policy allows the iam:ListUsers action"
	if !strings.Contains(stderr, want) {
		t.Fatalf("list-users as reader:\n%s\nwant %s", stderr, want)
	}

	// AssumeRole: the role trusts the account, the user is allowed by identity policy.
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}`
	var role struct{ Role struct{ Arn string } }
	awsCLI(t, b, root, &role, "iam", "create-role", "--role-name", "puller", "--assume-role-policy-document", trust, "--max-session-duration", "7200")
	awsCLI(t, b, root, nil, "iam", "attach-role-policy", "--role-name", "puller", "--policy-arn", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
	awsCLI(t, b, root, nil, "iam", "put-role-policy", "--role-name", "puller", "--policy-name", "list-users",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}`)
	stderr = awsCLIFails(t, b, reader, "sts", "assume-role", "--role-arn", role.Role.Arn, "--role-session-name", "ci")
	if !strings.Contains(stderr, "(AccessDenied) when calling the AssumeRole operation: User: arn:aws:iam::111111111111:user/replicated is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/puller") {
		t.Fatalf("assume-role without identity allow: %s", stderr)
	}
	awsCLI(t, b, root, nil, "iam", "put-user-policy", "--user-name", "replicated", "--policy-name", "assume",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"`+role.Role.Arn+`"}]}`)
	var assumed struct {
		Credentials     struct{ AccessKeyId, SecretAccessKey, SessionToken, Expiration string }
		AssumedRoleUser struct{ AssumedRoleId, Arn string }
	}
	awsCLI(t, b, reader, &assumed, "sts", "assume-role", "--role-arn", role.Role.Arn, "--role-session-name", "ci", "--duration-seconds", "3600")
	cr := assumed.Credentials
	if !strings.HasPrefix(cr.AccessKeyId, "ASIA") || cr.SessionToken == "" || cr.Expiration == "" ||
		assumed.AssumedRoleUser.Arn != "arn:aws:sts::111111111111:assumed-role/puller/ci" {
		t.Fatalf("assume-role = %+v", assumed.AssumedRoleUser)
	}
	stderr = awsCLIFails(t, b, reader, "sts", "assume-role", "--role-arn", role.Role.Arn, "--role-session-name", "ci", "--duration-seconds", "7201")
	if !strings.Contains(stderr, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.") {
		t.Fatalf("assume-role over MaxSessionDuration: %s", stderr)
	}

	session := awsEnv(cr.AccessKeyId, cr.SecretAccessKey, cr.SessionToken)
	awsCLI(t, b, session, &me, "sts", "get-caller-identity")
	if me.Arn != assumed.AssumedRoleUser.Arn || me.UserId != assumed.AssumedRoleUser.AssumedRoleId {
		t.Fatalf("get-caller-identity with session = %+v", me)
	}
	var users struct{ Users []struct{ UserName string } }
	awsCLI(t, b, session, &users, "iam", "list-users")
	if len(users.Users) != 1 || users.Users[0].UserName != "replicated" {
		t.Fatalf("list-users with session = %+v", users)
	}
	stderr = awsCLIFails(t, b, session, "sts", "get-session-token")
	if !strings.Contains(stderr, "(AccessDenied) when calling the GetSessionToken operation") {
		t.Fatalf("get-session-token with session credentials: %s", stderr)
	}

	// The session credentials are registry credentials too (auth.SessionPassword).
	password := auth.SessionPassword(cr.SecretAccessKey, cr.SessionToken)
	req, err := http.NewRequest(http.MethodGet, b.URL()+"/v2/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(cr.AccessKeyId, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/ with session credentials: %s", resp.Status)
	}
	t.Run("docker login with session credentials", func(t *testing.T) {
		d := NewDocker(t)
		if out, err := d.Login(b.Addr, cr.AccessKeyId, password); err != nil || !strings.Contains(out, "Login Succeeded") {
			t.Fatalf("docker login: %v\n%s", err, out)
		}
		if out, err := d.Login(b.Addr, cr.AccessKeyId, auth.SessionPassword(cr.SecretAccessKey, "forged")); err == nil {
			t.Fatalf("docker login with a forged session token succeeded:\n%s", out)
		}
	})
}

// TestBoto3IAM runs the same flow with boto3 (testdata/iam_boto3_flow.py).
func TestBoto3IAM(t *testing.T) {
	python := requireTool(t, "python3")
	noAWSProfile(t)
	b := StartBerth(t, WithArgs("--account-id", iamTestAccount))
	env := append(awsEnv(RootAccessKeyID, RootSecretAccessKey, ""), "BERTH_ENDPOINT="+b.URL())
	out := mustRun(t, Cmd{Name: python, Args: []string{iamTestdata(t, "iam_boto3_flow.py")}, Env: env})
	if !strings.HasSuffix(strings.TrimSpace(out), "OK") {
		t.Fatalf("boto3 flow did not finish:\n%s", out)
	}
}

// knownMotoDiffs are IAM/STS shape differences between berth and moto where
// AWS's documented shape wins (docs/compat.md, "IAM/STS"). Keys are op + path.
var knownMotoDiffs = map[string]string{
	"ListAccessKeys .IsTruncated":                            "AWS always sends IsTruncated; moto leaves it out",
	"ListPolicyVersions .IsTruncated":                        "AWS always sends IsTruncated; moto leaves it out",
	"GetGroup .IsTruncated":                                  "AWS always sends IsTruncated; moto leaves it out",
	"ListGroups .IsTruncated":                                "AWS always sends IsTruncated; moto leaves it out",
	"CreatePolicy .Policy.PermissionsBoundaryUsageCount":     "AWS's Policy shape has it; moto leaves it out",
	"GetPolicy .Policy.PermissionsBoundaryUsageCount":        "AWS's Policy shape has it; moto leaves it out",
	"ListPolicies .Policies[].PermissionsBoundaryUsageCount": "AWS's Policy shape has it; moto leaves it out",
	"CreatePolicyVersion .PolicyVersion.Document":            "AWS answers CreatePolicyVersion without the document",
	"ListPolicyVersions .Versions[].Document":                "AWS lists versions without documents",
	"CreateRole .Role.RoleLastUsed":                          "AWS's CreateRole has no RoleLastUsed (GetRole does)",
	"CreateRole .Role.MaxSessionDuration":                    "AWS's CreateRole has no MaxSessionDuration (GetRole and ListRoles do)",
	"GetGroup .Users[].Tags":                                 "AWS's GetGroup members carry no tags",
	"AssumeRole .PackedPolicySize":                           "AWS sends PackedPolicySize only with session policies",
}

// TestIAMShapesAgainstMoto compares response keys and types of the same
// boto3 calls on berth and moto_server.
func TestIAMShapesAgainstMoto(t *testing.T) {
	python := requireTool(t, "python3")
	t.Setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
	moto := mototest.Start(t)
	noAWSProfile(t)
	b := StartBerth(t, WithArgs("--account-id", iamTestAccount))
	env := append(awsEnv("testing", "testing", ""),
		"BERTH_ENDPOINT="+b.URL(), "BERTH_KEY="+RootAccessKeyID, "BERTH_SECRET="+RootSecretAccessKey, "MOTO_ENDPOINT="+moto)
	compareShapesWithMoto(t, python, "iam_moto_shapes.py", env, knownMotoDiffs)
}

func iamTestdata(t *testing.T, name string) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate test sources")
	}
	return filepath.Join(filepath.Dir(file), "testdata", name)
}

func iamContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
