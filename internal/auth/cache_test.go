package auth_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/ecrhost"
)

// countingStore counts credential resolutions, i.e. Basic-auth cache misses.
type countingStore struct {
	auth.CredentialStore
	n atomic.Int64
}

func (c *countingStore) ResolveAccessKey(id string) (*auth.Credential, error) {
	c.n.Add(1)
	return c.CredentialStore.ResolveAccessKey(id)
}

// Every docker request repeats its Basic header, so a repeated key or session
// login must be a cache hit at any regional host; a token is bound to its
// region and must not be served from the cache elsewhere.
func TestBasicCacheHitsForKeysAndSessions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	store := &countingStore{CredentialStore: f.env.Svc}
	a, err := auth.NewAuthenticator(store, f.env.Keys.TokenMACKey(), auth.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	euWest2 := ecrhost.Registry{Account: acctA, Region: "eu-west-2"}
	for _, tc := range []struct{ name, user, password string }{
		{"access key", f.user.AccessKeyID, f.user.SecretAccessKey},
		{"session", f.sess.AccessKeyID, auth.SessionPassword(f.sess.SecretAccessKey, f.sess.SessionToken)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := store.n.Load()
			for _, reg := range []ecrhost.Registry{usEast1, usEast1, euWest2, euWest2} {
				if _, err := a.AuthenticateBasic(ctx, tc.user, tc.password, reg); err != nil {
					t.Fatal(err)
				}
			}
			if got := store.n.Load() - before; got != 1 {
				t.Fatalf("%d credential lookups for 4 logins, want 1", got)
			}
			if _, err := a.AuthenticateBasic(ctx, tc.user, tc.password+"x", usEast1); err == nil {
				t.Fatal("a wrong password was served from the cache")
			}
		})
	}
	p := f.principal(t, f.user.AccessKeyID)
	tok, _, err := a.IssueToken(ctx, p, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.AuthenticateBasic(ctx, auth.TokenUser, tok, usEast1); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AuthenticateBasic(ctx, auth.TokenUser, tok, euWest2); err == nil {
		t.Fatal("a us-east-1 token was accepted at eu-west-2 (from the cache)")
	}
}
