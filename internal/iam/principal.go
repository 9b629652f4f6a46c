package iam

import (
	"strings"

	"github.com/berth-dev/berth/internal/arn"
)

// PrincipalType is who is making a request.
type PrincipalType string

const (
	PrincipalRoot        PrincipalType = "Root"
	PrincipalUser        PrincipalType = "User"
	PrincipalAssumedRole PrincipalType = "AssumedRole"
	PrincipalRole        PrincipalType = "Role"
	PrincipalAnonymous   PrincipalType = "Anonymous"
	PrincipalService     PrincipalType = "Service" // ARN holds the service name, e.g. "replication.ecr.amazonaws.com"
)

// Principal is the authenticated caller.
type Principal struct {
	Type     PrincipalType
	Account  string            // 12 digits
	ARN      string            // user, session (arn:aws:sts::A:assumed-role/R/S) or root ARN
	RoleARN  string            // AssumedRole: arn:aws:iam::A:role/path/R
	Username string            // IAM users
	UserID   string            // aws:userid (AIDA…, AROA…:session)
	Tags     map[string]string // aws:PrincipalTag/*
}

// callerARN is the ARN AWS prints in denial messages.
func (p *Principal) callerARN() string {
	switch {
	case p.ARN != "":
		return p.ARN
	case p.Type == PrincipalRoot && p.Account != "":
		return arn.Root(p.Account)
	case p.Type == PrincipalAnonymous:
		return "anonymous"
	}
	return p.ARN
}

// principalARNKey is aws:PrincipalArn: the role (not the session) for
// assumed roles.
func (p *Principal) principalARNKey() string {
	switch p.Type {
	case PrincipalAssumedRole:
		if p.RoleARN != "" {
			return p.RoleARN
		}
	case PrincipalService, PrincipalAnonymous:
		return ""
	}
	return p.callerARN()
}

func (p *Principal) typeKey() string {
	switch p.Type {
	case PrincipalRoot:
		return "Account"
	case PrincipalService:
		return ""
	}
	return string(p.Type)
}

// principalMatch ranks how a statement's Principal names the caller; the
// rank decides whether a same-account resource-policy grant counts alone.
type principalMatch uint8

const (
	pmNone     principalMatch = iota
	pmIndirect                // "*", or the caller's account for a non-root caller
	pmRole                    // the role ARN, for a session of that role
	pmDirect                  // the caller itself (user, session, root via its account, service)
)

type principalSet struct {
	any      bool
	accounts []string
	arns     []string
	services []string
}

func compilePrincipal(rp *rawPrincipal) principalSet {
	var ps principalSet
	if rp.star {
		ps.any = true
		return ps
	}
	for _, v := range rp.m["AWS"] {
		switch {
		case v == "*":
			ps.any = true
		case arn.IsAccountID(v):
			ps.accounts = append(ps.accounts, v)
		case strings.HasPrefix(v, "arn:") && strings.HasSuffix(v, ":root"):
			if a, err := arn.Parse(v); err == nil && a.Service == "iam" && a.Resource == "root" {
				ps.accounts = append(ps.accounts, a.AccountID)
			} else {
				ps.arns = append(ps.arns, v)
			}
		case strings.HasPrefix(v, "arn:"):
			ps.arns = append(ps.arns, v)
		}
		// Unique ids of deleted principals never match anyone.
	}
	ps.services = rp.m["Service"]
	return ps
}

// excludesChain reports whether every link of p's chain is listed: the
// account (root ARN or id) and, below it, the user ARN, or the role ARN
// and the assumed-role session ARN. "*" lists everyone.
func (ps *principalSet) excludesChain(p *Principal) bool {
	if ps.any {
		return true
	}
	if p.Type == PrincipalService {
		for _, s := range ps.services {
			if s == p.ARN {
				return true
			}
		}
		return false
	}
	listed := func(a string) bool {
		for _, x := range ps.arns {
			if a != "" && x == a {
				return true
			}
		}
		return false
	}
	account := false
	for _, a := range ps.accounts {
		if a == p.Account {
			account = true
		}
	}
	switch p.Type {
	case PrincipalRoot:
		return account
	case PrincipalUser:
		return account && listed(p.ARN)
	case PrincipalAssumedRole:
		return account && listed(p.RoleARN) && listed(p.ARN)
	}
	return false
}

func (ps *principalSet) match(p *Principal) principalMatch {
	switch p.Type {
	case PrincipalAnonymous, "":
		return pmNone
	case PrincipalService:
		for _, s := range ps.services {
			if s == p.ARN {
				return pmDirect
			}
		}
		if ps.any {
			return pmIndirect
		}
		return pmNone
	}
	best := pmNone
	for _, a := range ps.arns {
		if a == p.ARN && p.ARN != "" {
			return pmDirect
		}
		if p.Type == PrincipalAssumedRole && a == p.RoleARN && p.RoleARN != "" {
			best = pmRole
		}
	}
	for _, a := range ps.accounts {
		if a == p.Account {
			if p.Type == PrincipalRoot {
				return pmDirect
			}
			best = max(best, pmIndirect)
		}
	}
	if ps.any {
		best = max(best, pmIndirect)
	}
	return best
}
