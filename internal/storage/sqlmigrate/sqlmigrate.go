// Package sqlmigrate applies embedded schema migrations for the packages
// that share the metadata database (registry, SSM parameters, secrets).
//
// Each package is a component with its own row in one schema_migrations
// table, so their migrations are numbered independently.
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
)

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
	ms, err := load(files)
	if err != nil {
		return err
	}
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

func load(files fs.FS) ([]migration, error) {
	ents, err := fs.ReadDir(files, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range ents {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %q lacks a numeric prefix", e.Name())
		}
		body, err := fs.ReadFile(files, "migrations/"+e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{v, e.Name(), string(body)})
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
