package seed

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/awsapi/ecr"
	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/params"
	"github.com/berth-dev/berth/internal/secrets"
	"github.com/berth-dev/berth/internal/storage"
)

// Repositories creates or updates a repository with the ECR API's
// validation (ecr.API implements it).
type Repositories interface {
	EnsureRepository(ctx context.Context, spec ecr.RepositorySpec) (created bool, err error)
}

// Deps are the domain services a seed is written through.
type Deps struct {
	IAM            *iamsvc.Service
	Repositories   Repositories
	Images         *images.Service
	Params         *params.Service
	Secrets        *secrets.Service
	DefaultAccount string
	DefaultRegion  string
}

// Result counts what Apply did.
type Result struct {
	Created, Updated, Unchanged int
}

func (r *Result) count(created, changed bool) {
	switch {
	case created:
		r.Created++
	case changed:
		r.Updated++
	default:
		r.Unchanged++
	}
}

// Apply writes f through d. The first failing entry stops it with an Error
// naming that entry; entries before it stay applied (applying the corrected
// file again converges, since every step is idempotent).
func Apply(ctx context.Context, d Deps, f *File) (Result, error) {
	a := &applier{d: d, f: f}
	for i := range f.Accounts {
		if err := a.account(ctx, fmt.Sprintf("accounts[%d]", i), &f.Accounts[i]); err != nil {
			return a.res, err
		}
	}
	return a.res, nil
}

type applier struct {
	d   Deps
	f   *File
	res Result
}

func (a *applier) account(ctx context.Context, ap string, acc *Account) error {
	id := acc.ID
	if id == "" {
		id = a.d.DefaultAccount
	}
	existed := a.d.IAM.AccountExists(id)
	if err := a.d.IAM.EnsureAccount(ctx, id); err != nil {
		return a.f.errorAt(ap, err)
	}
	a.res.count(!existed, false)
	for i, k := range acc.RootAccessKeys {
		created, err := a.d.IAM.ImportAccessKey(ctx, id, "", k.ID, k.Secret)
		if err != nil {
			return a.f.errorAt(fmt.Sprintf("%s.rootAccessKeys[%d]", ap, i), err)
		}
		a.res.count(created, false)
	}
	policyARNs := map[string]string{}
	for i := range acc.Policies {
		arn, err := a.policy(ctx, id, &acc.Policies[i])
		if err != nil {
			return a.f.errorAt(fmt.Sprintf("%s.policies[%d]", ap, i), err)
		}
		policyARNs[strings.ToLower(acc.Policies[i].Name)] = arn
	}
	resolve := func(ref string) string {
		if strings.HasPrefix(ref, "arn:") {
			return ref
		}
		if arn, ok := policyARNs[strings.ToLower(ref)]; ok {
			return arn
		}
		return "arn:aws:iam::" + id + ":policy/" + ref
	}
	for i := range acc.Groups {
		if err := a.group(ctx, fmt.Sprintf("%s.groups[%d]", ap, i), id, &acc.Groups[i], resolve); err != nil {
			return err
		}
	}
	for i := range acc.Users {
		if err := a.user(ctx, fmt.Sprintf("%s.users[%d]", ap, i), id, &acc.Users[i], resolve); err != nil {
			return err
		}
	}
	for i := range acc.Roles {
		if err := a.role(ctx, fmt.Sprintf("%s.roles[%d]", ap, i), id, &acc.Roles[i], resolve); err != nil {
			return err
		}
	}
	for i := range acc.Repositories {
		if err := a.repository(ctx, fmt.Sprintf("%s.repositories[%d]", ap, i), id, &acc.Repositories[i]); err != nil {
			return err
		}
	}
	for i := range acc.Parameters {
		if err := a.parameter(ctx, id, &acc.Parameters[i]); err != nil {
			return a.f.errorAt(fmt.Sprintf("%s.parameters[%d]", ap, i), err)
		}
	}
	for i := range acc.Secrets {
		if err := a.secret(ctx, id, &acc.Secrets[i]); err != nil {
			return a.f.errorAt(fmt.Sprintf("%s.secrets[%d]", ap, i), err)
		}
	}
	return nil
}

// policy creates the managed policy or makes the seeded document its
// default version.
func (a *applier) policy(ctx context.Context, account string, p *ManagedPolicy) (string, error) {
	path := p.Path
	if path == "" {
		path = "/"
	}
	arn := "arn:aws:iam::" + account + ":policy" + path + p.Name
	cur, err := a.d.IAM.GetPolicy(ctx, account, arn)
	if apierr.HasCode(err, apierr.NoSuchEntity) {
		created, err := a.d.IAM.CreatePolicy(ctx, account, iamsvc.CreatePolicyInput{
			PolicyName: p.Name, Path: p.Path, PolicyDocument: p.Document.Text, Description: p.Description})
		if err != nil {
			return "", err
		}
		a.res.count(true, false)
		return created.ARN, nil
	}
	if err != nil {
		return "", err
	}
	v, err := a.d.IAM.GetPolicyVersion(ctx, account, cur.ARN, cur.DefaultVersionID)
	if err != nil {
		return "", err
	}
	if v.Document == p.Document.Text {
		a.res.count(false, false)
		return cur.ARN, nil
	}
	// IAM keeps at most five versions: make room by dropping the oldest
	// non-default one, as an operator updating a policy would.
	versions, err := a.d.IAM.ListPolicyVersions(ctx, account, cur.ARN)
	if err != nil {
		return "", err
	}
	if len(versions) >= 5 {
		oldest := slices.MinFunc(slices.DeleteFunc(versions, func(v iamsvc.PolicyVersion) bool { return v.IsDefaultVersion }),
			func(x, y iamsvc.PolicyVersion) int { return x.CreateDate.Compare(y.CreateDate) })
		if err := a.d.IAM.DeletePolicyVersion(ctx, account, cur.ARN, oldest.VersionID); err != nil {
			return "", err
		}
	}
	if _, err := a.d.IAM.CreatePolicyVersion(ctx, account, cur.ARN, p.Document.Text, true); err != nil {
		return "", err
	}
	a.res.count(false, true)
	return cur.ARN, nil
}

// attachments attaches managed policies and puts inline ones on an entity.
func (a *applier) attachments(ctx context.Context, p, account string, kind iamsvc.EntityKind, name string, managed []string, inline []InlinePolicy, resolve func(string) string) error {
	for i, ref := range managed {
		if err := a.d.IAM.AttachPolicy(ctx, account, kind, name, resolve(ref)); err != nil {
			return a.f.errorAt(fmt.Sprintf("%s.policies[%d]", p, i), err)
		}
	}
	for i, ip := range inline {
		ipp := fmt.Sprintf("%s.inlinePolicies[%d]", p, i)
		if ip.Name == "" || !ip.Document.Set {
			return a.f.errorAt(ipp, fmt.Errorf("name and document are required"))
		}
		old, err := a.d.IAM.GetInlinePolicy(ctx, account, kind, name, ip.Name)
		if err == nil && old == ip.Document.Text {
			continue
		}
		if err := a.d.IAM.PutInlinePolicy(ctx, account, kind, name, ip.Name, ip.Document.Text); err != nil {
			return a.f.errorAt(ipp, err)
		}
	}
	return nil
}

func (a *applier) group(ctx context.Context, p, account string, g *Group, resolve func(string) string) error {
	_, _, err := a.d.IAM.GetGroup(ctx, account, g.Name)
	created := false
	if apierr.HasCode(err, apierr.NoSuchEntity) {
		_, err = a.d.IAM.CreateGroup(ctx, account, g.Name, g.Path)
		created = true
	}
	if err != nil {
		return a.f.errorAt(p, err)
	}
	a.res.count(created, false)
	return a.attachments(ctx, p, account, iamsvc.GroupEntity, g.Name, g.Policies, g.InlinePolicies, resolve)
}

func tagList(m map[string]string) []iamsvc.Tag {
	out := make([]iamsvc.Tag, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, iamsvc.Tag{Key: k, Value: m[k]})
	}
	return out
}

func (a *applier) user(ctx context.Context, p, account string, u *User, resolve func(string) string) error {
	_, err := a.d.IAM.GetUser(ctx, account, u.Name)
	created := false
	if apierr.HasCode(err, apierr.NoSuchEntity) {
		_, err = a.d.IAM.CreateUser(ctx, account, iamsvc.CreateUserInput{UserName: u.Name, Path: u.Path, Tags: tagList(u.Tags)})
		created = true
	} else if err == nil && len(u.Tags) > 0 {
		err = a.d.IAM.TagUser(ctx, account, u.Name, tagList(u.Tags))
	}
	if err != nil {
		return a.f.errorAt(p, err)
	}
	a.res.count(created, false)
	for i, k := range u.AccessKeys {
		if _, err := a.d.IAM.ImportAccessKey(ctx, account, u.Name, k.ID, k.Secret); err != nil {
			return a.f.errorAt(fmt.Sprintf("%s.accessKeys[%d]", p, i), err)
		}
	}
	for i, g := range u.Groups {
		if err := a.d.IAM.AddUserToGroup(ctx, account, g, u.Name); err != nil {
			return a.f.errorAt(fmt.Sprintf("%s.groups[%d]", p, i), err)
		}
	}
	return a.attachments(ctx, p, account, iamsvc.UserEntity, u.Name, u.Policies, u.InlinePolicies, resolve)
}

func (a *applier) role(ctx context.Context, p, account string, r *Role, resolve func(string) string) error {
	cur, err := a.d.IAM.GetRole(ctx, account, r.Name)
	created, changed := false, false
	switch {
	case apierr.HasCode(err, apierr.NoSuchEntity):
		_, err = a.d.IAM.CreateRole(ctx, account, iamsvc.CreateRoleInput{RoleName: r.Name, Path: r.Path,
			AssumeRolePolicyDocument: r.TrustPolicy.Text, Description: r.Description,
			MaxSessionDuration: r.MaxSessionDuration, Tags: tagList(r.Tags)})
		created = true
	case err == nil && cur.AssumeRolePolicyDocument != r.TrustPolicy.Text:
		err = a.d.IAM.UpdateAssumeRolePolicy(ctx, account, r.Name, r.TrustPolicy.Text)
		changed = true
	}
	if err != nil {
		if changed {
			return a.f.errorAt(p+".trustPolicy", err)
		}
		return a.f.errorAt(p, err)
	}
	a.res.count(created, changed)
	return a.attachments(ctx, p, account, iamsvc.RoleEntity, r.Name, r.Policies, r.InlinePolicies, resolve)
}

func (a *applier) region(r string) string {
	if r == "" {
		return a.d.DefaultRegion
	}
	return r
}

func (a *applier) repository(ctx context.Context, p, account string, r *Repository) error {
	k := storage.RepoKey{Account: account, Region: a.region(r.Region), Name: r.Name}
	created, err := a.d.Repositories.EnsureRepository(ctx, ecr.RepositorySpec{
		Key: k, TagMutability: r.TagMutability, MutabilityExclusionFilters: r.TagMutabilityExclusionFilters,
		ScanOnPush: r.ScanOnPush, Tags: r.Tags, Policy: r.Policy.Text, LifecyclePolicy: r.LifecyclePolicy.Text,
	})
	if err != nil {
		return a.f.errorAt(p, err)
	}
	a.res.count(created, !created)
	for i, img := range r.Images {
		pushed, err := a.loadImage(ctx, k, img)
		if err != nil {
			return a.f.errorAt(fmt.Sprintf("%s.images[%d]", p, i), err)
		}
		a.res.count(pushed, false)
	}
	return nil
}

func (a *applier) parameter(ctx context.Context, account string, p *Parameter) error {
	sc := params.Scope{Account: account, Region: a.region(p.Region)}
	typ := p.Type
	if typ == "" {
		typ = params.TypeString
	}
	cur, err := a.d.Params.Get(ctx, sc, params.Ref{Name: p.Name}, true)
	exists := err == nil
	if exists && cur.Value == p.Value && cur.Type == typ && cur.Description == p.Description {
		a.res.count(false, false)
		return nil
	}
	if err != nil && !apierr.HasCode(err, apierr.ParameterNotFound) {
		return err
	}
	desc := p.Description
	_, _, err = a.d.Params.Put(ctx, sc, params.PutInput{Name: p.Name, Value: p.Value, Type: typ,
		Overwrite: exists, Description: &desc, User: "arn:aws:iam::" + account + ":root"})
	if err != nil {
		return err
	}
	a.res.count(!exists, exists)
	return nil
}

func (a *applier) secret(ctx context.Context, account string, s *Secret) error {
	sc := secrets.Scope{Account: account, Region: a.region(s.Region)}
	value := s.Value.Text
	_, err := a.d.Secrets.Describe(ctx, sc, s.Name)
	if apierr.HasCode(err, apierr.ResourceNotFound) {
		arn, err := secrets.NewARN(sc, s.Name)
		if err != nil {
			return err
		}
		if _, err := a.d.Secrets.Create(ctx, sc, secrets.CreateInput{Name: s.Name, ARN: arn,
			Description: s.Description, Value: secrets.Payload{String: &value}}); err != nil {
			return err
		}
		a.res.count(true, false)
		return nil
	}
	if err != nil {
		return err
	}
	cur, err := a.d.Secrets.GetValue(ctx, sc, s.Name, "", "")
	if err == nil && cur.String != nil && *cur.String == value {
		a.res.count(false, false)
		return nil
	}
	if err != nil && !apierr.HasCode(err, apierr.ResourceNotFound) {
		return err
	}
	if _, err := a.d.Secrets.PutValue(ctx, sc, secrets.PutInput{ID: s.Name, Value: secrets.Payload{String: &value}}); err != nil {
		return err
	}
	a.res.count(false, true)
	return nil
}
