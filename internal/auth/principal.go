// Package auth turns request credentials into a Principal: registry Basic auth
// (root/IAM access keys, ECR authorization tokens, STS session credentials) and
// SigV4 for the AWS APIs. Authorization (what the principal may do) is not
// decided here; see Authorizer implementations.
package auth

import (
	"context"
	"time"
)

// PrincipalType mirrors aws:PrincipalType.
type PrincipalType string

const (
	Root        PrincipalType = "Root"
	User        PrincipalType = "User"
	AssumedRole PrincipalType = "AssumedRole"
)

// Principal is an authenticated caller.
type Principal struct {
	Type        PrincipalType
	Account     string // 12 digits
	ARN         string // arn:aws:iam::A:root | arn:aws:iam::A:user/path/name | arn:aws:sts::A:assumed-role/R/S
	RoleARN     string // assumed roles: arn:aws:iam::A:role/path/R
	Name        string // user name, or role session name
	UserID      string // AIDA…, AROA…:session, or the account id for root
	AccessKeyID string // key used for this request ("" for ECR tokens)
	// SessionID is the ASIA… key id of the STS session whose permissions apply
	// (also when the request came with an ECR token minted from that session);
	// "" for long-term credentials.
	SessionID string
	// Expires is when temporary credentials (STS session, ECR token) stop working; zero for long-term keys.
	Expires time.Time
	// Issued is when the STS session behind SessionID was issued
	// (aws:TokenIssueTime); zero for long-term credentials.
	Issued time.Time
	Tags   map[string]string
}

type principalKey struct{}

// WithPrincipal stores p in ctx for the rest of the request.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the request's principal, or nil.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// RequestInfo is what policy conditions may ask about the request itself.
type RequestInfo struct {
	SourceIP  string    // client IP (aws:SourceIp)
	Secure    bool      // TLS (aws:SecureTransport)
	Now       time.Time // aws:CurrentTime, aws:EpochTime
	Region    string    // aws:RequestedRegion; "" = the resource's region where there is one
	UserAgent string    // aws:UserAgent
	Referer   string    // aws:Referer
	// Keys are the action's own condition keys, taken from the request by
	// its handler (aws:RequestTag/K, aws:TagKeys, iam:PolicyARN,
	// ssm:Overwrite, secretsmanager:Name…). Set them through With and
	// WithRequestTags, which copy, so that one call's keys never leak into
	// the authorization of another action of the same request.
	Keys map[string][]string
	// ResourceTags are the tags of the resource the action is on, for
	// resources the authorizer does not load itself (IAM users and roles):
	// published as aws:ResourceTag/K and SERVICE:ResourceTag/K.
	ResourceTags map[string]string
}

// With returns a copy of i with key set to vals.
func (i RequestInfo) With(key string, vals ...string) RequestInfo {
	m := make(map[string][]string, len(i.Keys)+1)
	for k, v := range i.Keys {
		m[k] = v
	}
	m[key] = vals
	i.Keys = m
	return i
}

// WithRequestTags returns a copy of i carrying aws:RequestTag/K for every
// tag and aws:TagKeys (the keys, in the order given). No tags leaves both
// keys absent, as on AWS.
func (i RequestInfo) WithRequestTags(keys, values []string) RequestInfo {
	if len(keys) == 0 {
		return i
	}
	m := make(map[string][]string, len(i.Keys)+len(keys)+1)
	for k, v := range i.Keys {
		m[k] = v
	}
	for n, k := range keys {
		if n < len(values) {
			m["aws:RequestTag/"+k] = []string{values[n]}
		}
	}
	m["aws:TagKeys"] = append([]string(nil), keys...)
	i.Keys = m
	return i
}

// WithTagKeys returns a copy of i carrying aws:TagKeys alone (untagging).
func (i RequestInfo) WithTagKeys(keys []string) RequestInfo {
	if len(keys) == 0 {
		return i
	}
	return i.With("aws:TagKeys", append([]string(nil), keys...)...)
}

// WithResourceTags returns a copy of i whose resource carries tags.
func (i RequestInfo) WithResourceTags(tags map[string]string) RequestInfo {
	i.ResourceTags = tags
	return i
}
