package iamsvc

import (
	"crypto/subtle"
	"strings"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/arn"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/iam"
)

// AWS's texts for credential failures (§2.8).
const (
	MsgInvalidToken = "The security token included in the request is invalid."
	MsgExpiredToken = "The security token included in the request is expired"
)

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// ResolveAccessKey finds the principal behind an AKIA (long-term) or ASIA
// (session) key id. Unknown or inactive keys → InvalidCredentials; expired
// sessions → ExpiredToken.
func (s *Service) ResolveAccessKey(id string) (*auth.Credential, error) {
	c, err := s.resolveAccessKey(id)
	if err != nil && apierr.HasCode(err, apierr.InvalidCredentials) && s.syncOnMiss() {
		return s.resolveAccessKey(id)
	}
	return c, err
}

func (s *Service) resolveAccessKey(id string) (*auth.Credential, error) {
	st, done := s.read()
	defer done()
	if k, ok := st.keys[id]; ok {
		if k.Status != StatusActive {
			return nil, apierr.New(apierr.InvalidCredentials, MsgInvalidToken)
		}
		p, err := keyPrincipal(st, k)
		if err != nil {
			return nil, err
		}
		return auth.NewLongTermCredential(p, k.secret), nil
	}
	if sess, ok := st.sessions[id]; ok {
		if !s.now().Before(sess.Expires) {
			return nil, apierr.New(apierr.ExpiredToken, MsgExpiredToken)
		}
		p, err := sessionPrincipal(st, sess)
		if err != nil {
			return nil, err
		}
		return auth.NewSessionCredential(p, sess.secret, sess.TokenHash, sess.Expires), nil
	}
	return nil, apierr.New(apierr.InvalidCredentials, MsgInvalidToken)
}

func tagMap(tags []Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

func rootPrincipal(account string) *auth.Principal {
	return &auth.Principal{Type: auth.Root, Account: account, ARN: arn.Root(account), UserID: account}
}

func keyPrincipal(st *state, k *keyRec) (*auth.Principal, error) {
	if k.User == "" {
		p := rootPrincipal(k.Account)
		p.AccessKeyID = k.ID
		return p, nil
	}
	u, ok := st.users[nameKey(k.Account, k.User)]
	if !ok {
		return nil, apierr.New(apierr.InvalidCredentials, MsgInvalidToken)
	}
	return &auth.Principal{Type: auth.User, Account: u.Account, ARN: u.arn(), Name: u.Name, UserID: u.ID,
		AccessKeyID: k.ID, Tags: tagMap(u.Tags)}, nil
}

func sessionPrincipal(st *state, sess *sessionRec) (*auth.Principal, error) {
	var p *auth.Principal
	switch sess.Kind {
	case sessionRole:
		r, ok := st.roles[nameKey(sess.Account, sess.RoleName)]
		if !ok || r.ID != sess.RoleID {
			return nil, apierr.New(apierr.InvalidCredentials, MsgInvalidToken)
		}
		p = &auth.Principal{Type: auth.AssumedRole, Account: sess.Account, ARN: arn.AssumedRole(sess.Account, r.Name, sess.SessionName),
			RoleARN: r.arn(), Name: sess.SessionName, UserID: r.ID + ":" + sess.SessionName, Tags: tagMap(r.Tags)}
	case sessionUser:
		u, ok := st.users[nameKey(sess.Account, sess.UserName)]
		// Sessions stored before UserID was recorded carry none; DeleteUser
		// removes a user's sessions, so they cannot outlive the user either.
		if !ok || (sess.UserID != "" && u.ID != sess.UserID) {
			return nil, apierr.New(apierr.InvalidCredentials, MsgInvalidToken)
		}
		p = &auth.Principal{Type: auth.User, Account: u.Account, ARN: u.arn(), Name: u.Name, UserID: u.ID, Tags: tagMap(u.Tags)}
	default:
		p = rootPrincipal(sess.Account)
	}
	p.AccessKeyID, p.SessionID, p.Expires, p.Issued = sess.ID, sess.ID, sess.Expires, sess.Created
	return p, nil
}

// PrincipalForCredential re-resolves the principal behind an access key id
// that an ECR token names, without a secret (the token's MAC vouches for it).
func (s *Service) PrincipalForCredential(id string) (*auth.Principal, error) {
	c, err := s.ResolveAccessKey(id)
	if err != nil {
		return nil, err
	}
	p := *c.Principal()
	p.AccessKeyID = "" // the request carried a token, not this key
	return &p, nil
}

// PolicySet is everything the engine needs about a principal's own permissions.
type PolicySet struct {
	Identity []*iam.Policy
	Boundary *iam.Policy
	Session  []*iam.Policy
}

// PoliciesFor collects p's identity policies (inline and attached; a user's
// groups; a session's role), its permissions boundary and its session
// policies. Root has none: the engine grants root its own account.
func (s *Service) PoliciesFor(p *auth.Principal) (*PolicySet, error) {
	st, done := s.read()
	defer done()
	ps := &PolicySet{}
	if p.SessionID != "" {
		sess, ok := st.sessions[p.SessionID]
		if !ok {
			return nil, apierr.New(apierr.InvalidCredentials, MsgInvalidToken)
		}
		ps.Session = sess.sessionPols
	}
	switch p.Type {
	case auth.Root:
		return ps, nil
	case auth.User:
		u, ok := st.users[nameKey(p.Account, p.Name)]
		if !ok {
			return nil, apierr.New(apierr.InvalidCredentials, MsgInvalidToken)
		}
		ps.Identity = appendEntityPolicies(ps.Identity, st, u.Attached, u.Inline)
		for _, gname := range u.Groups {
			if g, ok := st.groups[nameKey(p.Account, gname)]; ok {
				ps.Identity = appendEntityPolicies(ps.Identity, st, g.Attached, g.Inline)
			}
		}
		ps.Boundary = boundaryPolicy(st, u.Boundary)
	case auth.AssumedRole:
		name := p.RoleARN[strings.LastIndexByte(p.RoleARN, '/')+1:]
		r, ok := st.roles[nameKey(p.Account, name)]
		if !ok {
			return nil, apierr.New(apierr.InvalidCredentials, MsgInvalidToken)
		}
		ps.Identity = appendEntityPolicies(ps.Identity, st, r.Attached, r.Inline)
		ps.Boundary = boundaryPolicy(st, r.Boundary)
	}
	return ps, nil
}

func appendEntityPolicies(out []*iam.Policy, st *state, attached []string, inline []inlineRec) []*iam.Policy {
	for _, a := range attached {
		if p, ok := st.policies[a]; ok {
			if pol := p.defaultPolicy(); pol != nil {
				out = append(out, pol)
			}
		}
	}
	for i := range inline {
		out = append(out, inline[i].pol)
	}
	return out
}

func boundaryPolicy(st *state, policyARN string) *iam.Policy {
	if policyARN == "" {
		return nil
	}
	if p, ok := st.policies[policyARN]; ok {
		return p.defaultPolicy()
	}
	return nil
}

// IAMPrincipal converts an authenticated principal into the engine's form.
func IAMPrincipal(p *auth.Principal) iam.Principal {
	out := iam.Principal{Account: p.Account, ARN: p.ARN, RoleARN: p.RoleARN, UserID: p.UserID, Tags: p.Tags}
	switch p.Type {
	case auth.Root:
		out.Type = iam.PrincipalRoot
	case auth.User:
		out.Type = iam.PrincipalUser
		out.Username = p.Name
	case auth.AssumedRole:
		out.Type = iam.PrincipalAssumedRole
	default:
		out.Type = iam.PrincipalAnonymous
	}
	return out
}
