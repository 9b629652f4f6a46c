package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/cli"
	"github.com/berth-dev/berth/internal/localca"
	"github.com/berth-dev/berth/internal/server"
)

func TestAdminCreateAccountCommand(t *testing.T) {
	const key, secret = "AKIABERTHCLITEST0001", "berthCliTestOperatorSecret00000000000000"
	s, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), AccountID: "000000000000", RootAccessKeyID: key, RootSecretKey: secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	run := func(env map[string]string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := cli.Run(context.Background(), append([]string{"berth"}, args...), cli.Env{
			Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }})
		return code, out.String(), errb.String()
	}
	op := map[string]string{"BERTH_ROOT_ACCESS_KEY_ID": key, "BERTH_ROOT_SECRET_ACCESS_KEY": secret, "BERTH_ENDPOINT": ts.URL}

	code, out, errOut := run(op, "admin", "create-account", "--id", "222222222222")
	var res struct{ AccountId, AccessKeyId, SecretAccessKey string }
	if code != cli.ExitOK || json.Unmarshal([]byte(out), &res) != nil || res.AccountId != "222222222222" || !strings.HasPrefix(res.AccessKeyId, "AKIA") || len(res.SecretAccessKey) != 40 {
		t.Fatalf("create-account: code %d out %q err %q", code, out, errOut)
	}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		code int
		err  string
	}{
		{"duplicate", op, []string{"--id", "222222222222"}, cli.ExitFailure, "EntityAlreadyExists"},
		{"bad id", op, []string{"--id", "22"}, cli.ExitUsage, "12 digits"},
		{"no credentials", map[string]string{"BERTH_ENDPOINT": ts.URL}, []string{"--id", "333333333333"}, cli.ExitAuthError, "BERTH_ROOT_ACCESS_KEY_ID"},
		{"not the operator", map[string]string{"BERTH_ROOT_ACCESS_KEY_ID": res.AccessKeyId, "BERTH_ROOT_SECRET_ACCESS_KEY": res.SecretAccessKey},
			[]string{"--id", "333333333333", "--endpoint", ts.URL}, cli.ExitAuthError, "AccessDeniedException"},
		{"wrong secret", map[string]string{"BERTH_ROOT_ACCESS_KEY_ID": key, "BERTH_ROOT_SECRET_ACCESS_KEY": "nope", "BERTH_ENDPOINT": ts.URL},
			[]string{"--id", "333333333333"}, cli.ExitAuthError, "InvalidSignatureException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := run(c.env, append([]string{"admin", "create-account"}, c.args...)...)
			if code != c.code || !strings.Contains(errOut, c.err) {
				t.Fatalf("code %d stderr %q, want %d containing %q", code, errOut, c.code, c.err)
			}
		})
	}
}

func TestAdminCAPrintsTheLocalCA(t *testing.T) {
	data := t.TempDir()
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := cli.Run(context.Background(), append([]string{"berth"}, args...), cli.Env{
			Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
		return code, out.String(), errb.String()
	}
	if code, _, errOut := run("admin", "ca", "--data", data); code != cli.ExitNotFound || !strings.Contains(errOut, "berth serve --tls auto --data "+data) {
		t.Fatalf("no CA yet: code %d stderr %q", code, errOut)
	}
	if _, err := localca.Ensure(localca.Options{Dir: filepath.Join(data, "tls"), Names: []string{"localhost"}}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run("admin", "ca", "--data", data, "--addr", "127.0.0.1:5443", "--account-id", "111111111111", "--region", "eu-west-2")
	if code != cli.ExitOK || !strings.Contains(out, filepath.Join(data, "tls", "ca.crt")) ||
		!strings.Contains(out, "for h in localhost:5443 127.0.0.1:5443 111111111111.dkr.ecr.eu-west-2.localhost:5443;") || !strings.Contains(out, "AWS_CA_BUNDLE=") {
		t.Fatalf("admin ca: code %d out %q err %q", code, out, errOut)
	}
	code, out, _ = run("admin", "ca", "--data", data, "--pem")
	if block, _ := pem.Decode([]byte(out)); code != cli.ExitOK || block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("admin ca --pem: code %d out %q", code, out)
	}
	if code, _, errOut := run("admin", "ca", "--data", data, "--tls-domain", "*.x"); code != cli.ExitUsage {
		t.Fatalf("bad domain: code %d %q", code, errOut)
	}
}
