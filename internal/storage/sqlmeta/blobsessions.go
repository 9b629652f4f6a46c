package sqlmeta

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/berth-dev/berth/internal/storage"
)

// Blob upload sessions (table blob_upload_sessions): the shared, resumable
// state of uploads for blob stores that keep it in the database (s3blob).
// The state document is opaque here.

// CreateBlobUploadSession inserts a session at version 1; storage.ErrAlreadyExists if id is taken.
func (s *Store) CreateBlobUploadSession(ctx context.Context, id string, state []byte, now time.Time) error {
	res, err := s.write.ExecContext(ctx, `INSERT INTO blob_upload_sessions (id, version, state, updated_at)
		VALUES (?, 1, ?, ?) ON CONFLICT (id) DO NOTHING`, id, string(state), nanos(now))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("upload session %s: %w", id, storage.ErrAlreadyExists)
	}
	return nil
}

// BlobUploadSession returns a session's state and version; storage.ErrNotFound if unknown.
func (s *Store) BlobUploadSession(ctx context.Context, id string) ([]byte, int64, error) {
	var state string
	var version int64
	err := s.write.QueryRowContext(ctx, `SELECT state, version FROM blob_upload_sessions WHERE id = ?`, id).Scan(&state, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, fmt.Errorf("upload session %s: %w", id, storage.ErrNotFound)
	}
	return []byte(state), version, err
}

// UpdateBlobUploadSession replaces the state if the session is still at
// version; storage.ErrConflict when another writer got there first,
// storage.ErrNotFound when the session is gone.
func (s *Store) UpdateBlobUploadSession(ctx context.Context, id string, version int64, state []byte, now time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE blob_upload_sessions SET version = version + 1, state = ?, updated_at = ?
		WHERE id = ? AND version = ?`, string(state), nanos(now), id, version)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	if _, _, err := s.BlobUploadSession(ctx, id); err != nil {
		return err
	}
	return fmt.Errorf("upload session %s changed concurrently: %w", id, storage.ErrConflict)
}

// DeleteBlobUploadSession removes a session; a missing one is not an error.
func (s *Store) DeleteBlobUploadSession(ctx context.Context, id string) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM blob_upload_sessions WHERE id = ?`, id)
	return err
}

// BlobUploadSessionsBefore lists sessions last updated before t.
func (s *Store) BlobUploadSessionsBefore(ctx context.Context, t time.Time) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id FROM blob_upload_sessions WHERE updated_at < ? ORDER BY id`, nanos(t))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
