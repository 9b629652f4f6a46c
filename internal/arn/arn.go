// Package arn parses and formats Amazon Resource Names.
package arn

import (
	"errors"
	"strings"
)

// ErrInvalid is returned for strings that are not ARNs.
var ErrInvalid = errors.New("invalid ARN")

// ARN is arn:Partition:Service:Region:AccountID:Resource. Resource keeps
// any further ':' or '/' separators verbatim.
type ARN struct {
	Partition string
	Service   string
	Region    string
	AccountID string
	Resource  string
}

// Parse splits s into its six fields. It checks the shape only, not whether
// the service or region exist.
func Parse(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] == "" || parts[5] == "" {
		return ARN{}, ErrInvalid
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], AccountID: parts[4], Resource: parts[5]}, nil
}

// IsARN reports whether s has the shape of an ARN.
func IsARN(s string) bool {
	_, err := Parse(s)
	return err == nil
}

func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.AccountID + ":" + a.Resource
}

// IsAccountID reports whether s is a 12-digit AWS account id.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Root returns the ARN of an account's root user, which policies also use to
// name the account itself.
func Root(account string) string { return "arn:aws:iam::" + account + ":root" }

// User returns an IAM user ARN; path is "/" or "/a/b/".
func User(account, path, name string) string {
	return "arn:aws:iam::" + account + ":user" + normPath(path) + name
}

// Role returns an IAM role ARN; path is "/" or "/a/b/".
func Role(account, path, name string) string {
	return "arn:aws:iam::" + account + ":role" + normPath(path) + name
}

// AssumedRole returns an STS session ARN. Role paths never appear in it.
func AssumedRole(account, role, session string) string {
	return "arn:aws:sts::" + account + ":assumed-role/" + role + "/" + session
}

// Repository returns an ECR repository ARN.
func Repository(region, account, name string) string {
	return "arn:aws:ecr:" + region + ":" + account + ":repository/" + name
}

func normPath(p string) string {
	if p == "" {
		return "/"
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}
