package iamsvc

import (
	"context"
	"strings"

	"github.com/berth-dev/berth/internal/apierr"
)

// ImportAccessKey gives user ("" = the account's root user) the access key
// id with secret, as a seed file asks for reproducible CI credentials. It is
// idempotent: the same key already owned by the user with the same secret is
// left alone (created == false); a key id owned by anyone else, or with a
// different secret, is EntityAlreadyExists, so a seed can never silently
// take over or re-secret a key. The two-keys-per-user quota applies.
func (s *Service) ImportAccessKey(ctx context.Context, account, user, id, secret string) (created bool, err error) {
	if !validKeyID(id) {
		return false, apierr.New(apierr.ValidationError, "access key id %q must be 16-128 characters of [A-Z0-9]", id)
	}
	if len(secret) < 16 || len(secret) > 128 {
		return false, apierr.New(apierr.ValidationError, "the secret access key of %s must be 16-128 characters", id)
	}
	err = s.write(ctx, func(t *tx, st *state) error {
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
		if k, ok := st.keys[id]; ok {
			if k.Account != account || !strings.EqualFold(k.User, owner) {
				return apierr.New(apierr.EntityAlreadyExists, "access key %s belongs to another principal", id)
			}
			if !constantTimeEqual(k.secret, secret) {
				return apierr.New(apierr.EntityAlreadyExists, "access key %s already exists with a different secret", id)
			}
			return nil
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
		k, err := s.newKey(account, owner, id, secret)
		if err != nil {
			return err
		}
		st.keys[id] = k
		t.put(kindKey, id, k)
		created = true
		return nil
	})
	return created, err
}
