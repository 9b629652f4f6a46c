package iam

import (
	"net/netip"
	"strings"
	"time"
)

type keyKind uint8

const (
	keyContext keyKind = iota // looked up in Request.Context
	keyPrincipalAccount
	keyPrincipalArn
	keyPrincipalType
	keyUsername
	keyUserID
	keyPrincipalTag
	keyPrincipalIsAWSService
)

// keyRef is a condition key resolved at compile time, so that Evaluate
// never lower-cases or splits key names.
type keyRef struct {
	kind keyKind
	name string // as written; Request.Context lookups try it verbatim first
	alt  string // equivalent spelling (ecr:ResourceTag/K ≡ aws:ResourceTag/K)
	tag  string // for aws:PrincipalTag/K
}

func compileKey(name string) keyRef {
	lower := strings.ToLower(name)
	k := keyRef{name: name}
	switch {
	case lower == "aws:principalaccount":
		k.kind = keyPrincipalAccount
	case lower == "aws:principalarn":
		k.kind = keyPrincipalArn
	case lower == "aws:principaltype":
		k.kind = keyPrincipalType
	case lower == "aws:username":
		k.kind = keyUsername
	case lower == "aws:userid":
		k.kind = keyUserID
	case lower == "aws:principalisawsservice":
		k.kind = keyPrincipalIsAWSService
	case strings.HasPrefix(lower, "aws:principaltag/"):
		k.kind, k.tag = keyPrincipalTag, name[len("aws:principaltag/"):]
	case strings.HasPrefix(lower, "ecr:resourcetag/"):
		k.alt = "aws:ResourceTag/" + name[len("ecr:resourcetag/"):]
	case strings.HasPrefix(lower, "aws:resourcetag/"):
		k.alt = "ecr:ResourceTag/" + name[len("aws:resourcetag/"):]
	}
	return k
}

// evalCtx carries one request through evaluation; scratch backs the
// one-element value lists of principal-derived keys without allocating.
type evalCtx struct {
	req     *Request
	scratch [1]string

	// The same request value (aws:SourceIp, aws:CurrentTime) is usually
	// tested by many statements; parse it once.
	ipText   string
	ip       netip.Addr
	ipOK     bool
	timeText string
	time     time.Time
	timeOK   bool
}

func (ec *evalCtx) parseIP(s string) (netip.Addr, bool) {
	if ec.ipText != s || s == "" {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		ec.ipText, ec.ip, ec.ipOK = s, a.Unmap(), err == nil
	}
	return ec.ip, ec.ipOK
}

func (ec *evalCtx) parseTime(s string) (time.Time, bool) {
	if ec.timeText != s || s == "" {
		ec.time, ec.timeOK = parseDate(s)
		ec.timeText = s
	}
	return ec.time, ec.timeOK
}

// values returns the request's values for a key and whether it is present.
func (ec *evalCtx) values(k *keyRef) ([]string, bool) {
	if k.kind == keyContext {
		return ec.lookupContext(k)
	}
	// Principal keys come only from the authenticated principal, never
	// from caller-supplied context.
	s, ok := ec.principalValue(k)
	if !ok {
		return nil, false
	}
	ec.scratch[0] = s
	return ec.scratch[:], true
}

// resolveVar resolves a policy variable: exactly one value, or nothing.
func (ec *evalCtx) resolveVar(v *varRef) (string, bool) {
	if ec != nil {
		if v.key.kind != keyContext {
			if s, ok := ec.principalValue(&v.key); ok {
				return s, true
			}
		} else if vals, ok := ec.lookupContext(&v.key); ok && len(vals) == 1 {
			return vals[0], true
		}
	}
	return v.def, v.hasDef
}

func (ec *evalCtx) lookupContext(k *keyRef) ([]string, bool) {
	ctx := ec.req.Context
	if len(ctx) == 0 {
		return nil, false
	}
	if v, ok := ctx[k.name]; ok {
		return v, true
	}
	if k.alt != "" {
		if v, ok := ctx[k.alt]; ok {
			return v, true
		}
	}
	// Condition keys are case-insensitive.
	for name, v := range ctx {
		if strings.EqualFold(name, k.name) || (k.alt != "" && strings.EqualFold(name, k.alt)) {
			return v, true
		}
	}
	return nil, false
}

// principalValue derives the aws:Principal* family from Request.Principal.
func (ec *evalCtx) principalValue(k *keyRef) (string, bool) {
	p := &ec.req.Principal
	var s string
	switch k.kind {
	case keyPrincipalAccount:
		if p.Type != PrincipalService && p.Type != PrincipalAnonymous {
			s = p.Account
		}
	case keyPrincipalArn:
		s = p.principalARNKey()
	case keyPrincipalType:
		s = p.typeKey()
	case keyUsername:
		if p.Type == PrincipalUser {
			s = p.Username
		}
	case keyUserID:
		s = p.UserID
		if s == "" && p.Type == PrincipalRoot {
			s = p.Account
		}
	case keyPrincipalIsAWSService:
		if p.Type == PrincipalService {
			return "true", true
		}
		return "false", true
	case keyPrincipalTag:
		if v, ok := p.Tags[k.tag]; ok {
			return v, true
		}
		for name, v := range p.Tags {
			if strings.EqualFold(name, k.tag) {
				return v, true
			}
		}
	}
	return s, s != ""
}
