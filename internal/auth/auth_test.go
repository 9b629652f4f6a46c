package auth_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/iamsvc/iamsvctest"
	"github.com/berth-dev/berth/internal/sigv4"
)

const (
	acctA    = "111111111111"
	readOnly = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
)

type fixture struct {
	env   *iamsvctest.Env
	clock *iamsvctest.Clock
	a     *auth.Authenticator
	root  *iamsvc.AccessKey
	user  *iamsvc.AccessKey
	sess  *iamsvc.Credentials
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clock := &iamsvctest.Clock{T: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	env := iamsvctest.New(t, "", clock)
	f := &fixture{env: env, clock: clock}
	f.root = env.Account(t, acctA)
	f.user = env.UserWithKey(t, acctA, "release", []string{readOnly})
	a, err := auth.NewAuthenticator(env.Svc, env.Keys.TokenMACKey(), auth.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	f.a = a
	cred, err := env.Svc.ResolveAccessKey(f.user.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	f.sess, err = env.Svc.GetSessionToken(context.Background(), cred.Principal(), 3600)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) principal(t *testing.T, id string) *auth.Principal {
	t.Helper()
	c, err := f.env.Svc.ResolveAccessKey(id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Principal()
}

var usEast1 = ecrhost.Registry{Account: acctA, Region: "us-east-1"}

func TestTokenLifecycle(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := f.principal(t, f.user.AccessKeyID)
	tok, exp, err := f.a.IssueToken(ctx, p, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(tok, ":+/= ") || !exp.Equal(f.clock.T.Add(12*time.Hour)) {
		t.Fatalf("token %q exp %v", tok, exp)
	}
	got, err := f.a.AuthenticateBasic(ctx, "AWS", tok, usEast1)
	if err != nil || got.ARN != "arn:aws:iam::111111111111:user/release" || got.AccessKeyID != "" || !got.Expires.Equal(exp) {
		t.Fatalf("token auth: %+v %v", got, err)
	}
	// Any account's host in the same region accepts it.
	if _, err := f.a.AuthenticateBasic(ctx, "AWS", tok, ecrhost.Registry{Account: "222222222222", Region: "us-east-1"}); err != nil {
		t.Fatalf("other account, same region: %v", err)
	}

	// Tampering: flip each of a few characters.
	for _, i := range []int{0, 5, len(tok) / 2, len(tok) - 1} {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		if _, err := f.a.AuthenticateBasic(ctx, "AWS", string(b), usEast1); !apierr.HasCode(err, apierr.InvalidCredentials) {
			t.Fatalf("tampered at %d: %v", i, err)
		}
	}

	cases := []struct {
		name string
		prep func()
		reg  ecrhost.Registry
		code apierr.Code
		msg  string
	}{
		{"wrong region", func() {}, ecrhost.Registry{Account: acctA, Region: "eu-west-2"}, apierr.InvalidCredentials,
			"issued for region us-east-1 and is not valid for the registry in eu-west-2"},
		{"wrong user name", nil, usEast1, apierr.InvalidCredentials, ""},
		{"expired", func() { f.clock.T = f.clock.T.Add(12*time.Hour + time.Second) }, usEast1, apierr.ExpiredToken,
			"Your authorization token has expired. Reauthenticate and try again."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			user := "AWS"
			if c.prep == nil {
				user = "aws"
			} else {
				c.prep()
			}
			_, err := f.a.AuthenticateBasic(ctx, user, tok, c.reg)
			if iamsvctest.Code(err) != c.code || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want %s %q", err, c.code, c.msg)
			}
		})
	}
}

func TestTokenRevocation(t *testing.T) {
	ctx := context.Background()
	for _, revoke := range []string{"delete", "deactivate", "delete user"} {
		t.Run(revoke, func(t *testing.T) {
			f := newFixture(t)
			svc := f.env.Svc
			tok, _, err := f.a.IssueToken(ctx, f.principal(t, f.user.AccessKeyID), "us-east-1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.a.AuthenticateBasic(ctx, "AWS", tok, usEast1); err != nil {
				t.Fatal(err) // now cached
			}
			switch revoke {
			case "delete":
				err = svc.DeleteAccessKey(ctx, acctA, "release", f.user.AccessKeyID)
			case "deactivate":
				err = svc.UpdateAccessKey(ctx, acctA, "release", f.user.AccessKeyID, iamsvc.StatusInactive)
			case "delete user":
				_ = svc.DeleteAccessKey(ctx, acctA, "release", f.user.AccessKeyID)
				_ = svc.DetachPolicy(ctx, acctA, iamsvc.UserEntity, "release", readOnly)
				err = svc.DeleteUser(ctx, acctA, "release")
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.a.AuthenticateBasic(ctx, "AWS", tok, usEast1); !apierr.HasCode(err, apierr.InvalidCredentials) || !strings.Contains(err.Error(), "no longer valid") {
				t.Fatalf("after %s: %v", revoke, err)
			}
		})
	}
}

func TestSessionTokenCappedBySession(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := f.principal(t, f.sess.AccessKeyID)
	tok, exp, err := f.a.IssueToken(ctx, p, "us-east-1")
	if err != nil || !exp.Equal(f.sess.Expiration) {
		t.Fatalf("session token exp %v (session %v) %v", exp, f.sess.Expiration, err)
	}
	got, err := f.a.AuthenticateBasic(ctx, "AWS", tok, usEast1)
	if err != nil || got.SessionID != f.sess.AccessKeyID {
		t.Fatalf("%+v %v", got, err)
	}
	f.clock.T = f.sess.Expiration
	if _, err := f.a.AuthenticateBasic(ctx, "AWS", tok, usEast1); !apierr.HasCode(err, apierr.ExpiredToken) {
		t.Fatalf("after session end: %v", err)
	}
	if _, _, err := f.a.IssueToken(ctx, &auth.Principal{Type: auth.User, Account: acctA}, "us-east-1"); !apierr.HasCode(err, apierr.AccessDenied) {
		t.Fatalf("token without key: %v", err)
	}
}

func TestBasicVariants(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	sessPass := auth.SessionPassword(f.sess.SecretAccessKey, f.sess.SessionToken)
	cases := []struct {
		name, user, pass string
		code             apierr.Code
		arn              string
	}{
		{"IAM user key", f.user.AccessKeyID, f.user.SecretAccessKey, "", "arn:aws:iam::111111111111:user/release"},
		{"root key", f.root.AccessKeyID, f.root.SecretAccessKey, "", "arn:aws:iam::111111111111:root"},
		{"wrong secret", f.user.AccessKeyID, f.root.SecretAccessKey, apierr.InvalidCredentials, ""},
		{"secret prefix", f.user.AccessKeyID, f.user.SecretAccessKey[:39], apierr.InvalidCredentials, ""},
		{"unknown key", "AKIAUNKNOWN000000000", f.user.SecretAccessKey, apierr.InvalidCredentials, ""},
		{"STS session", f.sess.AccessKeyID, sessPass, "", "arn:aws:iam::111111111111:user/release"},
		{"STS secret without token", f.sess.AccessKeyID, f.sess.SecretAccessKey, apierr.InvalidCredentials, ""},
		{"STS wrong token", f.sess.AccessKeyID, f.sess.SecretAccessKey + ".AAAA", apierr.InvalidCredentials, ""},
		{"STS token with another secret", f.sess.AccessKeyID, auth.SessionPassword(f.user.SecretAccessKey, f.sess.SessionToken), apierr.InvalidCredentials, ""},
		{"session key as long-term", f.sess.AccessKeyID, "", apierr.InvalidCredentials, ""},
		{"AWS with garbage", "AWS", "not-a-token", apierr.InvalidCredentials, ""},
		{"empty", "", "", apierr.InvalidCredentials, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for range 2 { // second round goes through the cache
				p, err := f.a.AuthenticateBasic(ctx, c.user, c.pass, usEast1)
				if iamsvctest.Code(err) != c.code {
					t.Fatalf("code %q (%v), want %q", iamsvctest.Code(err), err, c.code)
				}
				if err == nil && p.ARN != c.arn {
					t.Fatalf("arn %s, want %s", p.ARN, c.arn)
				}
			}
		})
	}
	// Cached authentications die with the key.
	if err := f.env.Svc.UpdateAccessKey(ctx, acctA, "release", f.user.AccessKeyID, iamsvc.StatusInactive); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.AuthenticateBasic(ctx, f.user.AccessKeyID, f.user.SecretAccessKey, usEast1); !apierr.HasCode(err, apierr.InvalidCredentials) {
		t.Fatalf("inactive key still accepted: %v", err)
	}
	f.clock.T = f.sess.Expiration.Add(time.Second)
	if _, err := f.a.AuthenticateBasic(ctx, f.sess.AccessKeyID, sessPass, usEast1); !apierr.HasCode(err, apierr.ExpiredToken) {
		t.Fatalf("expired session: %v", err)
	}
}

// signed builds a request signed by aws-sdk-go-v2's signer, as the real SDK would send it.
func signed(t *testing.T, creds aws.Credentials, service, region string, when time.Time, body string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:5000/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken")
	if creds.SessionToken != "" {
		r.Header.Set("X-Amz-Security-Token", creds.SessionToken)
	}
	hash := sigv4.HashHex([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hash, service, region, when); err != nil {
		t.Fatal(err)
	}
	r.Body = httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(body))).Body
	return r
}

func TestSigV4WithSDKSigner(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	now := f.clock.T
	user := aws.Credentials{AccessKeyID: f.user.AccessKeyID, SecretAccessKey: f.user.SecretAccessKey}
	sess := aws.Credentials{AccessKeyID: f.sess.AccessKeyID, SecretAccessKey: f.sess.SecretAccessKey, SessionToken: f.sess.SessionToken}
	body := `{"registryIds":[]}`
	cases := []struct {
		name string
		req  func() *http.Request
		code apierr.Code
		arn  string
	}{
		{"user key", func() *http.Request { return signed(t, user, "ecr", "eu-west-2", now, body) }, "", "arn:aws:iam::111111111111:user/release"},
		{"session", func() *http.Request { return signed(t, sess, "ecr", "us-east-1", now, body) }, "", "arn:aws:iam::111111111111:user/release"},
		{"session without token", func() *http.Request {
			c := sess
			c.SessionToken = ""
			return signed(t, c, "ecr", "us-east-1", now, body)
		}, apierr.InvalidCredentials, ""},
		{"wrong secret", func() *http.Request {
			c := user
			c.SecretAccessKey = f.root.SecretAccessKey
			return signed(t, c, "ecr", "us-east-1", now, body)
		}, apierr.SignatureMismatch, ""},
		{"unknown key", func() *http.Request {
			c := user
			c.AccessKeyID = "AKIAUNKNOWN000000000"
			return signed(t, c, "ecr", "us-east-1", now, body)
		}, apierr.InvalidCredentials, ""},
		{"clock skew", func() *http.Request { return signed(t, user, "ecr", "us-east-1", now.Add(-20*time.Minute), body) }, apierr.SignatureMismatch, ""},
		{"body changed", func() *http.Request {
			r := signed(t, user, "ecr", "us-east-1", now, body)
			r.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DeleteRepository")
			return r
		}, apierr.SignatureMismatch, ""},
		{"no auth", func() *http.Request { return httptest.NewRequest(http.MethodPost, "http://127.0.0.1:5000/", nil) }, apierr.MissingAuthentication, ""},
		{"malformed", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:5000/", nil)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=garbage")
			return r
		}, apierr.IncompleteSignature, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := f.a.VerifySigV4(ctx, c.req(), []byte(body))
			if iamsvctest.Code(err) != c.code {
				t.Fatalf("code %q (%v), want %q", iamsvctest.Code(err), err, c.code)
			}
			if err == nil && (res.Principal.ARN != c.arn || res.Service != "ecr") {
				t.Fatalf("result %+v", res)
			}
		})
	}
	f.clock.T = f.sess.Expiration
	_, err := f.a.VerifySigV4(ctx, signed(t, sess, "ecr", "us-east-1", f.clock.T, body), []byte(body))
	if !apierr.HasCode(err, apierr.ExpiredToken) || !strings.Contains(err.Error(), "The security token included in the request is expired") {
		t.Fatalf("expired session: %v", err)
	}
}

func FuzzTokenDecode(f *testing.F) {
	env := iamsvctest.New(f, "", nil)
	k := env.Account(f, acctA)
	a, err := auth.NewAuthenticator(env.Svc, env.Keys.TokenMACKey())
	if err != nil {
		f.Fatal(err)
	}
	c, _ := env.Svc.ResolveAccessKey(k.AccessKeyID)
	tok, _, _ := a.IssueToken(context.Background(), c.Principal(), "us-east-1")
	f.Add(tok)
	f.Add("")
	f.Add(tok[:len(tok)-1])
	f.Fuzz(func(t *testing.T, s string) {
		p, err := a.AuthenticateBasic(context.Background(), "AWS", s, usEast1)
		if err == nil && s != tok {
			t.Fatalf("accepted a token that was never issued: %q → %+v", s, p)
		}
		if err != nil && !apierr.HasCode(err, apierr.InvalidCredentials) && !apierr.HasCode(err, apierr.ExpiredToken) {
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}
