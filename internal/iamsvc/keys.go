package iamsvc

import (
	"context"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
)

// Access key statuses.
const (
	StatusActive   = "Active"
	StatusInactive = "Inactive"
)

// AccessKey is a long-term key. SecretAccessKey is set only in the result of
// CreateAccessKey (and EnsureRootKey); listings leave it empty.
type AccessKey struct {
	Account         string
	UserName        string // "" for the root user
	AccessKeyID     string
	Status          string
	SecretAccessKey string
	CreateDate      time.Time
}

func (k *keyRec) public() AccessKey {
	return AccessKey{Account: k.Account, UserName: k.User, AccessKeyID: k.ID, Status: k.Status, CreateDate: k.Created}
}

const maxKeysPerUser = 2

// CreateAccessKey makes a key for user ("" = the account's root user).
func (s *Service) CreateAccessKey(ctx context.Context, account, user string) (*AccessKey, error) {
	var out AccessKey
	err := s.write(ctx, func(t *tx, st *state) error {
		if err := requireAccount(st, account); err != nil {
			return err
		}
		owner := ""
		if user != "" {
			u, ok := st.users[nameKey(account, user)]
			if !ok {
				return noSuchUser(user)
			}
			owner = u.Name
		}
		n := 0
		for _, k := range st.keys {
			if k.Account == account && strings.EqualFold(k.User, owner) {
				n++
			}
		}
		if n >= maxKeysPerUser {
			return apierr.New(apierr.IAMLimitExceeded, "Cannot exceed quota for AccessKeysPerUser: 2")
		}
		k, err := s.newKey(account, owner, accessKeyID("AKIA"), secretAccessKey())
		if err != nil {
			return err
		}
		st.keys[k.ID] = k
		t.put(kindKey, k.ID, k)
		out = k.public()
		out.SecretAccessKey = k.secret
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (s *Service) newKey(account, user, id, secret string) (*keyRec, error) {
	enc, err := s.keys.seal(id, secret)
	if err != nil {
		return nil, err
	}
	return &keyRec{ID: id, Account: account, User: user, Status: StatusActive, Created: s.now().UTC(), SecretEnc: enc, secret: secret}, nil
}

// EnsureRootKey makes sure account exists and its root user has the key id
// with secret (the operator's configured credentials). A previous operator
// key that is no longer configured is deleted, so rotating the configured
// credentials revokes the old ones; root keys made through the IAM API are
// left alone. With id == "" it generates a key when the root user has none;
// created reports whether a new key was made (its secret is in the result
// only then).
func (s *Service) EnsureRootKey(ctx context.Context, account, id, secret string) (key *AccessKey, created bool, err error) {
	if err := s.EnsureAccount(ctx, account); err != nil {
		return nil, false, err
	}
	if id != "" {
		if !validKeyID(id) || len(secret) < 16 {
			return nil, false, apierr.New(apierr.ValidationError, "root access key id must be 16-128 characters of [A-Z0-9] and the secret at least 16 characters")
		}
	}
	var out AccessKey
	err = s.write(ctx, func(t *tx, st *state) error {
		if id == "" {
			for _, k := range st.keys {
				if k.Account == account && k.User == "" && k.Status == StatusActive {
					out = k.public()
					return nil
				}
			}
			id, secret = accessKeyID("AKIA"), secretAccessKey()
		} else if k, ok := st.keys[id]; ok {
			if k.Account != account || k.User != "" {
				return apierr.New(apierr.EntityAlreadyExists, "access key %s belongs to another principal", id)
			}
			if constantTimeEqual(k.secret, secret) && k.Status == StatusActive && k.Operator {
				out = k.public()
				return nil
			}
		}
		for oldID, k := range st.keys {
			if k.Account == account && k.User == "" && k.Operator && oldID != id {
				delete(st.keys, oldID)
				t.del(kindKey, oldID)
			}
		}
		k, err := s.newKey(account, "", id, secret)
		if err != nil {
			return err
		}
		k.Operator = true
		st.keys[id] = k
		t.put(kindKey, id, k)
		out = k.public()
		out.SecretAccessKey = secret
		created = true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return &out, created, nil
}

func validKeyID(id string) bool {
	if len(id) < 16 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func (s *Service) findKey(st *state, account, user, id string) (*keyRec, error) {
	k, ok := st.keys[id]
	if !ok || k.Account != account || !strings.EqualFold(k.User, user) {
		return nil, apierr.New(apierr.NoSuchEntity, "The Access Key with id %s cannot be found.", id)
	}
	return k, nil
}

// DeleteAccessKey removes a key of user ("" = root). Tokens and sessions
// minted from it stop working at once.
func (s *Service) DeleteAccessKey(ctx context.Context, account, user, id string) error {
	return s.write(ctx, func(t *tx, st *state) error {
		if user != "" {
			if _, ok := st.users[nameKey(account, user)]; !ok {
				return noSuchUser(user)
			}
		}
		if _, err := s.findKey(st, account, user, id); err != nil {
			return err
		}
		delete(st.keys, id)
		t.del(kindKey, id)
		return nil
	})
}

// UpdateAccessKey sets a key Active or Inactive.
func (s *Service) UpdateAccessKey(ctx context.Context, account, user, id, status string) error {
	if status != StatusActive && status != StatusInactive {
		return validationErr(status, "status", "Member must satisfy enum value set: [Active, Inactive]")
	}
	return s.write(ctx, func(t *tx, st *state) error {
		if user != "" {
			if _, ok := st.users[nameKey(account, user)]; !ok {
				return noSuchUser(user)
			}
		}
		k, err := s.findKey(st, account, user, id)
		if err != nil {
			return err
		}
		k.Status = status
		t.put(kindKey, id, k)
		return nil
	})
}

// ListAccessKeys lists the keys of user ("" = root), by key id.
func (s *Service) ListAccessKeys(_ context.Context, account, user, marker string, maxItems int) ([]AccessKey, string, error) {
	st, done := s.read()
	if user != "" {
		u, ok := st.users[nameKey(account, user)]
		if !ok {
			done()
			return nil, "", noSuchUser(user)
		}
		user = u.Name
	}
	var all []AccessKey
	for _, k := range st.keys {
		if k.Account == account && strings.EqualFold(k.User, user) {
			all = append(all, k.public())
		}
	}
	done()
	return page(all, func(k AccessKey) string { return k.AccessKeyID }, marker, maxItems)
}

// AccessKeyLastUsed is not tracked; GetAccessKeyLastUsed callers get the owner only.
func (s *Service) AccessKeyOwner(_ context.Context, id string) (account, user string, err error) {
	st, done := s.read()
	defer done()
	if k, ok := st.keys[id]; ok {
		return k.Account, k.User, nil
	}
	return "", "", apierr.New(apierr.NoSuchEntity, "The Access Key with id %s cannot be found.", id)
}
