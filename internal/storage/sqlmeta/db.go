// Package sqlmeta is the SQLite MetaStore (modernc.org/sqlite, no cgo).
//
// It keeps two *sql.DB handles on one database file:
//   - a writer with exactly one connection and BEGIN IMMEDIATE transactions,
//     so writers queue in database/sql instead of failing with SQLITE_BUSY;
//   - a reader pool with query_only connections; in WAL mode readers never
//     block the writer nor each other.
//
// DB returns the writer. Other packages (identity) create their own tables on
// it and must never hold one of its transactions while waiting on something
// else, since that stalls every registry write.
//
// OpenPostgres gives the same Store on PostgreSQL (the scale-out backend):
// one pool serves reads and writes, the schema comes from the .postgres.sql
// migrations, and write transactions are SERIALIZABLE with retries
// (sqldb.InTx).
package sqlmeta

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	"github.com/berth-dev/berth/internal/storage/sqldb"
	"github.com/berth-dev/berth/internal/storage/sqlmigrate"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// component names this package's row in schema_migrations; other packages
// sharing the database track their own schema under their own name.
const component = "registry"

// Store is the SQLite MetaStore. It is safe for concurrent use.
type Store struct {
	write   *sql.DB
	read    *sql.DB
	dialect sqldb.Dialect
	stmts   statements
}

// dsn builds the connection string. synchronous=FULL makes every commit
// fsync the WAL, so a push that got its 201 survives power loss, not only a
// process kill (NORMAL would only risk the last commits, but a registry's
// "pushed" must mean durable). busy_timeout covers other processes (backup
// tools, the sqlite3 shell) holding the file briefly.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the database at path and applies pending
// migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlmeta: %w", err)
	}
	// The database holds policies and (sealed) secrets: create it private.
	// SQLite gives its -wal and -shm files the main file's mode.
	if f, err := os.OpenFile(abs, os.O_CREATE|os.O_RDWR, 0o600); err != nil {
		return nil, fmt.Errorf("sqlmeta: %w", err)
	} else {
		f.Close()
	}
	w, err := sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return nil, fmt.Errorf("sqlmeta: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlmeta: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	s := &Store{write: w, read: r}
	if err := s.stmts.prepare(ctx, r); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// OpenPostgres opens the MetaStore on the PostgreSQL database at url with a
// pool of at most poolSize connections and applies pending migrations (under
// an advisory lock: several nodes may start at once).
func OpenPostgres(ctx context.Context, url string, poolSize int) (*Store, error) {
	db, err := sqldb.OpenPostgres(ctx, url, poolSize)
	if err != nil {
		return nil, fmt.Errorf("sqlmeta: %w", err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	s := &Store{write: db, read: db, dialect: sqldb.Postgres}
	if err := s.stmts.prepare(ctx, db); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Dialect tells which engine the store runs on.
func (s *Store) Dialect() sqldb.Dialect { return s.dialect }

// DB returns the single-connection writer handle (see the package comment).
func (s *Store) DB() *sql.DB { return s.write }

// Close closes both handles. Everything committed is already durable.
func (s *Store) Close() error {
	s.stmts.close()
	if s.read == s.write {
		return s.write.Close()
	}
	return errors.Join(s.read.Close(), s.write.Close())
}

func migrate(ctx context.Context, db *sql.DB) error {
	if err := sqlmigrate.Apply(ctx, db, component, migrationFS); err != nil {
		return fmt.Errorf("sqlmeta: %w", err)
	}
	return nil
}
