package params

import (
	"context"
	"database/sql"
	"embed"
	"encoding/base64"
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
const component = "ssm"

var errNotFound = errors.New("params: not found")

func migrate(ctx context.Context, db *sql.DB) error {
	if err := sqlmigrate.Apply(ctx, db, component, migrationFS); err != nil {
		return fmt.Errorf("params: %w", err)
	}
	return nil
}

const versionCols = `name, version, type, value, key_id, description, allowed_pattern, tier, data_type, modified_ms, modified_user, labels`

type scanner interface{ Scan(...any) error }

func scanVersion(r scanner) (*Parameter, []byte, error) {
	var p Parameter
	var stored []byte
	var ms int64
	var labels string
	if err := r.Scan(&p.Name, &p.Version, &p.Type, &stored, &p.KeyID, &p.Description, &p.AllowedPattern, &p.Tier, &p.DataType, &ms, &p.LastModifiedUser, &labels); err != nil {
		return nil, nil, err
	}
	p.LastModified = time.UnixMilli(ms).UTC()
	if err := json.Unmarshal([]byte(labels), &p.Labels); err != nil {
		return nil, nil, fmt.Errorf("params: labels of %s:%d: %w", p.Name, p.Version, err)
	}
	if p.Labels == nil {
		p.Labels = []string{}
	}
	return &p, stored, nil
}

// latest reads the head version of name (errNotFound when absent).
func latest(ctx context.Context, tx *sql.Tx, sc Scope, name string) (*Parameter, error) {
	row := tx.QueryRowContext(ctx, `SELECT `+prefixCols("v")+` FROM ssm_parameters p JOIN ssm_parameter_versions v
		ON v.account = p.account AND v.region = p.region AND v.name = p.name AND v.version = p.version
		WHERE p.account = ? AND p.region = ? AND p.name = ?`, sc.Account, sc.Region, name)
	p, _, err := scanVersion(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotFound
	}
	return p, err
}

// storedName is the spelling under which name is stored: name itself, or
// its twin when only the twin exists (name when neither does).
func storedName(ctx context.Context, tx *sql.Tx, sc Scope, name string) (string, error) {
	other, ok := twin(name)
	if !ok {
		return name, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT name FROM ssm_parameters WHERE account = ? AND region = ? AND name IN (?, ?)`, sc.Account, sc.Region, name, other)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	found := name
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return "", err
		}
		if n == name {
			return name, rows.Close()
		}
		found = n
	}
	return found, rows.Err()
}

func prefixCols(alias string) string {
	cols := strings.Split(versionCols, ", ")
	for i, c := range cols {
		cols[i] = alias + "." + c
	}
	return strings.Join(cols, ", ")
}

// labelHas is the condition "the version's labels (a JSON array) contain ?"
// in each dialect.
func labelHas(d sqldb.Dialect) string {
	if d == sqldb.Postgres {
		return `EXISTS (SELECT 1 FROM jsonb_array_elements_text(labels::jsonb) AS l(value) WHERE l.value = ?)`
	}
	return `EXISTS (SELECT 1 FROM json_each(labels) WHERE value = ?)`
}

// selectVersion resolves a Ref to one stored version.
func selectVersion(ctx context.Context, tx *sql.Tx, d sqldb.Dialect, sc Scope, ref Ref) (*Parameter, []byte, error) {
	var err error
	if ref.Name, err = storedName(ctx, tx, sc, ref.Name); err != nil {
		return nil, nil, err
	}
	var row *sql.Row
	switch {
	case ref.Version > 0:
		row = tx.QueryRowContext(ctx, `SELECT `+versionCols+` FROM ssm_parameter_versions
			WHERE account = ? AND region = ? AND name = ? AND version = ?`, sc.Account, sc.Region, ref.Name, ref.Version)
	case ref.Label != "":
		row = tx.QueryRowContext(ctx, `SELECT `+versionCols+` FROM ssm_parameter_versions
			WHERE account = ? AND region = ? AND name = ? AND `+labelHas(d),
			sc.Account, sc.Region, ref.Name, ref.Label)
	default:
		row = tx.QueryRowContext(ctx, `SELECT `+prefixCols("v")+` FROM ssm_parameters p JOIN ssm_parameter_versions v
			ON v.account = p.account AND v.region = p.region AND v.name = p.name AND v.version = p.version
			WHERE p.account = ? AND p.region = ? AND p.name = ?`, sc.Account, sc.Region, ref.Name)
	}
	p, stored, err := scanVersion(row)
	if !errors.Is(err, sql.ErrNoRows) {
		return p, stored, err
	}
	if ref.Version == 0 && ref.Label == "" {
		// Real SSM sends an empty message here (aws-api.md §9, §12.15).
		return nil, nil, apierr.New(apierr.ParameterNotFound, "")
	}
	if _, err := latest(ctx, tx, sc, ref.Name); errors.Is(err, errNotFound) {
		return nil, nil, apierr.New(apierr.ParameterNotFound, "")
	} else if err != nil {
		return nil, nil, err
	}
	if ref.Label != "" {
		return nil, nil, apierr.New(apierr.ParameterVersionNotFound, "Systems Manager could not find label %s of %s. Verify the label and try again.", ref.Label, ref.Name)
	}
	return nil, nil, apierr.New(apierr.ParameterVersionNotFound, "Systems Manager could not find version %d of %s. Verify the version and try again.", ref.Version, ref.Name)
}

func listVersions(ctx context.Context, tx *sql.Tx, sc Scope, name string, after int64, limit int) ([]*Parameter, [][]byte, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+versionCols+` FROM ssm_parameter_versions
		WHERE account = ? AND region = ? AND name = ? AND version > ? ORDER BY version LIMIT ?`, sc.Account, sc.Region, name, after, limit)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var ps []*Parameter
	var vals [][]byte
	for rows.Next() {
		p, v, err := scanVersion(rows)
		if err != nil {
			return nil, nil, err
		}
		ps, vals = append(ps, p), append(vals, v)
	}
	return ps, vals, rows.Err()
}

func insertVersion(ctx context.Context, tx *sql.Tx, sc Scope, p *Parameter, stored []byte) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO ssm_parameter_versions (account, region, `+versionCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]')`,
		sc.Account, sc.Region, p.Name, p.Version, p.Type, stored, p.KeyID, p.Description, p.AllowedPattern, p.Tier, p.DataType,
		p.LastModified.UnixMilli(), p.LastModifiedUser)
	return err
}

func setHead(ctx context.Context, tx *sql.Tx, sc Scope, name string, version int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO ssm_parameters (account, region, name, version) VALUES (?, ?, ?, ?)
		ON CONFLICT (account, region, name) DO UPDATE SET version = excluded.version`, sc.Account, sc.Region, name, version)
	return err
}

func setLabels(ctx context.Context, tx *sql.Tx, sc Scope, name string, version int64, labels []string) error {
	if labels == nil {
		labels = []string{}
	}
	b, err := json.Marshal(labels)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE ssm_parameter_versions SET labels = ? WHERE account = ? AND region = ? AND name = ? AND version = ?`,
		string(b), sc.Account, sc.Region, name, version)
	return err
}

// dropOldest deletes versions ≤ upTo so at most maxVersions remain; a
// labelled victim blocks the write, as on SSM.
func dropOldest(ctx context.Context, tx *sql.Tx, sc Scope, name string, upTo int64) error {
	var labelled int64
	err := tx.QueryRowContext(ctx, `SELECT version FROM ssm_parameter_versions
		WHERE account = ? AND region = ? AND name = ? AND version <= ? AND labels <> '[]' ORDER BY version LIMIT 1`,
		sc.Account, sc.Region, name, upTo).Scan(&labelled)
	if err == nil {
		return apierr.New(apierr.ParameterMaxVersionLimitExceeded, "You attempted to create a new version of %s by calling the PutParameter API with the overwrite flag. Version %d, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.", name, labelled)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM ssm_parameter_versions WHERE account = ? AND region = ? AND name = ? AND version <= ?`,
		sc.Account, sc.Region, name, upTo)
	return err
}

// Page tokens are opaque to clients: a kind tag and the last key returned,
// base64url-encoded. A token of another kind or garbage is InvalidNextToken.
const (
	tokList    = "l1"
	tokHistory = "h1"
)

func encodeToken(kind, last string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + "\x00" + last))
}

func decodeToken(tok, kind string) (string, error) {
	if tok == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", invalidToken()
	}
	k, last, ok := strings.Cut(string(b), "\x00")
	if !ok || k != kind || last == "" {
		return "", invalidToken()
	}
	return last, nil
}

func invalidToken() error { return apierr.New(apierr.InvalidNextToken, "The nextToken is not valid.") }
