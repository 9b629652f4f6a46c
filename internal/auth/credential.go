package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"time"
)

// Credential is what an access key id resolves to: the principal and the
// secret material to check. The secret is unexported and String redacts, so
// printing a Credential never leaks it.
type Credential struct {
	principal *Principal
	secret    string
	tokenHash []byte // SHA-256 of the session token; nil for long-term keys
	expires   time.Time
}

// NewLongTermCredential is an AKIA key of a root or IAM user.
func NewLongTermCredential(p *Principal, secret string) *Credential {
	return &Credential{principal: p, secret: secret}
}

// NewSessionCredential is an ASIA key of an STS session; tokenHash is the
// SHA-256 of its session token.
func NewSessionCredential(p *Principal, secret string, tokenHash []byte, expires time.Time) *Credential {
	return &Credential{principal: p, secret: secret, tokenHash: tokenHash, expires: expires}
}

// Principal is shared between requests; callers must not modify it.
func (c *Credential) Principal() *Principal { return c.principal }

// Session reports whether these are temporary credentials.
func (c *Credential) Session() bool { return c.tokenHash != nil }

// Expires is the session's end; zero for long-term keys.
func (c *Credential) Expires() time.Time { return c.expires }

// Secret is the secret access key, for SigV4 verification only.
func (c *Credential) Secret() string { return c.secret }

func (c *Credential) String() string { return "credential of " + c.principal.ARN }

// CheckSecret compares secret in constant time.
func (c *Credential) CheckSecret(secret string) bool {
	return subtle.ConstantTimeCompare([]byte(c.secret), []byte(secret)) == 1
}

// CheckSessionToken reports whether token belongs to these credentials;
// long-term keys accept only the empty token.
func (c *Credential) CheckSessionToken(token string) bool {
	if c.tokenHash == nil {
		return token == ""
	}
	sum := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(sum[:], c.tokenHash) == 1
}
