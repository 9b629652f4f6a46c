//go:build e2e

package e2e

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/berth-dev/berth/internal/client/resolve/mototest"
)

type cliParameter struct {
	Parameter struct {
		Name, Type, Value, Selector, ARN, DataType string
		Version                                    int64
		LastModifiedDate                           float64
	}
}

// TestAWSCLISSM runs seed 000's Parameter Store commands with the installed
// aws CLI v1 against berth, then reads the values back with the CLI and with
// berth's own `berth resolve`.
func TestAWSCLISSM(t *testing.T) {
	requireTool(t, "aws")
	noAWSProfile(t)
	b := StartBerth(t)
	env := awsEnv(RootAccessKeyID, RootSecretAccessKey, "")

	// Seed 000: "aws ssm put-parameter --name USER --type String --value "username"" (PASSWD
	// as a SecureString, as anyone storing a password should).
	var put struct {
		Version int64
		Tier    string
	}
	awsCLI(t, b, env, &put, "ssm", "put-parameter", "--name", "USER", "--type", "String", "--value", "username")
	if put.Version != 1 || put.Tier != "Standard" {
		t.Fatalf("put-parameter USER: %+v", put)
	}
	awsCLI(t, b, env, nil, "ssm", "put-parameter", "--name", "PASSWD", "--type", "SecureString", "--value", "passwd-e2e-0123")

	var got cliParameter
	awsCLI(t, b, env, &got, "ssm", "get-parameter", "--name", "USER")
	if got.Parameter.Value != "username" || got.Parameter.Version != 1 || got.Parameter.Type != "String" || got.Parameter.LastModifiedDate == 0 {
		t.Fatalf("get-parameter USER: %+v", got.Parameter)
	}
	awsCLI(t, b, env, nil, "ssm", "put-parameter", "--name", "USER", "--type", "String", "--value", "username2", "--overwrite")
	got = cliParameter{}
	awsCLI(t, b, env, &got, "ssm", "get-parameter", "--name", "USER:1")
	if got.Parameter.Value != "username" || got.Parameter.Version != 1 || got.Parameter.Selector != ":1" || got.Parameter.Name != "USER" {
		t.Fatalf("get-parameter USER:1: %+v", got.Parameter)
	}
	got = cliParameter{}
	awsCLI(t, b, env, &got, "ssm", "get-parameter", "--name", "PASSWD")
	if got.Parameter.Value == "passwd-e2e-0123" {
		t.Fatal("SecureString came back in plaintext without --with-decryption")
	}
	if _, err := base64.StdEncoding.DecodeString(got.Parameter.Value); err != nil {
		t.Fatalf("ciphertext %q is not base64: %v", got.Parameter.Value, err)
	}
	got = cliParameter{}
	awsCLI(t, b, env, &got, "ssm", "get-parameter", "--name", "PASSWD", "--with-decryption")
	if got.Parameter.Value != "passwd-e2e-0123" || got.Parameter.Type != "SecureString" {
		t.Fatalf("get-parameter --with-decryption: %+v", got.Parameter)
	}
	// --query/--output text is how scripts consume it.
	text := strings.TrimSpace(mustRun(t, Cmd{Name: "aws", Env: env, Args: []string{"--endpoint-url", b.URL(), "ssm", "get-parameter",
		"--name", "PASSWD", "--with-decryption", "--query", "Parameter.Value", "--output", "text"}}))
	if text != "passwd-e2e-0123" {
		t.Fatalf("--output text = %q", text)
	}

	errs := []struct {
		args []string
		want string
	}{
		{[]string{"ssm", "get-parameter", "--name", "NOPE"}, "An error occurred (ParameterNotFound) when calling the GetParameter operation: "},
		{[]string{"ssm", "get-parameter", "--name", "USER:9"}, "An error occurred (ParameterVersionNotFound) when calling the GetParameter operation: Systems Manager could not find version 9 of USER. Verify the version and try again."},
		{[]string{"ssm", "put-parameter", "--name", "USER", "--type", "String", "--value", "x"}, "An error occurred (ParameterAlreadyExists) when calling the PutParameter operation: The parameter already exists. To overwrite this value, set the overwrite option in the request to true."},
	}
	for _, e := range errs {
		if msg := awsCLIFails(t, b, env, e.args...); msg != strings.TrimSpace(e.want) {
			t.Errorf("aws %s:\n got %q\nwant %q", strings.Join(e.args, " "), msg, e.want)
		}
	}

	// by-path, describe and history through the CLI's own paginators.
	for _, n := range []string{"/app/prod/a", "/app/prod/b", "/app/prod/c", "/app/dev/a"} {
		awsCLI(t, b, env, nil, "ssm", "put-parameter", "--name", n, "--type", "String", "--value", "v")
	}
	var byPath struct{ Parameters []struct{ Name string } }
	awsCLI(t, b, env, &byPath, "ssm", "get-parameters-by-path", "--path", "/app", "--recursive", "--page-size", "1")
	if len(byPath.Parameters) != 4 {
		t.Fatalf("get-parameters-by-path: %+v", byPath)
	}
	var desc struct{ Parameters []struct{ Name string } }
	awsCLI(t, b, env, &desc, "ssm", "describe-parameters", "--page-size", "2", "--parameter-filters", "Key=Name,Option=BeginsWith,Values=/app/prod")
	if len(desc.Parameters) != 3 {
		t.Fatalf("describe-parameters: %+v", desc)
	}
	var hist struct{ Parameters []struct{ Value string } }
	awsCLI(t, b, env, &hist, "ssm", "get-parameter-history", "--name", "USER")
	if len(hist.Parameters) != 2 || hist.Parameters[0].Value != "username" {
		t.Fatalf("get-parameter-history: %+v", hist)
	}

	// berth's client toolkit against berth's SSM API.
	benv := append(env, "AWS_REGION=eu-west-1")
	berth := func(args ...string) string {
		t.Helper()
		return mustRun(t, Cmd{Name: os.Getenv("BERTH_BIN"), Args: args, Env: benv})
	}
	if v := berth("resolve", "--param", "USER", "--endpoint-url", b.URL()); v != "username2\n" {
		t.Fatalf("berth resolve --param USER = %q", v)
	}
	if v := berth("resolve", "--param", "USER:1", "--endpoint-url", b.URL()); v != "username\n" {
		t.Fatalf("berth resolve --param USER:1 = %q", v)
	}
	if v := berth("resolve", "--param", "PASSWD", "--secure", "--endpoint-url", b.URL()); v != "passwd-e2e-0123\n" {
		t.Fatalf("berth resolve --param PASSWD --secure = %q", v)
	}
	ebx := filepath.Join(t.TempDir(), "env.config")
	writeFile(t, ebx, "option_settings:\n  aws:elasticbeanstalk:application:environment:\n    USER: '{{resolve:ssm:USER:1}}'\n    PASSWD: '{{resolve:ssm-secure:PASSWD:1}}'\n")
	var cfg struct {
		OptionSettings map[string]map[string]string `yaml:"option_settings"`
	}
	if err := yaml.Unmarshal([]byte(berth("resolve", "--endpoint-url", b.URL(), ebx)), &cfg); err != nil {
		t.Fatal(err)
	}
	vals := cfg.OptionSettings["aws:elasticbeanstalk:application:environment"]
	if vals["USER"] != "username" || vals["PASSWD"] != "passwd-e2e-0123" {
		t.Fatalf("expanded env.config: %v", vals)
	}
	if _, _, err := run(t, Cmd{Name: os.Getenv("BERTH_BIN"), Args: []string{"resolve", "--param", "USER:3", "--endpoint-url", b.URL()}, Env: benv}); exitStatus(err) != "exit 3" {
		t.Fatalf("berth resolve of a missing version: %v (want exit 3)", err)
	}
}

// TestAWSCLISecretsManager covers the minimal Secrets Manager API with the
// CLI, including the pull-through-cache secret format and the SSM reference.
func TestAWSCLISecretsManager(t *testing.T) {
	requireTool(t, "aws")
	noAWSProfile(t)
	b := StartBerth(t)
	env := awsEnv(RootAccessKeyID, RootSecretAccessKey, "")
	var created struct{ ARN, Name, VersionId string }
	awsCLI(t, b, env, &created, "secretsmanager", "create-secret", "--name", "ecr-pullthroughcache/hub",
		"--secret-string", `{"username":"u","accessToken":"t"}`)
	if !strings.HasPrefix(created.ARN, "arn:aws:secretsmanager:eu-west-1:") || len(created.VersionId) != 36 {
		t.Fatalf("create-secret: %+v", created)
	}
	var val struct {
		SecretString  string
		VersionStages []string
	}
	awsCLI(t, b, env, &val, "secretsmanager", "get-secret-value", "--secret-id", created.ARN)
	if val.SecretString != `{"username":"u","accessToken":"t"}` || len(val.VersionStages) != 1 {
		t.Fatalf("get-secret-value: %+v", val)
	}
	awsCLI(t, b, env, nil, "secretsmanager", "put-secret-value", "--secret-id", "ecr-pullthroughcache/hub", "--secret-string", "v2")
	var ref cliParameter
	awsCLI(t, b, env, &ref, "ssm", "get-parameter", "--name", "/aws/reference/secretsmanager/ecr-pullthroughcache/hub", "--with-decryption")
	if ref.Parameter.Value != "v2" {
		t.Fatalf("secretsmanager reference: %+v", ref.Parameter)
	}
	awsCLI(t, b, env, nil, "secretsmanager", "delete-secret", "--secret-id", "ecr-pullthroughcache/hub", "--recovery-window-in-days", "7")
	msg := awsCLIFails(t, b, env, "secretsmanager", "get-secret-value", "--secret-id", "ecr-pullthroughcache/hub")
	if !strings.Contains(msg, "(InvalidRequestException) when calling the GetSecretValue operation: You can't perform this operation on the secret because it was marked for deletion.") {
		t.Fatalf("get-secret-value after delete-secret: %s", msg)
	}
}

// knownSSMMotoDiffs are SSM / Secrets Manager shape differences between berth
// and moto where berth follows AWS's model (docs/compat.md).
var knownSSMMotoDiffs = map[string]string{
	"GetParameterVersion .Parameter.Selector":           "AWS echoes the selector (model member Selector); moto leaves it out",
	"DescribeParameters .Parameters[].ARN":              "ParameterMetadata has ARN in AWS's model; moto leaves it out",
	"DescribeParametersFiltered .Parameters[].ARN":      "ParameterMetadata has ARN in AWS's model; moto leaves it out",
	"DescribeParameters .Parameters[].Policies":         "AWS sends Policies: [] for parameters without policies; moto leaves it out",
	"DescribeParametersFiltered .Parameters[].Policies": "AWS sends Policies: [] for parameters without policies; moto leaves it out",
	"GetParameterHistory .Parameters[].Policies":        "AWS sends Policies: [] for parameters without policies; moto leaves it out",
}

// TestSSMShapesAgainstMoto compares response keys, value types and error
// codes of the same boto3 calls on berth and moto_server.
func TestSSMShapesAgainstMoto(t *testing.T) {
	python := requireTool(t, "python3")
	moto := mototest.Start(t)
	noAWSProfile(t)
	b := StartBerth(t)
	env := append(awsEnv("testing", "testing", ""),
		"BERTH_ENDPOINT="+b.URL(), "BERTH_KEY="+RootAccessKeyID, "BERTH_SECRET="+RootSecretAccessKey, "MOTO_ENDPOINT="+moto)
	compareShapesWithMoto(t, python, "ssm_moto_shapes.py", env, knownSSMMotoDiffs)
}
