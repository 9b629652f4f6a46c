package ecr

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"

	"github.com/berth-dev/berth/internal/storage"
	"github.com/berth-dev/berth/internal/storage/sqlmigrate"
)

// RegistryStore keeps the registry-level documents that have no place in
// storage.Repository: per registry (account+region) and kind, documents
// keyed by id. Implementations return storage.ErrNotFound and
// storage.ErrAlreadyExists.
type RegistryStore interface {
	GetDoc(ctx context.Context, account, region, kind, id string) ([]byte, error)
	PutDoc(ctx context.Context, account, region, kind, id string, body []byte) error
	// CreateDoc is PutDoc that fails with ErrAlreadyExists instead of replacing.
	CreateDoc(ctx context.Context, account, region, kind, id string, body []byte) error
	DeleteDoc(ctx context.Context, account, region, kind, id string) error
	// ListDocs returns documents with id > after in id order, at most limit.
	ListDocs(ctx context.Context, account, region, kind, after string, limit int) ([]Doc, error)
}

// Doc is one stored document.
type Doc struct {
	ID   string
	Body []byte
}

// Document kinds.
const (
	kindRegistryPolicy = "registry-policy"
	kindReplication    = "replication"
	kindPTCRule        = "pull-through-cache-rule"
	kindLifecycleView  = "lifecycle-preview"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// SQLStore is RegistryStore on the metadata database (SQLite or PostgreSQL).
type SQLStore struct{ db *sql.DB }

// NewSQLStore creates the table if needed.
func NewSQLStore(ctx context.Context, db *sql.DB) (*SQLStore, error) {
	if db == nil {
		return nil, errors.New("ecr: database required")
	}
	if err := sqlmigrate.Apply(ctx, db, "ecr", migrationFS); err != nil {
		return nil, fmt.Errorf("ecr registry table: %w", err)
	}
	return &SQLStore{db: db}, nil
}

func (s *SQLStore) GetDoc(ctx context.Context, account, region, kind, id string) ([]byte, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT body FROM ecr_registry_docs WHERE account = ? AND region = ? AND kind = ? AND id = ?`,
		account, region, kind, id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	return b, err
}

func (s *SQLStore) PutDoc(ctx context.Context, account, region, kind, id string, body []byte) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO ecr_registry_docs (account, region, kind, id, body) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (account, region, kind, id) DO UPDATE SET body = excluded.body`, account, region, kind, id, body)
	return err
}

func (s *SQLStore) CreateDoc(ctx context.Context, account, region, kind, id string, body []byte) error {
	res, err := s.db.ExecContext(ctx, `INSERT INTO ecr_registry_docs (account, region, kind, id, body) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (account, region, kind, id) DO NOTHING`, account, region, kind, id, body)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return storage.ErrAlreadyExists
	}
	return nil
}

func (s *SQLStore) DeleteDoc(ctx context.Context, account, region, kind, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM ecr_registry_docs WHERE account = ? AND region = ? AND kind = ? AND id = ?`,
		account, region, kind, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

func (s *SQLStore) ListDocs(ctx context.Context, account, region, kind, after string, limit int) ([]Doc, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, body FROM ecr_registry_docs WHERE account = ? AND region = ? AND kind = ? AND id > ?
		ORDER BY id LIMIT ?`, account, region, kind, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Doc
	for rows.Next() {
		var d Doc
		if err := rows.Scan(&d.ID, &d.Body); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
