// Package resolve expands CloudFormation dynamic references
// ({{resolve:ssm:…}}, {{resolve:ssm-secure:…}}, {{resolve:secretsmanager:…}})
// with CloudFormation's grammar and version semantics, in plain text, JSON
// and Elastic Beanstalk .ebextensions YAML.
package resolve

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Services CloudFormation resolves.
const (
	ServiceSSM            = "ssm"
	ServiceSSMSecure      = "ssm-secure"
	ServiceSecretsManager = "secretsmanager"
)

const (
	openMarker = "{{resolve:"
	closeMark  = "}}"
)

// Ref is one parsed dynamic reference. Fields keep the text as written so
// String re-renders the reference exactly.
type Ref struct {
	Service string
	// SSM: parameter name or ARN, and the version ("" = latest).
	Name    string
	Version string
	// Secrets Manager: secret-id:SecretString:json-key:version-stage:version-id.
	// Segments holds everything after the secret id as written (possibly
	// fewer than four, possibly empty strings).
	SecretID string
	Segments []string
}

// SecretString, JSONKey, VersionStage and VersionID name the optional
// Secrets Manager segments.
func (r Ref) segment(i int) string {
	if i < len(r.Segments) {
		return r.Segments[i]
	}
	return ""
}

// JSONKey is the top-level key to select from a secret's JSON ("" = whole string).
func (r Ref) JSONKey() string { return r.segment(1) }

// VersionStage is the staging label ("" = AWSCURRENT unless VersionID is set).
func (r Ref) VersionStage() string { return r.segment(2) }

// VersionID selects a secret version by id.
func (r Ref) VersionID() string { return r.segment(3) }

// String renders the reference as CloudFormation text.
func (r Ref) String() string {
	var b strings.Builder
	b.WriteString(openMarker)
	b.WriteString(r.Service)
	b.WriteByte(':')
	switch r.Service {
	case ServiceSecretsManager:
		b.WriteString(r.SecretID)
		for _, s := range r.Segments {
			b.WriteByte(':')
			b.WriteString(s)
		}
	default:
		b.WriteString(r.Name)
		if r.Version != "" {
			b.WriteByte(':')
			b.WriteString(r.Version)
		}
	}
	b.WriteString(closeMark)
	return b.String()
}

// ParamSelector is the GetParameter name: NAME or NAME:VERSION.
func (r Ref) ParamSelector() string {
	if r.Version == "" {
		return r.Name
	}
	return r.Name + ":" + r.Version
}

// ErrSyntax marks malformed references.
var ErrSyntax = errors.New("invalid dynamic reference")

func syntaxErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrSyntax, fmt.Sprintf(format, args...))
}

// ParseRef parses exactly one reference, "{{resolve:…}}" with nothing around it.
func ParseRef(s string) (Ref, error) {
	if !strings.HasPrefix(s, openMarker) || !strings.HasSuffix(s, closeMark) || len(s) < len(openMarker)+len(closeMark) {
		return Ref{}, syntaxErr("%q is not of the form {{resolve:SERVICE:…}}", s)
	}
	body := s[len(openMarker) : len(s)-len(closeMark)]
	if strings.Contains(body, "{{") || strings.Contains(body, "}}") {
		return Ref{}, syntaxErr("%s: dynamic references cannot be nested", s)
	}
	if strings.HasSuffix(body, `\`) {
		return Ref{}, syntaxErr(`%s: a dynamic reference may not end with a backslash`, s)
	}
	if strings.ContainsAny(body, " \t\r\n") {
		return Ref{}, syntaxErr("%s: whitespace is not allowed inside a dynamic reference", s)
	}
	svc, rest, ok := strings.Cut(body, ":")
	if !ok {
		return Ref{}, syntaxErr("%s: missing the part after the service name", s)
	}
	switch svc {
	case ServiceSSM, ServiceSSMSecure:
		return parseSSM(s, svc, rest)
	case ServiceSecretsManager:
		return parseSecretsManager(s, rest)
	default:
		return Ref{}, syntaxErr("%s: unknown service %q (CloudFormation supports ssm, ssm-secure and secretsmanager)", s, svc)
	}
}

func parseSSM(s, svc, rest string) (Ref, error) {
	r := Ref{Service: svc}
	name := rest
	if strings.HasPrefix(rest, "arn:") {
		// arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME — six fields.
		f := strings.SplitN(rest, ":", 7)
		if len(f) < 6 || f[2] != "ssm" || !strings.HasPrefix(f[5], "parameter/") {
			return Ref{}, syntaxErr("%s: %q is not an SSM parameter ARN (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME)", s, rest)
		}
		name = strings.Join(f[:6], ":")
		if len(f) == 7 {
			r.Version = f[6]
			if r.Version == "" {
				return Ref{}, syntaxErr("%s: empty version after ':'", s)
			}
		}
	} else if n, v, ok := strings.Cut(rest, ":"); ok {
		name, r.Version = n, v
		if v == "" {
			return Ref{}, syntaxErr("%s: empty version after ':'", s)
		}
	}
	if name == "" {
		return Ref{}, syntaxErr("%s: empty parameter name", s)
	}
	if !strings.HasPrefix(name, "arn:") {
		if err := checkParamName(name); err != nil {
			return Ref{}, syntaxErr("%s: %v", s, err)
		}
	}
	if r.Version != "" {
		if err := checkVersion(r.Version); err != nil {
			return Ref{}, syntaxErr("%s: %v", s, err)
		}
	}
	r.Name = name
	return r, nil
}

// checkParamName applies SSM's character set and hierarchy rules.
func checkParamName(name string) error {
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' || c == '/') {
			return fmt.Errorf("parameter name %q contains %q; allowed are letters, digits and _ . - /", name, c)
		}
	}
	if strings.Contains(name, "/") && !strings.HasPrefix(name, "/") {
		return fmt.Errorf("hierarchical parameter name %q must start with '/'", name)
	}
	if len(name) > 2048 {
		return fmt.Errorf("parameter name is longer than 2048 characters")
	}
	return nil
}

// checkVersion: CloudFormation versions are positive integers (no labels,
// no signs, no leading zeros).
func checkVersion(v string) error {
	n, err := strconv.ParseUint(v, 10, 63)
	if err != nil || n == 0 || v[0] == '0' {
		return fmt.Errorf("version %q must be a positive integer", v)
	}
	return nil
}

func parseSecretsManager(s, rest string) (Ref, error) {
	r := Ref{Service: ServiceSecretsManager}
	var segs []string
	if strings.HasPrefix(rest, "arn:") {
		// arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME — seven fields.
		f := strings.Split(rest, ":")
		if len(f) < 7 || f[2] != "secretsmanager" || f[5] != "secret" || f[6] == "" {
			return Ref{}, syntaxErr("%s: %q is not a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)", s, rest)
		}
		r.SecretID = strings.Join(f[:7], ":")
		segs = f[7:]
	} else {
		f := strings.Split(rest, ":")
		r.SecretID, segs = f[0], f[1:]
	}
	if r.SecretID == "" {
		return Ref{}, syntaxErr("%s: empty secret id", s)
	}
	if len(segs) > 4 {
		return Ref{}, syntaxErr("%s: too many segments; the form is secretsmanager:SECRET-ID:SecretString:JSON-KEY:VERSION-STAGE:VERSION-ID", s)
	}
	r.Segments = segs
	if v := r.segment(0); v != "" && v != "SecretString" {
		return Ref{}, syntaxErr("%s: the second segment must be SecretString (or empty), not %q", s, v)
	}
	if r.VersionStage() != "" && r.VersionID() != "" {
		return Ref{}, syntaxErr("%s: VERSION-STAGE and VERSION-ID are mutually exclusive", s)
	}
	return r, nil
}
