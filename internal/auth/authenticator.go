package auth

import (
	"errors"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/sigv4"
)

// CredentialStore resolves access key ids (internal/iamsvc implements it).
// Errors are apierr errors: InvalidCredentials for unknown or inactive keys,
// ExpiredToken for expired sessions.
type CredentialStore interface {
	ResolveAccessKey(id string) (*Credential, error)
	// Generation changes whenever identities or policies change, which
	// invalidates every cached authentication.
	Generation() uint64
}

// Authenticator turns Basic and SigV4 credentials into principals and issues
// ECR authorization tokens. It is safe for concurrent use.
type Authenticator struct {
	store    CredentialStore
	macKey   []byte
	verifier *sigv4.Verifier
	now      func() time.Time

	// basic caches successful Basic authentications by password so that
	// the registry hot path (every docker request repeats the header) is a
	// map lookup. Entries die with the store generation or their expiry.
	mu       sync.RWMutex
	basic    map[string]*basicEntry
	maxCache int
}

type basicEntry struct {
	user, password string
	principal      *Principal
	region         string // tokens: the region they are bound to
	expires        time.Time
	gen            uint64
}

// Option tunes an Authenticator.
type Option func(*Authenticator)

// WithClock injects the time source for token expiry and SigV4 skew.
func WithClock(now func() time.Time) Option { return func(a *Authenticator) { a.now = now } }

// WithCacheSize bounds the Basic authentication cache (default 10000).
func WithCacheSize(n int) Option { return func(a *Authenticator) { a.maxCache = max(n, 1) } }

// NewAuthenticator needs the credential store and the ECR token MAC key
// (32 bytes, derived from the master key by iamsvc.Keys.TokenMACKey).
func NewAuthenticator(store CredentialStore, tokenMACKey []byte, opts ...Option) (*Authenticator, error) {
	if store == nil {
		return nil, errors.New("auth: credential store required")
	}
	if len(tokenMACKey) < 32 {
		return nil, errors.New("auth: token MAC key must be at least 32 bytes")
	}
	a := &Authenticator{store: store, macKey: tokenMACKey, now: time.Now, maxCache: 10000}
	for _, o := range opts {
		o(a)
	}
	a.verifier = sigv4.NewVerifier(sigv4.WithClock(a.now))
	a.basic = make(map[string]*basicEntry)
	return a, nil
}
