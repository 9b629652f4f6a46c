package iamsvc

import (
	"context"
	"strings"

	"github.com/berth-dev/berth/internal/apierr"
)

// Additions for the IAM Query adapter (internal/awsapi/iamapi).

// UpdateUserInput mirrors IAM UpdateUser; empty fields stay unchanged.
type UpdateUserInput struct {
	NewUserName string
	NewPath     string
}

// UpdateUser renames a user and/or moves it to another path. Its access
// keys, group memberships and GetSessionToken sessions follow the new name,
// so credentials keep working as they do on AWS.
func (s *Service) UpdateUser(ctx context.Context, account, name string, in UpdateUserInput) error {
	if in.NewUserName != "" {
		if err := validName("newUserName", in.NewUserName, 64); err != nil {
			return err
		}
	}
	var newPath string
	if in.NewPath != "" {
		p, err := normPath(in.NewPath)
		if err != nil {
			return validationErr(in.NewPath, "newPath", `Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`)
		}
		newPath = p
	}
	return s.write(ctx, func(t *tx, st *state) error {
		oldKey := nameKey(account, name)
		u, ok := st.users[oldKey]
		if !ok {
			return noSuchUser(name)
		}
		rename := in.NewUserName != "" && in.NewUserName != u.Name
		newKey := nameKey(account, in.NewUserName)
		if other, taken := st.users[newKey]; rename && taken && other != u {
			return apierr.New(apierr.EntityAlreadyExists, "User with name %s already exists.", in.NewUserName)
		}
		// Checks are done; from here on memory changes are recorded in t.
		if newPath != "" {
			u.Path = newPath
		}
		if rename {
			for id, k := range st.keys {
				if k.Account == account && k.User != "" && strings.EqualFold(k.User, u.Name) {
					k.User = in.NewUserName
					t.put(kindKey, id, k)
				}
			}
			for id, sess := range st.sessions {
				if sess.Kind == sessionUser && sess.Account == account && strings.EqualFold(sess.UserName, u.Name) {
					sess.UserName = in.NewUserName
					t.put(kindSession, id, sess)
				}
			}
			u.Name = in.NewUserName
			if newKey != oldKey {
				delete(st.users, oldKey)
				t.del(kindUser, oldKey)
			}
			st.users[newKey] = u
			t.put(kindUser, newKey, u)
			return nil
		}
		t.put(kindUser, oldKey, u)
		return nil
	})
}

// AccountCreated returns when account was created (GetUser for the root user).
func (s *Service) AccountCreated(account string) (Account, bool) {
	st, done := s.read()
	defer done()
	a, ok := st.accounts[account]
	if !ok {
		return Account{}, false
	}
	return Account{ID: a.ID, CreatedAt: a.Created}, true
}
