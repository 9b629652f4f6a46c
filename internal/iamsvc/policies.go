package iamsvc

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/iam"
)

// ManagedPolicy is a customer-managed or AWS-managed policy.
type ManagedPolicy struct {
	PolicyName                    string
	PolicyID                      string
	ARN                           string
	Path                          string
	DefaultVersionID              string
	AttachmentCount               int
	PermissionsBoundaryUsageCount int
	IsAttachable                  bool
	Description                   string
	CreateDate, UpdateDate        time.Time
	Tags                          []Tag
	AWSManaged                    bool
}

// PolicyVersion is one version of a managed policy; Document is the text as sent.
type PolicyVersion struct {
	Document         string
	VersionID        string
	IsDefaultVersion bool
	CreateDate       time.Time
}

// AttachedPolicy names a managed policy attached to an entity.
type AttachedPolicy struct {
	PolicyName string
	PolicyArn  string
}

// EntityKind selects users, groups or roles in the attach/inline APIs.
type EntityKind int

const (
	UserEntity EntityKind = iota
	GroupEntity
	RoleEntity
)

const (
	maxAttachedPolicies = 10
	maxPolicyVersions   = 5
)

func (s *Service) publicPolicy(st *state, p *policyRec) ManagedPolicy {
	a := p.arn()
	out := ManagedPolicy{PolicyName: p.Name, PolicyID: p.ID, ARN: a, Path: p.Path, DefaultVersionID: p.Default,
		IsAttachable: true, Description: p.Description, CreateDate: p.Created, UpdateDate: p.Updated,
		Tags: append([]Tag(nil), p.Tags...), AWSManaged: p.awsManaged}
	count := func(list []string) {
		if containsExact(list, a) {
			out.AttachmentCount++
		}
	}
	for _, u := range st.users {
		count(u.Attached)
		if u.Boundary == a {
			out.PermissionsBoundaryUsageCount++
		}
	}
	for _, g := range st.groups {
		count(g.Attached)
	}
	for _, r := range st.roles {
		count(r.Attached)
		if r.Boundary == a {
			out.PermissionsBoundaryUsageCount++
		}
	}
	return out
}

func containsExact(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// CreatePolicyInput mirrors IAM CreatePolicy.
type CreatePolicyInput struct {
	PolicyName     string
	Path           string
	PolicyDocument string
	Description    string
	Tags           []Tag
}

// CreatePolicy adds a customer-managed policy with version v1 as default.
func (s *Service) CreatePolicy(ctx context.Context, account string, in CreatePolicyInput) (*ManagedPolicy, error) {
	if err := validName("policyName", in.PolicyName, 128); err != nil {
		return nil, err
	}
	path, err := normPath(in.Path)
	if err != nil {
		return nil, err
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	pol, err := parsePolicyDoc(in.PolicyDocument, iam.IdentityPolicy, iam.MaxIdentityPolicySize)
	if err != nil {
		return nil, err
	}
	pol.Name = in.PolicyName
	var out ManagedPolicy
	err = s.write(ctx, func(t *tx, st *state) error {
		if err := requireAccount(st, account); err != nil {
			return err
		}
		for _, p := range st.policies {
			if p.Account == account && strings.EqualFold(p.Name, in.PolicyName) {
				return apierr.New(apierr.EntityAlreadyExists, "A policy called %s already exists. Duplicate names are not allowed.", in.PolicyName)
			}
		}
		now := s.now().UTC()
		p := &policyRec{Account: account, Name: in.PolicyName, Path: path, ID: uniqueID("ANPA"), Description: in.Description,
			Created: now, Updated: now, Default: "v1", NextVersion: 2, Tags: append([]Tag(nil), in.Tags...),
			Versions: []versionRec{{ID: "v1", Document: in.PolicyDocument, Created: now, pol: pol}}}
		a := p.arn()
		st.policies[a] = p
		t.put(kindPolicy, a, p)
		out = s.publicPolicy(st, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// GetPolicy returns a managed policy (customer-managed of account, or AWS-managed).
func (s *Service) GetPolicy(_ context.Context, account, policyARN string) (*ManagedPolicy, error) {
	st, done := s.read()
	defer done()
	p, err := visiblePolicy(st, account, policyARN)
	if err != nil {
		return nil, err
	}
	out := s.publicPolicy(st, p)
	return &out, nil
}

func visiblePolicy(st *state, account, policyARN string) (*policyRec, error) {
	p, ok := st.policies[policyARN]
	if !ok || (!p.awsManaged && p.Account != account) {
		return nil, noSuchPolicy(policyARN)
	}
	return p, nil
}

func ownPolicy(st *state, account, policyARN string) (*policyRec, error) {
	p, err := visiblePolicy(st, account, policyARN)
	if err != nil {
		return nil, err
	}
	if p.awsManaged {
		return nil, apierr.New(apierr.InvalidInput, "Policy %s is AWS-managed and cannot be changed.", policyARN)
	}
	return p, nil
}

// Policy scopes for ListPolicies.
const (
	ScopeAll   = "All"
	ScopeAWS   = "AWS"
	ScopeLocal = "Local"
)

// ListPolicies lists managed policies by name. scope: All (default) | AWS | Local.
func (s *Service) ListPolicies(_ context.Context, account, scope string, onlyAttached bool, pathPrefix, marker string, maxItems int) ([]ManagedPolicy, string, error) {
	if err := validPathPrefix(pathPrefix); err != nil {
		return nil, "", err
	}
	if scope == "" {
		scope = ScopeAll
	}
	if scope != ScopeAll && scope != ScopeAWS && scope != ScopeLocal {
		return nil, "", validationErr(scope, "scope", "Member must satisfy enum value set: [All, AWS, Local]")
	}
	st, done := s.read()
	var all []ManagedPolicy
	for _, p := range st.policies {
		if (p.awsManaged && scope == ScopeLocal) || (!p.awsManaged && (scope == ScopeAWS || p.Account != account)) {
			continue
		}
		if !strings.HasPrefix(p.Path, pathPrefix) {
			continue
		}
		mp := s.publicPolicy(st, p)
		if onlyAttached && mp.AttachmentCount == 0 {
			continue
		}
		all = append(all, mp)
	}
	done()
	return page(all, func(p ManagedPolicy) string { return p.PolicyName }, marker, maxItems)
}

// DeletePolicy removes a customer-managed policy that is attached nowhere and has only its default version.
func (s *Service) DeletePolicy(ctx context.Context, account, policyARN string) error {
	return s.write(ctx, func(t *tx, st *state) error {
		p, err := ownPolicy(st, account, policyARN)
		if err != nil {
			return err
		}
		if mp := s.publicPolicy(st, p); mp.AttachmentCount > 0 || mp.PermissionsBoundaryUsageCount > 0 {
			return apierr.New(apierr.DeleteConflict, "Cannot delete a policy attached to entities.")
		}
		if len(p.Versions) > 1 {
			return apierr.New(apierr.DeleteConflict, "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
		}
		delete(st.policies, policyARN)
		t.del(kindPolicy, policyARN)
		return nil
	})
}

// GetPolicyVersion returns one version (AWS-managed policies have their default version).
func (s *Service) GetPolicyVersion(_ context.Context, account, policyARN, versionID string) (*PolicyVersion, error) {
	st, done := s.read()
	defer done()
	p, err := visiblePolicy(st, account, policyARN)
	if err != nil {
		return nil, err
	}
	v := p.version(versionID)
	if v == nil {
		return nil, apierr.New(apierr.NoSuchEntity, "Policy %s version %s does not exist or is not attachable.", policyARN, versionID)
	}
	return &PolicyVersion{Document: v.Document, VersionID: v.ID, IsDefaultVersion: v.ID == p.Default, CreateDate: v.Created}, nil
}

// ListPolicyVersions lists a policy's versions, newest first.
func (s *Service) ListPolicyVersions(_ context.Context, account, policyARN string) ([]PolicyVersion, error) {
	st, done := s.read()
	defer done()
	p, err := visiblePolicy(st, account, policyARN)
	if err != nil {
		return nil, err
	}
	out := make([]PolicyVersion, 0, len(p.Versions))
	for i := len(p.Versions) - 1; i >= 0; i-- {
		v := p.Versions[i]
		out = append(out, PolicyVersion{VersionID: v.ID, IsDefaultVersion: v.ID == p.Default, CreateDate: v.Created, Document: v.Document})
	}
	return out, nil
}

// CreatePolicyVersion adds a version (at most 5), optionally making it the default.
func (s *Service) CreatePolicyVersion(ctx context.Context, account, policyARN, doc string, setAsDefault bool) (*PolicyVersion, error) {
	pol, err := parsePolicyDoc(doc, iam.IdentityPolicy, iam.MaxIdentityPolicySize)
	if err != nil {
		return nil, err
	}
	var out PolicyVersion
	err = s.write(ctx, func(t *tx, st *state) error {
		p, err := ownPolicy(st, account, policyARN)
		if err != nil {
			return err
		}
		if len(p.Versions) >= maxPolicyVersions {
			return apierr.New(apierr.IAMLimitExceeded, "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")
		}
		pol.Name = p.Name
		now := s.now().UTC()
		v := versionRec{ID: "v" + strconv.Itoa(p.NextVersion), Document: doc, Created: now, pol: pol}
		p.NextVersion++
		p.Versions = append(append([]versionRec(nil), p.Versions...), v)
		if setAsDefault {
			p.Default = v.ID
		}
		p.Updated = now
		t.put(kindPolicy, policyARN, p)
		out = PolicyVersion{Document: doc, VersionID: v.ID, IsDefaultVersion: setAsDefault, CreateDate: now}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// SetDefaultPolicyVersion changes which version is in force.
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, account, policyARN, versionID string) error {
	return s.write(ctx, func(t *tx, st *state) error {
		p, err := ownPolicy(st, account, policyARN)
		if err != nil {
			return err
		}
		if p.version(versionID) == nil {
			return apierr.New(apierr.NoSuchEntity, "Policy %s version %s does not exist or is not attachable.", policyARN, versionID)
		}
		p.Default = versionID
		p.Updated = s.now().UTC()
		t.put(kindPolicy, policyARN, p)
		return nil
	})
}

// DeletePolicyVersion removes a non-default version.
func (s *Service) DeletePolicyVersion(ctx context.Context, account, policyARN, versionID string) error {
	return s.write(ctx, func(t *tx, st *state) error {
		p, err := ownPolicy(st, account, policyARN)
		if err != nil {
			return err
		}
		i := -1
		for j := range p.Versions {
			if p.Versions[j].ID == versionID {
				i = j
			}
		}
		if i < 0 {
			return apierr.New(apierr.NoSuchEntity, "Policy %s version %s does not exist or is not attachable.", policyARN, versionID)
		}
		if versionID == p.Default {
			return apierr.New(apierr.DeleteConflict, "Cannot delete the default version of a policy.")
		}
		p.Versions = remove(p.Versions, i)
		t.put(kindPolicy, policyARN, p)
		return nil
	})
}

// ---- attachments and inline policies ---------------------------------------

// entityRef is the part of a user, group or role the policy APIs touch.
type entityRef struct {
	attached   *[]string
	inline     *[]inlineRec
	kind, key  string
	rec        any
	quotaName  string
	inlineMax  int
	policyNoun string // "user policy", "group policy", "role policy"
}

func entity(st *state, account string, kind EntityKind, name string) (*entityRef, error) {
	k := nameKey(account, name)
	switch kind {
	case UserEntity:
		u, ok := st.users[k]
		if !ok {
			return nil, noSuchUser(name)
		}
		return &entityRef{&u.Attached, &u.Inline, kindUser, k, u, "PoliciesPerUser", iam.MaxInlineUserPolicySize, "user policy"}, nil
	case GroupEntity:
		g, ok := st.groups[k]
		if !ok {
			return nil, noSuchGroup(name)
		}
		return &entityRef{&g.Attached, &g.Inline, kindGroup, k, g, "PoliciesPerGroup", iam.MaxInlineGroupPolicySize, "group policy"}, nil
	case RoleEntity:
		r, ok := st.roles[k]
		if !ok {
			return nil, noSuchRole(name)
		}
		return &entityRef{&r.Attached, &r.Inline, kindRole, k, r, "PoliciesPerRole", iam.MaxInlineRolePolicySize, "role policy"}, nil
	}
	return nil, apierr.New(apierr.Internal, "unknown entity kind")
}

// AttachPolicy attaches a managed policy to a user, group or role (idempotent; ≤10).
func (s *Service) AttachPolicy(ctx context.Context, account string, kind EntityKind, name, policyARN string) error {
	return s.write(ctx, func(t *tx, st *state) error {
		e, err := entity(st, account, kind, name)
		if err != nil {
			return err
		}
		if _, err := visiblePolicy(st, account, policyARN); err != nil {
			return notAttachable(policyARN)
		}
		if containsExact(*e.attached, policyARN) {
			return nil
		}
		if len(*e.attached) >= maxAttachedPolicies {
			return apierr.New(apierr.IAMLimitExceeded, "Cannot exceed quota for %s: %d", e.quotaName, maxAttachedPolicies)
		}
		*e.attached = append(append([]string(nil), *e.attached...), policyARN)
		t.put(e.kind, e.key, e.rec)
		return nil
	})
}

// DetachPolicy detaches a managed policy.
func (s *Service) DetachPolicy(ctx context.Context, account string, kind EntityKind, name, policyARN string) error {
	return s.write(ctx, func(t *tx, st *state) error {
		e, err := entity(st, account, kind, name)
		if err != nil {
			return err
		}
		for i, a := range *e.attached {
			if a == policyARN {
				*e.attached = remove(*e.attached, i)
				t.put(e.kind, e.key, e.rec)
				return nil
			}
		}
		return apierr.New(apierr.NoSuchEntity, "Policy %s was not found.", policyARN)
	})
}

// ListAttachedPolicies lists managed policies attached to an entity, by name.
func (s *Service) ListAttachedPolicies(_ context.Context, account string, kind EntityKind, name, pathPrefix, marker string, maxItems int) ([]AttachedPolicy, string, error) {
	st, done := s.read()
	e, err := entity(st, account, kind, name)
	if err != nil {
		done()
		return nil, "", err
	}
	var all []AttachedPolicy
	for _, a := range *e.attached {
		if p, ok := st.policies[a]; ok && strings.HasPrefix(p.Path, pathPrefix) {
			all = append(all, AttachedPolicy{PolicyName: p.Name, PolicyArn: a})
		}
	}
	done()
	return page(all, func(p AttachedPolicy) string { return p.PolicyName }, marker, maxItems)
}

// PutInlinePolicy creates or replaces an inline policy.
func (s *Service) PutInlinePolicy(ctx context.Context, account string, kind EntityKind, name, policyName, doc string) error {
	if err := validName("policyName", policyName, 128); err != nil {
		return err
	}
	pol, err := parsePolicyDoc(doc, iam.IdentityPolicy, 0)
	if err != nil {
		return err
	}
	pol.Name = policyName
	return s.write(ctx, func(t *tx, st *state) error {
		e, err := entity(st, account, kind, name)
		if err != nil {
			return err
		}
		list := append([]inlineRec(nil), *e.inline...)
		if i := findInline(list, policyName); i >= 0 {
			list[i] = inlineRec{Name: policyName, Document: doc, pol: pol}
		} else {
			list = append(list, inlineRec{Name: policyName, Document: doc, pol: pol})
		}
		total := 0
		for _, p := range list {
			total += iam.PolicySize(p.Document)
		}
		if total > e.inlineMax {
			return apierr.New(apierr.IAMLimitExceeded, "Maximum policy size of %d bytes exceeded for %s %s.", e.inlineMax, strings.TrimSuffix(e.policyNoun, " policy"), name)
		}
		*e.inline = list
		t.put(e.kind, e.key, e.rec)
		return nil
	})
}

// GetInlinePolicy returns an inline policy's document as sent.
func (s *Service) GetInlinePolicy(_ context.Context, account string, kind EntityKind, name, policyName string) (string, error) {
	st, done := s.read()
	defer done()
	e, err := entity(st, account, kind, name)
	if err != nil {
		return "", err
	}
	i := findInline(*e.inline, policyName)
	if i < 0 {
		return "", apierr.New(apierr.NoSuchEntity, "The %s with name %s cannot be found.", e.policyNoun, policyName)
	}
	return (*e.inline)[i].Document, nil
}

// DeleteInlinePolicy removes an inline policy.
func (s *Service) DeleteInlinePolicy(ctx context.Context, account string, kind EntityKind, name, policyName string) error {
	return s.write(ctx, func(t *tx, st *state) error {
		e, err := entity(st, account, kind, name)
		if err != nil {
			return err
		}
		i := findInline(*e.inline, policyName)
		if i < 0 {
			return apierr.New(apierr.NoSuchEntity, "The %s with name %s cannot be found.", e.policyNoun, policyName)
		}
		*e.inline = remove(*e.inline, i)
		t.put(e.kind, e.key, e.rec)
		return nil
	})
}

// ListInlinePolicies lists inline policy names, sorted.
func (s *Service) ListInlinePolicies(_ context.Context, account string, kind EntityKind, name, marker string, maxItems int) ([]string, string, error) {
	st, done := s.read()
	e, err := entity(st, account, kind, name)
	if err != nil {
		done()
		return nil, "", err
	}
	var all []string
	for _, p := range *e.inline {
		all = append(all, p.Name)
	}
	done()
	return page(all, func(s string) string { return s }, marker, maxItems)
}
