package secrets

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/storage/sqldb"
	"github.com/berth-dev/berth/internal/storage/sqlmigrate"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// component is this package's row in the shared schema_migrations table.
const component = "secretsmanager"

var errNotFound = errors.New("secrets: not found")

func migrate(ctx context.Context, db *sql.DB) error {
	if err := sqlmigrate.Apply(ctx, db, component, migrationFS); err != nil {
		return fmt.Errorf("secrets: %w", err)
	}
	return nil
}

// inTx is sqldb.InTx: on PostgreSQL fn may run more than once.
func (s *Service) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return sqldb.InTx(ctx, s.db, fn)
}

func notFound() error {
	return apierr.New(apierr.ResourceNotFound, "Secrets Manager can't find the specified secret.")
}

const secretCols = `name, arn, description, kms_key_id, created_ms, changed_ms, deleted_ms`

// lookup finds a secret by name, full ARN or partial ARN (no random suffix),
// purging it first when its recovery window has passed.
func (s *Service) lookup(ctx context.Context, tx *sql.Tx, sc Scope, id string) (*Secret, error) {
	if id == "" || len(id) > 2048 {
		return nil, apierr.New(apierr.SecretsInvalidParameter, "SecretId must be 1 to 2048 characters long.")
	}
	var sec *Secret
	var err error
	if strings.HasPrefix(id, "arn:") {
		parts := strings.SplitN(id, ":", 7)
		if len(parts) != 7 || parts[2] != "secretsmanager" || parts[5] != "secret" || parts[6] == "" {
			return nil, notFound()
		}
		sec, err = s.scanSecret(tx.QueryRowContext(ctx, `SELECT `+secretCols+` FROM sm_secrets WHERE arn = ?`, id))
		if err == nil {
			err = loadVersions(ctx, tx, sec)
		} else if errors.Is(err, errNotFound) {
			sec, err = s.byName(ctx, tx, Scope{Account: parts[4], Region: parts[3]}, parts[6])
		}
	} else {
		sec, err = s.byName(ctx, tx, sc, id)
	}
	if errors.Is(err, errNotFound) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	if !sec.DeletionAt.IsZero() && !sec.DeletionAt.After(s.now()) {
		if err := purge(ctx, tx, sec.ARN); err != nil {
			return nil, err
		}
		return nil, notFound()
	}
	return sec, nil
}

// byName loads a secret with its versions (errNotFound when absent; a
// secret past its deletion date is returned as is, lookup purges it).
func (s *Service) byName(ctx context.Context, tx *sql.Tx, sc Scope, name string) (*Secret, error) {
	sec, err := s.scanSecret(tx.QueryRowContext(ctx, `SELECT `+secretCols+` FROM sm_secrets WHERE account = ? AND region = ? AND name = ?`,
		sc.Account, sc.Region, name))
	if err != nil {
		return nil, err
	}
	return sec, loadVersions(ctx, tx, sec)
}

func (s *Service) scanSecret(row *sql.Row) (*Secret, error) {
	var sec Secret
	var created, changed, deleted int64
	err := row.Scan(&sec.Name, &sec.ARN, &sec.Description, &sec.KmsKeyID, &created, &changed, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	sec.Created, sec.Changed = time.UnixMilli(created).UTC(), time.UnixMilli(changed).UTC()
	if deleted > 0 {
		sec.DeletionAt = time.UnixMilli(deleted).UTC()
	}
	return &sec, nil
}

func loadVersions(ctx context.Context, tx *sql.Tx, sec *Secret) error {
	if sec.Versions != nil {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT version_id, stages FROM sm_secret_versions WHERE arn = ?`, sec.ARN)
	if err != nil {
		return err
	}
	defer rows.Close()
	sec.Versions = map[string][]string{}
	for rows.Next() {
		var id, st string
		if err := rows.Scan(&id, &st); err != nil {
			return err
		}
		if sec.Versions[id], err = decodeStages(st); err != nil {
			return err
		}
	}
	return rows.Err()
}

func purge(ctx context.Context, tx *sql.Tx, arn string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sm_secret_versions WHERE arn = ?`, arn); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM sm_secrets WHERE arn = ?`, arn)
	return err
}

func setStages(ctx context.Context, tx *sql.Tx, arn, versionID string, stages []string) error {
	st, err := encodeStages(stages)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE sm_secret_versions SET stages = ? WHERE arn = ? AND version_id = ?`, st, arn, versionID)
	return err
}

// pruneVersions keeps at most maxVersions, dropping the oldest versions that
// no staging label points at (AWS deprecates those the same way).
func pruneVersions(ctx context.Context, tx *sql.Tx, arn string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sm_secret_versions WHERE arn = ?`, arn).Scan(&n); err != nil {
		return err
	}
	if n <= maxVersions {
		return nil
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM sm_secret_versions WHERE arn = ? AND version_id IN (
		SELECT version_id FROM sm_secret_versions WHERE arn = ? AND stages = '[]'
		ORDER BY created_ms, version_id LIMIT ?)`, arn, arn, n-maxVersions)
	return err
}

func encodeStages(st []string) (string, error) {
	if st == nil {
		st = []string{}
	}
	b, err := json.Marshal(st)
	return string(b), err
}

func decodeStages(s string) ([]string, error) {
	var st []string
	if err := json.Unmarshal([]byte(s), &st); err != nil {
		return nil, fmt.Errorf("secrets: stored staging labels: %w", err)
	}
	if st == nil {
		st = []string{}
	}
	return st, nil
}
