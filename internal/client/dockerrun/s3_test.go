package dockerrun

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/berth-dev/berth/internal/client/dockercfg"
	"github.com/berth-dev/berth/internal/client/resolve/mototest"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// motoS3 starts moto and returns a factory of real S3 clients for it, plus
// an admin client in us-east-1 to seed buckets.
func motoS3(t *testing.T) (S3Factory, *s3.Client) {
	t.Helper()
	endpoint := mototest.Start(t)
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	factory := func(region string) S3API { return NewS3(cfg, region, endpoint) }
	return factory, NewS3(cfg, "us-east-1", endpoint)
}

func mkBucket(t *testing.T, c *s3.Client, bucket, region string) {
	t.Helper()
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	if _, err := c.CreateBucket(context.Background(), in, func(o *s3.Options) { o.Region = region }); err != nil {
		t.Fatalf("CreateBucket %s: %v", bucket, err)
	}
}

func put(t *testing.T, c *s3.Client, bucket, key, body, region string) {
	t.Helper()
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)},
		func(o *s3.Options) { o.Region = region })
	if err != nil {
		t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
}

func TestCheckAgainstMotoS3(t *testing.T) {
	factory, admin := motoS3(t)
	ctx := context.Background()
	mkBucket(t, admin, "eb-auth-west", "eu-west-1")
	mkBucket(t, admin, "eb-auth-usw2", "us-west-2")
	legacy := `{"127.0.0.1:5000":{"auth":"` + b64("AWS:s3cret") + `","email":"none"},"https://index.docker.io/v1/":{"auth":"` + b64("hub:pw") + `"}}`
	put(t, admin, "eb-auth-west", ".dockercfg", legacy, "eu-west-1")
	put(t, admin, "eb-auth-west", "mydockercfg", `{"auths":{"127.0.0.1:5000":{"auth":"`+b64("AWS:s3cret")+`"}},"credsStore":"desktop"}`, "eu-west-1")
	put(t, admin, "eb-auth-usw2", ".dockercfg", legacy, "us-west-2")

	parse := func(js string) *File {
		f, err := Parse([]byte(js), "Dockerrun.aws.json")
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	t.Run("v1 same region", func(t *testing.T) {
		f := parse(`{"AWSEBDockerrunVersion":"1","Authentication":{"Bucket":"eb-auth-west","Key":".dockercfg"},"Image":{"Name":"127.0.0.1:5000/app:1"}}`)
		r, err := Check(ctx, f, "eu-west-1", factory)
		if err != nil {
			t.Fatal(err)
		}
		if r.BucketRegion != "eu-west-1" || HasErrors(r.Diags) {
			t.Fatalf("region %q diags %v", r.BucketRegion, r.Diags)
		}
		if len(r.Coverage) != 1 || !r.Coverage[0].Covered || r.Coverage[0].Key != "127.0.0.1:5000" {
			t.Fatalf("coverage %+v", r.Coverage)
		}
	})
	t.Run("v2 bucket in another region", func(t *testing.T) {
		f := parse(`{"AWSEBDockerrunVersion":2,"authentication":{"bucket":"eb-auth-usw2","key":".dockercfg"},"containerDefinitions":[{"name":"a","image":"127.0.0.1:5000/app:1"},{"name":"b","image":"quay.io/x/y"}]}`)
		r, err := Check(ctx, f, "eu-west-1", factory)
		if err != nil {
			t.Fatal(err)
		}
		var msgs []string
		for _, d := range r.Diags {
			if d.Severity == SevError {
				msgs = append(msgs, d.Message)
			}
		}
		want := "bucket eb-auth-usw2 is in us-west-2 but the environment region is eu-west-1; Elastic Beanstalk can only read the auth file from its own region"
		if len(msgs) != 1 || msgs[0] != want {
			t.Fatalf("errors %q", msgs)
		}
		// The content is still checked, from the bucket's own region.
		if r.Auth == nil || len(r.Auth.Config.Auths) != 2 || !r.Coverage[0].Covered || r.Coverage[1].Covered {
			t.Fatalf("auth %+v coverage %+v", r.Auth, r.Coverage)
		}
	})
	t.Run("config.json with credsStore under a non-.dockercfg key", func(t *testing.T) {
		f := parse(`{"AWSEBDockerrunVersion":"3","Authentication":{"bucket":"eb-auth-west","key":"mydockercfg"}}`)
		r, err := Check(ctx, f, "eu-west-1", factory)
		if err != nil {
			t.Fatal(err)
		}
		all := ""
		for _, d := range r.Diags {
			all += d.String() + "\n"
		}
		for _, sub := range []string{"credsStore", `named "mydockercfg"`, "AL1"} {
			if !strings.Contains(all, sub) {
				t.Errorf("diagnostics lack %q:\n%s", sub, all)
			}
		}
	})
	t.Run("missing key", func(t *testing.T) {
		f := parse(`{"AWSEBDockerrunVersion":"1","Authentication":{"Bucket":"eb-auth-west","Key":"nope"},"Image":{"Name":"x.example.com/a"}}`)
		_, err := Check(ctx, f, "eu-west-1", factory)
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "s3://eb-auth-west/nope") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("missing bucket", func(t *testing.T) {
		f := parse(`{"AWSEBDockerrunVersion":"1","Authentication":{"Bucket":"no-such-bucket-berth","Key":".dockercfg"},"Image":{"Name":"x.example.com/a"}}`)
		_, err := Check(ctx, f, "eu-west-1", factory)
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "no-such-bucket-berth") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("install into docker config", func(t *testing.T) {
		f := parse(`{"AWSEBDockerrunVersion":"1","Authentication":{"Bucket":"eb-auth-west","Key":".dockercfg"},"Image":{"Name":"127.0.0.1:5000/app:1"}}`)
		r, err := Check(ctx, f, "eu-west-1", factory)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{"other.example.com":{"auth":"`+b64("o:p")+`"}},"credHelpers":{"127.0.0.1:5000":"ecr-login"},"proxies":{"default":{"httpProxy":"http://p"}}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := dockercfg.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		keys, diags := Install(cfg, r.Auth)
		if err := cfg.Save(); err != nil {
			t.Fatal(err)
		}
		if strings.Join(keys, ",") != "127.0.0.1:5000,https://index.docker.io/v1/" || len(diags) != 1 || diags[0].Severity != SevWarning {
			t.Fatalf("keys %v diags %v", keys, diags)
		}
		again, err := dockercfg.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		m := again.Lookup("127.0.0.1:5000", "")
		user, pass, err := m.Entry.Credentials()
		if err != nil || user != "AWS" || pass != "s3cret" {
			t.Fatalf("lookup %+v: %q %q %v", m, user, pass, err)
		}
		if _, ok := again.Auths["other.example.com"]; !ok {
			t.Error("existing entry lost")
		}
		raw, _ := os.ReadFile(filepath.Join(dir, "config.json"))
		if !strings.Contains(string(raw), "httpProxy") {
			t.Error("unrelated config keys lost")
		}
		if st, _ := os.Stat(filepath.Join(dir, "config.json")); st.Mode().Perm() != 0o600 {
			t.Errorf("mode %v", st.Mode())
		}
	})
}
