// Package sqlmigrate applies embedded schema migrations for the packages
// that share the metadata database (registry, SSM parameters, secrets).
//
// Each package is a component with its own row in one schema_migrations
// table, so their migrations are numbered independently.
//
// A migration NNNN_name.sql is the SQLite (and portable) version; a file
// NNNN_name.postgres.sql next to it replaces it on PostgreSQL. On PostgreSQL
// Apply holds an advisory lock while it runs, so nodes starting at the same
// time migrate one after the other and the later ones find nothing to do.
package sqlmigrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/storage/sqldb"
)

// postgresSuffix marks the PostgreSQL variant of a migration.
const postgresSuffix = ".postgres.sql"

type migration struct {
	version int
	name    string
	sql     string
}

// Apply runs component's pending migrations: the files in the migrations
// directory of files, named NNNN_description.sql. Each runs in its own
// transaction together with the version bump, so a crash leaves the schema
// at a known version.
func Apply(ctx context.Context, db *sql.DB, component string, files fs.FS) error {
	dialect := sqldb.DialectOf(db)
	ms, err := load(files, dialect)
	if err != nil {
		return err
	}
	unlock, err := sqldb.LockSession(ctx, db, "berth schema migrations")
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer unlock()
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		component TEXT PRIMARY KEY,
		version   INTEGER NOT NULL
	)`); err != nil {
		return err
	}
	for _, m := range ms {
		if err := apply(ctx, db, component, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

func load(files fs.FS, dialect sqldb.Dialect) ([]migration, error) {
	ents, err := fs.ReadDir(files, "migrations")
	if err != nil {
		return nil, err
	}
	plain, pg := map[int]migration{}, map[int]migration{}
	for _, e := range ents {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %q lacks a numeric prefix", e.Name())
		}
		set := plain
		if strings.HasSuffix(e.Name(), postgresSuffix) {
			set = pg
		}
		if prev, dup := set[v]; dup {
			return nil, fmt.Errorf("migrations %q and %q share version %d", prev.name, e.Name(), v)
		}
		body, err := fs.ReadFile(files, "migrations/"+e.Name())
		if err != nil {
			return nil, err
		}
		set[v] = migration{v, e.Name(), string(body)}
	}
	if dialect == sqldb.Postgres {
		for v, m := range pg {
			plain[v] = m
		}
	}
	ms := make([]migration, 0, len(plain))
	for _, m := range plain {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

func apply(ctx context.Context, db *sql.DB, component string, m migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var cur int
	err = tx.QueryRowContext(ctx, `SELECT version FROM schema_migrations WHERE component = ?`, component).Scan(&cur)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if cur >= m.version {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (component, version) VALUES (?, ?)
		ON CONFLICT (component) DO UPDATE SET version = excluded.version`, component, m.version); err != nil {
		return err
	}
	return tx.Commit()
}
