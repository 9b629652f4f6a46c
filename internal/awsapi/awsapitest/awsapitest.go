// Package awsapitest serves berth's AWS front door on loopback for the tests
// of the API adapters, and checks the errors real AWS SDK clients see.
package awsapitest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
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

// Account is the account whose root key Env.Root holds.
const Account = "111111111111"

// Region is the region Config signs with. Not us-east-1 on purpose: clients
// sign IAM with their own region when an endpoint is set, and berth must
// accept any scope region.
const Region = "eu-west-1"

// Env is berth's AWS front door served on loopback, with the APIs given to
// New registered and a root key of Account.
type Env struct {
	IDs   *iamsvctest.Env
	Clock *Clock
	Dir   string // holds the database (meta.db) and the key directory
	URL   string
	Root  *iamsvc.AccessKey
	Authn *auth.Authenticator
}

// Deps is what an API under test is built from.
type Deps struct {
	IDs   *iamsvctest.Env
	Authz *authz.Authorizer
	Clock *Clock // for services under test that keep time too
}

// IdentityAPIs registers IAM and STS, as berth serves them, on one router.
func IdentityAPIs(rt *awsapi.Router, d Deps) error {
	if err := iamapi.Register(rt, iamapi.Deps{IAM: d.IDs.Svc, Authz: d.Authz}); err != nil {
		return err
	}
	return stsapi.Register(rt, stsapi.Deps{IAM: d.IDs.Svc})
}

// Clock drives the identity service's notion of "now" (session expiry)
// while SigV4 skew checks keep the real clock.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the real time moved on by every Advance so far.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// New serves the APIs register adds, in front of a fresh identity service
// that runs on Env.Clock.
func New(t *testing.T, register func(*awsapi.Router, Deps) error) *Env {
	t.Helper()
	clock := &Clock{}
	dir := t.TempDir()
	ids := iamsvctest.New(t, dir, nil)
	// Re-open on the same database with the controllable clock.
	svc, err := iamsvc.Open(context.Background(), ids.DB, ids.Keys, iamsvc.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	ids.Svc = svc
	authn, err := auth.NewAuthenticator(svc, ids.Keys.TokenMACKey())
	if err != nil {
		t.Fatal(err)
	}
	az, err := authz.New(svc, nil)
	if err != nil {
		t.Fatal(err)
	}
	rt := awsapi.NewRouter(authn, nil)
	if err := register(rt, Deps{IDs: ids, Authz: az, Clock: clock}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	root := ids.Account(t, Account)
	return &Env{IDs: ids, Clock: clock, Dir: dir, URL: srv.URL, Root: root, Authn: authn}
}

// Config is an SDK configuration signing with the given credentials.
func (e *Env) Config(id, secret, token string) aws.Config {
	return aws.Config{
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider(id, secret, token),
		RetryMaxAttempts: 1,
		HTTPClient:       http.DefaultClient,
	}
}

// IAM is an IAM client of the front door signing with the given credentials.
func (e *Env) IAM(id, secret, token string) *iam.Client {
	return iam.NewFromConfig(e.Config(id, secret, token), func(o *iam.Options) { o.BaseEndpoint = aws.String(e.URL) })
}

// STS is an STS client of the front door signing with the given credentials.
func (e *Env) STS(id, secret, token string) *sts.Client {
	return sts.NewFromConfig(e.Config(id, secret, token), func(o *sts.Options) { o.BaseEndpoint = aws.String(e.URL) })
}

// RootIAM is an IAM client signing with the account's root key.
func (e *Env) RootIAM() *iam.Client { return e.IAM(e.Root.AccessKeyID, e.Root.SecretAccessKey, "") }

// RootSTS is an STS client signing with the account's root key.
func (e *Env) RootSTS() *sts.Client { return e.STS(e.Root.AccessKeyID, e.Root.SecretAccessKey, "") }

// WantErr asserts err is an AWS API error with code, HTTP status and
// (when msg != "") exact message.
func WantErr(t *testing.T, err error, code string, status int, msg string) {
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

// WantErrContaining is WantErr for a message that must contain sub.
func WantErrContaining(t *testing.T, err error, code string, status int, sub string) {
	t.Helper()
	WantErr(t, err, code, status, "")
	var ae smithy.APIError
	errors.As(err, &ae)
	if !strings.Contains(ae.ErrorMessage(), sub) {
		t.Fatalf("message %q does not contain %q", ae.ErrorMessage(), sub)
	}
}
