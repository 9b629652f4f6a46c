package iamapi

import (
	"github.com/berth-dev/berth/internal/awsapi/protocol"
	"github.com/berth-dev/berth/internal/iamsvc"
)

// XML shapes, member for member as botocore's iam service-2.json names them.
// Optional members use omitempty; lists without omitempty always appear
// (possibly empty), as AWS sends required lists.

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func tagsXML(tags []iamsvc.Tag) protocol.Members[tagXML] {
	out := make(protocol.Members[tagXML], len(tags))
	for i, t := range tags {
		out[i] = tagXML(t)
	}
	return out
}

type boundaryXML struct {
	PermissionsBoundaryType string `xml:"PermissionsBoundaryType"`
	PermissionsBoundaryArn  string `xml:"PermissionsBoundaryArn"`
}

func boundary(policyARN string) *boundaryXML {
	if policyARN == "" {
		return nil
	}
	return &boundaryXML{PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: policyARN}
}

type userXML struct {
	Path                string                   `xml:"Path,omitempty"`
	UserName            string                   `xml:"UserName,omitempty"`
	UserID              string                   `xml:"UserId"`
	Arn                 string                   `xml:"Arn"`
	CreateDate          protocol.ISOTime         `xml:"CreateDate"`
	PermissionsBoundary *boundaryXML             `xml:"PermissionsBoundary,omitempty"`
	Tags                protocol.Members[tagXML] `xml:"Tags,omitempty"`
}

// userOut is the full shape (Create/GetUser); listings leave out boundary
// and tags, as IAM's ListUsers and GetGroup do.
func userOut(u iamsvc.User, full bool) userXML {
	out := userXML{Path: u.Path, UserName: u.UserName, UserID: u.UserID, Arn: u.ARN, CreateDate: protocol.ISOTime(u.CreateDate)}
	if full {
		out.PermissionsBoundary = boundary(u.PermissionsBoundary)
		out.Tags = tagsXML(u.Tags)
	}
	return out
}

type groupXML struct {
	Path       string           `xml:"Path"`
	GroupName  string           `xml:"GroupName"`
	GroupID    string           `xml:"GroupId"`
	Arn        string           `xml:"Arn"`
	CreateDate protocol.ISOTime `xml:"CreateDate"`
}

func groupOut(g iamsvc.Group) groupXML {
	return groupXML{Path: g.Path, GroupName: g.GroupName, GroupID: g.GroupID, Arn: g.ARN, CreateDate: protocol.ISOTime(g.CreateDate)}
}

type roleLastUsedXML struct {
	LastUsedDate protocol.ISOTime `xml:"LastUsedDate"`
	Region       string           `xml:"Region,omitempty"`
}

type roleXML struct {
	Path                     string                   `xml:"Path"`
	RoleName                 string                   `xml:"RoleName"`
	RoleID                   string                   `xml:"RoleId"`
	Arn                      string                   `xml:"Arn"`
	CreateDate               protocol.ISOTime         `xml:"CreateDate"`
	AssumeRolePolicyDocument string                   `xml:"AssumeRolePolicyDocument,omitempty"`
	Description              string                   `xml:"Description,omitempty"`
	MaxSessionDuration       int32                    `xml:"MaxSessionDuration,omitempty"`
	PermissionsBoundary      *boundaryXML             `xml:"PermissionsBoundary,omitempty"`
	Tags                     protocol.Members[tagXML] `xml:"Tags,omitempty"`
	RoleLastUsed             *roleLastUsedXML         `xml:"RoleLastUsed,omitempty"`
}

// roleOut: GetRole adds RoleLastUsed (empty: berth does not track it);
// ListRoles has no boundary, tags or RoleLastUsed.
func roleOut(r iamsvc.Role, full, lastUsed bool) roleXML {
	out := roleXML{Path: r.Path, RoleName: r.RoleName, RoleID: r.RoleID, Arn: r.ARN, CreateDate: protocol.ISOTime(r.CreateDate),
		AssumeRolePolicyDocument: encodeDocument(r.AssumeRolePolicyDocument), Description: r.Description,
		MaxSessionDuration: r.MaxSessionDuration}
	if full {
		out.PermissionsBoundary = boundary(r.PermissionsBoundary)
		out.Tags = tagsXML(r.Tags)
	}
	if lastUsed {
		out.RoleLastUsed = &roleLastUsedXML{}
	}
	return out
}

type policyXML struct {
	PolicyName                    string           `xml:"PolicyName"`
	PolicyID                      string           `xml:"PolicyId"`
	Arn                           string           `xml:"Arn"`
	Path                          string           `xml:"Path"`
	DefaultVersionID              string           `xml:"DefaultVersionId"`
	AttachmentCount               int              `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int              `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool             `xml:"IsAttachable"`
	Description                   string           `xml:"Description,omitempty"`
	CreateDate                    protocol.ISOTime `xml:"CreateDate"`
	UpdateDate                    protocol.ISOTime `xml:"UpdateDate"`
	// Tags is a pointer because GetPolicy sends an empty <Tags/> for an
	// untagged policy (as AWS does) while CreatePolicy leaves it out.
	Tags *protocol.Members[tagXML] `xml:"Tags,omitempty"`
}

// policyOut: Description and Tags only outside listings (as IAM's ListPolicies);
// GetPolicy's Tags are sent even when empty, as AWS does.
func policyOut(p iamsvc.ManagedPolicy, full bool) policyXML {
	out := policyXML{PolicyName: p.PolicyName, PolicyID: p.PolicyID, Arn: p.ARN, Path: p.Path, DefaultVersionID: p.DefaultVersionID,
		AttachmentCount: p.AttachmentCount, PermissionsBoundaryUsageCount: p.PermissionsBoundaryUsageCount,
		IsAttachable: p.IsAttachable, CreateDate: protocol.ISOTime(p.CreateDate), UpdateDate: protocol.ISOTime(p.UpdateDate)}
	if full {
		out.Description = p.Description
		tags := tagsXML(p.Tags)
		out.Tags = &tags
	}
	return out
}

type policyVersionXML struct {
	Document         string           `xml:"Document,omitempty"`
	VersionID        string           `xml:"VersionId"`
	IsDefaultVersion bool             `xml:"IsDefaultVersion"`
	CreateDate       protocol.ISOTime `xml:"CreateDate"`
}

func versionOut(v iamsvc.PolicyVersion, withDoc bool) policyVersionXML {
	out := policyVersionXML{VersionID: v.VersionID, IsDefaultVersion: v.IsDefaultVersion, CreateDate: protocol.ISOTime(v.CreateDate)}
	if withDoc {
		out.Document = encodeDocument(v.Document)
	}
	return out
}

type accessKeyXML struct {
	UserName        string           `xml:"UserName,omitempty"`
	AccessKeyID     string           `xml:"AccessKeyId"`
	Status          string           `xml:"Status"`
	SecretAccessKey string           `xml:"SecretAccessKey,omitempty"`
	CreateDate      protocol.ISOTime `xml:"CreateDate"`
}

type attachedPolicyXML struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}
