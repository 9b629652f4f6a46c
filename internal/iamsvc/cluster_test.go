package iamsvc_test

import (
	"context"
	"os"
	"testing"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/storage/sqldb/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// Two nodes on one PostgreSQL database: a key created on A works on B at
// once (B re-checks on a miss); a key deleted on A is refused by B after
// B's next Sync (the notification or the periodic check); writes on B that
// race A's see A's changes first.
func TestTwoNodesShareIdentity(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DSN(t)
	keys, err := iamsvc.NewKeys(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	open := func() *iamsvc.Service {
		db := pgtestOpen(t, url)
		s, err := iamsvc.Open(ctx, db, keys)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b := open(), open()
	if _, err := a.CreateAccount(ctx, "111111111111"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateUser(ctx, "111111111111", iamsvc.CreateUserInput{UserName: "ci"}); err != nil {
		t.Fatal(err)
	}
	key, err := a.CreateAccessKey(ctx, "111111111111", "ci")
	if err != nil {
		t.Fatal(err)
	}
	genB := b.Generation()
	if _, err := b.ResolveAccessKey(key.AccessKeyID); err != nil {
		t.Fatalf("node B does not know the key node A just created: %v", err)
	}
	if b.Generation() == genB {
		t.Fatal("B reloaded without moving its generation (caches would keep stale entries)")
	}
	// A write on B made without B having synced must not lose A's user.
	if _, err := a.CreateUser(ctx, "111111111111", iamsvc.CreateUserInput{UserName: "second"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateUser(ctx, "111111111111", iamsvc.CreateUserInput{UserName: "second"}); !apierr.HasCode(err, apierr.EntityAlreadyExists) {
		t.Fatalf("B created a user A already has: %v", err)
	}
	if err := a.DeleteAccessKey(ctx, "111111111111", "ci", key.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ResolveAccessKey(key.AccessKeyID); !apierr.HasCode(err, apierr.InvalidCredentials) {
		t.Fatalf("B still accepts a key deleted on A: %v", err)
	}
}
