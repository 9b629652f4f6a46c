package iamsvc

import (
	"context"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/arn"
	"github.com/berth-dev/berth/internal/awstags"
)

// Account is a 12-digit account with its root user.
type Account struct {
	ID        string
	CreatedAt time.Time
}

// User is an IAM user.
type User struct {
	Account             string
	UserName            string
	Path                string
	UserID              string
	ARN                 string
	CreateDate          time.Time
	PermissionsBoundary string // policy ARN, "" when none
	Tags                []Tag
}

// Group is an IAM group.
type Group struct {
	Account    string
	GroupName  string
	Path       string
	GroupID    string
	ARN        string
	CreateDate time.Time
}

func (u *userRec) public() User {
	return User{Account: u.Account, UserName: u.Name, Path: u.Path, UserID: u.ID, ARN: u.arn(),
		CreateDate: u.Created, PermissionsBoundary: u.Boundary, Tags: append([]Tag(nil), u.Tags...)}
}

func (g *groupRec) public() Group {
	return Group{Account: g.Account, GroupName: g.Name, Path: g.Path, GroupID: g.ID, ARN: g.arn(), CreateDate: g.Created}
}

// ---- accounts ---------------------------------------------------------------

// CreateAccount adds an account; EntityAlreadyExists when the id is taken.
func (s *Service) CreateAccount(ctx context.Context, id string) (*Account, error) {
	if !arn.IsAccountID(id) {
		return nil, apierr.New(apierr.ValidationError, "Account id %q must be exactly 12 digits.", id)
	}
	var out Account
	err := s.write(ctx, func(t *tx, st *state) error {
		if _, ok := st.accounts[id]; ok {
			return apierr.New(apierr.EntityAlreadyExists, "Account %s already exists.", id)
		}
		r := &accountRec{ID: id, Created: s.now().UTC()}
		st.accounts[id] = r
		t.put(kindAccount, id, r)
		out = Account{ID: r.ID, CreatedAt: r.Created}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// EnsureAccount creates the account unless it exists.
func (s *Service) EnsureAccount(ctx context.Context, id string) error {
	_, err := s.CreateAccount(ctx, id)
	if apierr.HasCode(err, apierr.EntityAlreadyExists) {
		return nil
	}
	return err
}

// AccountExists reports whether id is a known account.
func (s *Service) AccountExists(id string) bool {
	st, done := s.read()
	defer done()
	_, ok := st.accounts[id]
	return ok
}

// ListAccounts returns every account id, sorted.
func (s *Service) ListAccounts() []Account {
	st, done := s.read()
	defer done()
	out := make([]Account, 0, len(st.accounts))
	for _, a := range st.accounts {
		out = append(out, Account{ID: a.ID, CreatedAt: a.Created})
	}
	sortByName(out, func(a Account) string { return a.ID })
	return out
}

func requireAccount(st *state, account string) error {
	if _, ok := st.accounts[account]; !ok {
		return apierr.New(apierr.InvalidCredentials, "The security token included in the request is invalid.")
	}
	return nil
}

// ---- users ------------------------------------------------------------------

// CreateUserInput mirrors IAM CreateUser.
type CreateUserInput struct {
	UserName            string
	Path                string
	PermissionsBoundary string
	Tags                []Tag
}

// CreateUser adds an IAM user to account.
func (s *Service) CreateUser(ctx context.Context, account string, in CreateUserInput) (*User, error) {
	if err := validName("userName", in.UserName, 64); err != nil {
		return nil, err
	}
	path, err := normPath(in.Path)
	if err != nil {
		return nil, err
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	var out User
	err = s.write(ctx, func(t *tx, st *state) error {
		if err := requireAccount(st, account); err != nil {
			return err
		}
		if in.PermissionsBoundary != "" {
			if err := checkBoundary(st, account, in.PermissionsBoundary); err != nil {
				return err
			}
		}
		k := nameKey(account, in.UserName)
		if _, ok := st.users[k]; ok {
			return apierr.New(apierr.EntityAlreadyExists, "User with name %s already exists.", in.UserName)
		}
		u := &userRec{Account: account, Name: in.UserName, Path: path, ID: uniqueID("AIDA"),
			Created: s.now().UTC(), Boundary: in.PermissionsBoundary, Tags: append([]Tag(nil), in.Tags...)}
		st.users[k] = u
		t.put(kindUser, k, u)
		out = u.public()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func checkBoundary(st *state, account, policyARN string) error {
	p, ok := st.policies[policyARN]
	if !ok || (!p.awsManaged && p.Account != account) {
		return apierr.New(apierr.InvalidInput, "ARN %s is not valid.", policyARN)
	}
	return nil
}

// GetUser returns one user.
func (s *Service) GetUser(_ context.Context, account, name string) (*User, error) {
	st, done := s.read()
	defer done()
	u, ok := st.users[nameKey(account, name)]
	if !ok {
		return nil, noSuchUser(name)
	}
	out := u.public()
	return &out, nil
}

// DeleteUser removes a user that has no access keys, policies or group memberships left.
func (s *Service) DeleteUser(ctx context.Context, account, name string) error {
	return s.write(ctx, func(t *tx, st *state) error {
		k := nameKey(account, name)
		u, ok := st.users[k]
		if !ok {
			return noSuchUser(name)
		}
		for _, key := range st.keys {
			if key.Account == account && strings.EqualFold(key.User, u.Name) {
				return apierr.New(apierr.DeleteConflict, "Cannot delete entity, must delete access keys first.")
			}
		}
		if err := policiesConflict(u.Attached, u.Inline); err != nil {
			return err
		}
		if len(u.Groups) > 0 {
			return apierr.New(apierr.DeleteConflict, "Cannot delete entity, must remove users from group first.")
		}
		delete(st.users, k)
		t.del(kindUser, k)
		// Its GetSessionToken sessions (and ECR tokens minted from them)
		// stop working at once, and cannot pass for a later user of the
		// same name.
		for id, sess := range st.sessions {
			if sess.Kind == sessionUser && sess.Account == account && strings.EqualFold(sess.UserName, u.Name) {
				delete(st.sessions, id)
				t.del(kindSession, id)
			}
		}
		return nil
	})
}

// ListUsers lists users whose path starts with pathPrefix, by name, after marker.
// next is "" on the last page (IsTruncated = next != "").
func (s *Service) ListUsers(_ context.Context, account, pathPrefix, marker string, maxItems int) (users []User, next string, err error) {
	if err := validPathPrefix(pathPrefix); err != nil {
		return nil, "", err
	}
	st, done := s.read()
	var all []User
	for _, u := range st.users {
		if u.Account == account && strings.HasPrefix(u.Path, pathPrefix) {
			all = append(all, u.public())
		}
	}
	done()
	return page(all, func(u User) string { return u.UserName }, marker, maxItems)
}

// TagUser adds or replaces tags.
func (s *Service) TagUser(ctx context.Context, account, name string, tags []Tag) error {
	if err := validTags(tags); err != nil {
		return err
	}
	return s.write(ctx, func(t *tx, st *state) error {
		k := nameKey(account, name)
		u, ok := st.users[k]
		if !ok {
			return noSuchUser(name)
		}
		merged := mergeTags(u.Tags, tags)
		if len(merged) > awstags.MaxTags {
			return tagQuota("User")
		}
		u.Tags = merged
		t.put(kindUser, k, u)
		return nil
	})
}

// UntagUser removes tags by key.
func (s *Service) UntagUser(ctx context.Context, account, name string, keys []string) error {
	if err := ValidTagKeys(keys); err != nil {
		return err
	}
	return s.write(ctx, func(t *tx, st *state) error {
		k := nameKey(account, name)
		u, ok := st.users[k]
		if !ok {
			return noSuchUser(name)
		}
		u.Tags = dropTags(u.Tags, keys)
		t.put(kindUser, k, u)
		return nil
	})
}

func mergeTags(have, add []Tag) []Tag {
	out := append([]Tag(nil), have...)
	for _, a := range add {
		replaced := false
		for i := range out {
			if strings.EqualFold(out[i].Key, a.Key) {
				out[i] = a
				replaced = true
			}
		}
		if !replaced {
			out = append(out, a)
		}
	}
	return out
}

func dropTags(have []Tag, keys []string) []Tag {
	var out []Tag
	for _, t := range have {
		if containsFold(keys, t.Key) < 0 {
			out = append(out, t)
		}
	}
	return out
}

// ---- groups -----------------------------------------------------------------

// CreateGroup adds a group.
func (s *Service) CreateGroup(ctx context.Context, account, name, path string) (*Group, error) {
	if err := validName("groupName", name, 128); err != nil {
		return nil, err
	}
	path, err := normPath(path)
	if err != nil {
		return nil, err
	}
	var out Group
	err = s.write(ctx, func(t *tx, st *state) error {
		if err := requireAccount(st, account); err != nil {
			return err
		}
		k := nameKey(account, name)
		if _, ok := st.groups[k]; ok {
			return apierr.New(apierr.EntityAlreadyExists, "Group with name %s already exists.", name)
		}
		g := &groupRec{Account: account, Name: name, Path: path, ID: uniqueID("AGPA"), Created: s.now().UTC()}
		st.groups[k] = g
		t.put(kindGroup, k, g)
		out = g.public()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// GetGroup returns a group and its members.
func (s *Service) GetGroup(_ context.Context, account, name string) (*Group, []User, error) {
	st, done := s.read()
	defer done()
	g, ok := st.groups[nameKey(account, name)]
	if !ok {
		return nil, nil, noSuchGroup(name)
	}
	var members []User
	for _, u := range st.users {
		if u.Account == account && containsFold(u.Groups, g.Name) >= 0 {
			members = append(members, u.public())
		}
	}
	sortByName(members, func(u User) string { return u.UserName })
	out := g.public()
	return &out, members, nil
}

// DeleteGroup removes an empty group without policies.
func (s *Service) DeleteGroup(ctx context.Context, account, name string) error {
	return s.write(ctx, func(t *tx, st *state) error {
		k := nameKey(account, name)
		g, ok := st.groups[k]
		if !ok {
			return noSuchGroup(name)
		}
		for _, u := range st.users {
			if u.Account == account && containsFold(u.Groups, g.Name) >= 0 {
				return apierr.New(apierr.DeleteConflict, "Cannot delete entity, must remove users from group first.")
			}
		}
		if err := policiesConflict(g.Attached, g.Inline); err != nil {
			return err
		}
		delete(st.groups, k)
		t.del(kindGroup, k)
		return nil
	})
}

// ListGroups lists groups by name.
func (s *Service) ListGroups(_ context.Context, account, pathPrefix, marker string, maxItems int) ([]Group, string, error) {
	if err := validPathPrefix(pathPrefix); err != nil {
		return nil, "", err
	}
	st, done := s.read()
	var all []Group
	for _, g := range st.groups {
		if g.Account == account && strings.HasPrefix(g.Path, pathPrefix) {
			all = append(all, g.public())
		}
	}
	done()
	return page(all, func(g Group) string { return g.GroupName }, marker, maxItems)
}

// AddUserToGroup makes user a member of group (idempotent).
func (s *Service) AddUserToGroup(ctx context.Context, account, group, user string) error {
	return s.write(ctx, func(t *tx, st *state) error {
		g, ok := st.groups[nameKey(account, group)]
		if !ok {
			return noSuchGroup(group)
		}
		k := nameKey(account, user)
		u, ok := st.users[k]
		if !ok {
			return noSuchUser(user)
		}
		if containsFold(u.Groups, g.Name) >= 0 {
			return nil
		}
		if len(u.Groups) >= 10 {
			return apierr.New(apierr.IAMLimitExceeded, "Cannot exceed quota for GroupsPerUser: 10")
		}
		u.Groups = append(append([]string(nil), u.Groups...), g.Name)
		t.put(kindUser, k, u)
		return nil
	})
}

// RemoveUserFromGroup ends a membership.
func (s *Service) RemoveUserFromGroup(ctx context.Context, account, group, user string) error {
	return s.write(ctx, func(t *tx, st *state) error {
		if _, ok := st.groups[nameKey(account, group)]; !ok {
			return noSuchGroup(group)
		}
		k := nameKey(account, user)
		u, ok := st.users[k]
		if !ok {
			return noSuchUser(user)
		}
		i := containsFold(u.Groups, group)
		if i < 0 {
			return apierr.New(apierr.NoSuchEntity, "User %s is not in group %s.", user, group)
		}
		u.Groups = remove(u.Groups, i)
		t.put(kindUser, k, u)
		return nil
	})
}

// ListGroupsForUser lists the user's groups by name.
func (s *Service) ListGroupsForUser(_ context.Context, account, user, marker string, maxItems int) ([]Group, string, error) {
	st, done := s.read()
	u, ok := st.users[nameKey(account, user)]
	if !ok {
		done()
		return nil, "", noSuchUser(user)
	}
	var all []Group
	for _, name := range u.Groups {
		if g, ok := st.groups[nameKey(account, name)]; ok {
			all = append(all, g.public())
		}
	}
	done()
	return page(all, func(g Group) string { return g.GroupName }, marker, maxItems)
}
