package sqlmeta

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/storage"
	"github.com/berth-dev/berth/internal/storage/sqldb"
)

// PutManifest stores m and optionally points tag at it, in one transaction.
// Re-putting an existing digest is a no-op for the manifest row (content
// addressed, so references are unchanged) and only moves the tag.
// m.PushedAt is set to now when zero.
func (s *Store) PutManifest(ctx context.Context, k storage.RepoKey, m *storage.Manifest, tag string) error {
	if m.PushedAt.IsZero() {
		m.PushedAt = time.Now().UTC()
	}
	ann, err := marshalMap(m.Annotations)
	if err != nil {
		return err
	}
	size := m.Size
	if size == 0 {
		size = int64(len(m.Payload))
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		repo, err := txRepo(ctx, tx, k)
		if err != nil {
			return err
		}
		for _, b := range m.Blobs {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM blob_links WHERE repo_id = ? AND digest = ?`, repo.id, string(b.Digest)).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return apierr.Wrap(apierr.ManifestBlobUnknown, storage.ErrNotFound, "blob unknown to registry: %s", b.Digest).
					WithDetail(map[string]string{"digest": string(b.Digest)})
			}
			if err != nil {
				return err
			}
		}
		for _, c := range m.Manifests {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM manifests WHERE repo_id = ? AND digest = ?`, repo.id, string(c.Digest)).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				// The distribution spec reports unknown index children as MANIFEST_BLOB_UNKNOWN too.
				return apierr.Wrap(apierr.ManifestBlobUnknown, storage.ErrNotFound, "manifest unknown to registry: %s", c.Digest).
					WithDetail(map[string]string{"digest": string(c.Digest)})
			}
			if err != nil {
				return err
			}
		}
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO manifests (repo_id, digest, media_type, artifact_type, payload, size, subject, annotations, pushed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repo_id, digest) DO NOTHING RETURNING id`,
			repo.id, string(m.Digest), m.MediaType, m.ArtifactType, m.Payload, size, string(m.Subject), ann, nanos(m.PushedAt)).Scan(&id)
		switch {
		case err == nil:
			if err := insertRefs(ctx, tx, repo.id, id, m); err != nil {
				return err
			}
		case errors.Is(err, sql.ErrNoRows): // already stored
			if err := tx.QueryRowContext(ctx, `SELECT id FROM manifests WHERE repo_id = ? AND digest = ?`, repo.id, string(m.Digest)).Scan(&id); err != nil {
				return err
			}
		default:
			return err
		}
		if tag == "" {
			return nil
		}
		return putTag(ctx, tx, k, repo, tag, id)
	})
}

type repoRow struct {
	id         int64
	mutability string
	filters    []string
}

func txRepo(ctx context.Context, tx *sql.Tx, k storage.RepoKey) (repoRow, error) {
	var (
		r       repoRow
		filters string
	)
	err := tx.QueryRowContext(ctx, `SELECT id, tag_mutability, mutability_filters FROM repositories
		WHERE account = ? AND region = ? AND name = ?`, k.Account, k.Region, k.Name).Scan(&r.id, &r.mutability, &filters)
	if errors.Is(err, sql.ErrNoRows) {
		return r, repoNotFound(k)
	}
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(filters), &r.filters); err != nil {
		return r, fmt.Errorf("sqlmeta: repository %s filters: %w", k.Name, err)
	}
	return r, nil
}

func insertRefs(ctx context.Context, tx *sql.Tx, repoID, id int64, m *storage.Manifest) error {
	for _, b := range m.Blobs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO manifest_blobs (manifest_id, digest) VALUES (?, ?) ON CONFLICT DO NOTHING`,
			id, string(b.Digest)); err != nil {
			return err
		}
	}
	for _, c := range m.Manifests {
		if _, err := tx.ExecContext(ctx, `INSERT INTO manifest_children (manifest_id, repo_id, child_digest) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			id, repoID, string(c.Digest)); err != nil {
			return err
		}
	}
	return nil
}

// putTag points tag at manifest id, refusing to move an immutable tag.
func putTag(ctx context.Context, tx *sql.Tx, k storage.RepoKey, repo repoRow, tag string, id int64) error {
	var cur int64
	err := tx.QueryRowContext(ctx, `SELECT manifest_id FROM tags WHERE repo_id = ? AND tag = ?`, repo.id, tag).Scan(&cur)
	switch {
	case err == nil && cur == id:
		return nil
	case err == nil:
		if storage.TagImmutable(repo.mutability, repo.filters, tag) {
			return apierr.New(apierr.TagImmutable,
				"The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the repository is immutable.",
				tag, k.Name)
		}
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO tags (repo_id, tag, manifest_id, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (repo_id, tag) DO UPDATE SET manifest_id = excluded.manifest_id, updated_at = excluded.updated_at`,
		repo.id, tag, id, time.Now().UnixNano())
	return err
}

func scanManifest(sc scanner) (*storage.Manifest, error) {
	var (
		m             storage.Manifest
		dg, subj, ann string
		pushed        int64
	)
	if err := sc.Scan(&dg, &m.MediaType, &m.ArtifactType, &m.Payload, &m.Size, &subj, &ann, &pushed); err != nil {
		return nil, err
	}
	m.Digest, m.Subject, m.PushedAt = digest.Digest(dg), digest.Digest(subj), fromNanos(pushed)
	a, err := unmarshalMap(ann)
	if err != nil {
		return nil, fmt.Errorf("sqlmeta: manifest %s annotations: %w", dg, err)
	}
	m.Annotations = a
	return &m, nil
}

// GetManifest returns the manifest with its payload. Blobs, Manifests and
// Tags are not filled (the payload is authoritative).
func (s *Store) GetManifest(ctx context.Context, k storage.RepoKey, dg digest.Digest) (*storage.Manifest, error) {
	m, err := scanManifest(s.stmts.getManifest.QueryRowContext(ctx, k.Account, k.Region, k.Name, string(dg)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.missing(ctx, k, "manifest "+string(dg))
	}
	return m, err
}

// ResolveTag is a single prepared query on the reader pool.
func (s *Store) ResolveTag(ctx context.Context, k storage.RepoKey, tag string) (*storage.Manifest, error) {
	m, err := scanManifest(s.stmts.resolveTag.QueryRowContext(ctx, k.Account, k.Region, k.Name, tag))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.missing(ctx, k, "tag "+tag)
	}
	return m, err
}

func (s *Store) DeleteManifest(ctx context.Context, k storage.RepoKey, dg digest.Digest) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		id, err := txRepoID(ctx, tx, k)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM manifests WHERE repo_id = ? AND digest = ?`, id, string(dg))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("manifest %s: %w", dg, storage.ErrNotFound)
		}
		return nil
	})
}

func (s *Store) DeleteTag(ctx context.Context, k storage.RepoKey, tag string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		id, err := txRepoID(ctx, tx, k)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM tags WHERE repo_id = ? AND tag = ?`, id, tag)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("tag %s: %w", tag, storage.ErrNotFound)
		}
		return nil
	})
}

// ListTags pages tags in byte order. An existing repository without tags (or
// past the last tag) gives an empty list; a missing repository ErrNotFound.
func (s *Store) ListTags(ctx context.Context, k storage.RepoKey, p storage.Page) ([]string, error) {
	rows, err := s.stmts.listTags.QueryContext(ctx, k.Account, k.Region, k.Name, p.After, limit(p))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]string, 0, min(limit(p), 256))
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		if err := s.checkRepo(ctx, k); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ListManifests pages a repository's manifests by digest with Tags filled
// and Payload nil.
func (s *Store) ListManifests(ctx context.Context, k storage.RepoKey, f storage.ImageFilter, p storage.Page) ([]storage.Manifest, error) {
	tagList := `(SELECT json_group_array(tag) FROM (SELECT tag FROM tags t WHERE t.manifest_id = m.id ORDER BY tag))`
	if s.dialect == sqldb.Postgres {
		tagList = `(SELECT coalesce(json_agg(t.tag ORDER BY t.tag), '[]')::text FROM tags t WHERE t.manifest_id = m.id)`
	}
	q := `SELECT m.digest, m.media_type, m.artifact_type, NULL, m.size, m.subject, m.annotations, m.pushed_at,
		` + tagList + `
		FROM manifests m WHERE m.repo_id = ` + repoID + ` AND m.digest > ?`
	switch f {
	case storage.TaggedImages:
		q += ` AND EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = m.id)`
	case storage.UntaggedImages:
		q += ` AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = m.id)`
	}
	q += ` ORDER BY m.digest LIMIT ?`
	rows, err := s.read.QueryContext(ctx, q, k.Account, k.Region, k.Name, p.After, limit(p))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storage.Manifest
	for rows.Next() {
		var (
			m             storage.Manifest
			dg, subj, ann string
			pushed        int64
			payload       []byte
			tags          string
		)
		if err := rows.Scan(&dg, &m.MediaType, &m.ArtifactType, &payload, &m.Size, &subj, &ann, &pushed, &tags); err != nil {
			return nil, err
		}
		m.Digest, m.Subject, m.PushedAt = digest.Digest(dg), digest.Digest(subj), fromNanos(pushed)
		if m.Annotations, err = unmarshalMap(ann); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(tags), &m.Tags); err != nil {
			return nil, err
		}
		if len(m.Tags) == 0 {
			m.Tags = nil
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		if err := s.checkRepo(ctx, k); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Referrers lists manifests whose subject is dg, ordered by digest.
func (s *Store) Referrers(ctx context.Context, k storage.RepoKey, dg digest.Digest, artifactType string) ([]storage.Descriptor, error) {
	q := `SELECT m.media_type, m.digest, m.size, m.artifact_type, m.annotations FROM manifests m
		WHERE m.repo_id = ` + repoID + ` AND m.subject = ? AND m.subject <> ''` // lets SQLite use the partial index
	args := []any{k.Account, k.Region, k.Name, string(dg)}
	if artifactType != "" {
		q += ` AND m.artifact_type = ?`
		args = append(args, artifactType)
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY m.digest`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []storage.Descriptor{}
	for rows.Next() {
		var (
			d       storage.Descriptor
			dgs, an string
		)
		if err := rows.Scan(&d.MediaType, &dgs, &d.Size, &d.ArtifactType, &an); err != nil {
			return nil, err
		}
		d.Digest = digest.Digest(dgs)
		if d.Annotations, err = unmarshalMap(an); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		if err := s.checkRepo(ctx, k); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ManifestParents returns the digests of indexes in k that list dg as a
// child, so callers can refuse to delete a manifest an index still needs.
func (s *Store) ManifestParents(ctx context.Context, k storage.RepoKey, dg digest.Digest) ([]digest.Digest, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT m.digest FROM manifest_children c
		JOIN manifests m ON m.id = c.manifest_id
		WHERE c.repo_id = `+repoID+` AND c.child_digest = ? ORDER BY m.digest`,
		k.Account, k.Region, k.Name, string(dg))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []digest.Digest
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out = append(out, digest.Digest(d))
	}
	return out, rows.Err()
}
