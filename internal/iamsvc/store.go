package iamsvc

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"fmt"

	"github.com/berth-dev/berth/internal/storage/sqlmigrate"
)

// The identity model is small (thousands of rows, not millions) and read on
// every request, so it lives in memory and the database keeps a durable copy:
// one JSON document per entity in one table. Every change is one
// transaction over the rows it touches that also increments iam_generation.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// Row kinds.
const (
	kindAccount = "account"
	kindUser    = "user"
	kindGroup   = "group"
	kindRole    = "role"
	kindPolicy  = "policy"
	kindKey     = "key"
	kindSession = "session"
)

func migrate(ctx context.Context, db *sql.DB) error {
	if err := sqlmigrate.Apply(ctx, db, "iam", migrationFS); err != nil {
		return fmt.Errorf("iam schema: %w", err)
	}
	return nil
}

// querier is *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// change is one row to write (body != nil) or delete.
type change struct {
	kind, id string
	body     any
}

func writeChanges(ctx context.Context, tx *sql.Tx, changes []change) error {
	for _, c := range changes {
		if c.body == nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM iam_objects WHERE kind = ? AND id = ?`, c.kind, c.id); err != nil {
				return err
			}
			continue
		}
		b, err := json.Marshal(c.body)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO iam_objects (kind, id, body) VALUES (?, ?, ?)
			 ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body`, c.kind, c.id, b); err != nil {
			return err
		}
	}
	return nil
}

func loadRows(ctx context.Context, db querier, fn func(kind, id string, body []byte) error) error {
	rows, err := db.QueryContext(ctx, `SELECT kind, id, body FROM iam_objects`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var kind, id string
		var body []byte
		if err := rows.Scan(&kind, &id, &body); err != nil {
			return err
		}
		if err := fn(kind, id, body); err != nil {
			return fmt.Errorf("iam row %s/%s: %w", kind, id, err)
		}
	}
	return rows.Err()
}
