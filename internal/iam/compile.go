package iam

import "strings"

// statement is the compiled form of one policy statement.
type statement struct {
	index int
	sid   string
	deny  bool

	hasPrincipal bool
	notPrincipal bool
	principal    principalSet

	notAction bool
	actions   []glob

	anyResource bool // no Resource in a resource policy: "this resource"
	notResource bool
	resources   []arnPattern

	conds []condition
}

func compileStatement(st *statement, rs *rawStatement, vars bool) error {
	st.index, st.sid, st.deny = rs.index, rs.sid, rs.deny
	if rs.principal != nil {
		st.hasPrincipal, st.notPrincipal = true, rs.notPrincipal
		st.principal = compilePrincipal(rs.principal)
	}
	st.notAction = rs.notAction
	st.actions = make([]glob, len(rs.actions))
	for i, a := range rs.actions {
		// Lower-cased once here so that Evaluate compares bytes, not folds.
		st.actions[i] = compileGlob(strings.ToLower(a), true, false)
	}
	if rs.resources == nil {
		st.anyResource = true
	} else {
		st.notResource = rs.notResource
		st.resources = make([]arnPattern, len(rs.resources))
		for i, r := range rs.resources {
			st.resources[i] = compileARNPattern(r, vars)
		}
	}
	if len(rs.conditions) > 0 {
		st.conds = make([]condition, len(rs.conditions))
		for i := range rs.conditions {
			c, err := compileCondition(&rs.conditions[i], vars)
			if err != nil {
				return &ValidationError{
					Statement: statementLabel(rs.sid, rs.index),
					Field:     "Condition." + rs.conditions[i].op + "." + rs.conditions[i].key,
					Message:   err.Error(),
				}
			}
			st.conds[i] = c
		}
	}
	return nil
}

// matchAction takes the request action already lower-cased.
func (st *statement) matchAction(action string) bool {
	for i := range st.actions {
		g := &st.actions[i]
		var ok bool
		switch {
		case g.plain:
			ok = g.exact == action
		case g.prefix:
			ok = strings.HasPrefix(action, g.exact)
		default:
			ok = g.match(action, false, nil)
		}
		if ok {
			return !st.notAction
		}
	}
	return st.notAction
}

func (st *statement) matchResource(resource string, ec *evalCtx) bool {
	if st.anyResource {
		return true
	}
	for i := range st.resources {
		if st.resources[i].match(resource, ec) {
			return !st.notResource
		}
	}
	return st.notResource
}

// matchPrincipal returns how the statement names the caller; statements
// without a Principal (identity policies) apply to the caller directly.
func (st *statement) matchPrincipal(p *Principal, bounded bool) principalMatch {
	if !st.hasPrincipal {
		return pmDirect
	}
	if !st.notPrincipal {
		return st.principal.match(p)
	}
	if p.Type == PrincipalAnonymous {
		return pmNone
	}
	if st.deny {
		// AWS checks a NotPrincipal Deny against every link of the caller's
		// chain — the account, then the user, or the role and then its
		// session — and spares the caller only if each is listed; a
		// principal with a permissions boundary is never spared.
		if !bounded && st.principal.excludesChain(p) {
			return pmNone
		}
		return pmIndirect
	}
	// NotPrincipal with Allow (unsupported on AWS today): any listed link
	// keeps the caller out, so the grant is the narrower reading.
	if st.principal.match(p) != pmNone {
		return pmNone
	}
	return pmIndirect
}

// applies returns the principal match rank when the statement covers the
// request, pmNone otherwise. Cheap checks run first.
func (st *statement) applies(action, resource string, ec *evalCtx) principalMatch {
	if !st.matchAction(action) || !st.matchResource(resource, ec) {
		return pmNone
	}
	m := st.matchPrincipal(&ec.req.Principal, ec.req.Boundary != nil)
	if m == pmNone {
		return pmNone
	}
	for i := range st.conds {
		if !st.conds[i].eval(ec) {
			return pmNone
		}
	}
	return m
}
