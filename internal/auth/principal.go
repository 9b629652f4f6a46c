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
	Tags    map[string]string
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
	SourceIP string    // client IP (aws:SourceIp)
	Secure   bool      // TLS (aws:SecureTransport)
	Now      time.Time // aws:CurrentTime
}
