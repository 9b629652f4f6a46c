package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"sync"
	"testing"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/storage/sqldb"
	"github.com/berth-dev/berth/internal/storage/sqldb/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func TestRebind(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`a = ? AND b = ?`, `a = $1 AND b = $2`},
		{`x = '?' AND y = ?`, `x = '?' AND y = $1`},
		{`x = 'it''s ?' AND y = ?`, `x = 'it''s ?' AND y = $1`},
		{`"we?ird" = ?`, `"we?ird" = $1`},
		{"-- why?\nSELECT ?", "-- why?\nSELECT $1"},
		{`/* ? */ SELECT ?`, `/* ? */ SELECT $1`},
		{`SELECT $$ ? $$, ?`, `SELECT $$ ? $$, $1`},
		{`SELECT $f$ ? $f$, ?`, `SELECT $f$ ? $f$, $1`},
		{`VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, `VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`},
		{`'unterminated ?`, `'unterminated ?`},
		{`-- ?`, `-- ?`},
	} {
		if got := sqldb.Rebind(c.in); got != c.want {
			t.Errorf("Rebind(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzRebind(f *testing.F) {
	for _, s := range []string{`a = ?`, `'?'`, `$$?$$`, "--?\n?", `/*?*/?`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := sqldb.Rebind(s)
		if len(out) < len(s) {
			t.Fatalf("Rebind shortened %q to %q", s, out)
		}
	})
}

func TestPostgres(t *testing.T) {
	db := pgtest.Open(t)
	ctx := context.Background()
	if sqldb.DialectOf(db) != sqldb.Postgres {
		t.Fatal("dialect not postgres")
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT NOT NULL, flag BIGINT NOT NULL, b BYTEA)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO t (k, n, flag, b) VALUES (?, ?, ?, ?)`, "a", int64(1)<<40, true, []byte("x")); err != nil {
		t.Fatal(err)
	}
	var (
		n    int64
		flag bool
		b    []byte
	)
	if err := db.QueryRowContext(ctx, `SELECT n, flag, b FROM t WHERE k = ? AND '?' = '?'`, "a").Scan(&n, &flag, &b); err != nil {
		t.Fatal(err)
	}
	if n != 1<<40 || !flag || string(b) != "x" {
		t.Fatalf("got %d %v %q", n, flag, b)
	}
	_, err := db.ExecContext(ctx, `INSERT INTO t (k, n, flag) VALUES (?, 0, 0)`, "a")
	if !sqldb.IsUniqueViolation(err) {
		t.Fatalf("duplicate key: %v, want a unique violation", err)
	}

	// Concurrent read-modify-write increments: SERIALIZABLE + retry loses none.
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- sqldb.InTx(ctx, db, func(tx *sql.Tx) error {
				var cur int64
				if err := tx.QueryRowContext(ctx, `SELECT n FROM t WHERE k = 'a'`).Scan(&cur); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, `UPDATE t SET n = ? WHERE k = 'a'`, cur+1)
				return err
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	db.QueryRowContext(ctx, `SELECT n FROM t WHERE k = 'a'`).Scan(&n)
	if n != 1<<40+20 {
		t.Fatalf("n = %d after 20 increments, want %d", n, int64(1)<<40+20)
	}
	if err := sqldb.InTx(ctx, db, func(tx *sql.Tx) error { return errors.New("boom") }); err == nil {
		t.Fatal("InTx swallowed fn's error")
	}

	unlock, err := sqldb.LockSession(ctx, db, "upload-1")
	if err != nil {
		t.Fatal(err)
	}
	var got bool
	db.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtextextended('upload-1', 0))`).Scan(&got)
	if got {
		t.Fatal("advisory lock taken twice")
	}
	unlock()
}

// A database that cannot be reached is StorageUnavailable (503, retry),
// not an internal error; SQL errors stay what they are.
func TestUnavailableIsRetryable(t *testing.T) {
	_, err := sqldb.OpenPostgres(context.Background(), "postgres://berth@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", 1)
	if !apierr.HasCode(err, apierr.StorageUnavailable) {
		t.Fatalf("unreachable database: %v, want StorageUnavailable", err)
	}
	db := pgtest.Open(t)
	_, err = db.ExecContext(context.Background(), `SELECT * FROM no_such_table`)
	if err == nil || apierr.HasCode(err, apierr.StorageUnavailable) {
		t.Fatalf("SQL error: %v, want it unchanged", err)
	}
}
