// Package authz decides whether an authenticated principal may perform an
// action: it gathers the principal's identity policies, the resource policy
// and the request's condition keys, asks the policy engine, and turns a
// denial into apierr.AccessDenied with AWS's message.
//
// It sits on the path of every registry request, so everything that does not
// change per request is cached: identity policy sets per principal (dropped
// whenever the identity store's generation moves), parsed repository
// policies keyed by their text, and repository policy/tags for a short TTL
// (and dropped at once through InvalidateRepository).
package authz

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/arn"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/storage"
)

// PolicySource supplies identity policies (internal/iamsvc implements it).
type PolicySource interface {
	PoliciesFor(p *auth.Principal) (*iamsvc.PolicySet, error)
	Generation() uint64
}

// RepoSource reads repository metadata (policy and tags); storage.MetaStore implements it.
type RepoSource interface {
	GetRepository(ctx context.Context, k storage.RepoKey) (*storage.Repository, error)
}

// Authorizer is safe for concurrent use.
type Authorizer struct {
	policies PolicySource
	repos    RepoSource
	now      func() time.Time
	repoTTL  time.Duration

	idMu sync.RWMutex
	ids  map[string]*identityEntry

	repoMu sync.RWMutex
	repoC  map[storage.RepoKey]*repoEntry

	polMu  sync.RWMutex
	parsed map[string]*iam.Policy // resource policy text → compiled

	clock   atomic.Pointer[clockStrings]
	scratch sync.Pool

	onInvalidate func(k storage.RepoKey) // tells other processes (WithInvalidationHook)
	stats        counters
}

type identityEntry struct {
	gen       uint64
	set       *iamsvc.PolicySet
	principal iam.Principal
}

type repoEntry struct {
	arn    string
	policy *iam.Policy
	tags   []tagKV
	loaded time.Time
}

type tagKV struct {
	key string // ecr:ResourceTag/K (the engine also answers aws:ResourceTag/K from it)
	val []string
}

type clockStrings struct {
	sec          int64
	rfc3339, epo string
}

// scratch backs one evaluation so that the cached path allocates little.
type scratch struct {
	req                                             iam.Request
	ctx                                             map[string][]string
	ip, secure, current, epoch, region, via, ua, rf [1]string
	mfa, issued                                     [1]string
}

// Option tunes an Authorizer.
type Option func(*Authorizer)

// WithClock injects the time source for aws:CurrentTime when RequestInfo.Now is zero.
func WithClock(now func() time.Time) Option { return func(a *Authorizer) { a.now = now } }

// WithRepoTTL sets how long repository policy/tags are cached (default 2s;
// in-process writers call InvalidateRepository so only other processes wait).
func WithRepoTTL(d time.Duration) Option { return func(a *Authorizer) { a.repoTTL = d } }

// WithInvalidationHook calls fn after every InvalidateRepository, so that
// other processes sharing the metadata can drop their copy too (the server
// sends a PostgreSQL notification; receivers call ForgetRepository).
func WithInvalidationHook(fn func(k storage.RepoKey)) Option {
	return func(a *Authorizer) { a.onInvalidate = fn }
}

// New builds an Authorizer. repos may be nil when only AuthorizeRepoWith,
// AuthorizeRegistry and Authorize are used.
func New(policies PolicySource, repos RepoSource, opts ...Option) (*Authorizer, error) {
	if policies == nil {
		return nil, errors.New("authz: policy source required")
	}
	a := &Authorizer{policies: policies, repos: repos, now: time.Now, repoTTL: 2 * time.Second,
		ids: map[string]*identityEntry{}, repoC: map[storage.RepoKey]*repoEntry{}, parsed: map[string]*iam.Policy{}}
	for _, o := range opts {
		o(a)
	}
	a.scratch.New = func() any { return &scratch{ctx: make(map[string][]string, 8)} }
	return a, nil
}

// AuthorizeRepo decides action (e.g. "ecr:BatchGetImage") on repository k,
// reading its policy and tags through the cache. nil = allowed; otherwise an
// apierr error (AccessDenied with AWS's message, or the principal's
// credentials no longer resolving).
func (a *Authorizer) AuthorizeRepo(ctx context.Context, p *auth.Principal, action string, k storage.RepoKey, info auth.RequestInfo) error {
	re, err := a.repo(ctx, k)
	if err != nil {
		return err
	}
	if info.Region == "" {
		info.Region = k.Region
	}
	return a.decide(p, action, re.arn, k.Account, re.policy, re.tags, info)
}

// AuthorizeRepoWith is AuthorizeRepo for callers that already hold the
// repository (the ECR API), bypassing the repository cache.
func (a *Authorizer) AuthorizeRepoWith(_ context.Context, p *auth.Principal, action string, r *storage.Repository, info auth.RequestInfo) error {
	re := a.buildRepoEntry(r.Key, r)
	if info.Region == "" {
		info.Region = r.Key.Region
	}
	return a.decide(p, action, re.arn, r.Key.Account, re.policy, re.tags, info)
}

// AuthorizeRegistry decides a registry-level action (resource "*"), e.g.
// ecr:GetAuthorizationToken or ecr:DescribeRepositories without names, in
// account's registry in region.
func (a *Authorizer) AuthorizeRegistry(_ context.Context, p *auth.Principal, action, account, region string, info auth.RequestInfo) error {
	// Registry policies only govern replication and pull-through cache (§6.5).
	if info.Region == "" {
		info.Region = region
	}
	return a.decide(p, action, "*", account, nil, nil, info)
}

// Authorize decides action on any resource ARN owned by resourceAccount,
// with an optional resource policy document (IAM, STS, SSM, Secrets Manager
// callers). An unparsable resourcePolicy is an error.
func (a *Authorizer) Authorize(_ context.Context, p *auth.Principal, action, resource, resourceAccount, resourcePolicy string, info auth.RequestInfo) error {
	var rp *iam.Policy
	if resourcePolicy != "" {
		var err error
		if rp, err = a.resourcePolicy(resourcePolicy); err != nil {
			return apierr.Wrap(apierr.Internal, err, "stored resource policy is invalid")
		}
	}
	return a.decide(p, action, resource, resourceAccount, rp, nil, info)
}

// Allowed is AuthorizeRepo as a boolean, for filtering listings (the catalog).
func (a *Authorizer) Allowed(ctx context.Context, p *auth.Principal, action string, k storage.RepoKey, info auth.RequestInfo) bool {
	return a.AuthorizeRepo(ctx, p, action, k, info) == nil
}

// InvalidateRepository drops the cached policy and tags of k; call it after
// changing a repository's policy or tags, or creating/deleting it.
func (a *Authorizer) InvalidateRepository(k storage.RepoKey) {
	a.ForgetRepository(k)
	if a.onInvalidate != nil {
		a.onInvalidate(k)
	}
}

// ForgetRepository drops the cached policy and tags of k without telling
// anyone (another process changed them).
func (a *Authorizer) ForgetRepository(k storage.RepoKey) {
	a.repoMu.Lock()
	delete(a.repoC, k)
	a.repoMu.Unlock()
}

// RepoEffect is AuthorizeRepoWith for listings, which must tell an explicit
// Deny (the repository stays hidden whatever else allows) from an implicit
// one (a registry-wide grant may still cover it). err is the AccessDenied
// error for any denial, or a failure to decide.
func (a *Authorizer) RepoEffect(_ context.Context, p *auth.Principal, action string, r *storage.Repository, info auth.RequestInfo) (iam.Effect, error) {
	re := a.buildRepoEntry(r.Key, r)
	if info.Region == "" {
		info.Region = r.Key.Region
	}
	return a.decideEffect(p, action, re.arn, r.Key.Account, re.policy, re.tags, info)
}

// Effect is Authorize for listings (see RepoEffect), without a resource policy.
func (a *Authorizer) Effect(_ context.Context, p *auth.Principal, action, resource, resourceAccount string, info auth.RequestInfo) (iam.Effect, error) {
	return a.decideEffect(p, action, resource, resourceAccount, nil, nil, info)
}

// ForgetRepositories drops every cached repository policy and tag set.
func (a *Authorizer) ForgetRepositories() {
	a.repoMu.Lock()
	clear(a.repoC)
	a.repoMu.Unlock()
}

func (a *Authorizer) decide(p *auth.Principal, action, resource, resourceAccount string, rp *iam.Policy, tags []tagKV, info auth.RequestInfo) error {
	_, err := a.decideEffect(p, action, resource, resourceAccount, rp, tags, info)
	return err
}

func (a *Authorizer) decideEffect(p *auth.Principal, action, resource, resourceAccount string, rp *iam.Policy, tags []tagKV, info auth.RequestInfo) (iam.Effect, error) {
	if p == nil {
		return iam.ImplicitDeny, apierr.New(apierr.Unauthenticated, "Not Authorized")
	}
	id, err := a.identity(p)
	if err != nil {
		return iam.ImplicitDeny, err
	}
	s := a.scratch.Get().(*scratch)
	clear(s.ctx)
	s.req = iam.Request{
		Principal: id.principal, Action: action, Resource: resource, ResourceAccount: resourceAccount,
		IdentityPolicies: id.set.Identity, Boundary: id.set.Boundary, SessionPolicies: id.set.Session,
		ResourcePolicy: rp, Context: s.ctx,
	}
	a.fillContext(s, p, action, info, tags)
	d := iam.Evaluate(&s.req)
	if !d.Allowed && resourceAccount != "" && resourceAccount != p.Account && (rp != nil || len(tags) > 0 || len(info.ResourceTags) > 0) {
		// A denial to another account must not depend on what the owner
		// has: a guard Deny in the resource policy, or tags the caller's
		// own ecr:ResourceTag conditions probe, would tell an existing
		// resource from a missing name and leak tag values. Answer as if
		// the resource had neither — the answer a missing name gets.
		clear(s.ctx)
		info.ResourceTags = nil
		s.req.ResourcePolicy = nil
		a.fillContext(s, p, action, info, nil)
		d = iam.Evaluate(&s.req)
		if d.Allowed { // cannot happen: cross-account needs a resource policy
			d = iam.Decision{Effect: iam.ImplicitDeny, Denial: iam.NoResourceAllow}
		}
	}
	var out error
	if !d.Allowed {
		out = apierr.New(apierr.AccessDenied, "%s", d.Message(&s.req))
		a.stats.denied.Add(1)
	} else {
		a.stats.allowed.Add(1)
	}
	s.req = iam.Request{}
	a.scratch.Put(s)
	return d.Effect, out
}

// fillContext publishes every request-level condition key berth knows
// (docs/SECURITY.md lists them, and the ones it cannot know). Principal
// keys the engine derives itself (aws:PrincipalArn, aws:userid…); here come
// the ones that depend on the credentials and the request.
func (a *Authorizer) fillContext(s *scratch, p *auth.Principal, action string, info auth.RequestInfo, tags []tagKV) {
	if info.SourceIP != "" {
		s.ip[0] = info.SourceIP
		s.ctx["aws:SourceIp"] = s.ip[:]
	}
	if info.Secure {
		s.secure[0] = "true"
	} else {
		s.secure[0] = "false"
	}
	s.ctx["aws:SecureTransport"] = s.secure[:]
	now := info.Now
	if now.IsZero() {
		now = a.now()
	}
	c := a.clockFor(now)
	s.current[0], s.epoch[0] = c.rfc3339, c.epo
	s.ctx["aws:CurrentTime"] = s.current[:]
	s.ctx["aws:EpochTime"] = s.epoch[:]
	if info.Region != "" {
		s.region[0] = info.Region
		s.ctx["aws:RequestedRegion"] = s.region[:]
	}
	// Every request reaches berth directly from its caller.
	s.via[0] = "false"
	s.ctx["aws:ViaAWSService"] = s.via[:]
	if info.UserAgent != "" {
		s.ua[0] = info.UserAgent
		s.ctx["aws:UserAgent"] = s.ua[:]
	}
	if info.Referer != "" {
		s.rf[0] = info.Referer
		s.ctx["aws:Referer"] = s.rf[:]
	}
	if p.SessionID != "" {
		// Temporary credentials: AWS sets MultiFactorAuthPresent to false
		// when no MFA was used (berth has no MFA), and leaves it out for
		// long-term keys — the difference "Bool" vs "BoolIfExists" guards rely on.
		s.mfa[0] = "false"
		s.ctx["aws:MultiFactorAuthPresent"] = s.mfa[:]
		if !p.Issued.IsZero() {
			s.issued[0] = p.Issued.UTC().Truncate(time.Second).Format(time.RFC3339)
			s.ctx["aws:TokenIssueTime"] = s.issued[:]
		}
	}
	for i := range tags {
		s.ctx[tags[i].key] = tags[i].val
	}
	if len(info.ResourceTags) > 0 {
		svc, _, _ := strings.Cut(action, ":")
		svc = strings.ToLower(svc)
		for k, v := range info.ResourceTags {
			vals := []string{v}
			s.ctx["aws:ResourceTag/"+k] = vals
			s.ctx[svc+":ResourceTag/"+k] = vals
		}
	}
	for k, v := range info.Keys {
		s.ctx[k] = v
	}
}

// clockFor formats the time keys once per second rather than per request.
func (a *Authorizer) clockFor(now time.Time) *clockStrings {
	sec := now.Unix()
	if c := a.clock.Load(); c != nil && c.sec == sec {
		return c
	}
	c := &clockStrings{sec: sec, rfc3339: now.UTC().Truncate(time.Second).Format(time.RFC3339), epo: strconv.FormatInt(sec, 10)}
	a.clock.Store(c)
	return c
}

func (a *Authorizer) identity(p *auth.Principal) (*identityEntry, error) {
	key := p.ARN
	if p.SessionID != "" {
		key = p.SessionID
	}
	gen := a.policies.Generation()
	a.idMu.RLock()
	e := a.ids[key]
	a.idMu.RUnlock()
	if e != nil && e.gen == gen && samePrincipal(&e.principal, p) {
		a.stats.identityHits.Add(1)
		return e, nil
	}
	a.stats.identityMisses.Add(1)
	set, err := a.policies.PoliciesFor(p)
	if err != nil {
		return nil, err
	}
	e = &identityEntry{gen: gen, set: set, principal: iamsvc.IAMPrincipal(p)}
	a.idMu.Lock()
	if len(a.ids) > 100000 {
		clear(a.ids)
	}
	a.ids[key] = e
	a.idMu.Unlock()
	return e, nil
}

// samePrincipal guards the cache key (ARN or session id) against a
// different principal shape under the same key.
func samePrincipal(c *iam.Principal, p *auth.Principal) bool {
	return c.ARN == p.ARN && c.Account == p.Account && c.UserID == p.UserID
}

func (a *Authorizer) repo(ctx context.Context, k storage.RepoKey) (*repoEntry, error) {
	a.repoMu.RLock()
	e := a.repoC[k]
	a.repoMu.RUnlock()
	if e != nil && a.now().Sub(e.loaded) < a.repoTTL {
		a.stats.repoHits.Add(1)
		return e, nil
	}
	a.stats.repoMisses.Add(1)
	var r *storage.Repository
	if a.repos != nil {
		var err error
		r, err = a.repos.GetRepository(ctx, k)
		if err != nil && !errors.Is(err, storage.ErrNotFound) && !apierr.HasCode(err, apierr.NameUnknown) {
			return nil, err
		}
		if err != nil {
			r = nil // authorize against a repository without policy; the handler reports NAME_UNKNOWN
		}
	}
	e = a.buildRepoEntry(k, r)
	a.repoMu.Lock()
	if len(a.repoC) > 100000 {
		clear(a.repoC)
	}
	a.repoC[k] = e
	a.repoMu.Unlock()
	return e, nil
}

func (a *Authorizer) buildRepoEntry(k storage.RepoKey, r *storage.Repository) *repoEntry {
	e := &repoEntry{arn: arn.Repository(k.Region, k.Account, k.Name), loaded: a.now()}
	if r == nil {
		return e
	}
	if r.Policy != "" {
		// A stored policy was validated when set; if it no longer parses
		// (engine change), treat it as granting nothing rather than failing every pull.
		e.policy, _ = a.resourcePolicy(r.Policy)
	}
	for k, v := range r.Tags {
		e.tags = append(e.tags, tagKV{key: "ecr:ResourceTag/" + k, val: []string{v}})
	}
	return e
}

func (a *Authorizer) resourcePolicy(doc string) (*iam.Policy, error) {
	a.polMu.RLock()
	p := a.parsed[doc]
	a.polMu.RUnlock()
	if p != nil {
		return p, nil
	}
	p, err := iam.ParsePolicy(doc, iam.ResourcePolicy)
	if err != nil {
		return nil, err
	}
	p.Name = "resource policy"
	a.polMu.Lock()
	if len(a.parsed) > 10000 {
		clear(a.parsed)
	}
	a.parsed[doc] = p
	a.polMu.Unlock()
	return p, nil
}
