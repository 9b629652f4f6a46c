package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/bench"
	"github.com/berth-dev/berth/internal/cli"
	"github.com/berth-dev/berth/internal/server"
)

// TestBenchCommand runs `berth bench --json` against an in-process berth on
// loopback with tiny sizes: it must complete, print valid JSON with every
// requested scenario and report progress on stderr. Timing is not checked.
func TestBenchCommand(t *testing.T) {
	const key, secret = "AKIABERTHBENCHTEST01", "berthBenchTestOperatorSecret000000000000"
	s, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), RootAccessKeyID: key, RootSecretKey: secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	small := []string{"--concurrency", "2", "--duration", "150ms", "--blob-size", "2MiB", "--images", "3", "--layers", "2", "--max-ops", "40", "--json"}
	cases := []struct {
		name      string
		env       map[string]string
		args      []string
		code      int
		auth      string
		scenarios int // results expected (blob-push reports two)
		stderr    string
	}{
		{"basic auth, all scenarios", nil, append([]string{"--user", key, "--password", secret}, small...), cli.ExitOK, "basic", 6, "manifest-get"},
		{"ECR token from AWS credentials", map[string]string{"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": "us-east-1"},
			append([]string{"--scenario", "manifest-get,cold-start"}, small...), cli.ExitOK, "ecr-token", 2, "cold-start"},
		{"wrong password", nil, append([]string{"--user", key, "--password", "nope", "--scenario", "manifest-get"}, small...), cli.ExitFailure, "", 0, "401"},
		{"unknown scenario", nil, []string{"--user", key, "--password", secret, "--scenario", "fly"}, cli.ExitUsage, "", 0, "unknown scenario"},
		{"bad size", nil, []string{"--user", key, "--password", secret, "--blob-size", "lots"}, cli.ExitUsage, "", 0, "--blob-size"},
		{"user without password", nil, []string{"--user", key}, cli.ExitUsage, "", 0, "together"},
		{"no url", nil, []string{"--user", key, "--password", secret}, cli.ExitUsage, "", 0, "--url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := []string{"berth", "bench"}
			if c.name != "no url" {
				args = append(args, "--url", ts.URL)
			}
			code := cli.Run(t.Context(), append(args, c.args...), cli.Env{
				Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return c.env[k] }})
			if code != c.code || !strings.Contains(errb.String(), c.stderr) {
				t.Fatalf("code %d (want %d), stderr %q (want %q)", code, c.code, errb.String(), c.stderr)
			}
			if c.code != cli.ExitOK {
				return
			}
			var res bench.Result
			if err := json.Unmarshal(out.Bytes(), &res); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, out.String())
			}
			if res.Auth != c.auth || len(res.Scenarios) != c.scenarios || res.Failed() {
				t.Fatalf("result %+v", res)
			}
			for _, sc := range res.Scenarios {
				if sc.Ops < 1 || sc.Ops > 40 {
					t.Errorf("%s/%s: %d ops", sc.Name, sc.Mode, sc.Ops)
				}
			}
		})
	}
}
