package iamapi

import (
	"context"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/arn"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
	"github.com/berth-dev/berth/internal/iamsvc"
)

type userResult struct {
	User userXML `xml:"User"`
}

func (a *api) createUser(ctx context.Context, c *awsapi.Call) (any, error) {
	q := c.Query
	name, err := required(q, "UserName")
	if err != nil {
		return nil, err
	}
	tags, err := tagsParam(q)
	if err != nil {
		return nil, err
	}
	in := iamsvc.CreateUserInput{UserName: name, Path: q.Get("Path"), PermissionsBoundary: q.Get("PermissionsBoundary"), Tags: tags}
	info := withBoundary(withRequestTags(c.Info, tags), in.PermissionsBoundary)
	if err := a.allowWith(ctx, c, arn.User(c.Principal.Account, in.Path, name), info); err != nil {
		return nil, err
	}
	u, err := a.svc.CreateUser(ctx, c.Principal.Account, in)
	if err != nil {
		return nil, err
	}
	return userResult{userOut(*u, true)}, nil
}

func (a *api) getUser(ctx context.Context, c *awsapi.Call) (any, error) {
	name, err := selfUser(c)
	if err != nil {
		return nil, err
	}
	acct := c.Principal.Account
	if name == "" { // the root user describes itself
		if err := a.allow(ctx, c, arn.Root(acct)); err != nil {
			return nil, err
		}
		info, _ := a.svc.AccountCreated(acct)
		return userResult{userXML{UserID: acct, Arn: arn.Root(acct), CreateDate: protocol.ISOTime(info.CreatedAt)}}, nil
	}
	if err := a.allow(ctx, c, a.userARN(ctx, acct, name)); err != nil {
		return nil, err
	}
	u, err := a.svc.GetUser(ctx, acct, name)
	if err != nil {
		return nil, err
	}
	return userResult{userOut(*u, true)}, nil
}

func (a *api) deleteUser(ctx context.Context, c *awsapi.Call) (any, error) {
	name, err := required(c.Query, "UserName")
	if err != nil {
		return nil, err
	}
	if err := a.allow(ctx, c, a.userARN(ctx, c.Principal.Account, name)); err != nil {
		return nil, err
	}
	return nil, a.svc.DeleteUser(ctx, c.Principal.Account, name)
}

type listUsersResult struct {
	Users protocol.Members[userXML] `xml:"Users"`
	listMeta
}

func (a *api) listUsers(ctx context.Context, c *awsapi.Call) (any, error) {
	p, err := pageParams(c.Query)
	if err != nil {
		return nil, err
	}
	if err := a.allow(ctx, c, listResource(c.Principal.Account, "user")); err != nil {
		return nil, err
	}
	users, next, err := a.svc.ListUsers(ctx, c.Principal.Account, c.Query.Get("PathPrefix"), p.marker, p.maxItems)
	if err != nil {
		return nil, err
	}
	out := listUsersResult{Users: make(protocol.Members[userXML], len(users)), listMeta: meta(next)}
	for i, u := range users {
		out.Users[i] = userOut(u, false)
	}
	return out, nil
}

func (a *api) updateUser(ctx context.Context, c *awsapi.Call) (any, error) {
	name, err := required(c.Query, "UserName")
	if err != nil {
		return nil, err
	}
	acct := c.Principal.Account
	if err := a.allow(ctx, c, a.userARN(ctx, acct, name)); err != nil {
		return nil, err
	}
	in := iamsvc.UpdateUserInput{NewUserName: c.Query.Get("NewUserName"), NewPath: c.Query.Get("NewPath")}
	// As on AWS, renaming or moving needs permission on the target ARN too;
	// otherwise a self-managing user could rename itself into a name that a
	// repository policy trusts.
	if u, err := a.svc.GetUser(ctx, acct, name); err == nil {
		newName, newPath := u.UserName, u.Path
		if in.NewUserName != "" {
			newName = in.NewUserName
		}
		if in.NewPath != "" {
			newPath = in.NewPath
		}
		if target := arn.User(acct, newPath, newName); target != u.ARN {
			if err := a.allow(ctx, c, target); err != nil {
				return nil, err
			}
		}
	}
	return nil, a.svc.UpdateUser(ctx, acct, name, in)
}

func (a *api) tagUser(ctx context.Context, c *awsapi.Call) (any, error) {
	name, err := required(c.Query, "UserName")
	if err != nil {
		return nil, err
	}
	tags, err := tagsParam(c.Query)
	if err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, apierr.New(apierr.ValidationError,
			"1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	if err := a.allowWith(ctx, c, a.userARN(ctx, c.Principal.Account, name), withRequestTags(c.Info, tags)); err != nil {
		return nil, err
	}
	return nil, a.svc.TagUser(ctx, c.Principal.Account, name, tags)
}

func (a *api) untagUser(ctx context.Context, c *awsapi.Call) (any, error) {
	name, err := required(c.Query, "UserName")
	if err != nil {
		return nil, err
	}
	keys := c.Query.List("TagKeys.member")
	if err := a.allowWith(ctx, c, a.userARN(ctx, c.Principal.Account, name), c.Info.WithTagKeys(keys)); err != nil {
		return nil, err
	}
	return nil, a.svc.UntagUser(ctx, c.Principal.Account, name, keys)
}

type tagsResult struct {
	Tags protocol.Members[tagXML] `xml:"Tags"`
	listMeta
}

func (a *api) listUserTags(ctx context.Context, c *awsapi.Call) (any, error) {
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
	u, err := a.svc.GetUser(ctx, c.Principal.Account, name)
	if err != nil {
		return nil, err
	}
	tags, next, err := paginateAt(u.Tags, p)
	if err != nil {
		return nil, err
	}
	return tagsResult{Tags: tagsXML(tags), listMeta: meta(next)}, nil
}

// ---- access keys ----------------------------------------------------------------

// keyOwnerARN is the resource key operations are authorized on: the user, or root.
func (a *api) keyOwnerARN(ctx context.Context, account, user string) string {
	if user == "" {
		return arn.Root(account)
	}
	return a.userARN(ctx, account, user)
}

type accessKeyResult struct {
	AccessKey accessKeyXML `xml:"AccessKey"`
}

func (a *api) createAccessKey(ctx context.Context, c *awsapi.Call) (any, error) {
	user, err := selfUser(c)
	if err != nil {
		return nil, err
	}
	if err := a.allow(ctx, c, a.keyOwnerARN(ctx, c.Principal.Account, user)); err != nil {
		return nil, err
	}
	k, err := a.svc.CreateAccessKey(ctx, c.Principal.Account, user)
	if err != nil {
		return nil, err
	}
	return accessKeyResult{accessKeyXML{UserName: k.UserName, AccessKeyID: k.AccessKeyID, Status: k.Status,
		SecretAccessKey: k.SecretAccessKey, CreateDate: protocol.ISOTime(k.CreateDate)}}, nil
}

func (a *api) deleteAccessKey(ctx context.Context, c *awsapi.Call) (any, error) {
	id, err := required(c.Query, "AccessKeyId")
	if err != nil {
		return nil, err
	}
	user, err := selfUser(c)
	if err != nil {
		return nil, err
	}
	if err := a.allow(ctx, c, a.keyOwnerARN(ctx, c.Principal.Account, user)); err != nil {
		return nil, err
	}
	return nil, a.svc.DeleteAccessKey(ctx, c.Principal.Account, user, id)
}

func (a *api) updateAccessKey(ctx context.Context, c *awsapi.Call) (any, error) {
	v, err := requiredAll(c.Query, "AccessKeyId", "Status")
	if err != nil {
		return nil, err
	}
	user, err := selfUser(c)
	if err != nil {
		return nil, err
	}
	if err := a.allow(ctx, c, a.keyOwnerARN(ctx, c.Principal.Account, user)); err != nil {
		return nil, err
	}
	return nil, a.svc.UpdateAccessKey(ctx, c.Principal.Account, user, v[0], v[1])
}

type listAccessKeysResult struct {
	AccessKeyMetadata protocol.Members[accessKeyXML] `xml:"AccessKeyMetadata"`
	listMeta
}

func (a *api) listAccessKeys(ctx context.Context, c *awsapi.Call) (any, error) {
	user, err := selfUser(c)
	if err != nil {
		return nil, err
	}
	p, err := pageParams(c.Query)
	if err != nil {
		return nil, err
	}
	if err := a.allow(ctx, c, a.keyOwnerARN(ctx, c.Principal.Account, user)); err != nil {
		return nil, err
	}
	keys, next, err := a.svc.ListAccessKeys(ctx, c.Principal.Account, user, p.marker, p.maxItems)
	if err != nil {
		return nil, err
	}
	out := listAccessKeysResult{AccessKeyMetadata: make(protocol.Members[accessKeyXML], len(keys)), listMeta: meta(next)}
	for i, k := range keys {
		out.AccessKeyMetadata[i] = accessKeyXML{UserName: k.UserName, AccessKeyID: k.AccessKeyID, Status: k.Status, CreateDate: protocol.ISOTime(k.CreateDate)}
	}
	return out, nil
}

type accessKeyLastUsedXML struct {
	LastUsedDate protocol.ISOTime `xml:"LastUsedDate"`
	ServiceName  string           `xml:"ServiceName"`
	Region       string           `xml:"Region"`
}

type accessKeyLastUsedResult struct {
	UserName          string               `xml:"UserName,omitempty"`
	AccessKeyLastUsed accessKeyLastUsedXML `xml:"AccessKeyLastUsed"`
}

// getAccessKeyLastUsed answers with the owner and "N/A" usage, which is what
// AWS sends for a key that has never been used: berth does not track use.
func (a *api) getAccessKeyLastUsed(ctx context.Context, c *awsapi.Call) (any, error) {
	id, err := required(c.Query, "AccessKeyId")
	if err != nil {
		return nil, err
	}
	account, user, err := a.svc.AccessKeyOwner(ctx, id)
	if err != nil || account != c.Principal.Account {
		// Keys of other accounts are as invisible as missing ones.
		return nil, apierr.New(apierr.AccessDenied, "User: %s is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key %s",
			c.Principal.ARN, id)
	}
	if err := a.allow(ctx, c, a.keyOwnerARN(ctx, account, user)); err != nil {
		return nil, err
	}
	return accessKeyLastUsedResult{UserName: user, AccessKeyLastUsed: accessKeyLastUsedXML{ServiceName: "N/A", Region: "N/A"}}, nil
}
