// Package iamsvctest builds real identity services on a temporary SQLite
// database for tests in other packages (auth, authz, the API adapters, e2e).
package iamsvctest

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/storage/sqldb"
	"github.com/berth-dev/berth/internal/storage/sqldb/pgtest"
)

// Env is an identity service with its database and key directory.
type Env struct {
	Svc     *iamsvc.Service
	DB      *sql.DB
	KeysDir string
	Keys    *iamsvc.Keys
}

// Clock is a settable test clock.
type Clock struct{ T time.Time }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return c.T }

// OpenDB opens (creating) a SQLite database at path, or, with
// BERTH_TEST_METADATA=postgres, a fresh PostgreSQL database (test.sh runs
// the identity, Parameter Store and Secrets Manager tests both ways).
func OpenDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	if os.Getenv("BERTH_TEST_METADATA") == "postgres" {
		return openPostgres(t, path)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// pgURLs keeps a PostgreSQL database per path so a test that reopens "the
// same file" (after closing it) finds its data again.
var (
	pgMu   sync.Mutex
	pgURLs = map[string]string{}
)

func openPostgres(t testing.TB, path string) *sql.DB {
	pgMu.Lock()
	url := pgURLs[path]
	if url == "" {
		url = pgtest.DSN(t)
		pgURLs[path] = url
	}
	pgMu.Unlock()
	db, err := sqldb.OpenPostgres(context.Background(), url, 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// New opens a service in dir (t.TempDir() when ""), with clock when non-nil.
func New(t testing.TB, dir string, clock *Clock) *Env {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	db := OpenDB(t, filepath.Join(dir, "meta.db"))
	keysDir := filepath.Join(dir, "keys")
	keys, err := iamsvc.LoadOrCreateKeys(keysDir)
	if err != nil {
		t.Fatal(err)
	}
	var opts []iamsvc.Option
	if clock != nil {
		opts = append(opts, iamsvc.WithClock(clock.Now))
	}
	svc, err := iamsvc.Open(context.Background(), db, keys, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Svc: svc, DB: db, KeysDir: keysDir, Keys: keys}
}

// Must fails the test on err.
func Must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// Account creates an account and a root key, returning the key.
func (e *Env) Account(t testing.TB, id string) *iamsvc.AccessKey {
	t.Helper()
	if err := e.Svc.EnsureAccount(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	k, err := e.Svc.CreateAccessKey(context.Background(), id, "")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// UserWithKey creates user in account with the given managed policies
// attached and inline documents put (named inline-N), returning its key.
func (e *Env) UserWithKey(t testing.TB, account, user string, managed []string, inline ...string) *iamsvc.AccessKey {
	t.Helper()
	ctx := context.Background()
	if _, err := e.Svc.CreateUser(ctx, account, iamsvc.CreateUserInput{UserName: user}); err != nil {
		t.Fatal(err)
	}
	for _, m := range managed {
		if err := e.Svc.AttachPolicy(ctx, account, iamsvc.UserEntity, user, m); err != nil {
			t.Fatal(err)
		}
	}
	for i, doc := range inline {
		if err := e.Svc.PutInlinePolicy(ctx, account, iamsvc.UserEntity, user, "inline-"+string(rune('0'+i)), doc); err != nil {
			t.Fatal(err)
		}
	}
	k, err := e.Svc.CreateAccessKey(ctx, account, user)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Code returns err's apierr code ("" for nil or foreign errors).
func Code(err error) apierr.Code {
	if e, ok := apierr.As(err); ok {
		return e.Code
	}
	return ""
}
