//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"gopkg.in/yaml.v3"

	"github.com/berth-dev/berth/internal/client/ecsauth"
	"github.com/berth-dev/berth/internal/client/resolve/mototest"
)

// privateImage pushes a small image to berth with docker (logged in as root),
// then logs out and removes it locally, so the next pull needs credentials.
func privateImage(t *testing.T, d *Docker, b *Berth, repo string) string {
	t.Helper()
	suffix := randomSuffix(t)
	ref := b.Ref(repo + ":" + suffix)
	if out, err := d.Login(b.Addr, RootAccessKeyID, RootSecretAccessKey); err != nil {
		t.Fatalf("docker login: %v\n%s", err, out)
	}
	d.Must("import", "--change", `ENTRYPOINT ["/hello"]`, buildRootfsTar(t, suffix), ref)
	d.Must("push", ref)
	d.Must("logout", b.Addr)
	d.Must("rmi", "-f", ref)
	t.Cleanup(func() { _, _, _ = d.Run("rmi", "-f", ref) })
	out, errOut, err := d.Run("pull", ref)
	expectAuthRefusal(t, "docker pull after logout", out+errOut, err)
	return ref
}

// berthCLI runs the berth binary as a client command.
func berthCLI(t *testing.T, env []string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	return run(t, Cmd{Name: os.Getenv("BERTH_BIN"), Args: args, Env: env, Stdin: stdin})
}

func mustBerthCLI(t *testing.T, env []string, args ...string) string {
	t.Helper()
	return mustRun(t, Cmd{Name: os.Getenv("BERTH_BIN"), Args: args, Env: env})
}

func rootAuthB64() string { return base64.StdEncoding.EncodeToString([]byte(rootCreds())) }

// pullLikeECSAgent pulls through the Docker Engine API exactly as the ECS
// agent does with instance-level auth: the entry the agent would choose for
// the image, sent as X-Registry-Auth {username, password, serveraddress}.
func pullLikeECSAgent(t *testing.T, ecsConfig []byte, image string) error {
	t.Helper()
	ef, err := ecsauth.ParseEnvFile(strings.NewReader(string(ecsConfig)), "ecs.config")
	if err != nil {
		t.Fatal(err)
	}
	rep := ecsauth.Analyze(ef, []string{image})
	if ecsauth.HasErrors(rep.Diags()) {
		t.Fatalf("agent view of the converted ecs.config has errors: %v", rep.Diags())
	}
	m := rep.Matches[0]
	if m.Key == "" {
		t.Fatalf("agent would pick no entry for %s: %s", image, m.Reason)
	}
	var user, pass string
	for _, e := range rep.Auth.Entries {
		if e.Key == m.Key {
			user, pass = e.Username, e.Password
		}
	}
	authJSON, _ := json.Marshal(map[string]string{"username": user, "password": pass, "serveraddress": m.Key})
	host := os.Getenv("DOCKER_HOST")
	sock := strings.TrimPrefix(host, "unix://")
	if host == "" {
		sock = "/var/run/docker.sock"
	}
	if !strings.HasPrefix(host, "unix://") && host != "" {
		t.Skipf("engine API pull needs a unix DOCKER_HOST, have %q", host)
	}
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	repo, tag, _ := strings.Cut(image[strings.LastIndex(image, "/"):], ":")
	repo = image[:strings.LastIndex(image, "/")] + repo
	u := "http://docker/images/create?fromImage=" + url.QueryEscape(repo) + "&tag=" + url.QueryEscape(tag)
	req, _ := http.NewRequest(http.MethodPost, u, nil)
	req.Header.Set("X-Registry-Auth", base64.URLEncoding.EncodeToString(authJSON))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	// The engine streams JSON progress; failures arrive as {"error":…} with 200.
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), `"error"`) {
		return fmt.Errorf("engine pull: %d %s", resp.StatusCode, body)
	}
	return nil
}

// TestECSAuthFormatsWithDocker: docker's config.json → ecs.config (dockercfg
// and docker types) → validated by `berth ecs-auth --image` → used by the
// Docker engine the way the ECS agent uses it, and converted back into a
// config.json that the docker CLI pulls with.
func TestECSAuthFormatsWithDocker(t *testing.T) {
	d := NewDocker(t)
	b := StartBerth(t)
	ref := privateImage(t, d, b, "e2e/platforms/ecs")
	dir := t.TempDir()
	src := filepath.Join(dir, "config.json")
	writeFile(t, src, fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, b.Addr, rootAuthB64()))

	for _, typ := range []string{"dockercfg", "docker"} {
		t.Run(typ, func(t *testing.T) {
			snippet := mustBerthCLI(t, nil, "ecs-auth", "--from", src, "--to", typ)
			ecsCfg := filepath.Join(t.TempDir(), "ecs.config")
			writeFile(t, ecsCfg, "ECS_CLUSTER=e2e\n"+snippet)
			out := mustBerthCLI(t, nil, "ecs-auth", "--file", ecsCfg, "--image", ref)
			if !strings.Contains(out, fmt.Sprintf("agent uses entry %q", b.Addr)) {
				t.Fatalf("ecs-auth report:\n%s", out)
			}
			data, _ := os.ReadFile(ecsCfg)
			d.Must("rmi", "-f", ref)
			if err := pullLikeECSAgent(t, data, ref); err != nil {
				t.Fatalf("pull with the agent's credentials: %v", err)
			}
			d.Must("rmi", "-f", ref)

			back := mustBerthCLI(t, nil, "ecs-auth", "--from", ecsCfg, "--to", "config.json")
			writeFile(t, filepath.Join(d.ConfigDir, "config.json"), back)
			d.Must("pull", ref)
			d.Must("logout", b.Addr)
		})
	}
	t.Run("auths wrapper is refused loudly and converts", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "ecs.config")
		writeFile(t, bad, "ECS_ENGINE_AUTH_TYPE=dockercfg\nECS_ENGINE_AUTH_DATA="+fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, b.Addr, rootAuthB64())+"\n")
		out, _, err := berthCLI(t, nil, "", "ecs-auth", "--file", bad, "--image", ref)
		if err == nil || !strings.Contains(out, "WRAPPER") {
			t.Fatalf("wrapper accepted: %v\n%s", err, out)
		}
		fixed := mustBerthCLI(t, nil, "ecs-auth", "--file", bad, "--to", "dockercfg")
		d.Must("rmi", "-f", ref)
		if err := pullLikeECSAgent(t, []byte(fixed), ref); err != nil {
			t.Fatal(err)
		}
	})
}

// TestDockerrunS3Login: Dockerrun v1 and v2 whose .dockercfg lives in a real S3
// API (moto), `berth dockerrun check` and `login`, then docker pull.
func TestDockerrunS3Login(t *testing.T) {
	d := NewDocker(t)
	b := StartBerth(t)
	ref := privateImage(t, d, b, "e2e/platforms/eb")
	endpoint := mototest.Start(t)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("eu-west-1"))
	if err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(endpoint); o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("eb-auth"), CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}}); err != nil {
		t.Fatal(err)
	}
	legacy := fmt.Sprintf(`{%q:{"auth":%q,"email":"none"}}`, b.Addr, rootAuthB64())
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("eb-auth"), Key: aws.String(".dockercfg"), Body: strings.NewReader(legacy)}); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"v1": fmt.Sprintf(`{"AWSEBDockerrunVersion":"1","Authentication":{"Bucket":"eb-auth","Key":".dockercfg"},"Image":{"Name":%q,"Update":"true"},"Ports":[{"ContainerPort":"8080"}]}`, ref),
		"v2": fmt.Sprintf(`{"AWSEBDockerrunVersion":2,"authentication":{"bucket":"eb-auth","key":".dockercfg"},"containerDefinitions":[{"name":"app","image":%q,"essential":true,"memory":64}]}`, ref),
	}
	env := []string{"AWS_REGION=eu-west-1", "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_ENDPOINT_URL_S3=" + endpoint, "DOCKER_CONFIG=" + d.ConfigDir}
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "Dockerrun.aws.json")
			writeFile(t, p, files[v])
			out := mustBerthCLI(t, env, "dockerrun", "check", p)
			if !strings.Contains(out, "covered: "+ref) {
				t.Fatalf("check:\n%s", out)
			}
			d.Must("rmi", "-f", ref)
			mustBerthCLI(t, env, "dockerrun", "login", p)
			d.Must("pull", ref)
			d.Must("logout", b.Addr)
		})
	}
}

// TestResolveSSMFromBerth: parameters stored in berth's own SSM API,
// {{resolve:ssm:USER:1}} expanded in an .ebextensions file, and the
// corrected prebuild hook logging docker in.
func TestResolveSSMFromBerth(t *testing.T) {
	d := NewDocker(t)
	b := StartBerth(t)
	ref := privateImage(t, d, b, "e2e/platforms/ssm")
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(RootAccessKeyID, RootSecretAccessKey, "")))
	if err != nil {
		t.Fatal(err)
	}
	c := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(b.URL()) })
	for name, value := range map[string]string{"USER": RootAccessKeyID, "PASSWD": RootSecretAccessKey} {
		if _, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeString}); err != nil {
			t.Fatalf("PutParameter %s on berth's SSM API (%s): %v", name, b.URL(), err)
		}
	}
	env := []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" + RootAccessKeyID, "AWS_SECRET_ACCESS_KEY=" + RootSecretAccessKey,
		"AWS_ENDPOINT_URL_SSM=" + b.URL(), "DOCKER_CONFIG=" + d.ConfigDir}

	ebx := filepath.Join(t.TempDir(), ".ebextensions", "env.config")
	writeFile(t, ebx, "option_settings:\n  aws:elasticbeanstalk:application:environment:\n    USER: '{{resolve:ssm:USER:1}}'\n    PASSWD: '{{resolve:ssm:PASSWD:1}}'\n")
	out := mustBerthCLI(t, env, "resolve", ebx)
	var doc struct {
		OptionSettings map[string]map[string]string `yaml:"option_settings"`
	}
	if err := yaml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("resolved file is not YAML: %v", err)
	}
	vals := doc.OptionSettings["aws:elasticbeanstalk:application:environment"]
	if vals["USER"] != RootAccessKeyID || vals["PASSWD"] != RootSecretAccessKey {
		t.Fatalf("resolved values wrong (USER=%q)", vals["USER"])
	}
	if _, _, err := berthCLI(t, env, "", "resolve", "--param", "USER:2"); err == nil {
		t.Fatal("USER:2 resolved although only version 1 exists")
	}

	hook := filepath.Join(t.TempDir(), "01login.sh")
	writeFile(t, hook, fmt.Sprintf("#!/bin/bash\nset -euo pipefail\nberth=%q\n\"$berth\" resolve --param PASSWD | docker login -u \"$(\"$berth\" resolve --param USER:1)\" --password-stdin %s\n", os.Getenv("BERTH_BIN"), b.Addr))
	mustRun(t, Cmd{Name: "bash", Args: []string{hook}, Env: env})
	d.Must("pull", ref)
}
