package pullthrough

import (
	"context"
	"database/sql"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/ociref"
	"github.com/berth-dev/berth/internal/storage"
	"github.com/berth-dev/berth/internal/storage/sqlmigrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Store is the engine's state in the metadata database (portable SQL, so
// the same code runs on SQLite and PostgreSQL).
type Store struct{ db *sql.DB }

// OpenStore applies the engine's migrations.
func OpenStore(ctx context.Context, db *sql.DB) (*Store, error) {
	if db == nil {
		return nil, errors.New("pullthrough: database required")
	}
	if err := sqlmigrate.Apply(ctx, db, "pullthrough", migrationFS); err != nil {
		return nil, fmt.Errorf("pullthrough: %w", err)
	}
	return &Store{db: db}, nil
}

// tagState is what the engine knows about a cached tag.
type tagState struct {
	Digest      digest.Digest
	ValidatedAt time.Time
}

func (s *Store) tag(ctx context.Context, k storage.RepoKey, tag string) (*tagState, error) {
	var dg string
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT digest, validated_at FROM pullthrough_tags
		WHERE account = ? AND region = ? AND repo = ? AND tag = ?`, k.Account, k.Region, k.Name, tag).Scan(&dg, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &tagState{Digest: digest.Digest(dg), ValidatedAt: time.Unix(0, at)}, nil
}

func (s *Store) setTag(ctx context.Context, k storage.RepoKey, tag string, dg digest.Digest, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO pullthrough_tags (account, region, repo, tag, digest, validated_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (account, region, repo, tag) DO UPDATE SET digest = excluded.digest, validated_at = excluded.validated_at`,
		k.Account, k.Region, k.Name, tag, string(dg), at.UnixNano())
	return err
}

// tagsAt lists the cached tags of k that point at dg.
func (s *Store) tagsAt(ctx context.Context, k storage.RepoKey, dg digest.Digest) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tag FROM pullthrough_tags
		WHERE account = ? AND region = ? AND repo = ? AND digest = ? ORDER BY tag`, k.Account, k.Region, k.Name, string(dg))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *Store) stage(ctx context.Context, k storage.RepoKey, m *UpstreamManifest, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO pullthrough_manifests (account, region, repo, digest, media_type, payload, fetched_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, repo, digest) DO NOTHING`,
		k.Account, k.Region, k.Name, string(m.Digest), m.MediaType, base64.StdEncoding.EncodeToString(m.Payload), at.UnixNano())
	return err
}

func (s *Store) staged(ctx context.Context, k storage.RepoKey, dg digest.Digest) (*UpstreamManifest, error) {
	var mt, payload string
	err := s.db.QueryRowContext(ctx, `SELECT media_type, payload FROM pullthrough_manifests
		WHERE account = ? AND region = ? AND repo = ? AND digest = ?`, k.Account, k.Region, k.Name, string(dg)).Scan(&mt, &payload)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return nil, fmt.Errorf("staged manifest %s: %w", dg, err)
	}
	return &UpstreamManifest{MediaType: mt, Digest: dg, Payload: b}, nil
}

// stagedIndexes lists k's staged indexes (waiting for children).
func (s *Store) stagedIndexes(ctx context.Context, k storage.RepoKey) ([]*UpstreamManifest, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT digest, media_type, payload FROM pullthrough_manifests
		WHERE account = ? AND region = ? AND repo = ? AND media_type IN (?, ?) ORDER BY digest LIMIT 100`,
		k.Account, k.Region, k.Name, ociref.MediaTypeOCIIndex, ociref.MediaTypeDockerList)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*UpstreamManifest
	for rows.Next() {
		var dg, mt, payload string
		if err := rows.Scan(&dg, &mt, &payload); err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(payload)
		if err != nil {
			return nil, fmt.Errorf("staged manifest %s: %w", dg, err)
		}
		out = append(out, &UpstreamManifest{MediaType: mt, Digest: digest.Digest(dg), Payload: b})
	}
	return out, rows.Err()
}

func (s *Store) unstage(ctx context.Context, k storage.RepoKey, dg digest.Digest) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM pullthrough_manifests WHERE account = ? AND region = ? AND repo = ? AND digest = ?`,
		k.Account, k.Region, k.Name, string(dg))
	return err
}

// acquire takes lease name for holder until now+ttl when it is free,
// expired, or already holder's. It reports whether holder has it.
func (s *Store) acquire(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	exp := now.Add(ttl).UnixNano()
	res, err := s.db.ExecContext(ctx, `INSERT INTO pullthrough_leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`, name, holder, exp)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	res, err = s.db.ExecContext(ctx, `UPDATE pullthrough_leases SET holder = ?, expires_at = ?
		WHERE name = ? AND (holder = ? OR expires_at < ?)`, holder, exp, name, holder, now.UnixNano())
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (s *Store) release(ctx context.Context, name, holder string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM pullthrough_leases WHERE name = ? AND holder = ?`, name, holder)
	return err
}
