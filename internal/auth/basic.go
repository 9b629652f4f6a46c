package auth

import (
	"context"
	"crypto/subtle"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/ecrhost"
)

// TokenUser is the Basic user name that goes with an ECR authorization token.
const TokenUser = "AWS"

// SessionPasswordSeparator joins the parts of the Basic password for STS
// temporary credentials:
//
//	user:     ASIA… access key id
//	password: <secret access key> "." <session token>
//
// '.' occurs in neither part (secrets are [A-Za-z0-9/+], session tokens
// standard base64), so the first '.' splits them unambiguously.
const SessionPasswordSeparator = "."

// SessionPassword builds the Basic password for STS credentials.
func SessionPassword(secretAccessKey, sessionToken string) string {
	return secretAccessKey + SessionPasswordSeparator + sessionToken
}

// MsgBadCredentials is the 401 text for a wrong user name or password.
const MsgBadCredentials = "Invalid username or password. Log in with user AWS and the password from 'aws ecr get-login-password', with an access key id and its secret access key, or with STS credentials (ASIA key id as user, secret + \".\" + session token as password)."

// AuthenticateBasic accepts, on /v2/:
//   - user "AWS" + an ECR authorization token (bound to reg.Region);
//   - an AKIA access key id + its secret access key (root or IAM user);
//   - an ASIA session key id + SessionPassword(secret, session token).
//
// Wrong credentials → apierr.InvalidCredentials (401); an expired token or
// session → apierr.ExpiredToken with ECR's text.
func (a *Authenticator) AuthenticateBasic(ctx context.Context, user, password string, reg ecrhost.Registry) (*Principal, error) {
	if p, ok := a.cached(user, password, reg.Region); ok {
		return p, nil
	}
	var (
		p       *Principal
		expires time.Time
		region  string
		err     error
	)
	gen := a.store.Generation()
	switch {
	case user == TokenUser:
		p, expires, err = a.VerifyToken(ctx, password, reg.Region)
		region = reg.Region
	case strings.HasPrefix(user, "ASIA"):
		p, expires, err = a.basicSession(user, password)
	default:
		p, err = a.basicKey(user, password)
	}
	if err != nil {
		return nil, err
	}
	a.remember(&basicEntry{user: user, password: password, principal: p, region: region, expires: expires, gen: gen})
	return p, nil
}

func (a *Authenticator) basicKey(id, secret string) (*Principal, error) {
	cred, err := a.store.ResolveAccessKey(id)
	if err != nil || cred.Session() || !cred.CheckSecret(secret) {
		return nil, apierr.New(apierr.InvalidCredentials, MsgBadCredentials)
	}
	return cred.Principal(), nil
}

func (a *Authenticator) basicSession(id, password string) (*Principal, time.Time, error) {
	secret, token, ok := strings.Cut(password, SessionPasswordSeparator)
	cred, err := a.store.ResolveAccessKey(id)
	if apierr.HasCode(err, apierr.ExpiredToken) {
		return nil, time.Time{}, apierr.New(apierr.ExpiredToken, MsgTokenExpired)
	}
	if err != nil || !ok || !cred.Session() {
		return nil, time.Time{}, apierr.New(apierr.InvalidCredentials, MsgBadCredentials)
	}
	// Evaluate both checks so the timing does not say which part was wrong.
	okSecret := cred.CheckSecret(secret)
	okToken := cred.CheckSessionToken(token)
	if !okSecret || !okToken {
		return nil, time.Time{}, apierr.New(apierr.InvalidCredentials, MsgBadCredentials)
	}
	return cred.Principal(), cred.Expires(), nil
}

// cached returns a still-valid earlier authentication of the same header.
// The map is keyed by the password; the hash is seeded per process, so its
// lookup leaks nothing useful, and the final comparison is constant-time.
func (a *Authenticator) cached(user, password, region string) (*Principal, bool) {
	a.mu.RLock()
	e := a.basic[password]
	a.mu.RUnlock()
	// Only tokens are bound to a region; keys and sessions work at every
	// regional host, so their entries (region "") match any region.
	if e == nil || e.user != user || e.gen != a.store.Generation() || (e.region != "" && e.region != region) {
		return nil, false
	}
	if !e.expires.IsZero() && !a.now().Before(e.expires) {
		return nil, false
	}
	if subtle.ConstantTimeCompare([]byte(e.password), []byte(password)) != 1 {
		return nil, false
	}
	return e.principal, true
}

func (a *Authenticator) remember(e *basicEntry) {
	a.mu.Lock()
	if len(a.basic) >= a.maxCache {
		clear(a.basic)
	}
	a.basic[e.password] = e
	a.mu.Unlock()
}
