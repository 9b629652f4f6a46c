// Package iam is berth's IAM policy engine: it parses, validates and compiles
// policy documents and evaluates requests against them the way AWS does.
// It does no I/O; callers collect the policies that apply to a request.
package iam

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// PolicyKind says which grammar a document must follow.
type PolicyKind int

const (
	// IdentityPolicy is attached to a user, group or role (also boundaries
	// and session policies): no Principal, Resource required.
	IdentityPolicy PolicyKind = iota
	// ResourcePolicy is an ECR repository or registry policy: Principal
	// required, Resource optional (absent means "this resource").
	ResourcePolicy
	// TrustPolicy is a role's assume-role policy: Principal required, no
	// Resource, only sts:AssumeRole* style actions.
	TrustPolicy
)

func (k PolicyKind) String() string {
	switch k {
	case IdentityPolicy:
		return "identity"
	case ResourcePolicy:
		return "resource"
	case TrustPolicy:
		return "trust"
	}
	return fmt.Sprintf("PolicyKind(%d)", int(k))
}

// Policy versions.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Size limits in characters, whitespace excluded (§6.6).
const (
	MaxIdentityPolicySize    = 6144  // customer-managed policy
	MaxInlineUserPolicySize  = 2048  // all inline policies of one user together
	MaxInlineGroupPolicySize = 5120  // all inline policies of one group together
	MaxInlineRolePolicySize  = 10240 // all inline policies of one role together
	MaxTrustPolicySize       = 2048
	MaxResourcePolicySize    = 10240 // ECR repository and registry policies
)

// ErrMalformedPolicy is matched (errors.Is) by every *ValidationError.
var ErrMalformedPolicy = errors.New("malformed policy document")

// ErrPolicyTooLarge is wrapped by *SizeError.
var ErrPolicyTooLarge = errors.New("policy document too large")

// ValidationError names what is wrong with a document and where.
type ValidationError struct {
	Statement string // Sid in quotes, "Statement[2]", or "" for the document
	Field     string // e.g. "Action", "Condition.StringEqualz"
	Message   string // AWS's text, e.g. "Policy statement must contain actions."
}

func (e *ValidationError) Error() string {
	switch {
	case e.Statement != "" && e.Field != "":
		return fmt.Sprintf("%s (statement %s, field %s)", e.Message, e.Statement, e.Field)
	case e.Statement != "":
		return fmt.Sprintf("%s (statement %s)", e.Message, e.Statement)
	case e.Field != "":
		return fmt.Sprintf("%s (field %s)", e.Message, e.Field)
	}
	return e.Message
}

func (e *ValidationError) Is(target error) bool { return target == ErrMalformedPolicy }

// SizeError reports a document over its limit.
type SizeError struct {
	Size, Limit int
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("Cannot exceed quota for PolicySize: %d", e.Limit)
}

func (e *SizeError) Unwrap() error { return ErrPolicyTooLarge }

// PolicySize counts the characters of doc that are not whitespace, the
// measure IAM applies to its quotas.
func PolicySize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// CheckPolicySize returns a *SizeError when doc exceeds limit. Callers use it
// for the limits ParsePolicy cannot know (managed vs inline, per-user totals).
func CheckPolicySize(doc string, limit int) error {
	if n := PolicySize(doc); n > limit {
		return &SizeError{Size: n, Limit: limit}
	}
	return nil
}

// maxSize is the largest document of a kind that can be valid anywhere;
// narrower limits are the caller's business (CheckPolicySize).
func maxSize(kind PolicyKind) int {
	switch kind {
	case TrustPolicy:
		return MaxTrustPolicySize
	case ResourcePolicy:
		return MaxResourcePolicySize
	}
	return MaxInlineRolePolicySize
}

// Policy is a parsed, validated and compiled policy document. It is
// immutable after ParsePolicy (apart from Name, which callers set before
// sharing it) and safe for concurrent Evaluate calls.
type Policy struct {
	// Name labels the policy in decisions ("AmazonEC2ContainerRegistryReadOnly",
	// an inline policy name, "repository policy"...). Optional.
	Name string

	kind    PolicyKind
	doc     string
	version string
	id      string
	raw     []rawStatement
	stmts   []statement
}

// ParsePolicy parses and validates doc as a policy of the given kind.
// Errors are *ValidationError (errors.Is ErrMalformedPolicy) or *SizeError
// (errors.Is ErrPolicyTooLarge). The size limit applied is the largest the
// kind allows (10240 for identity policies: an inline role policy); use
// CheckPolicySize for managed (6144) and per-principal inline totals.
func ParsePolicy(doc string, kind PolicyKind) (*Policy, error) {
	if err := CheckPolicySize(doc, maxSize(kind)); err != nil {
		return nil, err
	}
	return parsePolicy(doc, kind)
}

func parsePolicy(doc string, kind PolicyKind) (*Policy, error) {
	rp, err := parseDocument(doc, kind)
	if err != nil {
		return nil, err
	}
	p := &Policy{kind: kind, doc: doc, version: rp.version, id: rp.id, raw: rp.statements}
	p.stmts = make([]statement, len(rp.statements))
	for i := range rp.statements {
		if err := compileStatement(&p.stmts[i], &rp.statements[i], rp.version == Version2012); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Document returns the JSON text the policy was parsed from.
func (p *Policy) Document() string { return p.doc }

// Kind returns the grammar the policy was validated against.
func (p *Policy) Kind() PolicyKind { return p.kind }

// Version returns the effective Version ("2008-10-17" when absent).
func (p *Policy) Version() string { return p.version }

// Statements returns the number of statements.
func (p *Policy) Statements() int { return len(p.stmts) }

func statementLabel(sid string, index int) string {
	if sid != "" {
		return fmt.Sprintf("%q", sid)
	}
	return fmt.Sprintf("Statement[%d]", index)
}

func isVendorChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

func hasVendorPrefix(s string) (vendor string, ok bool) {
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return "", false
	}
	return s[:i], true
}
