package stsapi_test

// Same harness as iamapi's tests: IAM and STS on one router, as berth serves them.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/authz"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/iamapi"
	"github.com/berth-dev/berth/internal/awsapi/stsapi"
	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/iamsvc/iamsvctest"
)

const acct = "111111111111"

// testEnv is berth's AWS front door with IAM and STS registered, served on
// loopback, and a root key of account 111111111111.
type testEnv struct {
	env   *iamsvctest.Env
	clock *lockedClock
	url   string
	root  *iamsvc.AccessKey
	authn *auth.Authenticator
}

// lockedClock drives the identity service's notion of "now" (session
// expiry) while SigV4 skew checks keep the real clock.
type lockedClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *lockedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *lockedClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	clock := &lockedClock{}
	env := iamsvctest.New(t, "", nil)
	// Re-open on the same database with the controllable clock.
	svc, err := iamsvc.Open(context.Background(), env.DB, env.Keys, iamsvc.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	env.Svc = svc
	authn, err := auth.NewAuthenticator(svc, env.Keys.TokenMACKey())
	if err != nil {
		t.Fatal(err)
	}
	az, err := authz.New(svc, nil)
	if err != nil {
		t.Fatal(err)
	}
	rt := awsapi.NewRouter(authn, nil)
	if err := iamapi.Register(rt, iamapi.Deps{IAM: svc, Authz: az}); err != nil {
		t.Fatal(err)
	}
	if err := stsapi.Register(rt, stsapi.Deps{IAM: svc}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	root := env.Account(t, acct)
	return &testEnv{env: env, clock: clock, url: srv.URL, root: root, authn: authn}
}

func (e *testEnv) cfg(id, secret, token string) aws.Config {
	return aws.Config{
		// Not us-east-1 on purpose: clients sign IAM with their own region
		// when an endpoint is set, and berth must accept any scope region.
		Region:           "eu-west-1",
		Credentials:      credentials.NewStaticCredentialsProvider(id, secret, token),
		RetryMaxAttempts: 1,
		HTTPClient:       http.DefaultClient,
	}
}

func (e *testEnv) iam(id, secret, token string) *iam.Client {
	return iam.NewFromConfig(e.cfg(id, secret, token), func(o *iam.Options) { o.BaseEndpoint = aws.String(e.url) })
}

func (e *testEnv) sts(id, secret, token string) *sts.Client {
	return sts.NewFromConfig(e.cfg(id, secret, token), func(o *sts.Options) { o.BaseEndpoint = aws.String(e.url) })
}

func (e *testEnv) rootIAM() *iam.Client { return e.iam(e.root.AccessKeyID, e.root.SecretAccessKey, "") }
func (e *testEnv) rootSTS() *sts.Client { return e.sts(e.root.AccessKeyID, e.root.SecretAccessKey, "") }

// wantErr asserts err is an AWS API error with code, HTTP status and
// (when msg != "") exact message.
func wantErr(t *testing.T, err error, code string, status int, msg string) {
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
	if !errors.As(err, &re) {
		t.Fatalf("no HTTP response in %v", err)
	}
	if re.HTTPStatusCode() != status {
		t.Fatalf("status = %d, want %d", re.HTTPStatusCode(), status)
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
