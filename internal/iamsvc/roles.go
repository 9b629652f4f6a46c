package iamsvc

import (
	"context"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/iam"
)

// Role is an IAM role.
type Role struct {
	Account                  string
	RoleName                 string
	Path                     string
	RoleID                   string
	ARN                      string
	CreateDate               time.Time
	AssumeRolePolicyDocument string // as sent; the Query adapter URL-encodes it
	Description              string
	MaxSessionDuration       int32 // seconds
	PermissionsBoundary      string
	Tags                     []Tag
}

func (r *roleRec) public() Role {
	return Role{Account: r.Account, RoleName: r.Name, Path: r.Path, RoleID: r.ID, ARN: r.arn(), CreateDate: r.Created,
		AssumeRolePolicyDocument: r.Trust, Description: r.Description, MaxSessionDuration: r.MaxSession,
		PermissionsBoundary: r.Boundary, Tags: append([]Tag(nil), r.Tags...)}
}

// CreateRoleInput mirrors IAM CreateRole.
type CreateRoleInput struct {
	RoleName                 string
	Path                     string
	AssumeRolePolicyDocument string
	Description              string
	MaxSessionDuration       int32 // 0 = 3600
	PermissionsBoundary      string
	Tags                     []Tag
}

// CreateRole adds a role with its trust policy.
func (s *Service) CreateRole(ctx context.Context, account string, in CreateRoleInput) (*Role, error) {
	if err := validName("roleName", in.RoleName, 64); err != nil {
		return nil, err
	}
	path, err := normPath(in.Path)
	if err != nil {
		return nil, err
	}
	if in.MaxSessionDuration == 0 {
		in.MaxSessionDuration = 3600
	}
	if err := RangeErr(int(in.MaxSessionDuration), "maxSessionDuration", 3600, 43200); err != nil {
		return nil, err
	}
	if len(in.Description) > 1000 {
		return nil, validationErr(in.Description, "description", "Member must have length less than or equal to 1000")
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	trust, err := parsePolicyDoc(in.AssumeRolePolicyDocument, iam.TrustPolicy, iam.MaxTrustPolicySize)
	if err != nil {
		return nil, err
	}
	trust.Name = "trust policy of " + in.RoleName
	var out Role
	err = s.write(ctx, func(t *tx, st *state) error {
		if err := requireAccount(st, account); err != nil {
			return err
		}
		if in.PermissionsBoundary != "" {
			if err := checkBoundary(st, account, in.PermissionsBoundary); err != nil {
				return err
			}
		}
		k := nameKey(account, in.RoleName)
		if _, ok := st.roles[k]; ok {
			return apierr.New(apierr.EntityAlreadyExists, "Role with name %s already exists.", in.RoleName)
		}
		r := &roleRec{Account: account, Name: in.RoleName, Path: path, ID: uniqueID("AROA"), Created: s.now().UTC(),
			Trust: in.AssumeRolePolicyDocument, Description: in.Description, MaxSession: in.MaxSessionDuration,
			Boundary: in.PermissionsBoundary, Tags: append([]Tag(nil), in.Tags...), trust: trust}
		st.roles[k] = r
		t.put(kindRole, k, r)
		out = r.public()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// GetRole returns one role.
func (s *Service) GetRole(_ context.Context, account, name string) (*Role, error) {
	st, done := s.read()
	defer done()
	r, ok := st.roles[nameKey(account, name)]
	if !ok {
		return nil, noSuchRole(name)
	}
	out := r.public()
	return &out, nil
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Service) UpdateAssumeRolePolicy(ctx context.Context, account, name, doc string) error {
	trust, err := parsePolicyDoc(doc, iam.TrustPolicy, iam.MaxTrustPolicySize)
	if err != nil {
		return err
	}
	trust.Name = "trust policy of " + name
	return s.write(ctx, func(t *tx, st *state) error {
		k := nameKey(account, name)
		r, ok := st.roles[k]
		if !ok {
			return noSuchRole(name)
		}
		r.Trust, r.trust = doc, trust
		t.put(kindRole, k, r)
		return nil
	})
}

// UpdateRole changes description and MaxSessionDuration (0 = unchanged).
func (s *Service) UpdateRole(ctx context.Context, account, name string, description *string, maxSession int32) error {
	if maxSession != 0 {
		if err := RangeErr(int(maxSession), "maxSessionDuration", 3600, 43200); err != nil {
			return err
		}
	}
	return s.write(ctx, func(t *tx, st *state) error {
		k := nameKey(account, name)
		r, ok := st.roles[k]
		if !ok {
			return noSuchRole(name)
		}
		if description != nil {
			r.Description = *description
		}
		if maxSession != 0 {
			r.MaxSession = maxSession
		}
		t.put(kindRole, k, r)
		return nil
	})
}

// DeleteRole removes a role without policies.
func (s *Service) DeleteRole(ctx context.Context, account, name string) error {
	return s.write(ctx, func(t *tx, st *state) error {
		k := nameKey(account, name)
		r, ok := st.roles[k]
		if !ok {
			return noSuchRole(name)
		}
		if err := policiesConflict(r.Attached, r.Inline); err != nil {
			return err
		}
		delete(st.roles, k)
		t.del(kindRole, k)
		// Sessions of a deleted role stop working at once.
		for id, sess := range st.sessions {
			if sess.Kind == sessionRole && sess.Account == account && strings.EqualFold(sess.RoleName, r.Name) {
				delete(st.sessions, id)
				t.del(kindSession, id)
			}
		}
		return nil
	})
}

// ListRoles lists roles by name.
func (s *Service) ListRoles(_ context.Context, account, pathPrefix, marker string, maxItems int) ([]Role, string, error) {
	if err := validPathPrefix(pathPrefix); err != nil {
		return nil, "", err
	}
	st, done := s.read()
	var all []Role
	for _, r := range st.roles {
		if r.Account == account && strings.HasPrefix(r.Path, pathPrefix) {
			all = append(all, r.public())
		}
	}
	done()
	return page(all, func(r Role) string { return r.RoleName }, marker, maxItems)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
