package iamapi

import (
	"context"

	"github.com/berth-dev/berth/internal/arn"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
	"github.com/berth-dev/berth/internal/iamsvc"
)

type roleResult struct {
	Role roleXML `xml:"Role"`
}

func maxSessionParam(c *awsapi.Call) (int32, error) {
	n, present, err := c.Query.Int("MaxSessionDuration")
	if err != nil {
		return 0, validation(c.Query.Get("MaxSessionDuration"), "maxSessionDuration", "Member must have value greater than or equal to 3600")
	}
	if present {
		if err := iamsvc.RangeErr(n, "maxSessionDuration", 3600, 43200); err != nil {
			return 0, err
		}
	}
	return int32(n), nil
}

func (a *api) createRole(ctx context.Context, c *awsapi.Call) (any, error) {
	q := c.Query
	v, err := requiredAll(q, "RoleName", "AssumeRolePolicyDocument")
	if err != nil {
		return nil, err
	}
	maxSession, err := maxSessionParam(c)
	if err != nil {
		return nil, err
	}
	tags, err := tagsParam(q)
	if err != nil {
		return nil, err
	}
	in := iamsvc.CreateRoleInput{RoleName: v[0], AssumeRolePolicyDocument: v[1], Path: q.Get("Path"), Description: q.Get("Description"),
		MaxSessionDuration: maxSession, PermissionsBoundary: q.Get("PermissionsBoundary"), Tags: tags}
	info := withBoundary(withRequestTags(c.Info, tags), in.PermissionsBoundary)
	if err := a.allowWith(ctx, c, arn.Role(c.Principal.Account, in.Path, in.RoleName), info); err != nil {
		return nil, err
	}
	r, err := a.svc.CreateRole(ctx, c.Principal.Account, in)
	if err != nil {
		return nil, err
	}
	// AWS's CreateRole answer has no MaxSessionDuration (GetRole and
	// ListRoles have it).
	out := roleOut(*r, true, false)
	out.MaxSessionDuration = 0
	return roleResult{out}, nil
}

func (a *api) getRole(ctx context.Context, c *awsapi.Call) (any, error) {
	name, err := required(c.Query, "RoleName")
	if err != nil {
		return nil, err
	}
	if err := a.allow(ctx, c, a.roleARN(ctx, c.Principal.Account, name)); err != nil {
		return nil, err
	}
	r, err := a.svc.GetRole(ctx, c.Principal.Account, name)
	if err != nil {
		return nil, err
	}
	return roleResult{roleOut(*r, true, true)}, nil
}

func (a *api) deleteRole(ctx context.Context, c *awsapi.Call) (any, error) {
	name, err := required(c.Query, "RoleName")
	if err != nil {
		return nil, err
	}
	if err := a.allow(ctx, c, a.roleARN(ctx, c.Principal.Account, name)); err != nil {
		return nil, err
	}
	return nil, a.svc.DeleteRole(ctx, c.Principal.Account, name)
}

type listRolesResult struct {
	Roles protocol.Members[roleXML] `xml:"Roles"`
	listMeta
}

func (a *api) listRoles(ctx context.Context, c *awsapi.Call) (any, error) {
	p, err := pageParams(c.Query)
	if err != nil {
		return nil, err
	}
	if err := a.allow(ctx, c, listResource(c.Principal.Account, "role")); err != nil {
		return nil, err
	}
	roles, next, err := a.svc.ListRoles(ctx, c.Principal.Account, c.Query.Get("PathPrefix"), p.marker, p.maxItems)
	if err != nil {
		return nil, err
	}
	out := listRolesResult{Roles: make(protocol.Members[roleXML], len(roles)), listMeta: meta(next)}
	for i, r := range roles {
		out.Roles[i] = roleOut(r, false, false)
	}
	return out, nil
}

func (a *api) updateAssumeRolePolicy(ctx context.Context, c *awsapi.Call) (any, error) {
	v, err := requiredAll(c.Query, "RoleName", "PolicyDocument")
	if err != nil {
		return nil, err
	}
	if err := a.allow(ctx, c, a.roleARN(ctx, c.Principal.Account, v[0])); err != nil {
		return nil, err
	}
	return nil, a.svc.UpdateAssumeRolePolicy(ctx, c.Principal.Account, v[0], v[1])
}

// updateRoleResult is UpdateRole's empty UpdateRoleResult element (the model
// has an output wrapper with no members).
type updateRoleResult struct{}

func (a *api) updateRole(ctx context.Context, c *awsapi.Call) (any, error) {
	name, err := required(c.Query, "RoleName")
	if err != nil {
		return nil, err
	}
	maxSession, err := maxSessionParam(c)
	if err != nil {
		return nil, err
	}
	var desc *string
	if c.Query.Has("Description") {
		d := c.Query.Get("Description")
		desc = &d
	}
	if err := a.allow(ctx, c, a.roleARN(ctx, c.Principal.Account, name)); err != nil {
		return nil, err
	}
	if err := a.svc.UpdateRole(ctx, c.Principal.Account, name, desc, maxSession); err != nil {
		return nil, err
	}
	return updateRoleResult{}, nil
}

// ---- groups ---------------------------------------------------------------------

type groupResult struct {
	Group groupXML `xml:"Group"`
}

func (a *api) createGroup(ctx context.Context, c *awsapi.Call) (any, error) {
	name, err := required(c.Query, "GroupName")
	if err != nil {
		return nil, err
	}
	path := c.Query.Get("Path")
	if err := a.allow(ctx, c, groupARN(c.Principal.Account, path, name)); err != nil {
		return nil, err
	}
	g, err := a.svc.CreateGroup(ctx, c.Principal.Account, name, path)
	if err != nil {
		return nil, err
	}
	return groupResult{groupOut(*g)}, nil
}

type getGroupResult struct {
	Group groupXML                  `xml:"Group"`
	Users protocol.Members[userXML] `xml:"Users"`
	listMeta
}

func (a *api) getGroup(ctx context.Context, c *awsapi.Call) (any, error) {
	name, err := required(c.Query, "GroupName")
	if err != nil {
		return nil, err
	}
	p, err := pageParams(c.Query)
	if err != nil {
		return nil, err
	}
	if err := a.allow(ctx, c, a.groupARN(ctx, c.Principal.Account, name)); err != nil {
		return nil, err
	}
	g, members, err := a.svc.GetGroup(ctx, c.Principal.Account, name)
	if err != nil {
		return nil, err
	}
	users, next, err := paginateAt(members, p)
	if err != nil {
		return nil, err
	}
	out := getGroupResult{Group: groupOut(*g), Users: make(protocol.Members[userXML], len(users)), listMeta: meta(next)}
	for i, u := range users {
		out.Users[i] = userOut(u, false)
	}
	return out, nil
}

func (a *api) deleteGroup(ctx context.Context, c *awsapi.Call) (any, error) {
	name, err := required(c.Query, "GroupName")
	if err != nil {
		return nil, err
	}
	if err := a.allow(ctx, c, a.groupARN(ctx, c.Principal.Account, name)); err != nil {
		return nil, err
	}
	return nil, a.svc.DeleteGroup(ctx, c.Principal.Account, name)
}

type listGroupsResult struct {
	Groups protocol.Members[groupXML] `xml:"Groups"`
	listMeta
}

func groupsOut(groups []iamsvc.Group, next string) listGroupsResult {
	out := listGroupsResult{Groups: make(protocol.Members[groupXML], len(groups)), listMeta: meta(next)}
	for i, g := range groups {
		out.Groups[i] = groupOut(g)
	}
	return out
}

func (a *api) listGroups(ctx context.Context, c *awsapi.Call) (any, error) {
	p, err := pageParams(c.Query)
	if err != nil {
		return nil, err
	}
	if err := a.allow(ctx, c, listResource(c.Principal.Account, "group")); err != nil {
		return nil, err
	}
	groups, next, err := a.svc.ListGroups(ctx, c.Principal.Account, c.Query.Get("PathPrefix"), p.marker, p.maxItems)
	if err != nil {
		return nil, err
	}
	return groupsOut(groups, next), nil
}

func (a *api) addUserToGroup(ctx context.Context, c *awsapi.Call) (any, error) {
	v, err := requiredAll(c.Query, "GroupName", "UserName")
	if err != nil {
		return nil, err
	}
	if err := a.allow(ctx, c, a.groupARN(ctx, c.Principal.Account, v[0])); err != nil {
		return nil, err
	}
	return nil, a.svc.AddUserToGroup(ctx, c.Principal.Account, v[0], v[1])
}

func (a *api) removeUserFromGroup(ctx context.Context, c *awsapi.Call) (any, error) {
	v, err := requiredAll(c.Query, "GroupName", "UserName")
	if err != nil {
		return nil, err
	}
	if err := a.allow(ctx, c, a.groupARN(ctx, c.Principal.Account, v[0])); err != nil {
		return nil, err
	}
	return nil, a.svc.RemoveUserFromGroup(ctx, c.Principal.Account, v[0], v[1])
}

func (a *api) listGroupsForUser(ctx context.Context, c *awsapi.Call) (any, error) {
	name, err := required(c.Query, "UserName")
	if err != nil {
		return nil, err
	}
	p, err := pageParams(c.Query)
	if err != nil {
		return nil, err
	}
	if err := a.allow(ctx, c, a.userARN(ctx, c.Principal.Account, name)); err != nil {
		return nil, err
	}
	groups, next, err := a.svc.ListGroupsForUser(ctx, c.Principal.Account, name, p.marker, p.maxItems)
	if err != nil {
		return nil, err
	}
	return groupsOut(groups, next), nil
}
