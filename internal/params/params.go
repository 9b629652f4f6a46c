// Package params is SSM Parameter Store: names and hierarchies, versions
// (1..N, the last 100 kept), labels, the String/StringList/SecureString
// types with SecureString values sealed at rest, and the queries behind
// GetParametersByPath and DescribeParameters with opaque page tokens.
//
// Parameters live per account and region in the shared SQLite database.
// Authorization is the API adapter's job; this package trusts its caller.
package params

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/storage/sqldb"
)

// Parameter types and tiers.
const (
	TypeString       = "String"
	TypeStringList   = "StringList"
	TypeSecureString = "SecureString"

	TierStandard    = "Standard"
	TierAdvanced    = "Advanced"
	TierIntelligent = "Intelligent-Tiering"

	DefaultKeyID    = "alias/aws/ssm"
	DataTypeText    = "text"
	DataTypeEC2AMI  = "aws:ec2:image"
	DataTypeSSMInte = "aws:ssm:integration"
)

// Sealer encrypts SecureString values at rest (iamsvc.Sealer implements it).
type Sealer interface {
	Seal(aad, plaintext []byte) ([]byte, error)
	Open(aad, sealed []byte) ([]byte, error)
}

// Scope is the account and region a parameter lives in.
type Scope struct{ Account, Region string }

// Parameter is one version of a parameter. Value is the plaintext, except
// for a SecureString read without decryption, where it is the opaque
// base64 ciphertext (as SSM returns it).
type Parameter struct {
	Name             string
	Type             string
	Value            string
	Version          int64
	KeyID            string // SecureString only
	Description      string
	AllowedPattern   string
	Tier             string
	DataType         string
	Labels           []string
	LastModified     time.Time
	LastModifiedUser string
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
		return nil, errors.New("params: database and sealer are required")
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

// PutInput is a PutParameter request after decoding.
type PutInput struct {
	Name           string
	Value          string
	Type           string // "" keeps the existing type on overwrite
	Overwrite      bool
	Description    *string
	KeyID          string
	AllowedPattern *string
	Tier           string
	DataType       string
	User           string // caller ARN, recorded as LastModifiedUser
	HasTags        bool
}

// Put creates a parameter or, with Overwrite, adds a version. It returns the
// new version and the tier it was stored in.
func (s *Service) Put(ctx context.Context, sc Scope, in PutInput) (int64, string, error) {
	if err := ValidateNewName(in.Name); err != nil {
		return 0, "", err
	}
	if in.Value == "" {
		return 0, "", lengthError("value", "", 0)
	}
	switch in.Type {
	case "", TypeString, TypeStringList, TypeSecureString:
	default:
		return 0, "", apierr.New(apierr.ValidationException, "1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]", in.Type)
	}
	if in.HasTags && in.Overwrite {
		return 0, "", apierr.New(apierr.ValidationException, "Tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
	}
	if in.Description != nil && len(*in.Description) > 1024 {
		return 0, "", apierr.New(apierr.ValidationException, "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1024")
	}
	switch in.DataType {
	case "", DataTypeText:
	case DataTypeEC2AMI, DataTypeSSMInte:
		// Stored as given; berth does not check AMI ids against EC2.
	default:
		return 0, "", apierr.New(apierr.ValidationException, "The following data type is not supported: %s (Data type names are all lowercase.)", in.DataType)
	}
	tier, err := pickTier(in.Tier, len(in.Value))
	if err != nil {
		return 0, "", err
	}
	if in.AllowedPattern != nil && *in.AllowedPattern != "" {
		if len(*in.AllowedPattern) > 1024 {
			return 0, "", apierr.New(apierr.ValidationException, "1 validation error detected: Value at 'allowedPattern' failed to satisfy constraint: Member must have length less than or equal to 1024")
		}
		re, err := regexp.Compile(*in.AllowedPattern)
		if err != nil {
			return 0, "", apierr.New(apierr.InvalidAllowedPattern, "The allowed pattern is not a valid regular expression: %s", *in.AllowedPattern)
		}
		if !fullMatch(re, in.Value) {
			return 0, "", apierr.New(apierr.ParameterPatternMismatch, "Parameter value, cannot be validated against allowedPattern: %s", *in.AllowedPattern)
		}
	}
	var version int64
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if in.Name, err = storedName(ctx, tx, sc, in.Name); err != nil {
			return err
		}
		prev, err := latest(ctx, tx, sc, in.Name)
		if err != nil && !errors.Is(err, errNotFound) {
			return err
		}
		exists := err == nil
		if exists && !in.Overwrite {
			return apierr.New(apierr.ParameterAlreadyExists, "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
		}
		v := &Parameter{Name: in.Name, Type: in.Type, Tier: tier, DataType: in.DataType, Version: 1, LastModified: s.now().UTC(), LastModifiedUser: in.User}
		if exists {
			v.Version = prev.Version + 1
			// Overwrite keeps what the request leaves out, as SSM does.
			if v.Type == "" {
				v.Type = prev.Type
			}
			v.Description, v.AllowedPattern = prev.Description, prev.AllowedPattern
			if v.DataType == "" {
				v.DataType = prev.DataType
			}
			if prev.Tier == TierAdvanced && in.Tier != TierStandard {
				// Advanced parameters cannot go back to Standard.
				v.Tier = TierAdvanced
			} else if prev.Tier == TierAdvanced {
				return apierr.New(apierr.ValidationException, "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.")
			}
		}
		if v.Type == "" {
			return apierr.New(apierr.ValidationException, "A parameter type is required when you create a parameter.")
		}
		if v.DataType == "" {
			v.DataType = DataTypeText
		}
		if in.Description != nil {
			v.Description = *in.Description
		}
		if in.AllowedPattern != nil {
			v.AllowedPattern = *in.AllowedPattern
		} else if v.AllowedPattern != "" {
			if re, err := regexp.Compile(v.AllowedPattern); err == nil && !fullMatch(re, in.Value) {
				return apierr.New(apierr.ParameterPatternMismatch, "Parameter value, cannot be validated against allowedPattern: %s", v.AllowedPattern)
			}
		}
		if v.Type == TypeSecureString {
			v.KeyID = in.KeyID
			if v.KeyID == "" {
				v.KeyID = DefaultKeyID
			}
		} else if in.KeyID != "" {
			return apierr.New(apierr.ValidationException, "KeyId is required for SecureString type parameter only.")
		}
		if exists && prev.Version >= maxVersions {
			if err := dropOldest(ctx, tx, sc, in.Name, v.Version-maxVersions); err != nil {
				return err
			}
		}
		stored := []byte(in.Value)
		if v.Type == TypeSecureString {
			if stored, err = s.sealer.Seal(aad(sc, in.Name, v.Version), stored); err != nil {
				return err
			}
		}
		if err := insertVersion(ctx, tx, sc, v, stored); err != nil {
			return err
		}
		version = v.Version
		return setHead(ctx, tx, sc, in.Name, v.Version)
	})
	if err != nil {
		return 0, "", err
	}
	return version, tier, nil
}

func pickTier(tier string, size int) (string, error) {
	switch tier {
	case "", TierStandard:
		if size > maxStandard {
			return "", apierr.New(apierr.ValidationException, "Standard tier parameters support a maximum parameter value of %d characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html", maxStandard)
		}
		return TierStandard, nil
	case TierAdvanced, TierIntelligent:
		if size > maxAdvanced {
			return "", apierr.New(apierr.ValidationException, "Advanced tier parameters support a maximum parameter value of %d characters.", maxAdvanced)
		}
		if tier == TierIntelligent && size <= maxStandard {
			return TierStandard, nil
		}
		return TierAdvanced, nil
	}
	return "", apierr.New(apierr.ValidationException, "1 validation error detected: Value '%s' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Advanced, Intelligent-Tiering, Standard]", tier)
}

func fullMatch(re *regexp.Regexp, v string) bool {
	loc := re.FindStringIndex(v)
	return loc != nil && loc[0] == 0 && loc[1] == len(v)
}

// Get returns the version ref selects (the latest when it has no selector).
func (s *Service) Get(ctx context.Context, sc Scope, ref Ref, decrypt bool) (*Parameter, error) {
	var p *Parameter
	var stored []byte
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		p, stored, err = selectVersion(ctx, tx, sqldb.DialectOf(s.db), sc, ref)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, s.fillValue(sc, p, stored, decrypt)
}

func (s *Service) fillValue(sc Scope, p *Parameter, stored []byte, decrypt bool) error {
	if p.Type != TypeSecureString {
		p.Value = string(stored)
		return nil
	}
	if !decrypt {
		p.Value = base64.StdEncoding.EncodeToString(stored)
		return nil
	}
	pt, err := s.sealer.Open(aad(sc, p.Name, p.Version), stored)
	if err != nil {
		return apierr.Wrap(apierr.InvalidKeyID, err, "The SecureString value of %s could not be decrypted with berth's master key.", p.Name)
	}
	p.Value = string(pt)
	return nil
}

// Delete removes a parameter and all its versions.
func (s *Service) Delete(ctx context.Context, sc Scope, name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		name, err := storedName(ctx, tx, sc, name)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM ssm_parameters WHERE account = ? AND region = ? AND name = ?`, sc.Account, sc.Region, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apierr.New(apierr.ParameterNotFound, "Parameter %s not found.", name)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM ssm_parameter_versions WHERE account = ? AND region = ? AND name = ?`, sc.Account, sc.Region, name)
		return err
	})
}

// History returns versions in ascending order, after the version encoded in
// token, at most limit of them, and the token of the next page ("" at the end).
func (s *Service) History(ctx context.Context, sc Scope, name string, decrypt bool, token string, limit int) ([]*Parameter, string, error) {
	if err := ValidateName(name); err != nil {
		return nil, "", err
	}
	after, err := decodeToken(token, tokHistory)
	if err != nil {
		return nil, "", err
	}
	var afterV int64
	if after != "" {
		if afterV, err = strconv.ParseInt(after, 10, 64); err != nil {
			return nil, "", invalidToken()
		}
	}
	var rows []*Parameter
	var stored [][]byte
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		name, err := storedName(ctx, tx, sc, name)
		if err != nil {
			return err
		}
		if _, err := latest(ctx, tx, sc, name); errors.Is(err, errNotFound) {
			return apierr.New(apierr.ParameterNotFound, "Parameter %s not found.", name)
		} else if err != nil {
			return err
		}
		rows, stored, err = listVersions(ctx, tx, sc, name, afterV, limit+1)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows, stored = rows[:limit], stored[:limit]
		next = encodeToken(tokHistory, strconv.FormatInt(rows[limit-1].Version, 10))
	}
	for i, p := range rows {
		if err := s.fillValue(sc, p, stored[i], decrypt); err != nil {
			return nil, "", err
		}
	}
	return rows, next, nil
}

// Label attaches labels to a version (the latest when version is 0),
// moving each label off any other version of the parameter. It returns the
// labels that were rejected as invalid and the version labelled.
func (s *Service) Label(ctx context.Context, sc Scope, name string, version int64, labels []string) ([]string, int64, error) {
	if err := ValidateName(name); err != nil {
		return nil, 0, err
	}
	if len(labels) == 0 || len(labels) > maxLabels {
		return nil, 0, apierr.New(apierr.ValidationException, "1 validation error detected: Value at 'labels' failed to satisfy constraint: Member must have length between 1 and %d", maxLabels)
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > maxLabelLen {
			return nil, 0, apierr.New(apierr.ValidationException, "1 validation error detected: Value '[%s]' at 'labels' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to %d, Member must have length greater than or equal to 1]", strings.Join(labels, ", "), maxLabelLen)
		}
	}
	var invalid, good []string
	for _, l := range labels {
		if validateLabel(l) != nil {
			invalid = append(invalid, l)
		} else {
			good = append(good, l)
		}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		name, err := storedName(ctx, tx, sc, name)
		if err != nil {
			return err
		}
		head, err := latest(ctx, tx, sc, name)
		if errors.Is(err, errNotFound) {
			return apierr.New(apierr.ParameterNotFound, "Parameter %s not found.", name)
		}
		if err != nil {
			return err
		}
		if version == 0 {
			version = head.Version
		}
		all, _, err := listVersions(ctx, tx, sc, name, 0, maxVersions+1)
		if err != nil {
			return err
		}
		var target *Parameter
		for _, p := range all {
			if p.Version == version {
				target = p
			}
		}
		if target == nil {
			return apierr.New(apierr.ParameterVersionNotFound, "Systems Manager could not find version %d of %s. Verify the version and try again.", version, name)
		}
		for _, p := range all {
			if p == target {
				continue
			}
			kept := p.Labels[:0:0]
			for _, l := range p.Labels {
				if !contains(good, l) {
					kept = append(kept, l)
				}
			}
			if len(kept) != len(p.Labels) {
				if err := setLabels(ctx, tx, sc, name, p.Version, kept); err != nil {
					return err
				}
			}
		}
		merged := append([]string(nil), target.Labels...)
		for _, l := range good {
			if !contains(merged, l) {
				merged = append(merged, l)
			}
		}
		if len(merged) > maxLabels {
			return apierr.New(apierr.ParameterVersionLabelLimitExceeded, "A parameter version can have maximum %d labels. Move one or more labels to another version and try again.", maxLabels)
		}
		return setLabels(ctx, tx, sc, name, version, merged)
	})
	if err != nil {
		return nil, 0, err
	}
	return invalid, version, nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// aad binds a sealed value to its row.
func aad(sc Scope, name string, version int64) []byte {
	return []byte("ssm\x00" + sc.Account + "\x00" + sc.Region + "\x00" + name + "\x00" + strconv.FormatInt(version, 10))
}

// inTx is sqldb.InTx: on PostgreSQL fn may run more than once.
func (s *Service) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return sqldb.InTx(ctx, s.db, fn)
}
