package iamsvc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/arn"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/iam"
)

// Credentials are temporary STS credentials.
type Credentials struct {
	AccessKeyID     string // ASIA…
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

// AssumedRoleUser identifies the session AssumeRole created.
type AssumedRoleUser struct {
	AssumedRoleID string // AROA…:SESSION
	ARN           string // arn:aws:sts::A:assumed-role/R/S
}

// AssumeRoleInput mirrors STS AssumeRole.
type AssumeRoleInput struct {
	RoleArn         string
	RoleSessionName string
	DurationSeconds int32 // 0 = 3600
	Policy          string
	PolicyArns      []string
	ExternalID      string
	SourceIdentity  string
}

// AssumeRoleOutput mirrors AssumeRoleResult.
type AssumeRoleOutput struct {
	Credentials      Credentials
	AssumedRoleUser  AssumedRoleUser
	PackedPolicySize int // percent of the allowed size; 0 without session policies
}

const maxPackedPolicy = 2048

// AssumeRole evaluates the role's trust policy (as the resource policy) and
// the caller's identity policies with the engine, so a trust policy naming
// the caller suffices inside one account, while one naming only the account
// (or a cross-account caller) also needs the caller's identity allow for
// sts:AssumeRole on the role ARN (§6.4). Conditions see sts:ExternalId,
// sts:RoleSessionName, sts:SourceIdentity and info's request keys.
func (s *Service) AssumeRole(ctx context.Context, caller *auth.Principal, in AssumeRoleInput, info auth.RequestInfo) (*AssumeRoleOutput, error) {
	if n := len(in.RoleArn); n < 20 || n > 2048 {
		return nil, lengthErr(in.RoleArn, "roleArn", 20, 2048)
	}
	if n := len(in.RoleSessionName); n < 2 || n > 64 {
		return nil, lengthErr(in.RoleSessionName, "roleSessionName", 2, 64)
	}
	for i := 0; i < len(in.RoleSessionName); i++ {
		if !isNameChar(in.RoleSessionName[i]) {
			return nil, validationErr(in.RoleSessionName, "roleSessionName", `Member must satisfy regular expression pattern: [\w+=,.@-]*`)
		}
	}
	if in.DurationSeconds == 0 {
		in.DurationSeconds = 3600
	}
	if err := RangeErr(int(in.DurationSeconds), "durationSeconds", 900, 43200); err != nil {
		return nil, err
	}
	ra, err := arn.Parse(in.RoleArn)
	if err != nil {
		return nil, apierr.New(apierr.ValidationError, "%s is invalid", in.RoleArn)
	}
	roleName := ra.Resource[strings.LastIndexByte(ra.Resource, '/')+1:]

	var sessionPols []*iam.Policy
	packed := 0
	if in.Policy != "" {
		if n := iam.PolicySize(in.Policy); n > maxPackedPolicy {
			return nil, apierr.New(apierr.PackedPolicyTooLarge, "Packed size of consumed policies exceeds 100%% of the allowed value.")
		} else {
			packed = n * 100 / maxPackedPolicy
		}
		pol, err := iam.ParsePolicy(in.Policy, iam.IdentityPolicy)
		if err != nil {
			return nil, apierr.New(apierr.MalformedPolicyDocument, "%s", err.Error())
		}
		pol.Name = "session policy"
		sessionPols = append(sessionPols, pol)
	}
	if len(in.PolicyArns) > 10 {
		return nil, validationErr("PolicyArns", "policyArns", "Member must have length less than or equal to 10")
	}

	idPols, err := s.PoliciesFor(caller)
	if err != nil {
		return nil, err
	}

	var out AssumeRoleOutput
	err = s.write(ctx, func(t *tx, st *state) error {
		r, ok := st.roles[nameKey(ra.AccountID, roleName)]
		req := &iam.Request{
			Principal: IAMPrincipal(caller), Action: "sts:AssumeRole", Resource: in.RoleArn, ResourceAccount: ra.AccountID,
			IdentityPolicies: idPols.Identity, Boundary: idPols.Boundary, SessionPolicies: idPols.Session,
			Context: stsContext(caller, in, info),
		}
		// To another account, a denial reads the same whether the role
		// exists or not, and whatever its trust policy and tags: decided
		// as if there were neither (the caller's own policies still speak).
		var strangerDenial error
		if ra.AccountID != caller.Account {
			blind := *req
			if d := iam.Evaluate(&blind); !d.Allowed {
				strangerDenial = apierr.New(apierr.AccessDenied, "%s", d.Message(&blind))
			} else {
				strangerDenial = apierr.New(apierr.AccessDenied, "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.ARN, in.RoleArn)
			}
		}
		if !ok || r.arn() != in.RoleArn {
			if strangerDenial != nil {
				return strangerDenial
			}
			// AWS does not reveal whether the role exists.
			return apierr.New(apierr.AccessDenied, "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.ARN, in.RoleArn)
		}
		for _, t := range r.Tags {
			req.Context["aws:ResourceTag/"+t.Key] = []string{t.Value}
			req.Context["iam:ResourceTag/"+t.Key] = []string{t.Value}
		}
		req.ResourcePolicy = r.trust
		if d := iam.Evaluate(req); !d.Allowed {
			if strangerDenial != nil {
				return strangerDenial
			}
			return apierr.New(apierr.AccessDenied, "%s", d.Message(req))
		}
		if in.DurationSeconds > r.MaxSession {
			return apierr.New(apierr.ValidationError, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
		}
		if caller.Type == auth.AssumedRole && in.DurationSeconds > 3600 {
			return apierr.New(apierr.ValidationError, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
		}
		pols := sessionPols
		for _, a := range in.PolicyArns {
			p, err := visiblePolicy(st, ra.AccountID, a)
			if err != nil {
				return apierr.New(apierr.InvalidInput, "The policy %s does not exist or is not attachable.", a)
			}
			pols = append(pols, p.defaultPolicy())
		}
		sess, creds, err := s.newSession(sessionRole, ra.AccountID, time.Duration(in.DurationSeconds)*time.Second)
		if err != nil {
			return err
		}
		sess.RoleName, sess.RolePath, sess.RoleID, sess.SessionName = r.Name, r.Path, r.ID, in.RoleSessionName
		sess.Policy, sess.PolicyArns, sess.SourceARN, sess.sessionPols = in.Policy, in.PolicyArns, caller.ARN, pols
		st.sessions[sess.ID] = sess
		t.put(kindSession, sess.ID, sess)
		out = AssumeRoleOutput{Credentials: creds, PackedPolicySize: packed,
			AssumedRoleUser: AssumedRoleUser{AssumedRoleID: r.ID + ":" + in.RoleSessionName, ARN: arn.AssumedRole(ra.AccountID, r.Name, in.RoleSessionName)}}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// stsContext holds AssumeRole's condition keys: the request's own and the
// global ones authz.Authorizer publishes for every other action.
func stsContext(caller *auth.Principal, in AssumeRoleInput, info auth.RequestInfo) map[string][]string {
	c := map[string][]string{"sts:RoleSessionName": {in.RoleSessionName}, "aws:ViaAWSService": {"false"}}
	if info.Region != "" {
		c["aws:RequestedRegion"] = []string{info.Region}
	}
	if info.UserAgent != "" {
		c["aws:UserAgent"] = []string{info.UserAgent}
	}
	if caller.SessionID != "" {
		c["aws:MultiFactorAuthPresent"] = []string{"false"}
		if !caller.Issued.IsZero() {
			c["aws:TokenIssueTime"] = []string{caller.Issued.UTC().Truncate(time.Second).Format(time.RFC3339)}
		}
	}
	for k, v := range info.Keys {
		c[k] = v
	}
	if in.ExternalID != "" {
		c["sts:ExternalId"] = []string{in.ExternalID}
	}
	if in.SourceIdentity != "" {
		c["sts:SourceIdentity"] = []string{in.SourceIdentity}
	}
	if info.SourceIP != "" {
		c["aws:SourceIp"] = []string{info.SourceIP}
	}
	if info.Secure {
		c["aws:SecureTransport"] = []string{"true"}
	} else {
		c["aws:SecureTransport"] = []string{"false"}
	}
	if !info.Now.IsZero() {
		c["aws:CurrentTime"] = []string{info.Now.UTC().Format(time.RFC3339)}
		c["aws:EpochTime"] = []string{strconv.FormatInt(info.Now.Unix(), 10)}
	}
	return c
}

// GetSessionToken issues temporary credentials with the caller's own
// permissions. Only long-term credentials may call it. durationSeconds 0
// means the default (43200; 3600 for root).
func (s *Service) GetSessionToken(ctx context.Context, caller *auth.Principal, durationSeconds int32) (*Credentials, error) {
	if caller.SessionID != "" || caller.Type == auth.AssumedRole {
		return nil, apierr.New(apierr.AccessDenied, "Cannot call GetSessionToken with session credentials")
	}
	maxDur, def := int32(129600), int32(43200)
	if caller.Type == auth.Root {
		maxDur, def = 3600, 3600
	}
	if durationSeconds == 0 {
		durationSeconds = def
	}
	if err := RangeErr(int(durationSeconds), "durationSeconds", 900, int(maxDur)); err != nil {
		return nil, err
	}
	var out Credentials
	err := s.write(ctx, func(t *tx, st *state) error {
		kind, userID := sessionUser, ""
		if caller.Type == auth.Root {
			kind = sessionRoot
		} else if u, ok := st.users[nameKey(caller.Account, caller.Name)]; !ok || u.ID != caller.UserID {
			return apierr.New(apierr.InvalidCredentials, MsgInvalidToken)
		} else {
			userID = u.ID
		}
		sess, creds, err := s.newSession(kind, caller.Account, time.Duration(durationSeconds)*time.Second)
		if err != nil {
			return err
		}
		sess.UserName, sess.UserID, sess.SourceARN = caller.Name, userID, caller.ARN
		st.sessions[sess.ID] = sess
		t.put(kindSession, sess.ID, sess)
		out = creds
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (s *Service) newSession(kind, account string, d time.Duration) (*sessionRec, Credentials, error) {
	id, secret := accessKeyID("ASIA"), secretAccessKey()
	raw := make([]byte, 120)
	_, _ = rand.Read(raw)
	token := base64.StdEncoding.EncodeToString(raw)
	enc, err := s.keys.seal(id, secret)
	if err != nil {
		return nil, Credentials{}, err
	}
	sum := sha256.Sum256([]byte(token))
	now := s.now().UTC()
	exp := now.Add(d).Truncate(time.Second)
	sess := &sessionRec{ID: id, Kind: kind, Account: account, SecretEnc: enc, TokenHash: sum[:], Created: now, Expires: exp, secret: secret}
	return sess, Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: token, Expiration: exp}, nil
}

func sessionPolicies(st *state, doc string, arns []string) ([]*iam.Policy, error) {
	var out []*iam.Policy
	if doc != "" {
		pol, err := iam.ParsePolicy(doc, iam.IdentityPolicy)
		if err != nil {
			return nil, err
		}
		pol.Name = "session policy"
		out = append(out, pol)
	}
	for _, a := range arns {
		p, ok := st.policies[a]
		if !ok {
			// A session policy that vanished allows nothing, as deleting a
			// policy AWS-side would leave the session with less, never more.
			pol, _ := iam.ParsePolicy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"none:none","Resource":"*"}]}`, iam.IdentityPolicy)
			out = append(out, pol)
			continue
		}
		out = append(out, p.defaultPolicy())
	}
	return out, nil
}
