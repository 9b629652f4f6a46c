package iamsvc

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// The identity model is small (thousands of rows, not millions) and read on
// every request, so it lives in memory and the database keeps a durable copy:
// one JSON document per entity in one table. Every change is one
// transaction over the rows it touches.
var migrations = []string{
	`CREATE TABLE IF NOT EXISTS iam_objects (
		kind TEXT NOT NULL,
		id   TEXT NOT NULL,
		body BLOB NOT NULL,
		PRIMARY KEY (kind, id)
	)`,
}

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
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS iam_schema (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("iam schema: %w", err)
	}
	var v int
	err := db.QueryRowContext(ctx, `SELECT version FROM iam_schema`).Scan(&v)
	if err == sql.ErrNoRows {
		if _, err := db.ExecContext(ctx, `INSERT INTO iam_schema (version) VALUES (0)`); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	for ; v < len(migrations); v++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("iam migration %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE iam_schema SET version = ?`, v+1); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// change is one row to write (body != nil) or delete.
type change struct {
	kind, id string
	body     any
}

func writeChanges(ctx context.Context, db *sql.DB, changes []change) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
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
	return tx.Commit()
}

func loadRows(ctx context.Context, db *sql.DB, fn func(kind, id string, body []byte) error) error {
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
