// Package iamapi serves the IAM Query API (2010-05-08) on top of iamsvc: it
// decodes Query parameters, authorizes every action as iam:<Action> on the
// entity's ARN, and shapes results exactly as botocore's iam model reads
// them (wrappers, <member> lists, IsTruncated/Marker, URL-encoded policy
// documents). The caller's account is the account every call works in.
package iamapi

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"unicode"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/arn"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
	"github.com/berth-dev/berth/internal/iamsvc"
)

// Service constants of the IAM Query API.
const (
	Namespace   = "https://iam.amazonaws.com/doc/2010-05-08/"
	Version     = "2010-05-08"
	SigningName = "iam"
)

// Authorizer decides an action on a resource (internal/authz implements it).
type Authorizer interface {
	Authorize(ctx context.Context, p *auth.Principal, action, resource, resourceAccount, resourcePolicy string, info auth.RequestInfo) error
}

// Deps are what the IAM API needs.
type Deps struct {
	IAM   *iamsvc.Service
	Authz Authorizer
}

type api struct {
	svc   *iamsvc.Service
	authz Authorizer
}

// Register adds every IAM action berth serves to rt.
func Register(rt *awsapi.Router, d Deps) error {
	if d.IAM == nil || d.Authz == nil {
		return errors.New("iamapi: IAM service and authorizer are required")
	}
	a := &api{svc: d.IAM, authz: d.Authz}
	for action, h := range a.handlers() {
		rt.HandleQuery(SigningName, Namespace, Version, action, h)
	}
	return nil
}

func (a *api) handlers() map[string]awsapi.Handler {
	return map[string]awsapi.Handler{
		// users
		"CreateUser": a.createUser, "GetUser": a.getUser, "DeleteUser": a.deleteUser, "ListUsers": a.listUsers,
		"UpdateUser": a.updateUser, "TagUser": a.tagUser, "UntagUser": a.untagUser, "ListUserTags": a.listUserTags,
		// access keys
		"CreateAccessKey": a.createAccessKey, "DeleteAccessKey": a.deleteAccessKey, "ListAccessKeys": a.listAccessKeys,
		"UpdateAccessKey": a.updateAccessKey, "GetAccessKeyLastUsed": a.getAccessKeyLastUsed,
		// managed policies
		"CreatePolicy": a.createPolicy, "GetPolicy": a.getPolicy, "DeletePolicy": a.deletePolicy, "ListPolicies": a.listPolicies,
		"CreatePolicyVersion": a.createPolicyVersion, "GetPolicyVersion": a.getPolicyVersion,
		"DeletePolicyVersion": a.deletePolicyVersion, "ListPolicyVersions": a.listPolicyVersions,
		"SetDefaultPolicyVersion": a.setDefaultPolicyVersion,
		// attachments and inline policies
		"AttachUserPolicy": a.attach(iamsvc.UserEntity), "AttachRolePolicy": a.attach(iamsvc.RoleEntity), "AttachGroupPolicy": a.attach(iamsvc.GroupEntity),
		"DetachUserPolicy": a.detach(iamsvc.UserEntity), "DetachRolePolicy": a.detach(iamsvc.RoleEntity), "DetachGroupPolicy": a.detach(iamsvc.GroupEntity),
		"ListAttachedUserPolicies": a.listAttached(iamsvc.UserEntity), "ListAttachedRolePolicies": a.listAttached(iamsvc.RoleEntity),
		"ListAttachedGroupPolicies": a.listAttached(iamsvc.GroupEntity),
		"PutUserPolicy":             a.putInline(iamsvc.UserEntity), "PutRolePolicy": a.putInline(iamsvc.RoleEntity), "PutGroupPolicy": a.putInline(iamsvc.GroupEntity),
		"GetUserPolicy": a.getInline(iamsvc.UserEntity), "GetRolePolicy": a.getInline(iamsvc.RoleEntity), "GetGroupPolicy": a.getInline(iamsvc.GroupEntity),
		"DeleteUserPolicy": a.deleteInline(iamsvc.UserEntity), "DeleteRolePolicy": a.deleteInline(iamsvc.RoleEntity),
		"DeleteGroupPolicy": a.deleteInline(iamsvc.GroupEntity),
		"ListUserPolicies":  a.listInline(iamsvc.UserEntity), "ListRolePolicies": a.listInline(iamsvc.RoleEntity),
		"ListGroupPolicies": a.listInline(iamsvc.GroupEntity),
		// roles
		"CreateRole": a.createRole, "GetRole": a.getRole, "DeleteRole": a.deleteRole, "ListRoles": a.listRoles,
		"UpdateAssumeRolePolicy": a.updateAssumeRolePolicy, "UpdateRole": a.updateRole,
		// groups
		"CreateGroup": a.createGroup, "GetGroup": a.getGroup, "DeleteGroup": a.deleteGroup, "ListGroups": a.listGroups,
		"AddUserToGroup": a.addUserToGroup, "RemoveUserFromGroup": a.removeUserFromGroup, "ListGroupsForUser": a.listGroupsForUser,
	}
}

// allow authorizes the call's own action on resource, in the caller's account.
func (a *api) allow(ctx context.Context, c *awsapi.Call, resource string) error {
	return a.allowWith(ctx, c, resource, c.Info)
}

// ---- parameters ---------------------------------------------------------------

// fieldName is the model member name as AWS's validation messages spell it (userName).
func fieldName(param string) string {
	if param == "" {
		return ""
	}
	r := []rune(param)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

func validation(value, param, constraint string) error {
	return apierr.New(apierr.ValidationError, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s",
		value, fieldName(param), constraint)
}

// required returns a mandatory parameter; absent → AWS's "Value null" error.
func required(q protocol.Values, param string) (string, error) {
	if !q.Has(param) {
		return "", apierr.New(apierr.ValidationError,
			"1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", fieldName(param))
	}
	return q.Get(param), nil
}

// requiredAll is required for several parameters, failing on the first missing one.
func requiredAll(q protocol.Values, params ...string) ([]string, error) {
	out := make([]string, len(params))
	for i, p := range params {
		v, err := required(q, p)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func policyARNParam(q protocol.Values) (string, error) {
	v, err := required(q, "PolicyArn")
	if err != nil {
		return "", err
	}
	if len(v) < 20 {
		return "", validation(v, "PolicyArn", "Member must have length greater than or equal to 20")
	}
	if len(v) > 2048 {
		return "", validation(v, "PolicyArn", "Member must have length less than or equal to 2048")
	}
	if a, err := arn.Parse(v); err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "policy/") {
		return "", apierr.New(apierr.InvalidInput, "ARN %s is not valid.", v)
	}
	return v, nil
}

func tagsParam(q protocol.Values) ([]iamsvc.Tag, error) {
	var out []iamsvc.Tag
	for _, m := range q.Structs("Tags.member") {
		k, hasKey := m["Key"]
		if !hasKey {
			return nil, apierr.New(apierr.ValidationError,
				"1 validation error detected: Value null at 'tags.%d.member.key' failed to satisfy constraint: Member must not be null", len(out)+1)
		}
		v, hasValue := m["Value"]
		if !hasValue {
			return nil, apierr.New(apierr.ValidationError,
				"1 validation error detected: Value null at 'tags.%d.member.value' failed to satisfy constraint: Member must not be null", len(out)+1)
		}
		out = append(out, iamsvc.Tag{Key: k, Value: v})
	}
	return out, nil
}

// page is Marker/MaxItems as sent.
type page struct {
	marker   string // decoded
	maxItems int
}

const markerPrefix = "berth1:"

// Markers are opaque to clients (base64 of a versioned key) so a guessed or
// foreign marker is rejected rather than silently read as a name.
func encodeMarker(key string) string {
	if key == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(markerPrefix + key))
}

func pageParams(q protocol.Values) (page, error) {
	var p page
	n, present, err := q.Int("MaxItems")
	if err != nil {
		return p, validation(q.Get("MaxItems"), "MaxItems", "Member must be a number")
	}
	if present && n < 1 {
		return p, validation(q.Get("MaxItems"), "MaxItems", "Member must have value greater than or equal to 1")
	}
	if n > 1000 {
		return p, validation(q.Get("MaxItems"), "MaxItems", "Member must have value less than or equal to 1000")
	}
	p.maxItems = n
	if m := q.Get("Marker"); m != "" {
		raw, err := base64.RawURLEncoding.DecodeString(m)
		key, ok := strings.CutPrefix(string(raw), markerPrefix)
		if err != nil || !ok || key == "" {
			return p, validation(m, "Marker", "Member must be a marker returned by a previous call")
		}
		p.marker = key
	}
	if p.maxItems == 0 {
		p.maxItems = 100
	}
	return p, nil
}

// paginateAt pages an in-memory list whose order is fixed (not by name): the
// marker is the index of the next item.
func paginateAt[T any](items []T, p page) (out []T, next string, err error) {
	start := 0
	if p.marker != "" {
		n, ok := atoi(p.marker)
		if !ok || n > len(items) {
			return nil, "", validation(encodeMarker(p.marker), "Marker", "Member must be a marker returned by a previous call")
		}
		start = n
	}
	items = items[start:]
	if len(items) > p.maxItems {
		return items[:p.maxItems], itoa(start + p.maxItems), nil
	}
	return items, "", nil
}

func atoi(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// listMeta is the IsTruncated/Marker pair every IAM list result carries.
type listMeta struct {
	IsTruncated bool   `xml:"IsTruncated"`
	Marker      string `xml:"Marker,omitempty"`
}

func meta(next string) listMeta { return listMeta{IsTruncated: next != "", Marker: encodeMarker(next)} }

// ---- policy documents -----------------------------------------------------------

// encodeDocument percent-encodes a policy document as IAM returns it
// (RFC 3986: everything but unreserved characters), which botocore's
// unquote and Go's url.QueryUnescape both reverse exactly; '+' and ' '
// must not survive unencoded or one of the two would misread them.
func encodeDocument(doc string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(doc) * 2)
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// ---- ARNs -----------------------------------------------------------------------

func groupARN(account, path, name string) string {
	if path == "" {
		path = "/"
	}
	return "arn:aws:iam::" + account + ":group" + path + name
}

func policyARN(account, path, name string) string {
	if path == "" {
		path = "/"
	}
	return "arn:aws:iam::" + account + ":policy" + path + name
}

// listResource is the resource list actions are authorized on (arn:aws:iam::A:user/).
func listResource(account, kind string) string { return "arn:aws:iam::" + account + ":" + kind + "/" }

func (a *api) userARN(ctx context.Context, account, name string) string {
	if u, err := a.svc.GetUser(ctx, account, name); err == nil {
		return u.ARN
	}
	return arn.User(account, "/", name)
}

func (a *api) roleARN(ctx context.Context, account, name string) string {
	if r, err := a.svc.GetRole(ctx, account, name); err == nil {
		return r.ARN
	}
	return arn.Role(account, "/", name)
}

func (a *api) groupARN(ctx context.Context, account, name string) string {
	if g, _, err := a.svc.GetGroup(ctx, account, name); err == nil {
		return g.ARN
	}
	return groupARN(account, "/", name)
}

func (a *api) entityARN(ctx context.Context, kind iamsvc.EntityKind, account, name string) string {
	switch kind {
	case iamsvc.RoleEntity:
		return a.roleARN(ctx, account, name)
	case iamsvc.GroupEntity:
		return a.groupARN(ctx, account, name)
	}
	return a.userARN(ctx, account, name)
}

// entityParam is the parameter naming the entity of kind (UserName, RoleName, GroupName).
func entityParam(kind iamsvc.EntityKind) string {
	switch kind {
	case iamsvc.RoleEntity:
		return "RoleName"
	case iamsvc.GroupEntity:
		return "GroupName"
	}
	return "UserName"
}

// selfUser resolves an optional UserName: omitted means the caller, which
// must then be an IAM user or a root user ("" = the root user). An explicit
// empty UserName is invalid (minimum length 1), never the root user: only
// root itself reaches root's access keys, whatever an IAM policy allows.
func selfUser(c *awsapi.Call) (string, error) {
	if c.Query.Has("UserName") {
		name := c.Query.Get("UserName")
		if name == "" {
			return "", validation(name, "UserName", "Member must have length greater than or equal to 1")
		}
		return name, nil
	}
	switch c.Principal.Type {
	case auth.User:
		return c.Principal.Name, nil
	case auth.Root:
		return "", nil
	}
	return "", apierr.New(apierr.ValidationError, "Must specify userName when calling with non-User credentials")
}
