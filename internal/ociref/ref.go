// Package ociref is the OCI grammar berth speaks: repository names, tags,
// digests, references and media types, and the parsing and validation of
// manifests. It has no I/O and no dependencies beyond go-digest, so the
// registry, the ECR API and the client toolkit all agree on one grammar.
package ociref

import (
	// go-digest resolves algorithms through crypto.Hash; without these
	// imports sha512 digests are "unavailable" and FromBytes panics.
	_ "crypto/sha256"
	_ "crypto/sha512"
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
)

// MaxNameLength bounds repository names. The distribution spec leaves the
// limit to registries; clients commonly cap host+"/"+name at 255, and ECR
// allows 256 for the name alone, so 255 for the name is the strictest
// limit that every client accepts.
const MaxNameLength = 255

// MaxTagLength is the spec's tag limit (128 characters).
const MaxTagLength = 128

// Errors returned by the parsers; callers map them to protocol codes.
var (
	ErrInvalidName   = errors.New("invalid repository name")
	ErrInvalidTag    = errors.New("invalid tag")
	ErrInvalidDigest = errors.New("invalid digest")
	// ErrUnsupportedDigest is a well-formed digest whose algorithm berth does not implement.
	ErrUnsupportedDigest = errors.New("unsupported digest algorithm")
)

// ValidateName checks a repository name against the distribution spec's
// grammar: path components of [a-z0-9]+ joined by ".", "_", "__" or runs
// of "-", components separated by "/". It does not allocate.
func ValidateName(name string) error {
	if len(name) == 0 || len(name) > MaxNameLength {
		return ErrInvalidName
	}
	// State machine over one component at a time: a component must start
	// and end with an alphanumeric run, and separators sit between runs.
	const (
		wantAlnum = iota // start of component or just after a separator
		inAlnum
	)
	state := wantAlnum
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case isLowerAlnum(c):
			state = inAlnum
		case c == '/':
			if state != inAlnum {
				return ErrInvalidName
			}
			state = wantAlnum
		case c == '.':
			if state != inAlnum {
				return ErrInvalidName
			}
			state = wantAlnum
		case c == '_':
			if state != inAlnum {
				return ErrInvalidName
			}
			if i+1 < len(name) && name[i+1] == '_' {
				i++
			}
			state = wantAlnum
		case c == '-':
			if state != inAlnum {
				return ErrInvalidName
			}
			for i+1 < len(name) && name[i+1] == '-' {
				i++
			}
			state = wantAlnum
		default:
			return ErrInvalidName
		}
	}
	if state != inAlnum {
		return ErrInvalidName
	}
	return nil
}

func isLowerAlnum(c byte) bool { return ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') }

func isTagChar(c byte) bool {
	return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c == '_' || c == '.' || c == '-'
}

// ValidateTag checks [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
func ValidateTag(tag string) error {
	if len(tag) == 0 || len(tag) > MaxTagLength {
		return ErrInvalidTag
	}
	if c := tag[0]; c == '.' || c == '-' {
		return ErrInvalidTag
	}
	for i := 0; i < len(tag); i++ {
		if !isTagChar(tag[i]) {
			return ErrInvalidTag
		}
	}
	return nil
}

// ParseDigest accepts sha256 (64 hex) and sha512 (128 hex) digests in
// lower-case hex, the two algorithms the OCI image spec registers. Other
// well-formed algorithms yield ErrUnsupportedDigest.
func ParseDigest(s string) (digest.Digest, error) {
	alg, enc, ok := strings.Cut(s, ":")
	if !ok || alg == "" || enc == "" {
		return "", ErrInvalidDigest
	}
	var want int
	switch alg {
	case "sha256":
		want = 64
	case "sha512":
		want = 128
	default:
		if !validAlgorithm(alg) || !validEncoded(enc) {
			return "", ErrInvalidDigest
		}
		return "", ErrUnsupportedDigest
	}
	if len(enc) != want {
		return "", ErrInvalidDigest
	}
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", ErrInvalidDigest
		}
	}
	return digest.Digest(s), nil
}

// validAlgorithm: [a-z0-9]+([+._-][a-z0-9]+)* per the image spec.
func validAlgorithm(a string) bool {
	prevSep := true
	for i := 0; i < len(a); i++ {
		c := a[i]
		switch {
		case isLowerAlnum(c):
			prevSep = false
		case c == '+' || c == '.' || c == '_' || c == '-':
			if prevSep {
				return false
			}
			prevSep = true
		default:
			return false
		}
	}
	return !prevSep
}

// validEncoded: [a-zA-Z0-9=_-]+ per the image spec.
func validEncoded(e string) bool {
	for i := 0; i < len(e); i++ {
		c := e[i]
		if !(('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c == '=' || c == '_' || c == '-') {
			return false
		}
	}
	return len(e) > 0
}

// Reference is the last path element of /v2/<name>/manifests/<reference>:
// exactly one of Tag and Digest is set.
type Reference struct {
	Tag    string
	Digest digest.Digest
}

// IsDigest reports whether r names content by digest.
func (r Reference) IsDigest() bool { return r.Digest != "" }

func (r Reference) String() string {
	if r.Digest != "" {
		return string(r.Digest)
	}
	return r.Tag
}

// ParseReference parses a tag or a digest. A ':' can never appear in a
// tag, so its presence decides which grammar applies.
func ParseReference(s string) (Reference, error) {
	if strings.IndexByte(s, ':') >= 0 {
		d, err := ParseDigest(s)
		if err != nil {
			return Reference{}, err
		}
		return Reference{Digest: d}, nil
	}
	if err := ValidateTag(s); err != nil {
		return Reference{}, err
	}
	return Reference{Tag: s}, nil
}

// Ref is a repository with an optional tag and/or digest, as written on
// command lines: name, name:tag, name@digest or name:tag@digest. Registry
// hosts are not part of Ref; a client splits them off first.
type Ref struct {
	Name   string
	Tag    string
	Digest digest.Digest
}

// ParseRef parses name[:tag][@digest]. String returns exactly the input for
// every accepted value.
func ParseRef(s string) (Ref, error) {
	var r Ref
	rest := s
	if at := strings.IndexByte(rest, '@'); at >= 0 {
		d, err := ParseDigest(rest[at+1:])
		if err != nil {
			return Ref{}, fmt.Errorf("%q: %w", s, err)
		}
		r.Digest = d
		rest = rest[:at]
	}
	// The tag separator is a ':' after the last '/', because names may not
	// contain ':' but a future host:port prefix would.
	if c := strings.LastIndexByte(rest, ':'); c >= 0 && c > strings.LastIndexByte(rest, '/') {
		if err := ValidateTag(rest[c+1:]); err != nil {
			return Ref{}, fmt.Errorf("%q: %w", s, err)
		}
		r.Tag = rest[c+1:]
		rest = rest[:c]
	}
	if err := ValidateName(rest); err != nil {
		return Ref{}, fmt.Errorf("%q: %w", s, err)
	}
	r.Name = rest
	return r, nil
}

func (r Ref) String() string {
	s := r.Name
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + string(r.Digest)
	}
	return s
}
