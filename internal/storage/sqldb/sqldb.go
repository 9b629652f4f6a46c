// Package sqldb lets one body of database/sql code run on SQLite (embedded)
// and PostgreSQL (scale-out).
//
// Code keeps writing portable SQL with '?' placeholders. A PostgreSQL
// database is opened through a thin wrapper of pgx's database/sql driver that
// rewrites '?' to $1…$n and passes Go bools as 0/1 (the schemas store flags
// as integers on both). What the two dialects do differently — DDL, a few
// functions, locking — is kept to migration files per dialect and to the
// helpers here. The convention every table follows is in /work/wt/NOTES.md and
// docs/ARCHITECTURE.md ("Metadata on SQLite and PostgreSQL").
package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/berth-dev/berth/internal/apierr"
)

// Dialect names the SQL engine behind a *sql.DB.
type Dialect int

const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// DialectOf tells which engine db talks to: PostgreSQL when it was opened by
// OpenPostgres, SQLite otherwise.
func DialectOf(db *sql.DB) Dialect {
	if _, ok := db.Driver().(pgDriver); ok {
		return Postgres
	}
	return SQLite
}

// IsPostgresURL reports whether s selects the PostgreSQL backend.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// OpenPostgres opens a pool of at most poolSize connections to the database
// at url (postgres://user:pass@host:port/db?sslmode=…) and pings it.
func OpenPostgres(ctx context.Context, url string, poolSize int) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("metadata url: %w", err)
	}
	if poolSize <= 0 {
		poolSize = 16
	}
	db := sql.OpenDB(connector{stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(poolSize)
	db.SetMaxIdleConns(poolSize)
	// Recycle connections so a PostgreSQL restart or failover is absorbed by
	// the pool instead of pinning dead sockets forever.
	db.SetConnMaxLifetime(30 * time.Minute)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("metadata database: %w", err)
	}
	return db, nil
}

// ConnConfig returns the pgx configuration of a PostgreSQL url (for the
// notification listener, which needs a connection of its own).
func ConnConfig(url string) (*pgx.ConnConfig, error) { return pgx.ParseConfig(url) }

type connector struct{ inner driver.Connector }

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	return &conn{cn.(*stdlib.Conn)}, nil
}

func (c connector) Driver() driver.Driver { return pgDriver{} }

// pgDriver marks a PostgreSQL *sql.DB; Open by name is not supported (the
// connector carries the configuration).
type pgDriver struct{}

func (pgDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("sqldb: open PostgreSQL with OpenPostgres")
}

// conn forwards to pgx's stdlib connection with rewritten queries.
type conn struct{ c *stdlib.Conn }

var (
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.NamedValueChecker  = (*conn)(nil)
)

func (c *conn) Prepare(q string) (driver.Stmt, error) {
	st, err := c.c.Prepare(Rebind(q))
	return st, unavailable(err)
}
func (c *conn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	st, err := c.c.PrepareContext(ctx, Rebind(q))
	return st, unavailable(err)
}
func (c *conn) Close() error              { return c.c.Close() }
func (c *conn) Begin() (driver.Tx, error) { return c.c.Begin() } //nolint:staticcheck // required by driver.Conn
func (c *conn) BeginTx(ctx context.Context, o driver.TxOptions) (driver.Tx, error) {
	tx, err := c.c.BeginTx(ctx, o)
	return tx, unavailable(err)
}
func (c *conn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	r, err := c.c.ExecContext(ctx, Rebind(q), args)
	return r, unavailable(err)
}
func (c *conn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	r, err := c.c.QueryContext(ctx, Rebind(q), args)
	return r, unavailable(err)
}

// unavailable turns "the database cannot be reached right now" (refused or
// broken connections, a server shutting down or starting) into
// StorageUnavailable, which the APIs answer with 503 so that clients retry.
// driver.ErrBadConn stays as it is: database/sql retries those on a fresh
// connection itself.
func unavailable(err error) error {
	if err == nil || errors.Is(err, driver.ErrBadConn) || !connectionFailure(err) {
		return err
	}
	return apierr.Wrap(apierr.StorageUnavailable, err, "the metadata database is unavailable, retry later")
}

func connectionFailure(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	// Class 08: connection exception; 57P01-03: admin/crash shutdown,
	// cannot connect now (starting up).
	code := pgCode(err)
	return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03"
}
func (c *conn) Ping(ctx context.Context) error              { return c.c.Ping(ctx) }
func (c *conn) ResetSession(ctx context.Context) error      { return c.c.ResetSession(ctx) }
func (c *conn) CheckNamedValue(nv *driver.NamedValue) error { return checkNamedValue(c.c, nv) }

// checkNamedValue stores bools as 0/1: flag columns are integers on both
// dialects.
func checkNamedValue(c *stdlib.Conn, nv *driver.NamedValue) error {
	if b, ok := nv.Value.(bool); ok {
		if b {
			nv.Value = int64(1)
		} else {
			nv.Value = int64(0)
		}
		return nil
	}
	return c.CheckNamedValue(nv)
}

// Rebind turns '?' placeholders into $1…$n, leaving quoted strings, quoted
// identifiers, dollar-quoted bodies and comments alone. Queries that already
// use $n are returned as they are.
func Rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		ch := q[i]
		switch {
		case ch == '\'' || ch == '"':
			j := i + 1
			for j < len(q) {
				if q[j] == ch {
					if j+1 < len(q) && q[j+1] == ch { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			end := min(j+1, len(q))
			b.WriteString(q[i:end])
			i = end - 1
		case ch == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+j])
			i += j - 1
		case ch == '/' && i+1 < len(q) && q[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+2+j+2])
			i += 2 + j + 1
		case ch == '$':
			// $tag$ … $tag$ (or $$ … $$); a $n parameter passes through.
			j := i + 1
			for j < len(q) && (q[j] == '_' || q[j] >= 'a' && q[j] <= 'z' || q[j] >= 'A' && q[j] <= 'Z') {
				j++
			}
			if j < len(q) && q[j] == '$' {
				tag := q[i : j+1]
				k := strings.Index(q[j+1:], tag)
				end := len(q)
				if k >= 0 {
					end = j + 1 + k + len(tag)
				}
				b.WriteString(q[i:end])
				i = end - 1
				continue
			}
			b.WriteByte(ch)
		case ch == '?':
			n++
			b.WriteByte('$')
			b.WriteString(fmt.Sprint(n))
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// ---- transactions -------------------------------------------------------

// maxAttempts bounds InTx's retries of serialization failures.
const maxAttempts = 10

// InTx runs fn in a write transaction and commits it. On PostgreSQL the
// transaction is SERIALIZABLE, so read-modify-write code written for SQLite's
// single writer stays correct; a serialization failure or deadlock rolls
// back and runs fn again (fn must only touch the database and its own
// variables). On SQLite the writer handle's BEGIN IMMEDIATE already
// serializes writers.
func InTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	var opts *sql.TxOptions
	if DialectOf(db) == Postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelSerializable}
	}
	for attempt := 1; ; attempt++ {
		err := runTx(ctx, db, opts, fn)
		if err == nil || !Retryable(err) || attempt == maxAttempts {
			return err
		}
		// Jittered backoff: the conflicting transaction is usually done
		// within a millisecond or two.
		d := time.Duration(rand.Int64N(int64(attempt)*int64(2*time.Millisecond))) + time.Millisecond
		select {
		case <-ctx.Done():
			return err
		case <-time.After(d):
		}
	}
}

func runTx(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// pgCode returns the SQLSTATE of a PostgreSQL error ("" otherwise).
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// Retryable reports a PostgreSQL serialization failure or deadlock: the
// transaction did nothing and may simply be run again.
func Retryable(err error) bool {
	switch pgCode(err) {
	case "40001", "40P01":
		return true
	}
	return false
}

// IsUniqueViolation reports a unique or primary-key violation on either
// dialect.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	if pgCode(err) == "23505" {
		return true
	}
	// modernc's error text: "constraint failed: UNIQUE constraint failed: …"
	// (SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY).
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "PRIMARY KEY constraint failed")
}

// ForUpdate is the row-locking suffix of a SELECT inside a transaction:
// " FOR UPDATE" on PostgreSQL, nothing on SQLite (whose writer is exclusive).
func ForUpdate(db *sql.DB) string {
	if DialectOf(db) == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// LockKey takes a transaction-scoped advisory lock named key on PostgreSQL
// (released at commit or rollback); on SQLite it does nothing, the write
// transaction being exclusive already.
func LockKey(ctx context.Context, db *sql.DB, tx *sql.Tx, key string) error {
	if DialectOf(db) != Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, key)
	return err
}

// LockSession takes a session advisory lock named key on a connection of its
// own and returns the function that releases it. PostgreSQL releases it too
// when the connection dies (a killed node never leaves it held). On SQLite it
// returns a no-op: one process owns the database.
func LockSession(ctx context.Context, db *sql.DB, key string) (unlock func(), err error) {
	if DialectOf(db) != Postgres {
		return func() {}, nil
	}
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := c.ExecContext(ctx, `SELECT pg_advisory_lock(hashtextextended(?, 0))`, key); err != nil {
		c.Close()
		return nil, err
	}
	return func() {
		// Unlock on a fresh context: the request's may be cancelled already.
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := c.ExecContext(uctx, `SELECT pg_advisory_unlock(hashtextextended(?, 0))`, key); err != nil {
			// Poison the connection so the lock dies with it.
			_ = c.Raw(func(any) error { return driver.ErrBadConn })
		}
		c.Close()
	}, nil
}
