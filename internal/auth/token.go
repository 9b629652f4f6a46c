package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
)

// ECR authorization tokens.
//
// The password half of GetAuthorizationToken's "AWS:<password>" is
//
//	base64url-nopad( payload || HMAC-SHA256(tokenKey, payload) )
//
// payload = version(1)=1 | kind(1) 'k' long-term key or 's' STS session |
// issued unix(8, big endian) | expires unix(8) | len+access key id |
// len+account | len+region (each len one byte).
//
// The alphabet [A-Za-z0-9_-] has no ':' (the aws CLI v1 splits on it). The
// token names the access key it was minted from, so deleting or
// deactivating that key, or the session expiring, kills the token; the
// region makes it valid only against that region's registry hosts.
const (
	TokenLifetime = 12 * time.Hour
	tokenVersion  = 1
	macLen        = sha256.Size
	kindLongTerm  = 'k'
	kindSession   = 's'
)

// Messages shown to docker users.
const (
	MsgTokenExpired = "Your authorization token has expired. Reauthenticate and try again."
	MsgTokenInvalid = "Your authorization token is invalid. Get a new one with 'aws ecr get-login-password' and log in again."
	MsgTokenRevoked = "Your authorization token is no longer valid: the access key or session it was issued to was deleted, deactivated or has expired. Reauthenticate and try again."
)

type tokenClaims struct {
	kind            byte
	issued, expires time.Time
	keyID, account  string
	region          string
}

// IssueToken mints the password for "AWS:<password>" for p in region: valid
// for 12 hours, never beyond p's own session expiry. p must carry the access
// key it authenticated with (SigV4 principals do).
func (a *Authenticator) IssueToken(_ context.Context, p *Principal, region string) (string, time.Time, error) {
	keyID, kind := p.AccessKeyID, byte(kindLongTerm)
	if p.SessionID != "" {
		keyID, kind = p.SessionID, kindSession
	}
	if keyID == "" {
		return "", time.Time{}, apierr.New(apierr.AccessDenied, "Authorization tokens can only be issued to requests signed with an access key.")
	}
	if region == "" || len(region) > 64 {
		return "", time.Time{}, apierr.New(apierr.InvalidParameter, "A region is required to issue an authorization token.")
	}
	now := a.now().UTC().Truncate(time.Second)
	exp := now.Add(TokenLifetime)
	if !p.Expires.IsZero() && p.Expires.Before(exp) {
		exp = p.Expires.UTC().Truncate(time.Second)
	}
	c := tokenClaims{kind: kind, issued: now, expires: exp, keyID: keyID, account: p.Account, region: region}
	return a.encodeToken(&c), exp, nil
}

func (a *Authenticator) encodeToken(c *tokenClaims) string {
	b := make([]byte, 0, 18+3+len(c.keyID)+len(c.account)+len(c.region)+macLen)
	b = append(b, tokenVersion, c.kind)
	b = binary.BigEndian.AppendUint64(b, uint64(c.issued.Unix()))
	b = binary.BigEndian.AppendUint64(b, uint64(c.expires.Unix()))
	for _, s := range []string{c.keyID, c.account, c.region} {
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	m := hmac.New(sha256.New, a.macKey)
	m.Write(b)
	b = m.Sum(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeToken checks the MAC (constant time) and parses the claims.
func (a *Authenticator) decodeToken(tok string) (*tokenClaims, error) {
	invalid := apierr.New(apierr.InvalidCredentials, MsgTokenInvalid)
	if len(tok) > 1024 {
		return nil, invalid
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(b) < 18+3+macLen {
		return nil, invalid
	}
	payload, sum := b[:len(b)-macLen], b[len(b)-macLen:]
	m := hmac.New(sha256.New, a.macKey)
	m.Write(payload)
	if !hmac.Equal(m.Sum(nil), sum) {
		return nil, invalid
	}
	if payload[0] != tokenVersion || (payload[1] != kindLongTerm && payload[1] != kindSession) {
		return nil, invalid
	}
	c := &tokenClaims{kind: payload[1],
		issued:  time.Unix(int64(binary.BigEndian.Uint64(payload[2:10])), 0).UTC(),
		expires: time.Unix(int64(binary.BigEndian.Uint64(payload[10:18])), 0).UTC()}
	rest := payload[18:]
	fields := [3]*string{&c.keyID, &c.account, &c.region}
	for _, f := range fields {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return nil, invalid
		}
		n := int(rest[0])
		*f = string(rest[1 : 1+n])
		rest = rest[1+n:]
	}
	if len(rest) != 0 {
		return nil, invalid
	}
	return c, nil
}

// VerifyToken checks an ECR token for use against region and returns the
// principal it stands for, re-resolved now (so revocations apply at once).
func (a *Authenticator) VerifyToken(_ context.Context, tok, region string) (*Principal, time.Time, error) {
	c, err := a.decodeToken(tok)
	if err != nil {
		return nil, time.Time{}, err
	}
	if !a.now().Before(c.expires) {
		return nil, time.Time{}, apierr.New(apierr.ExpiredToken, MsgTokenExpired)
	}
	if region != "" && c.region != region {
		return nil, time.Time{}, apierr.New(apierr.InvalidCredentials,
			"This authorization token was issued for region %s and is not valid for the registry in %s. Get a token for %s (aws ecr get-login-password --region %s) and log in again.",
			c.region, region, region, region)
	}
	cred, err := a.store.ResolveAccessKey(c.keyID)
	if err != nil {
		if apierr.HasCode(err, apierr.ExpiredToken) {
			return nil, time.Time{}, apierr.New(apierr.ExpiredToken, MsgTokenExpired)
		}
		return nil, time.Time{}, apierr.New(apierr.InvalidCredentials, MsgTokenRevoked)
	}
	cp := cred.Principal()
	if cp.Account != c.account || cred.Session() != (c.kind == kindSession) {
		return nil, time.Time{}, apierr.New(apierr.InvalidCredentials, MsgTokenInvalid)
	}
	p := *cp
	p.AccessKeyID = "" // the request carried a token, not the key
	p.Expires = c.expires
	return &p, c.expires, nil
}
