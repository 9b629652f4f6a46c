package iam

import (
	"strings"
)

// Request is one authorization question. The caller collects the policies;
// Evaluate derives the aws:Principal* keys itself.
type Request struct {
	Principal        Principal
	Action           string // "ecr:BatchGetImage"
	Resource         string // ARN or "*" ("" means "*")
	ResourceAccount  string // owner of the resource; "" means the principal's account
	IdentityPolicies []*Policy
	Boundary         *Policy
	SessionPolicies  []*Policy
	ResourcePolicy   *Policy
	// Context holds request keys (aws:SourceIp, aws:CurrentTime,
	// aws:SecureTransport, ecr:ResourceTag/K…). Names are case-insensitive;
	// an exact-case hit is cheapest. The engine has no clock: callers supply
	// aws:CurrentTime / aws:EpochTime when policies may use them.
	Context map[string][]string
}

// Effect is the outcome of an evaluation.
type Effect int

const (
	ImplicitDeny Effect = iota
	Allow
	ExplicitDeny
)

func (e Effect) String() string {
	switch e {
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return "ImplicitDeny"
}

// DenialKind picks the context phrase of the AWS denial message.
type DenialKind int

const (
	NotDenied DenialKind = iota
	NoIdentityAllow
	NoResourceAllow
	NoBoundaryAllow
	NoSessionAllow
	ExplicitDenyIdentity
	ExplicitDenyResource
	ExplicitDenyBoundary
	ExplicitDenySession
)

// PolicySource says in which slot of the Request a policy was found.
type PolicySource int

const (
	SourceIdentity PolicySource = iota
	SourceResource
	SourceBoundary
	SourceSession
)

// phrase is how AWS names each source in messages.
func (s PolicySource) phrase() string {
	switch s {
	case SourceResource:
		return "a resource-based policy"
	case SourceBoundary:
		return "a permissions boundary"
	case SourceSession:
		return "a session policy"
	}
	return "an identity-based policy"
}

// StatementRef identifies a statement that decided the outcome.
type StatementRef struct {
	Kind       PolicyKind
	Source     PolicySource
	PolicyName string
	Sid        string
	Index      int
}

func (r StatementRef) String() string {
	s := r.Source.phrase()
	if r.PolicyName != "" {
		s += " " + quote(r.PolicyName)
	}
	return s + " (" + statementDesc(r.Sid, r.Index) + ")"
}

// Decision is the verdict with its explanation.
type Decision struct {
	Effect  Effect
	Allowed bool
	Reason  string
	Denial  DenialKind
	Matched []StatementRef
}

// hit points at a statement without building a StatementRef, so that the
// scan allocates nothing.
type hit struct {
	policy *Policy
	stmt   *statement
	rank   principalMatch
}

func (h hit) found() bool { return h.stmt != nil }

func (h hit) ref(src PolicySource) StatementRef {
	return StatementRef{Kind: h.policy.kind, Source: src, PolicyName: h.policy.Name, Sid: h.stmt.sid, Index: h.stmt.index}
}

type scanResult struct {
	deny  hit
	allow hit // strongest principal match among applicable allows
}

// scan finds the first applicable Deny and the best applicable Allow. It
// stops at a Deny: nothing can outweigh it.
func scan(policies []*Policy, action, resource string, ec *evalCtx) scanResult {
	var r scanResult
	for _, p := range policies {
		if p == nil {
			continue
		}
		for i := range p.stmts {
			st := &p.stmts[i]
			if !st.deny && r.allow.rank == pmDirect {
				continue // an allow cannot get any better
			}
			m := st.applies(action, resource, ec)
			if m == pmNone {
				continue
			}
			if st.deny {
				r.deny = hit{policy: p, stmt: st, rank: m}
				return r
			}
			if m > r.allow.rank {
				r.allow = hit{policy: p, stmt: st, rank: m}
			}
		}
	}
	return r
}

// Evaluate decides a request the way AWS does (§6.4): an explicit Deny
// anywhere wins; in the same account an identity allow (within boundary and
// session ceilings) or a resource-policy allow naming the caller suffices;
// across accounts both sides must allow.
func Evaluate(req *Request) Decision {
	action := req.Action
	resource := req.Resource
	if resource == "" {
		resource = "*"
	}
	if strings.EqualFold(action, "sts:GetCallerIdentity") {
		return Decision{Effect: Allow, Allowed: true, Reason: "sts:GetCallerIdentity is always allowed"}
	}
	ec := evalCtx{req: req}
	p := &req.Principal
	lowered := strings.ToLower(action) // patterns are compiled lower-case
	hasIdentity := p.Type != PrincipalRoot && p.Type != PrincipalService && p.Type != PrincipalAnonymous

	var id, bd, ss, rs scanResult
	one := [1]*Policy{}
	if hasIdentity {
		id = scan(req.IdentityPolicies, lowered, resource, &ec)
		if id.deny.found() {
			return denied(ExplicitDenyIdentity, id.deny, SourceIdentity)
		}
	}
	if req.ResourcePolicy != nil {
		one[0] = req.ResourcePolicy
		rs = scan(one[:], lowered, resource, &ec)
		if rs.deny.found() {
			return denied(ExplicitDenyResource, rs.deny, SourceResource)
		}
	}
	if hasIdentity && req.Boundary != nil {
		one[0] = req.Boundary
		bd = scan(one[:], lowered, resource, &ec)
		if bd.deny.found() {
			return denied(ExplicitDenyBoundary, bd.deny, SourceBoundary)
		}
	}
	if hasIdentity && len(req.SessionPolicies) > 0 {
		ss = scan(req.SessionPolicies, lowered, resource, &ec)
		if ss.deny.found() {
			return denied(ExplicitDenySession, ss.deny, SourceSession)
		}
	}

	boundaryOK := req.Boundary == nil || bd.allow.found()
	sessionOK := len(req.SessionPolicies) == 0 || ss.allow.found()
	ceilingDenial := NotDenied
	switch {
	case !boundaryOK:
		ceilingDenial = NoBoundaryAllow
	case !sessionOK:
		ceilingDenial = NoSessionAllow
	}

	var identityOK bool
	identityDenial := NotDenied
	switch {
	case p.Type == PrincipalRoot:
		// Root holds every permission of its own account; across accounts
		// only the resource policy is left to decide.
		identityOK = true
	case !hasIdentity:
		identityDenial = NoResourceAllow
	case !id.allow.found():
		identityDenial = NoIdentityAllow
	default:
		identityOK = ceilingDenial == NotDenied
		identityDenial = ceilingDenial
	}

	owner := req.ResourceAccount
	if owner == "" {
		owner = p.Account
	}
	var resourceOK bool
	if !hasIdentity || owner != p.Account || p.Type == PrincipalRoot {
		resourceOK = rs.allow.found()
	} else {
		// Same account: the resource policy grants alone only when it names
		// the caller; a role-ARN grant to a session stays under the ceilings.
		switch rs.allow.rank {
		case pmDirect:
			resourceOK = true
		case pmRole:
			resourceOK = ceilingDenial == NotDenied
			if !resourceOK && !identityOK && identityDenial == NoIdentityAllow {
				identityDenial = ceilingDenial
			}
		}
	}

	// A role's trust policy is not optional the way other resource policies
	// are inside one account: an identity allow for sts:AssumeRole only
	// counts for roles whose trust policy lets the caller in (§6.4), and
	// that goes for the account's root user too.
	trustMissing := req.ResourcePolicy != nil && req.ResourcePolicy.kind == TrustPolicy && !rs.allow.found()

	switch {
	case !hasIdentity && p.Type != PrincipalRoot:
		if resourceOK {
			return allowed(hit{}, rs.allow)
		}
		return implicit(NoResourceAllow, action)
	case owner == p.Account && p.Type == PrincipalRoot:
		if trustMissing {
			return implicit(NoResourceAllow, action)
		}
		return allowed(hit{}, hit{})
	case owner == p.Account:
		if resourceOK && !identityOK {
			return allowed(hit{}, rs.allow)
		}
		if identityOK && trustMissing {
			return implicit(NoResourceAllow, action)
		}
		if identityOK {
			return allowed(id.allow, hit{})
		}
		return implicit(identityDenial, action)
	default: // cross-account: both sides
		if !identityOK {
			return implicit(identityDenial, action)
		}
		if !resourceOK {
			return implicit(NoResourceAllow, action)
		}
		return allowed(id.allow, rs.allow)
	}
}

func denied(kind DenialKind, h hit, src PolicySource) Decision {
	ref := h.ref(src)
	return Decision{
		Effect:  ExplicitDeny,
		Denial:  kind,
		Reason:  "explicit deny in " + ref.String(),
		Matched: []StatementRef{ref},
	}
}

func implicit(kind DenialKind, action string) Decision {
	return Decision{Effect: ImplicitDeny, Denial: kind, Reason: strings.TrimPrefix(denialContext(kind, action), "because ")}
}

func allowed(identity, resource hit) Decision {
	d := Decision{Effect: Allow, Allowed: true}
	switch {
	case identity.found() && resource.found():
		a, b := identity.ref(SourceIdentity), resource.ref(SourceResource)
		d.Matched = []StatementRef{a, b}
		d.Reason = "allowed by " + a.String() + " and " + b.String()
	case identity.found():
		a := identity.ref(SourceIdentity)
		d.Matched = []StatementRef{a}
		d.Reason = "allowed by " + a.String()
	case resource.found():
		b := resource.ref(SourceResource)
		d.Matched = []StatementRef{b}
		d.Reason = "allowed by " + b.String()
	default:
		d.Reason = "allowed: the root user holds every permission in its own account"
	}
	return d
}

func quote(s string) string { return `"` + s + `"` }

func statementDesc(sid string, index int) string {
	if sid != "" {
		return "statement " + quote(sid)
	}
	return statementLabel("", index)
}
