package iamsvc_test

import (
	"context"
	"testing"

	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/iamsvc/iamsvctest"
)

// Rotating the operator's configured root credentials must revoke the old
// pair (a leaked key is rotated precisely to kill it), across restarts, while
// root keys created through the IAM API stay.
func TestRotatingOperatorKeyRevokesThePreviousOne(t *testing.T) {
	ctx := context.Background()
	const acct = "000000000000"
	dir := t.TempDir()
	e := iamsvctest.New(t, dir, nil)
	iamsvctest.Must[*iamsvc.AccessKey](t)(func() (*iamsvc.AccessKey, error) {
		k, _, err := e.Svc.EnsureRootKey(ctx, acct, "AKIAOPERATOROLD00001", "old-operator-secret-0123456789")
		return k, err
	}())
	extra := iamsvctest.Must[*iamsvc.AccessKey](t)(e.Svc.CreateAccessKey(ctx, acct, ""))

	// The next start is configured with a new pair.
	e2 := iamsvctest.New(t, dir, nil)
	if _, created, err := e2.Svc.EnsureRootKey(ctx, acct, "AKIAOPERATORNEW00001", "new-operator-secret-0123456789"); err != nil || !created {
		t.Fatalf("new operator key: created=%v %v", created, err)
	}
	if _, err := e2.Svc.ResolveAccessKey("AKIAOPERATOROLD00001"); err == nil {
		t.Fatal("the rotated-out operator key still authenticates")
	}
	for _, id := range []string{"AKIAOPERATORNEW00001", extra.AccessKeyID} {
		if _, err := e2.Svc.ResolveAccessKey(id); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}

	// And the revocation is durable: a third start with the new pair keeps it alone.
	e3 := iamsvctest.New(t, dir, nil)
	if _, created, err := e3.Svc.EnsureRootKey(ctx, acct, "AKIAOPERATORNEW00001", "new-operator-secret-0123456789"); err != nil || created {
		t.Fatalf("unchanged configuration: created=%v %v", created, err)
	}
	if _, err := e3.Svc.ResolveAccessKey("AKIAOPERATOROLD00001"); err == nil {
		t.Fatal("the old operator key came back after a restart")
	}
}
