package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/berth-dev/berth/internal/client/dockercfg"
	"github.com/berth-dev/berth/internal/client/ecsauth"
	"github.com/berth-dev/berth/internal/client/resolve/mototest"
)

type runResult struct {
	code           int
	stdout, stderr string
}

func runBerth(t *testing.T, env map[string]string, stdin string, args ...string) runResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), append([]string{"berth"}, args...), Env{
		Stdin:  strings.NewReader(stdin),
		Stdout: &out,
		Stderr: &errb,
		Getenv: func(k string) string {
			if v, ok := env[k]; ok {
				return v
			}
			return os.Getenv(k)
		},
	})
	return runResult{code, out.String(), errb.String()}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlatformCommandsHaveHelpWithExample(t *testing.T) {
	for _, args := range [][]string{{"ecs-auth"}, {"dockerrun", "check"}, {"dockerrun", "login"}, {"resolve"}} {
		r := runBerth(t, nil, "", append(args, "--help")...)
		if r.code != ExitOK || !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("%v --help: code %d, no Examples section:\n%s", args, r.code, r.stdout)
		}
	}
}

func TestECSAuthCommand(t *testing.T) {
	dir := t.TempDir()
	wrapped := writeFile(t, dir, "wrapped.config", `ECS_ENGINE_AUTH_TYPE=dockercfg`+"\n"+`ECS_ENGINE_AUTH_DATA={"auths":{"registry.example.com":{"auth":"`+b64("u:p")+`"}}}`+"\n")
	r := runBerth(t, nil, "", "ecs-auth", "--file", wrapped)
	if r.code != ExitFailure || !strings.Contains(r.stdout, `literally named "auths"`) {
		t.Fatalf("wrapper: %+v", r)
	}
	// Converting the broken file yields a valid snippet the agent accepts.
	r = runBerth(t, nil, "", "ecs-auth", "--file", wrapped, "--to", "dockercfg")
	if r.code != ExitOK {
		t.Fatalf("convert: %+v", r)
	}
	fixed := writeFile(t, dir, "fixed.config", r.stdout)
	r = runBerth(t, nil, "", "ecs-auth", "--file", fixed, "--image", "registry.example.com/team/app:1")
	if r.code != ExitOK || !strings.Contains(r.stdout, `agent uses entry "registry.example.com"`) {
		t.Fatalf("fixed: %+v", r)
	}
	r = runBerth(t, nil, "", "ecs-auth", "--file", fixed, "--image", "quay.io/x/y")
	if r.code != ExitNotFound {
		t.Fatalf("uncovered image: %+v", r)
	}
	r = runBerth(t, nil, "", "ecs-auth", "--file", filepath.Join(dir, "nope"))
	if r.code != ExitNotFound || !strings.Contains(r.stderr, "nope") {
		t.Fatalf("missing file: %+v", r)
	}
	r = runBerth(t, nil, "", "ecs-auth", "--to", "yaml", "--file", fixed)
	if r.code != ExitUsage {
		t.Fatalf("bad --to: %+v", r)
	}
}

// TestECSAuthRoundTrip converts config.json → dockercfg → docker →
// config.json and checks every step keeps the credentials and that each
// ECS snippet is what the agent parser accepts.
func TestECSAuthRoundTrip(t *testing.T) {
	dir := t.TempDir()
	cfgJSON := writeFile(t, dir, "config.json", `{"auths":{"https://index.docker.io/v1/":{"auth":"`+b64("hub:p=w")+`"},"127.0.0.1:5000":{"auth":"`+b64("AWS:a:b")+`"}},"credsStore":""}`)
	cur := cfgJSON
	for _, to := range []string{"dockercfg", "docker", "config.json", "docker"} {
		r := runBerth(t, nil, "", "ecs-auth", "--from", cur, "--to", to)
		if r.code != ExitOK {
			t.Fatalf("--to %s: %+v", to, r)
		}
		if to != "config.json" {
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			if len(lines) != 2 || lines[0] != "ECS_ENGINE_AUTH_TYPE="+to || !strings.HasPrefix(lines[1], "ECS_ENGINE_AUTH_DATA={") {
				t.Fatalf("--to %s: not a two-line snippet:\n%s", to, r.stdout)
			}
			ef, err := ecsauth.ParseEnvFile(strings.NewReader(r.stdout), "x")
			if err != nil {
				t.Fatal(err)
			}
			rep := ecsauth.Analyze(ef, []string{"nginx", "127.0.0.1:5000/app"})
			if ecsauth.HasErrors(rep.Diags()) || rep.Matches[0].Key != "index.docker.io/v1/" || rep.Matches[1].Key != "127.0.0.1:5000" {
				t.Fatalf("--to %s: agent view %+v %+v", to, rep.Diags(), rep.Matches)
			}
			for _, e := range rep.Auth.Entries {
				want := map[string]string{"https://index.docker.io/v1/": "hub/p=w", "127.0.0.1:5000": "AWS/a:b"}[e.RawKey]
				if e.Username+"/"+e.Password != want {
					t.Fatalf("--to %s: %s = %s/%s", to, e.RawKey, e.Username, e.Password)
				}
			}
		} else {
			c, err := dockercfg.Parse([]byte(r.stdout))
			if err != nil {
				t.Fatal(err)
			}
			u, p, err := c.Lookup("127.0.0.1:5000", "").Entry.Credentials()
			if err != nil || u != "AWS" || p != "a:b" {
				t.Fatalf("config.json: %q %q %v", u, p, err)
			}
		}
		cur = writeFile(t, dir, "step-"+to, r.stdout)
	}
}

func motoEnv(t *testing.T) (string, aws.Config) {
	t.Helper()
	endpoint := mototest.Start(t)
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("eu-west-1"))
	if err != nil {
		t.Fatal(err)
	}
	return endpoint, cfg
}

func TestResolveCommandAgainstMoto(t *testing.T) {
	endpoint, cfg := motoEnv(t)
	ctx := context.Background()
	c := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(endpoint) })
	for _, p := range []struct {
		name, value string
		typ         ssmtypes.ParameterType
	}{
		{"USER", "alice", ssmtypes.ParameterTypeString},
		{"USER", "bob", ssmtypes.ParameterTypeString},
		{"PASSWD", "pa ss\tw0rd ", ssmtypes.ParameterTypeString},
		{"/app/secret", "s3cr3t", ssmtypes.ParameterTypeSecureString},
	} {
		if _, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(p.name), Value: aws.String(p.value), Type: p.typ, Overwrite: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL_SSM": endpoint}
	tests := []struct {
		args   []string
		stdin  string
		code   int
		stdout string
		errSub string
	}{
		{args: []string{"--param", "USER"}, stdout: "bob\n"},
		{args: []string{"--param", "USER:1"}, stdout: "alice\n"},
		{args: []string{"--param", "PASSWD"}, stdout: "pa ss\tw0rd \n"},
		{args: []string{"--param", "USER:3"}, code: ExitNotFound, errSub: "version 3 of parameter USER"},
		{args: []string{"--param", "NOPE"}, code: ExitNotFound, errSub: "NOPE"},
		{args: []string{"--param", "USER:0"}, code: ExitUsage, errSub: "positive integer"},
		{args: []string{"--param", "/app/secret"}, code: ExitFailure, errSub: "--secure"},
		{args: []string{"--param", "/app/secret", "--secure"}, stdout: "s3cr3t\n"},
		{args: []string{"--param", "USER", "--secure"}, code: ExitFailure, errSub: "not a SecureString"},
		{args: []string{"-"}, stdin: "u={{resolve:ssm:USER:1}} s={{resolve:ssm-secure:/app/secret}}\n", stdout: "u=alice s=s3cr3t\n"},
		{args: []string{"-"}, stdin: "a\n{{resolve:ssm:/app/secret}}\n", code: ExitFailure, errSub: "<stdin>:2: {{resolve:ssm:/app/secret}}: ErrType"},
		{args: []string{"-"}, stdin: "a\nb\n{{resolve:ssm:MISSING:2}}\n", code: ExitNotFound, errSub: "<stdin>:3: {{resolve:ssm:MISSING:2}}"},
		{args: []string{"-"}, stdin: "{{resolve:ssm:A:x}}", code: ExitUsage, errSub: "<stdin>:1"},
		{args: []string{"--env", "DB_URL"}, stdout: "postgres://alice@db\n"},
		{args: []string{"--env", "UNSET_BERTH_VAR"}, code: ExitNotFound},
		{args: []string{"--param", "USER", "file"}, code: ExitUsage},
	}
	env["DB_URL"] = "postgres://{{resolve:ssm:USER:1}}@db"
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " ")+tc.stdin, func(t *testing.T) {
			r := runBerth(t, env, tc.stdin, append([]string{"resolve"}, tc.args...)...)
			if r.code != tc.code {
				t.Fatalf("code %d, want %d: %+v", r.code, tc.code, r)
			}
			if tc.code == ExitOK && r.stdout != tc.stdout {
				t.Fatalf("stdout %q, want %q", r.stdout, tc.stdout)
			}
			if tc.errSub != "" && !strings.Contains(strings.ReplaceAll(r.stderr, "wrong parameter type", "ErrType"), tc.errSub) {
				t.Fatalf("stderr %q lacks %q", r.stderr, tc.errSub)
			}
		})
	}
	// --endpoint-url beats the environment.
	r := runBerth(t, map[string]string{"AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:1"}, "", "resolve", "--endpoint-url", endpoint, "--param", "USER")
	if r.code != ExitOK || r.stdout != "bob\n" {
		t.Fatalf("--endpoint-url: %+v", r)
	}
	// .ebextensions in place.
	dir := t.TempDir()
	p := writeFile(t, dir, ".ebextensions/env.config", "option_settings:\n  aws:elasticbeanstalk:application:environment:\n    USER: '{{resolve:ssm:USER:1}}'\n    PASSWD: '{{resolve:ssm:PASSWD}}'\n")
	r = runBerth(t, env, "", "resolve", "--in-place", p)
	if r.code != ExitOK {
		t.Fatalf("in-place: %+v", r)
	}
	got, _ := os.ReadFile(p)
	want := "option_settings:\n  aws:elasticbeanstalk:application:environment:\n    USER: 'alice'\n    PASSWD: \"pa ss\\tw0rd \"\n"
	if string(got) != want {
		t.Fatalf("in-place result:\n%s\nwant:\n%s", got, want)
	}
}

func TestDockerrunCommandAgainstMoto(t *testing.T) {
	endpoint, cfg := motoEnv(t)
	ctx := context.Background()
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(endpoint); o.UsePathStyle = true })
	for bucket, region := range map[string]string{"eb-eu": "eu-west-1", "eb-us": "us-west-2"} {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket), CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}},
			func(o *s3.Options) { o.Region = region }); err != nil {
			t.Fatal(err)
		}
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(".dockercfg"),
			Body: strings.NewReader(`{"127.0.0.1:5000":{"auth":"` + b64("AWS:tok") + `","email":"none"}}`)}, func(o *s3.Options) { o.Region = region }); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	v1 := writeFile(t, dir, "v1/Dockerrun.aws.json", `{"AWSEBDockerrunVersion":"1","Authentication":{"Bucket":"eb-eu","Key":".dockercfg"},"Image":{"Name":"127.0.0.1:5000/app:1","Update":"true"}}`)
	v2 := writeFile(t, dir, "v2/Dockerrun.aws.json", `{"AWSEBDockerrunVersion":2,"authentication":{"bucket":"eb-us","key":".dockercfg"},"containerDefinitions":[{"name":"a","image":"127.0.0.1:5000/app:1"}]}`)
	missing := writeFile(t, dir, "v3/Dockerrun.aws.json", `{"AWSEBDockerrunVersion":"3","Authentication":{"bucket":"eb-eu","key":"gone"}}`)
	writeFile(t, dir, "v3/docker-compose.yml", "services:\n  web:\n    image: 127.0.0.1:5000/app:1\n")
	env := map[string]string{"AWS_REGION": "eu-west-1"}

	r := runBerth(t, env, "", "dockerrun", "check", v1, "--endpoint-url", endpoint)
	if r.code != ExitOK || !strings.Contains(r.stdout, `covered: 127.0.0.1:5000/app:1 via key "127.0.0.1:5000"`) {
		t.Fatalf("check v1: %+v", r)
	}
	r = runBerth(t, map[string]string{"AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL_S3": endpoint}, "", "dockerrun", "check", v2)
	if r.code != ExitFailure || !strings.Contains(r.stdout, "bucket eb-us is in us-west-2 but the environment region is eu-west-1; Elastic Beanstalk can only read the auth file from its own region") {
		t.Fatalf("check v2 region mismatch: %+v", r)
	}
	r = runBerth(t, env, "", "dockerrun", "check", missing, "--endpoint-url", endpoint)
	if r.code != ExitNotFound || !strings.Contains(r.stderr, "s3://eb-eu/gone") {
		t.Fatalf("missing object: %+v", r)
	}
	r = runBerth(t, env, "", "dockerrun", "check", filepath.Join(dir, "none.json"), "--endpoint-url", endpoint)
	if r.code != ExitNotFound {
		t.Fatalf("missing file: %+v", r)
	}
	dcfg := filepath.Join(dir, "docker")
	r = runBerth(t, env, "", "dockerrun", "login", v1, "--endpoint-url", endpoint, "--docker-config", dcfg)
	if r.code != ExitOK || !strings.Contains(r.stdout, "installed credentials for 127.0.0.1:5000") {
		t.Fatalf("login: %+v", r)
	}
	c, err := dockercfg.Load(dcfg)
	if err != nil {
		t.Fatal(err)
	}
	if u, p, err := c.Lookup("127.0.0.1:5000", "").Entry.Credentials(); err != nil || u != "AWS" || p != "tok" {
		t.Fatalf("installed %q %q %v", u, p, err)
	}
	// DOCKER_CONFIG is honoured, and a region mismatch refuses to log in.
	env2 := map[string]string{"AWS_REGION": "eu-west-1", "DOCKER_CONFIG": filepath.Join(dir, "docker2")}
	r = runBerth(t, env2, "", "dockerrun", "login", v2, "--endpoint-url", endpoint)
	if r.code != ExitFailure {
		t.Fatalf("login with mismatch: %+v", r)
	}
	r = runBerth(t, env2, "", "dockerrun", "login", v2, "--endpoint-url", endpoint, "--region", "us-west-2")
	if r.code != ExitOK || !strings.Contains(r.stdout, filepath.Join(dir, "docker2", "config.json")) {
		t.Fatalf("login v2 in us-west-2: %+v", r)
	}
}
