package ssmapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/authz"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/smapi"
	"github.com/berth-dev/berth/internal/awsapi/ssmapi"
	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/iamsvc/iamsvctest"
	"github.com/berth-dev/berth/internal/params"
	"github.com/berth-dev/berth/internal/secrets"
)

const (
	acct   = "111111111111"
	region = "eu-west-1"
)

// testEnv serves SSM and Secrets Manager on berth's AWS front door on
// loopback, with the identity service of account 111111111111 behind it.
type testEnv struct {
	ids    *iamsvctest.Env
	dir    string
	url    string
	root   *iamsvc.AccessKey
	params *params.Service
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	dir := t.TempDir()
	ids := iamsvctest.New(t, dir, nil)
	authn, err := auth.NewAuthenticator(ids.Svc, ids.Keys.TokenMACKey())
	if err != nil {
		t.Fatal(err)
	}
	az, err := authz.New(ids.Svc, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ssmSealer, err := ids.Keys.Sealer("ssm parameters")
	if err != nil {
		t.Fatal(err)
	}
	smSealer, err := ids.Keys.Sealer("secretsmanager secrets")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := params.Open(ctx, ids.DB, ssmSealer)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := secrets.Open(ctx, ids.DB, smSealer)
	if err != nil {
		t.Fatal(err)
	}
	rt := awsapi.NewRouter(authn, nil)
	if err := ssmapi.Register(rt, ssmapi.Deps{Params: ps, Secrets: ss, Authz: az}); err != nil {
		t.Fatal(err)
	}
	if err := smapi.Register(rt, smapi.Deps{Secrets: ss, Authz: az}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	return &testEnv{ids: ids, dir: dir, url: srv.URL, root: ids.Account(t, acct), params: ps}
}

func (e *testEnv) cfg(k *iamsvc.AccessKey) aws.Config {
	return aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       http.DefaultClient,
	}
}

func (e *testEnv) ssm(k *iamsvc.AccessKey) *ssm.Client {
	return ssm.NewFromConfig(e.cfg(k), func(o *ssm.Options) { o.BaseEndpoint = aws.String(e.url) })
}

func (e *testEnv) sm(k *iamsvc.AccessKey) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(e.cfg(k), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(e.url) })
}

func (e *testEnv) rootSSM() *ssm.Client { return e.ssm(e.root) }

// dbBytes is everything SQLite has written: the main file and the WAL.
func (e *testEnv) dbBytes(t *testing.T) []byte {
	t.Helper()
	var all []byte
	for _, suffix := range []string{"", "-wal", "-journal"} {
		b, err := os.ReadFile(filepath.Join(e.dir, "meta.db"+suffix))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if len(all) == 0 {
		t.Fatal("database files are empty")
	}
	return all
}

// wantErr asserts err is an AWS API error with code and HTTP 400, and
// (when msg != "") exactly that message.
func wantErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s, got success", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("code = %s (%q), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	if msg != "" && ae.ErrorMessage() != msg {
		t.Fatalf("message = %q, want %q", ae.ErrorMessage(), msg)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
		t.Fatalf("want HTTP 400, got %v", err)
	}
}

func wantErrContains(t *testing.T, err error, code, sub string) {
	t.Helper()
	wantErr(t, err, code, "")
	var ae smithy.APIError
	errors.As(err, &ae)
	if !strings.Contains(ae.ErrorMessage(), sub) {
		t.Fatalf("message %q does not contain %q", ae.ErrorMessage(), sub)
	}
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func within(t *testing.T, ts *time.Time) {
	t.Helper()
	if ts == nil || time.Since(*ts) > time.Hour || time.Until(*ts) > time.Hour {
		t.Fatalf("timestamp %v is not about now", ts)
	}
}
