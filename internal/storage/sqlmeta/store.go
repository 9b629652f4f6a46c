package sqlmeta

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/storage"
	"github.com/berth-dev/berth/internal/storage/sqldb"
)

var _ storage.MetaStore = (*Store)(nil)

// DefaultPageLimit is used when a Page has no positive Limit.
const DefaultPageLimit = 1000

const repoID = `(SELECT id FROM repositories WHERE account = ? AND region = ? AND name = ?)`

const manifestCols = `m.digest, m.media_type, m.artifact_type, m.payload, m.size, m.subject, m.annotations, m.pushed_at`

// statements are the hot read paths, prepared once on the reader pool.
type statements struct {
	resolveTag, getManifest, linkedBlob, listTags, repoExists *sql.Stmt
	listRepos                                                 *sql.Stmt
}

func (st *statements) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		// ResolveTag is one indexed lookup per table: repositories by its
		// unique key, tags by its primary key, manifests by rowid.
		{&st.resolveTag, `SELECT ` + manifestCols + ` FROM repositories r
			JOIN tags t ON t.repo_id = r.id
			JOIN manifests m ON m.id = t.manifest_id
			WHERE r.account = ? AND r.region = ? AND r.name = ? AND t.tag = ?`},
		{&st.getManifest, `SELECT ` + manifestCols + ` FROM repositories r
			JOIN manifests m ON m.repo_id = r.id
			WHERE r.account = ? AND r.region = ? AND r.name = ? AND m.digest = ?`},
		{&st.linkedBlob, `SELECT b.size, b.media_type FROM repositories r
			JOIN blob_links b ON b.repo_id = r.id
			WHERE r.account = ? AND r.region = ? AND r.name = ? AND b.digest = ?`},
		{&st.listTags, `SELECT t.tag FROM repositories r
			JOIN tags t ON t.repo_id = r.id
			WHERE r.account = ? AND r.region = ? AND r.name = ? AND t.tag > ?
			ORDER BY t.tag LIMIT ?`},
		{&st.repoExists, `SELECT id FROM repositories WHERE account = ? AND region = ? AND name = ?`},
		// DescribeRepositories pages of one registry: with account and
		// region fixed, (account, region, name) order is name order.
		{&st.listRepos, `SELECT ` + repoCols + ` FROM repositories
			WHERE account = ? AND region = ? AND name > ? ORDER BY name LIMIT ?`},
	} {
		s, err := db.PrepareContext(ctx, p.q)
		if err != nil {
			return fmt.Errorf("sqlmeta: prepare: %w", err)
		}
		*p.dst = s
	}
	return nil
}

func (st *statements) close() {
	for _, s := range []*sql.Stmt{st.resolveTag, st.getManifest, st.linkedBlob, st.listTags, st.repoExists, st.listRepos} {
		if s != nil {
			s.Close()
		}
	}
}

// ---- helpers ---------------------------------------------------------------

func repoNotFound(k storage.RepoKey) error {
	return apierr.Wrap(apierr.NameUnknown, storage.ErrNotFound,
		"The repository with name '%s' does not exist in the registry with id '%s'", k.Name, k.Account).
		WithDetail(map[string]string{"name": k.Name})
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func limit(p storage.Page) int {
	if p.Limit <= 0 {
		return DefaultPageLimit
	}
	return p.Limit
}

func marshalMap(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func unmarshalMap(s string) (map[string]string, error) {
	if s == "" || s == "{}" {
		return nil, nil
	}
	var m map[string]string
	err := json.Unmarshal([]byte(s), &m)
	return m, err
}

// inTx runs fn in a write transaction (SQLite: BEGIN IMMEDIATE through the
// DSN; PostgreSQL: SERIALIZABLE, fn rerun on serialization failures).
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return sqldb.InTx(ctx, s.write, fn)
}

func txRepoID(ctx context.Context, tx *sql.Tx, k storage.RepoKey) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM repositories WHERE account = ? AND region = ? AND name = ?`,
		k.Account, k.Region, k.Name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, repoNotFound(k)
	}
	return id, err
}

// missing tells whether a lookup's ErrNoRows means the repository or the
// item is absent; it runs only on the miss path.
func (s *Store) missing(ctx context.Context, k storage.RepoKey, what string) error {
	if err := s.checkRepo(ctx, k); err != nil {
		return err
	}
	return fmt.Errorf("%s: %w", what, storage.ErrNotFound)
}

// checkRepo returns nil when k exists, else the NameUnknown/ErrNotFound error.
func (s *Store) checkRepo(ctx context.Context, k storage.RepoKey) error {
	var id int64
	err := s.stmts.repoExists.QueryRowContext(ctx, k.Account, k.Region, k.Name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return repoNotFound(k)
	}
	return err
}

// ---- repositories -----------------------------------------------------------

// CreateRepository inserts r, filling CreatedAt (now) and the ECR defaults
// for empty TagMutability (MUTABLE) and EncryptionType (AES256) in r.
func (s *Store) CreateRepository(ctx context.Context, r *storage.Repository) error {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now().UTC()
	}
	if r.TagMutability == "" {
		r.TagMutability = "MUTABLE"
	}
	if r.EncryptionType == "" {
		r.EncryptionType = "AES256"
	}
	filters, tags, err := repoJSON(r)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO repositories (account, region, name, created_at, tag_mutability,
			mutability_filters, scan_on_push, encryption_type, kms_key, tags, policy, lifecycle_policy, lifecycle_evaluated)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (account, region, name) DO NOTHING`,
			r.Key.Account, r.Key.Region, r.Key.Name, nanos(r.CreatedAt), r.TagMutability, filters, r.ScanOnPush,
			r.EncryptionType, r.KMSKey, tags, r.Policy, r.LifecyclePolicy, nanos(r.LifecycleEvaluated))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("repository %s: %w", r.Key.Name, storage.ErrAlreadyExists)
		}
		return nil
	})
}

func repoJSON(r *storage.Repository) (filters, tags string, err error) {
	f := r.MutabilityFilters
	if f == nil {
		f = []string{}
	}
	fb, err := json.Marshal(f)
	if err != nil {
		return "", "", err
	}
	t := r.Tags
	if t == nil {
		t = map[string]string{}
	}
	tb, err := json.Marshal(t)
	return string(fb), string(tb), err
}

const repoCols = `account, region, name, created_at, tag_mutability, mutability_filters, scan_on_push,
	encryption_type, kms_key, tags, policy, lifecycle_policy, lifecycle_evaluated`

type scanner interface{ Scan(...any) error }

func scanRepo(sc scanner) (*storage.Repository, error) {
	var (
		r                  storage.Repository
		created, evaluated int64
		filters, tags      string
	)
	if err := sc.Scan(&r.Key.Account, &r.Key.Region, &r.Key.Name, &created, &r.TagMutability, &filters,
		&r.ScanOnPush, &r.EncryptionType, &r.KMSKey, &tags, &r.Policy, &r.LifecyclePolicy, &evaluated); err != nil {
		return nil, err
	}
	r.CreatedAt, r.LifecycleEvaluated = fromNanos(created), fromNanos(evaluated)
	if err := json.Unmarshal([]byte(filters), &r.MutabilityFilters); err != nil {
		return nil, fmt.Errorf("sqlmeta: repository %s filters: %w", r.Key.Name, err)
	}
	if len(r.MutabilityFilters) == 0 {
		r.MutabilityFilters = nil
	}
	m, err := unmarshalMap(tags)
	if err != nil {
		return nil, fmt.Errorf("sqlmeta: repository %s tags: %w", r.Key.Name, err)
	}
	r.Tags = m
	return &r, nil
}

func (s *Store) GetRepository(ctx context.Context, k storage.RepoKey) (*storage.Repository, error) {
	r, err := scanRepo(s.read.QueryRowContext(ctx, `SELECT `+repoCols+` FROM repositories
		WHERE account = ? AND region = ? AND name = ?`, k.Account, k.Region, k.Name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, repoNotFound(k)
	}
	return r, err
}

// UpdateRepository replaces every setting of r.Key (CreatedAt is kept).
func (s *Store) UpdateRepository(ctx context.Context, r *storage.Repository) error {
	filters, tags, err := repoJSON(r)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE repositories SET tag_mutability = ?, mutability_filters = ?,
			scan_on_push = ?, encryption_type = ?, kms_key = ?, tags = ?, policy = ?, lifecycle_policy = ?,
			lifecycle_evaluated = ? WHERE account = ? AND region = ? AND name = ?`,
			r.TagMutability, filters, r.ScanOnPush, r.EncryptionType, r.KMSKey, tags, r.Policy,
			r.LifecyclePolicy, nanos(r.LifecycleEvaluated), r.Key.Account, r.Key.Region, r.Key.Name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return repoNotFound(r.Key)
		}
		return nil
	})
}

// DeleteRepository deletes the repository row; manifests, tags, references
// and blob links go with it by cascade, upload sessions explicitly. Blob
// files stay for garbage collection.
func (s *Store) DeleteRepository(ctx context.Context, k storage.RepoKey, force bool) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		id, err := txRepoID(ctx, tx, k)
		if err != nil {
			return err
		}
		if !force {
			var one int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM manifests WHERE repo_id = ? LIMIT 1`, id).Scan(&one)
			if err == nil {
				return fmt.Errorf("repository %s: %w", k.Name, storage.ErrNotEmpty)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM repositories WHERE id = ?`, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM uploads WHERE account = ? AND region = ? AND name = ?`,
			k.Account, k.Region, k.Name)
		return err
	})
}

// ListRepositories orders by name. With Account and Region set, names are
// unique and After is the last name seen. Across regions or accounts the
// order is (name, account, region) and After may be "name", which skips every
// repository of that name, or "name\x00account\x00region" to resume exactly.
func (s *Store) ListRepositories(ctx context.Context, account, region string, p storage.Page) ([]storage.Repository, error) {
	if account != "" && region != "" && !strings.Contains(p.After, "\x00") {
		// The common page (one registry) runs a prepared statement: preparing
		// the query cost as much as reading a 100-repository page.
		rows, err := s.stmts.listRepos.QueryContext(ctx, account, region, p.After, limit(p))
		if err != nil {
			return nil, err
		}
		return scanRepos(rows)
	}
	var (
		where []string
		args  []any
	)
	if account != "" {
		where, args = append(where, "account = ?"), append(args, account)
	}
	if region != "" {
		where, args = append(where, "region = ?"), append(args, region)
	}
	if p.After != "" {
		parts := strings.SplitN(p.After, "\x00", 3)
		if len(parts) == 3 {
			where = append(where, "(name, account, region) > (?, ?, ?)")
			args = append(args, parts[0], parts[1], parts[2])
		} else {
			where, args = append(where, "name > ?"), append(args, parts[0])
		}
	}
	q := `SELECT ` + repoCols + ` FROM repositories`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY name, account, region LIMIT ?`
	args = append(args, limit(p))
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return scanRepos(rows)
}

func scanRepos(rows *sql.Rows) ([]storage.Repository, error) {
	defer rows.Close()
	var out []storage.Repository
	for rows.Next() {
		r, err := scanRepo(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

func (s *Store) RepositoryRegions(ctx context.Context, account, name string) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT region FROM repositories WHERE name = ? AND account = ? ORDER BY region`, name, account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ---- blob links --------------------------------------------------------------

// LinkBlob is idempotent; a later non-empty media type replaces an empty one.
func (s *Store) LinkBlob(ctx context.Context, k storage.RepoKey, d storage.Descriptor) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		id, err := txRepoID(ctx, tx, k)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO blob_links (repo_id, digest, size, media_type) VALUES (?, ?, ?, ?)
			ON CONFLICT (repo_id, digest) DO UPDATE SET media_type = excluded.media_type
			WHERE excluded.media_type <> '' AND blob_links.media_type = ''`,
			id, string(d.Digest), d.Size, d.MediaType)
		return err
	})
}

func (s *Store) LinkedBlob(ctx context.Context, k storage.RepoKey, dg digest.Digest) (storage.Descriptor, error) {
	d := storage.Descriptor{Digest: dg}
	err := s.stmts.linkedBlob.QueryRowContext(ctx, k.Account, k.Region, k.Name, string(dg)).Scan(&d.Size, &d.MediaType)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.Descriptor{}, fmt.Errorf("blob %s: %w", dg, storage.ErrNotFound)
	}
	return d, err
}

func (s *Store) UnlinkBlob(ctx context.Context, k storage.RepoKey, dg digest.Digest) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM blob_links WHERE repo_id = `+repoID+` AND digest = ?`,
			k.Account, k.Region, k.Name, string(dg))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("blob %s: %w", dg, storage.ErrNotFound)
		}
		return nil
	})
}

// ---- uploads -------------------------------------------------------------------

func (s *Store) CreateUpload(ctx context.Context, id string, k storage.RepoKey, started time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO uploads (id, account, region, name, started) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, id, k.Account, k.Region, k.Name, nanos(started))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("upload %s: %w", id, storage.ErrAlreadyExists)
		}
		return nil
	})
}

func (s *Store) GetUpload(ctx context.Context, id string) (storage.RepoKey, error) {
	var k storage.RepoKey
	err := s.read.QueryRowContext(ctx, `SELECT account, region, name FROM uploads WHERE id = ?`, id).
		Scan(&k.Account, &k.Region, &k.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.RepoKey{}, fmt.Errorf("upload %s: %w", id, storage.ErrNotFound)
	}
	return k, err
}

// DeleteUpload is idempotent: a missing session is not an error.
func (s *Store) DeleteUpload(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM uploads WHERE id = ?`, id)
		return err
	})
}
