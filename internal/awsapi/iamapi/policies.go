package iamapi

import (
	"context"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/arn"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
	"github.com/berth-dev/berth/internal/iamsvc"
)

type policyResult struct {
	Policy policyXML `xml:"Policy"`
}

func (a *api) createPolicy(ctx context.Context, c *awsapi.Call) (any, error) {
	q := c.Query
	v, err := requiredAll(q, "PolicyName", "PolicyDocument")
	if err != nil {
		return nil, err
	}
	tags, err := tagsParam(q)
	if err != nil {
		return nil, err
	}
	in := iamsvc.CreatePolicyInput{PolicyName: v[0], PolicyDocument: v[1], Path: q.Get("Path"), Description: q.Get("Description"), Tags: tags}
	if len(in.Description) > 1000 {
		return nil, validation(in.Description, "Description", "Member must have length less than or equal to 1000")
	}
	if err := a.allowWith(ctx, c, policyARN(c.Principal.Account, in.Path, in.PolicyName), withRequestTags(c.Info, tags)); err != nil {
		return nil, err
	}
	p, err := a.svc.CreatePolicy(ctx, c.Principal.Account, in)
	if err != nil {
		return nil, err
	}
	// AWS answers CreatePolicy with the tags but without the description.
	out := policyOut(*p, false)
	if len(p.Tags) > 0 {
		tags := tagsXML(p.Tags)
		out.Tags = &tags
	}
	return policyResult{out}, nil
}

func (a *api) getPolicy(ctx context.Context, c *awsapi.Call) (any, error) {
	pa, err := policyARNParam(c.Query)
	if err != nil {
		return nil, err
	}
	if err := a.allow(ctx, c, pa); err != nil {
		return nil, err
	}
	p, err := a.svc.GetPolicy(ctx, c.Principal.Account, pa)
	if err != nil {
		return nil, err
	}
	return policyResult{policyOut(*p, true)}, nil
}

func (a *api) deletePolicy(ctx context.Context, c *awsapi.Call) (any, error) {
	pa, err := policyARNParam(c.Query)
	if err != nil {
		return nil, err
	}
	if err := a.allow(ctx, c, pa); err != nil {
		return nil, err
	}
	return nil, a.svc.DeletePolicy(ctx, c.Principal.Account, pa)
}

type listPoliciesResult struct {
	Policies protocol.Members[policyXML] `xml:"Policies"`
	listMeta
}

func (a *api) listPolicies(ctx context.Context, c *awsapi.Call) (any, error) {
	q := c.Query
	p, err := pageParams(q)
	if err != nil {
		return nil, err
	}
	onlyAttached, ok := q.Bool("OnlyAttached")
	if q.Has("OnlyAttached") && !ok {
		return nil, validation(q.Get("OnlyAttached"), "OnlyAttached", "Member must be true or false")
	}
	if err := a.allow(ctx, c, listResource(c.Principal.Account, "policy")); err != nil {
		return nil, err
	}
	pols, next, err := a.svc.ListPolicies(ctx, c.Principal.Account, q.Get("Scope"), onlyAttached, q.Get("PathPrefix"), p.marker, p.maxItems)
	if err != nil {
		return nil, err
	}
	out := listPoliciesResult{Policies: make(protocol.Members[policyXML], len(pols)), listMeta: meta(next)}
	for i, pol := range pols {
		out.Policies[i] = policyOut(pol, false)
	}
	return out, nil
}

type policyVersionResult struct {
	PolicyVersion policyVersionXML `xml:"PolicyVersion"`
}

func (a *api) createPolicyVersion(ctx context.Context, c *awsapi.Call) (any, error) {
	pa, err := policyARNParam(c.Query)
	if err != nil {
		return nil, err
	}
	doc, err := required(c.Query, "PolicyDocument")
	if err != nil {
		return nil, err
	}
	setDefault, ok := c.Query.Bool("SetAsDefault")
	if c.Query.Has("SetAsDefault") && !ok {
		return nil, validation(c.Query.Get("SetAsDefault"), "SetAsDefault", "Member must be true or false")
	}
	if err := a.allow(ctx, c, pa); err != nil {
		return nil, err
	}
	v, err := a.svc.CreatePolicyVersion(ctx, c.Principal.Account, pa, doc, setDefault)
	if err != nil {
		return nil, err
	}
	// AWS answers CreatePolicyVersion without the document.
	return policyVersionResult{versionOut(*v, false)}, nil
}

func versionIDParam(c *awsapi.Call) (string, error) {
	id, err := required(c.Query, "VersionId")
	if err != nil {
		return "", err
	}
	if len(id) < 2 || id[0] != 'v' {
		return "", validation(id, "VersionId", `Member must satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`)
	}
	return id, nil
}

// versionCall reads and authorizes the PolicyArn and VersionId every
// single-version action takes.
func (a *api) versionCall(ctx context.Context, c *awsapi.Call) (policyARN, versionID string, err error) {
	pa, err := policyARNParam(c.Query)
	if err != nil {
		return "", "", err
	}
	id, err := versionIDParam(c)
	if err != nil {
		return "", "", err
	}
	if err := a.allow(ctx, c, pa); err != nil {
		return "", "", err
	}
	return pa, id, nil
}

func (a *api) getPolicyVersion(ctx context.Context, c *awsapi.Call) (any, error) {
	pa, id, err := a.versionCall(ctx, c)
	if err != nil {
		return nil, err
	}
	v, err := a.svc.GetPolicyVersion(ctx, c.Principal.Account, pa, id)
	if err != nil {
		return nil, err
	}
	return policyVersionResult{versionOut(*v, true)}, nil
}

func (a *api) deletePolicyVersion(ctx context.Context, c *awsapi.Call) (any, error) {
	pa, id, err := a.versionCall(ctx, c)
	if err != nil {
		return nil, err
	}
	return nil, a.svc.DeletePolicyVersion(ctx, c.Principal.Account, pa, id)
}

func (a *api) setDefaultPolicyVersion(ctx context.Context, c *awsapi.Call) (any, error) {
	pa, id, err := a.versionCall(ctx, c)
	if err != nil {
		return nil, err
	}
	return nil, a.svc.SetDefaultPolicyVersion(ctx, c.Principal.Account, pa, id)
}

type listPolicyVersionsResult struct {
	Versions protocol.Members[policyVersionXML] `xml:"Versions"`
	listMeta
}

func (a *api) listPolicyVersions(ctx context.Context, c *awsapi.Call) (any, error) {
	pa, err := policyARNParam(c.Query)
	if err != nil {
		return nil, err
	}
	p, err := pageParams(c.Query)
	if err != nil {
		return nil, err
	}
	if err := a.allow(ctx, c, pa); err != nil {
		return nil, err
	}
	all, err := a.svc.ListPolicyVersions(ctx, c.Principal.Account, pa)
	if err != nil {
		return nil, err
	}
	vs, next, err := paginateAt(all, p)
	if err != nil {
		return nil, err
	}
	out := listPolicyVersionsResult{Versions: make(protocol.Members[policyVersionXML], len(vs)), listMeta: meta(next)}
	for i, v := range vs {
		out.Versions[i] = versionOut(v, false)
	}
	return out, nil
}

// ---- attachments ----------------------------------------------------------------

func (a *api) attach(kind iamsvc.EntityKind) awsapi.Handler {
	return a.attachment(kind, a.svc.AttachPolicy)
}

func (a *api) detach(kind iamsvc.EntityKind) awsapi.Handler {
	return a.attachment(kind, a.svc.DetachPolicy)
}

// attachment serves Attach*Policy and Detach*Policy, which differ only in
// what they do to the attachment.
func (a *api) attachment(kind iamsvc.EntityKind,
	change func(ctx context.Context, account string, kind iamsvc.EntityKind, name, policyARN string) error) awsapi.Handler {
	return func(ctx context.Context, c *awsapi.Call) (any, error) {
		name, err := required(c.Query, entityParam(kind))
		if err != nil {
			return nil, err
		}
		// The attach calls parse PolicyArn before anything else looks at it
		// and say so in AWS's words (two spaces included).
		if v := c.Query.Get("PolicyArn"); len(v) >= 20 && !arn.IsARN(v) {
			return nil, apierr.New(apierr.ValidationError, "Invalid ARN:  Could not be parsed!")
		}
		pa, err := policyARNParam(c.Query)
		if err != nil {
			return nil, err
		}
		if err := a.allowWith(ctx, c, a.entityARN(ctx, kind, c.Principal.Account, name), c.Info.With("iam:PolicyARN", pa)); err != nil {
			return nil, err
		}
		return nil, change(ctx, c.Principal.Account, kind, name, pa)
	}
}

type listAttachedResult struct {
	AttachedPolicies protocol.Members[attachedPolicyXML] `xml:"AttachedPolicies"`
	listMeta
}

func (a *api) listAttached(kind iamsvc.EntityKind) awsapi.Handler {
	return func(ctx context.Context, c *awsapi.Call) (any, error) {
		name, err := required(c.Query, entityParam(kind))
		if err != nil {
			return nil, err
		}
		p, err := pageParams(c.Query)
		if err != nil {
			return nil, err
		}
		if err := a.allow(ctx, c, a.entityARN(ctx, kind, c.Principal.Account, name)); err != nil {
			return nil, err
		}
		pols, next, err := a.svc.ListAttachedPolicies(ctx, c.Principal.Account, kind, name, c.Query.Get("PathPrefix"), p.marker, p.maxItems)
		if err != nil {
			return nil, err
		}
		out := listAttachedResult{AttachedPolicies: make(protocol.Members[attachedPolicyXML], len(pols)), listMeta: meta(next)}
		for i, pol := range pols {
			out.AttachedPolicies[i] = attachedPolicyXML(pol)
		}
		return out, nil
	}
}

// ---- inline policies ------------------------------------------------------------

func (a *api) putInline(kind iamsvc.EntityKind) awsapi.Handler {
	return func(ctx context.Context, c *awsapi.Call) (any, error) {
		v, err := requiredAll(c.Query, entityParam(kind), "PolicyName", "PolicyDocument")
		if err != nil {
			return nil, err
		}
		if err := a.allow(ctx, c, a.entityARN(ctx, kind, c.Principal.Account, v[0])); err != nil {
			return nil, err
		}
		return nil, a.svc.PutInlinePolicy(ctx, c.Principal.Account, kind, v[0], v[1], v[2])
	}
}

// inlinePolicyResult is Get{User,Role,Group}PolicyResult: the entity name
// member differs per kind, so it is written by hand.
type inlinePolicyResult struct {
	UserName       string `xml:"UserName,omitempty"`
	RoleName       string `xml:"RoleName,omitempty"`
	GroupName      string `xml:"GroupName,omitempty"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

func (a *api) getInline(kind iamsvc.EntityKind) awsapi.Handler {
	return func(ctx context.Context, c *awsapi.Call) (any, error) {
		v, err := requiredAll(c.Query, entityParam(kind), "PolicyName")
		if err != nil {
			return nil, err
		}
		if err := a.allow(ctx, c, a.entityARN(ctx, kind, c.Principal.Account, v[0])); err != nil {
			return nil, err
		}
		doc, err := a.svc.GetInlinePolicy(ctx, c.Principal.Account, kind, v[0], v[1])
		if err != nil {
			return nil, err
		}
		out := inlinePolicyResult{PolicyName: v[1], PolicyDocument: encodeDocument(doc)}
		switch kind {
		case iamsvc.RoleEntity:
			out.RoleName = v[0]
		case iamsvc.GroupEntity:
			out.GroupName = v[0]
		default:
			out.UserName = v[0]
		}
		return out, nil
	}
}

func (a *api) deleteInline(kind iamsvc.EntityKind) awsapi.Handler {
	return func(ctx context.Context, c *awsapi.Call) (any, error) {
		v, err := requiredAll(c.Query, entityParam(kind), "PolicyName")
		if err != nil {
			return nil, err
		}
		if err := a.allow(ctx, c, a.entityARN(ctx, kind, c.Principal.Account, v[0])); err != nil {
			return nil, err
		}
		return nil, a.svc.DeleteInlinePolicy(ctx, c.Principal.Account, kind, v[0], v[1])
	}
}

type listInlineResult struct {
	PolicyNames protocol.Members[string] `xml:"PolicyNames"`
	listMeta
}

func (a *api) listInline(kind iamsvc.EntityKind) awsapi.Handler {
	return func(ctx context.Context, c *awsapi.Call) (any, error) {
		name, err := required(c.Query, entityParam(kind))
		if err != nil {
			return nil, err
		}
		p, err := pageParams(c.Query)
		if err != nil {
			return nil, err
		}
		if err := a.allow(ctx, c, a.entityARN(ctx, kind, c.Principal.Account, name)); err != nil {
			return nil, err
		}
		names, next, err := a.svc.ListInlinePolicies(ctx, c.Principal.Account, kind, name, p.marker, p.maxItems)
		if err != nil {
			return nil, err
		}
		if names == nil {
			names = []string{}
		}
		return listInlineResult{PolicyNames: names, listMeta: meta(next)}, nil
	}
}
