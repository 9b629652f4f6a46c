// Package secrets is the Secrets Manager subset berth serves: secrets named
// per account and region with AWS-style ARNs (name + "-" + 6 random
// characters), versions carrying the AWSCURRENT/AWSPREVIOUS staging labels,
// ClientRequestToken idempotency, lookup by name, full ARN or partial ARN,
// and deletion with a recovery window. Values are sealed at rest.
//
// Authorization is the API adapter's job; this package trusts its caller.
package secrets

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
)

// Staging labels Secrets Manager manages itself.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
)

const (
	maxNameLen        = 512
	maxSecretLen      = 65536
	maxVersions       = 100
	defaultWindowDays = 30
)

// Sealer encrypts secret values at rest (iamsvc.Sealer implements it).
type Sealer interface {
	Seal(aad, plaintext []byte) ([]byte, error)
	Open(aad, sealed []byte) ([]byte, error)
}

// Scope is the account and region of the caller.
type Scope struct{ Account, Region string }

// Secret is a secret's metadata.
type Secret struct {
	ARN         string
	Name        string
	Description string
	KmsKeyID    string
	Created     time.Time
	Changed     time.Time
	DeletionAt  time.Time           // zero unless scheduled for deletion
	Versions    map[string][]string // version id → staging labels
}

// Value is one version of a secret: exactly one of String and Binary is set
// when it came from a read. Stages lists its staging labels.
type Value struct {
	ARN       string
	Name      string
	VersionID string
	String    *string
	Binary    []byte
	Stages    []string
	Created   time.Time
}

// Service is safe for concurrent use.
type Service struct {
	db     *sql.DB
	sealer Sealer
	now    func() time.Time
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// Open creates or upgrades the tables on db (the metadata writer handle).
func Open(ctx context.Context, db *sql.DB, sealer Sealer, opts ...Option) (*Service, error) {
	if db == nil || sealer == nil {
		return nil, errors.New("secrets: database and sealer are required")
	}
	if err := migrate(ctx, db); err != nil {
		return nil, err
	}
	s := &Service{db: db, sealer: sealer, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// ARNPrefix is the ARN of a secret without its random suffix.
func ARNPrefix(sc Scope, name string) string {
	return "arn:aws:secretsmanager:" + sc.Region + ":" + sc.Account + ":secret:" + name
}

// NewARN picks the ARN a new secret called name would get.
func NewARN(sc Scope, name string) (string, error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return ARNPrefix(sc, name) + "-" + string(b), nil
}

// ValidateName checks a secret name (1–512 of A-Za-z0-9 and /_+=.@-).
func ValidateName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return apierr.New(apierr.SecretsInvalidParameter, "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("/_+=.@-", c) >= 0) {
			return apierr.New(apierr.SecretsInvalidParameter, "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
		}
	}
	return nil
}

// Payload is a secret value as a request carries it.
type Payload struct {
	String *string
	Binary []byte
}

func (p Payload) empty() bool { return p.String == nil && p.Binary == nil }

func (p Payload) validate() error {
	if p.String != nil && p.Binary != nil {
		return apierr.New(apierr.SecretsInvalidParameter, "You can't specify both a binary secret value and a string secret value in the same secret.")
	}
	if (p.String != nil && (len(*p.String) == 0 || len(*p.String) > maxSecretLen)) || (p.Binary != nil && (len(p.Binary) == 0 || len(p.Binary) > maxSecretLen)) {
		return apierr.New(apierr.SecretsInvalidParameter, "The secret value must be 1 to %d bytes long.", maxSecretLen)
	}
	return nil
}

func (p Payload) bytes() ([]byte, bool) {
	if p.Binary != nil {
		return p.Binary, true
	}
	return []byte(*p.String), false
}

func validateToken(tok string) error {
	if tok != "" && (len(tok) < 32 || len(tok) > 64) {
		return apierr.New(apierr.SecretsInvalidParameter, "ClientRequestToken must be 32 to 64 characters long.")
	}
	return nil
}

// CreateInput is a CreateSecret request after decoding.
type CreateInput struct {
	Name        string
	ARN         string // from NewARN; the adapter authorizes on it first
	Description string
	KmsKeyID    string
	Value       Payload
	Token       string // ClientRequestToken; becomes the first VersionId
}

// Create makes a secret (with a first version when a value is given). A
// retry with the same token and value returns the original result.
func (s *Service) Create(ctx context.Context, sc Scope, in CreateInput) (*Value, error) {
	if err := ValidateName(in.Name); err != nil {
		return nil, err
	}
	if err := in.Value.validate(); err != nil {
		return nil, err
	}
	if err := validateToken(in.Token); err != nil {
		return nil, err
	}
	if len(in.Description) > 2048 {
		return nil, apierr.New(apierr.SecretsInvalidParameter, "Description must be at most 2048 characters long.")
	}
	if in.ARN == "" || !strings.HasPrefix(in.ARN, ARNPrefix(sc, in.Name)+"-") {
		return nil, errors.New("secrets: Create needs an ARN from NewARN")
	}
	if in.Token == "" {
		in.Token = newUUID()
	}
	var out *Value
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := s.byName(ctx, tx, sc, in.Name)
		if err != nil && !errors.Is(err, errNotFound) {
			return err
		}
		if cur != nil && !cur.DeletionAt.IsZero() && !cur.DeletionAt.After(s.now()) {
			if err := purge(ctx, tx, cur.ARN); err != nil {
				return err
			}
			cur = nil
		}
		if cur != nil {
			if !cur.DeletionAt.IsZero() {
				return apierr.New(apierr.InvalidRequest, "You can't create this secret because a secret with this name is already scheduled for deletion.")
			}
			if _, ok := cur.Versions[in.Token]; ok && !in.Value.empty() {
				if same, err := s.sameValue(ctx, tx, cur.ARN, in.Token, in.Value); err != nil {
					return err
				} else if same {
					out = &Value{ARN: cur.ARN, Name: cur.Name, VersionID: in.Token}
					return nil
				}
			}
			return apierr.New(apierr.ResourceExists, "The operation failed because the secret %s already exists.", in.Name)
		}
		now := s.now().UTC()
		if _, err := tx.ExecContext(ctx, `INSERT INTO sm_secrets (account, region, name, arn, description, kms_key_id, created_ms, changed_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, sc.Account, sc.Region, in.Name, in.ARN, in.Description, in.KmsKeyID, now.UnixMilli(), now.UnixMilli()); err != nil {
			return err
		}
		out = &Value{ARN: in.ARN, Name: in.Name}
		if in.Value.empty() {
			return nil
		}
		out.VersionID = in.Token
		return s.insertVersion(ctx, tx, in.ARN, in.Token, in.Value, []string{StageCurrent}, now)
	})
	return out, err
}

// Describe returns a secret's metadata, also while it is scheduled for deletion.
func (s *Service) Describe(ctx context.Context, sc Scope, id string) (*Secret, error) {
	var sec *Secret
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		sec, err = s.lookup(ctx, tx, sc, id)
		return err
	})
	return sec, err
}

// ARNOf resolves id (name, full ARN or partial ARN) to its secret's ARN, for
// authorization before the operation itself.
func (s *Service) ARNOf(ctx context.Context, sc Scope, id string) (string, error) {
	sec, err := s.Describe(ctx, sc, id)
	if err != nil {
		return "", err
	}
	return sec.ARN, nil
}

// GetValue reads the version named by versionID or stage (AWSCURRENT when
// both are empty).
func (s *Service) GetValue(ctx context.Context, sc Scope, id, versionID, stage string) (*Value, error) {
	var out *Value
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		sec, err := s.lookup(ctx, tx, sc, id)
		if err != nil {
			return err
		}
		if !sec.DeletionAt.IsZero() {
			return markedForDeletion()
		}
		if versionID == "" && stage == "" {
			stage = StageCurrent
		}
		pick := ""
		if versionID != "" {
			stages, ok := sec.Versions[versionID]
			if !ok || (stage != "" && !slices.Contains(stages, stage)) {
				return apierr.New(apierr.ResourceNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", versionID)
			}
			pick = versionID
		} else {
			for v, stages := range sec.Versions {
				if slices.Contains(stages, stage) {
					pick = v
				}
			}
			if pick == "" {
				return apierr.New(apierr.ResourceNotFound, "Secrets Manager can't find the specified secret value for staging label: %s", stage)
			}
		}
		out, err = s.readVersion(ctx, tx, sec, pick)
		return err
	})
	return out, err
}

// PutInput is a PutSecretValue request after decoding.
type PutInput struct {
	ID     string
	Token  string
	Value  Payload
	Stages []string // default [AWSCURRENT]
}

// PutValue adds a version. Moving AWSCURRENT demotes the old current version
// to AWSPREVIOUS. The same token with the same value is an idempotent retry;
// with a different value it is ResourceExists.
func (s *Service) PutValue(ctx context.Context, sc Scope, in PutInput) (*Value, error) {
	if in.Value.empty() {
		return nil, apierr.New(apierr.SecretsInvalidParameter, "You must provide either SecretString or SecretBinary.")
	}
	if err := in.Value.validate(); err != nil {
		return nil, err
	}
	if err := validateToken(in.Token); err != nil {
		return nil, err
	}
	if len(in.Stages) > 20 {
		return nil, apierr.New(apierr.SecretsInvalidParameter, "A version can have at most 20 staging labels.")
	}
	for _, st := range in.Stages {
		if st == "" || len(st) > 256 {
			return nil, apierr.New(apierr.SecretsInvalidParameter, "Staging labels must be 1 to 256 characters long.")
		}
	}
	if in.Token == "" {
		in.Token = newUUID()
	}
	stages := in.Stages
	if len(stages) == 0 {
		stages = []string{StageCurrent}
	}
	var out *Value
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		sec, err := s.lookup(ctx, tx, sc, in.ID)
		if err != nil {
			return err
		}
		if !sec.DeletionAt.IsZero() {
			return markedForDeletion()
		}
		if existing, ok := sec.Versions[in.Token]; ok {
			same, err := s.sameValue(ctx, tx, sec.ARN, in.Token, in.Value)
			if err != nil {
				return err
			}
			if !same {
				return apierr.New(apierr.ResourceExists, "You can't modify an existing version, you can only create new versions.")
			}
			out = &Value{ARN: sec.ARN, Name: sec.Name, VersionID: in.Token, Stages: existing}
			return nil
		}
		now := s.now().UTC()
		next := map[string][]string{}
		oldCurrent := ""
		for v, st := range sec.Versions {
			if slices.Contains(st, StageCurrent) {
				oldCurrent = v
			}
			kept := []string{}
			for _, l := range st {
				if !slices.Contains(stages, l) {
					kept = append(kept, l)
				}
			}
			next[v] = kept
		}
		if oldCurrent != "" && slices.Contains(stages, StageCurrent) {
			for v, st := range next {
				next[v] = slices.DeleteFunc(st, func(l string) bool { return l == StagePrevious })
			}
			next[oldCurrent] = append(next[oldCurrent], StagePrevious)
		}
		for v, st := range next {
			if !slices.Equal(st, sec.Versions[v]) {
				if err := setStages(ctx, tx, sec.ARN, v, st); err != nil {
					return err
				}
			}
		}
		if err := s.insertVersion(ctx, tx, sec.ARN, in.Token, in.Value, stages, now); err != nil {
			return err
		}
		if err := pruneVersions(ctx, tx, sec.ARN); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sm_secrets SET changed_ms = ? WHERE arn = ?`, now.UnixMilli(), sec.ARN); err != nil {
			return err
		}
		out = &Value{ARN: sec.ARN, Name: sec.Name, VersionID: in.Token, Stages: stages}
		return nil
	})
	return out, err
}

// Delete schedules the secret for deletion after windowDays (7–30, default
// 30), or removes it at once with force. It returns the secret and when it
// is (or was) deleted.
func (s *Service) Delete(ctx context.Context, sc Scope, id string, windowDays *int64, force bool) (*Secret, time.Time, error) {
	if force && windowDays != nil {
		return nil, time.Time{}, apierr.New(apierr.SecretsInvalidParameter, "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	days := int64(defaultWindowDays)
	if windowDays != nil {
		days = *windowDays
		if days < 7 || days > 30 {
			return nil, time.Time{}, apierr.New(apierr.SecretsInvalidParameter, "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
		}
	}
	var sec *Secret
	var when time.Time
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if sec, err = s.lookup(ctx, tx, sc, id); err != nil {
			return err
		}
		now := s.now().UTC()
		if force {
			when = now
			return purge(ctx, tx, sec.ARN)
		}
		if !sec.DeletionAt.IsZero() {
			return markedForDeletion()
		}
		when = now.Add(time.Duration(days) * 24 * time.Hour)
		_, err = tx.ExecContext(ctx, `UPDATE sm_secrets SET deleted_ms = ? WHERE arn = ?`, when.UnixMilli(), sec.ARN)
		return err
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	return sec, when, nil
}

func markedForDeletion() error {
	return apierr.New(apierr.InvalidRequest, "You can't perform this operation on the secret because it was marked for deletion.")
}

func (s *Service) sameValue(ctx context.Context, tx *sql.Tx, arn, versionID string, p Payload) (bool, error) {
	v, err := s.readVersion(ctx, tx, &Secret{ARN: arn}, versionID)
	if err != nil {
		return false, err
	}
	want, bin := p.bytes()
	if bin {
		return v.Binary != nil && bytes.Equal(v.Binary, want), nil
	}
	return v.String != nil && *v.String == string(want), nil
}

// aad binds a sealed value to its secret, version and kind.
func aad(arn, versionID string, binary bool) []byte {
	kind := "s"
	if binary {
		kind = "b"
	}
	return []byte("secretsmanager\x00" + arn + "\x00" + versionID + "\x00" + kind)
}

func (s *Service) insertVersion(ctx context.Context, tx *sql.Tx, arn, versionID string, p Payload, stages []string, now time.Time) error {
	data, bin := p.bytes()
	sealed, err := s.sealer.Seal(aad(arn, versionID, bin), data)
	if err != nil {
		return err
	}
	st, err := encodeStages(stages)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO sm_secret_versions (arn, version_id, value, is_binary, stages, created_ms) VALUES (?, ?, ?, ?, ?, ?)`,
		arn, versionID, sealed, bin, st, now.UnixMilli())
	return err
}

func (s *Service) readVersion(ctx context.Context, tx *sql.Tx, sec *Secret, versionID string) (*Value, error) {
	var sealed []byte
	var bin bool
	var stages string
	var ms int64
	err := tx.QueryRowContext(ctx, `SELECT value, is_binary, stages, created_ms FROM sm_secret_versions WHERE arn = ? AND version_id = ?`,
		sec.ARN, versionID).Scan(&sealed, &bin, &stages, &ms)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apierr.New(apierr.ResourceNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", versionID)
	}
	if err != nil {
		return nil, err
	}
	pt, err := s.sealer.Open(aad(sec.ARN, versionID, bin), sealed)
	if err != nil {
		return nil, apierr.Wrap(apierr.DecryptionFailure, err, "Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
	}
	v := &Value{ARN: sec.ARN, Name: sec.Name, VersionID: versionID, Created: time.UnixMilli(ms).UTC()}
	if v.Stages, err = decodeStages(stages); err != nil {
		return nil, err
	}
	if bin {
		v.Binary = pt
	} else {
		str := string(pt)
		v.String = &str
	}
	return v, nil
}

// newUUID is a random (version 4) UUID, what SDKs send as ClientRequestToken.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
