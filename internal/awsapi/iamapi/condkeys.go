package iamapi

import (
	"context"
	"strings"

	"github.com/berth-dev/berth/internal/arn"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/iamsvc"
)

// boundaryKeyActions are the actions whose iam:PermissionsBoundary key is
// the permissions boundary of the user or role they change (Service
// Authorization Reference, IAM). CreateUser and CreateRole take it from the
// request instead.
var boundaryKeyActions = map[string]bool{
	"AttachUserPolicy": true, "DetachUserPolicy": true, "PutUserPolicy": true, "DeleteUserPolicy": true,
	"AttachRolePolicy": true, "DetachRolePolicy": true, "PutRolePolicy": true, "DeleteRolePolicy": true,
	"PutUserPermissionsBoundary": true, "DeleteUserPermissionsBoundary": true,
	"PutRolePermissionsBoundary": true, "DeleteRolePermissionsBoundary": true,
}

// allowWith authorizes the call's action on resource with info, adding
// what berth knows about the resource: its tags (aws:ResourceTag/K,
// iam:ResourceTag/K) and, for the actions that define it, its boundary.
func (a *api) allowWith(ctx context.Context, c *awsapi.Call, resource string, info auth.RequestInfo) error {
	info = a.resourceKeys(ctx, c, resource, info)
	return a.authz.Authorize(ctx, c.Principal, "iam:"+c.Operation, resource, c.Principal.Account, "", info)
}

func (a *api) resourceKeys(ctx context.Context, c *awsapi.Call, resource string, info auth.RequestInfo) auth.RequestInfo {
	p, err := arn.Parse(resource)
	if err != nil || p.Service != "iam" || p.AccountID != c.Principal.Account {
		return info
	}
	kind, rest, _ := strings.Cut(p.Resource, "/")
	name := rest[strings.LastIndex(rest, "/")+1:]
	var tags []iamsvc.Tag
	var boundary string
	switch kind {
	case "user":
		u, err := a.svc.GetUser(ctx, p.AccountID, name)
		if err != nil || u.ARN != resource {
			return info
		}
		tags, boundary = u.Tags, u.PermissionsBoundary
	case "role":
		r, err := a.svc.GetRole(ctx, p.AccountID, name)
		if err != nil || r.ARN != resource {
			return info
		}
		tags, boundary = r.Tags, r.PermissionsBoundary
	case "policy":
		mp, err := a.svc.GetPolicy(ctx, p.AccountID, resource)
		if err != nil {
			return info
		}
		tags = mp.Tags
	default:
		return info
	}
	if len(tags) > 0 {
		m := make(map[string]string, len(tags))
		for _, t := range tags {
			m[t.Key] = t.Value
		}
		info = info.WithResourceTags(m)
	}
	if boundary != "" && boundaryKeyActions[c.Operation] {
		info = info.With("iam:PermissionsBoundary", boundary)
	}
	return info
}

// withRequestTags publishes the tags of a create or tag call.
func withRequestTags(info auth.RequestInfo, tags []iamsvc.Tag) auth.RequestInfo {
	keys, vals := make([]string, len(tags)), make([]string, len(tags))
	for i, t := range tags {
		keys[i], vals[i] = t.Key, t.Value
	}
	return info.WithRequestTags(keys, vals)
}

// withBoundary publishes the boundary a CreateUser/CreateRole asks for.
func withBoundary(info auth.RequestInfo, boundary string) auth.RequestInfo {
	if boundary == "" {
		return info
	}
	return info.With("iam:PermissionsBoundary", boundary)
}
