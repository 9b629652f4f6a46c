// Package seed loads a berth seed file (berth serve --seed FILE.yaml): the
// accounts, IAM entities, repositories with their policies and images, SSM
// parameters and Secrets Manager secrets a test fixture starts with.
//
// Parse checks the file's shape and reports problems as FILE:LINE: FIELD:
// message. Apply then writes it through the same domain services the AWS
// APIs use, so a seeded policy, parameter or secret is validated and sealed
// exactly as if a client had created it; their errors carry the location of
// the entry that caused them. Apply is idempotent: entities that already
// match are left alone, so the same file can seed a persistent data
// directory on every start.
package seed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/berth-dev/berth/internal/ecrhost"
)

// MaxFileBytes bounds a seed file; images live in their own files.
const MaxFileBytes = 4 << 20

// File is a parsed seed file.
type File struct {
	Path     string
	Version  int       `yaml:"version"`
	Accounts []Account `yaml:"accounts"`

	lines map[string]int // field path → line, for error messages
}

// Account is one AWS account and everything in it. An empty ID is the
// server's default account.
type Account struct {
	ID             string          `yaml:"id"`
	RootAccessKeys []AccessKey     `yaml:"rootAccessKeys"`
	Policies       []ManagedPolicy `yaml:"policies"`
	Groups         []Group         `yaml:"groups"`
	Users          []User          `yaml:"users"`
	Roles          []Role          `yaml:"roles"`
	Repositories   []Repository    `yaml:"repositories"`
	Parameters     []Parameter     `yaml:"parameters"`
	Secrets        []Secret        `yaml:"secrets"`
}

// AccessKey is a fixed key pair, so CI jobs can use known credentials.
type AccessKey struct {
	ID     string `yaml:"id"`
	Secret string `yaml:"secret"`
}

// ManagedPolicy is a customer-managed IAM policy.
type ManagedPolicy struct {
	Name        string   `yaml:"name"`
	Path        string   `yaml:"path"`
	Description string   `yaml:"description"`
	Document    Document `yaml:"document"`
}

// InlinePolicy is a policy embedded in a user, group or role.
type InlinePolicy struct {
	Name     string   `yaml:"name"`
	Document Document `yaml:"document"`
}

// Group is an IAM group. Policies are managed policy names (of this
// account's seeded policies) or ARNs (e.g. AWS-managed ones).
type Group struct {
	Name           string         `yaml:"name"`
	Path           string         `yaml:"path"`
	Policies       []string       `yaml:"policies"`
	InlinePolicies []InlinePolicy `yaml:"inlinePolicies"`
}

// User is an IAM user.
type User struct {
	Name           string            `yaml:"name"`
	Path           string            `yaml:"path"`
	Tags           map[string]string `yaml:"tags"`
	Groups         []string          `yaml:"groups"`
	Policies       []string          `yaml:"policies"`
	InlinePolicies []InlinePolicy    `yaml:"inlinePolicies"`
	AccessKeys     []AccessKey       `yaml:"accessKeys"`
}

// Role is an IAM role with its trust policy.
type Role struct {
	Name               string            `yaml:"name"`
	Path               string            `yaml:"path"`
	Description        string            `yaml:"description"`
	MaxSessionDuration int32             `yaml:"maxSessionDuration"`
	TrustPolicy        Document          `yaml:"trustPolicy"`
	Tags               map[string]string `yaml:"tags"`
	Policies           []string          `yaml:"policies"`
	InlinePolicies     []InlinePolicy    `yaml:"inlinePolicies"`
}

// Repository is an ECR repository. Region defaults to the server's.
type Repository struct {
	Name                          string            `yaml:"name"`
	Region                        string            `yaml:"region"`
	TagMutability                 string            `yaml:"tagMutability"`
	TagMutabilityExclusionFilters []string          `yaml:"tagMutabilityExclusionFilters"`
	ScanOnPush                    *bool             `yaml:"scanOnPush"`
	Tags                          map[string]string `yaml:"tags"`
	Policy                        Document          `yaml:"policy"`
	LifecyclePolicy               Document          `yaml:"lifecyclePolicy"`
	Images                        []Image           `yaml:"images"`
}

// Image is loaded from exactly one of an OCI image layout directory or a
// `docker save` tarball (paths relative to the seed file). Tags default to
// the layout's org.opencontainers.image.ref.name annotations or the
// archive's RepoTags.
type Image struct {
	OCILayout     string   `yaml:"ociLayout"`
	DockerArchive string   `yaml:"dockerArchive"`
	Tags          []string `yaml:"tags"`
}

// Parameter is an SSM parameter. Type defaults to String.
type Parameter struct {
	Name        string `yaml:"name"`
	Region      string `yaml:"region"`
	Type        string `yaml:"type"`
	Value       string `yaml:"value"`
	Description string `yaml:"description"`
}

// Secret is a Secrets Manager secret. Value is a string, or a mapping that
// is stored as its JSON text (the usual {"username": …, "password": …}).
type Secret struct {
	Name        string   `yaml:"name"`
	Region      string   `yaml:"region"`
	Description string   `yaml:"description"`
	Value       Document `yaml:"value"`
}

// Document is JSON text given either as a YAML string or as YAML
// structure (converted to JSON), so policies can be written either way.
type Document struct {
	Text string
	Set  bool
}

// UnmarshalYAML accepts a scalar (taken as the JSON text itself) or any
// mapping/sequence (encoded as JSON).
func (d *Document) UnmarshalYAML(n *yaml.Node) error {
	d.Set = true
	if n.Kind == yaml.ScalarNode {
		d.Text = n.Value
		return nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("line %d: cannot express this as JSON: %v", n.Line, err)
	}
	d.Text = string(b)
	return nil
}

// Error is a problem at a place in a seed file.
type Error struct {
	File  string
	Line  int    // 0 when unknown
	Field string // e.g. accounts[0].users[1].accessKeys[0].id
	Err   error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// errorAt builds an Error for field, finding its line (or the nearest
// enclosing field's).
func (f *File) errorAt(field string, err error) error {
	line := 0
	for p := field; p != ""; p = parentPath(p) {
		if l, ok := f.lines[p]; ok {
			line = l
			break
		}
	}
	return &Error{File: f.Path, Line: line, Field: field, Err: err}
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i <= 0 {
		return ""
	}
	return p[:i]
}

// Load reads and parses a seed file.
func Load(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("seed file: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("seed file %s: %w", path, err)
	}
	if len(data) > MaxFileBytes {
		return nil, &Error{File: path, Err: fmt.Errorf("larger than %d bytes", MaxFileBytes)}
	}
	return Parse(path, data)
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// Parse decodes data (named path in errors), rejecting unknown fields and
// checking everything that needs no domain service.
func Parse(path string, data []byte) (*File, error) {
	f := &File{Path: path, lines: map[string]int{}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(path, err)
	}
	if len(root.Content) == 0 {
		return nil, &Error{File: path, Err: errors.New("empty seed file")}
	}
	recordLines(root.Content[0], "", f.lines)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil {
		return nil, yamlError(path, err)
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	return f, nil
}

// yamlError rewrites yaml.v3's "line N: msg" into FILE:N: msg.
func yamlError(path string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msgs := make([]string, 0, len(te.Errors))
		line := 0
		for _, m := range te.Errors {
			if g := yamlLine.FindStringSubmatch(m); g != nil {
				n, _ := strconv.Atoi(g[1])
				if line == 0 {
					line = n
				}
				msgs = append(msgs, fmt.Sprintf("%s:%s: %s", path, g[1], g[2]))
			} else {
				msgs = append(msgs, path+": "+m)
			}
		}
		return &Error{File: path, Line: line, Err: errors.New(strings.Join(msgs, "; "))}
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if g := yamlLine.FindStringSubmatch(msg); g != nil {
		n, _ := strconv.Atoi(g[1])
		return &Error{File: path, Line: n, Err: errors.New(g[2])}
	}
	return &Error{File: path, Err: errors.New(msg)}
}

// recordLines maps every field path under n to its line.
func recordLines(n *yaml.Node, prefix string, out map[string]int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			p := key.Value
			if prefix != "" {
				p = prefix + "." + key.Value
			}
			out[p] = key.Line
			recordLines(val, p, out)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", prefix, i)
			out[p] = c.Line
			recordLines(c, p, out)
		}
	}
}

// check validates what Parse can know without the services: required
// fields, one-of choices, duplicates and references within the file.
func (f *File) check() error {
	if f.Version != 1 {
		return f.errorAt("version", fmt.Errorf("must be 1 (got %d)", f.Version))
	}
	seenAccounts := map[string]string{}
	for ai, a := range f.Accounts {
		ap := fmt.Sprintf("accounts[%d]", ai)
		if a.ID != "" && !ecrhost.IsAccountID(a.ID) {
			return f.errorAt(ap+".id", fmt.Errorf("%q is not a 12-digit account id (quote it so YAML keeps leading zeros)", a.ID))
		}
		if prev, dup := seenAccounts[a.ID]; dup {
			return f.errorAt(ap+".id", fmt.Errorf("account %q is already declared at %s", a.ID, prev))
		}
		seenAccounts[a.ID] = ap
		if err := f.checkAccount(ap, &a); err != nil {
			return err
		}
	}
	return nil
}

func (f *File) checkAccount(ap string, a *Account) error {
	for i, k := range a.RootAccessKeys {
		if err := f.checkKey(fmt.Sprintf("%s.rootAccessKeys[%d]", ap, i), k); err != nil {
			return err
		}
	}
	names := func(kind string, n int, name func(int) string) error {
		seen := map[string]bool{}
		for i := 0; i < n; i++ {
			p := fmt.Sprintf("%s.%s[%d]", ap, kind, i)
			v := name(i)
			if v == "" {
				return f.errorAt(p, errors.New("name is required"))
			}
			if seen[strings.ToLower(v)] {
				return f.errorAt(p+".name", fmt.Errorf("%q is declared twice", v))
			}
			seen[strings.ToLower(v)] = true
		}
		return nil
	}
	checks := []error{
		names("policies", len(a.Policies), func(i int) string { return a.Policies[i].Name }),
		names("groups", len(a.Groups), func(i int) string { return a.Groups[i].Name }),
		names("users", len(a.Users), func(i int) string { return a.Users[i].Name }),
		names("roles", len(a.Roles), func(i int) string { return a.Roles[i].Name }),
		names("parameters", len(a.Parameters), func(i int) string { return a.Parameters[i].Region + "\x00" + a.Parameters[i].Name }),
		names("secrets", len(a.Secrets), func(i int) string { return a.Secrets[i].Region + "\x00" + a.Secrets[i].Name }),
		names("repositories", len(a.Repositories), func(i int) string { return a.Repositories[i].Region + "\x00" + a.Repositories[i].Name }),
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	for i, p := range a.Policies {
		if !p.Document.Set {
			return f.errorAt(fmt.Sprintf("%s.policies[%d]", ap, i), errors.New("document is required"))
		}
	}
	for i, r := range a.Roles {
		if !r.TrustPolicy.Set {
			return f.errorAt(fmt.Sprintf("%s.roles[%d]", ap, i), errors.New("trustPolicy is required"))
		}
	}
	for i, u := range a.Users {
		for j, k := range u.AccessKeys {
			if err := f.checkKey(fmt.Sprintf("%s.users[%d].accessKeys[%d]", ap, i, j), k); err != nil {
				return err
			}
		}
		if len(u.AccessKeys) > 2 {
			return f.errorAt(fmt.Sprintf("%s.users[%d].accessKeys", ap, i), errors.New("a user can have at most 2 access keys"))
		}
	}
	for i, r := range a.Repositories {
		for j, img := range r.Images {
			p := fmt.Sprintf("%s.repositories[%d].images[%d]", ap, i, j)
			if (img.OCILayout == "") == (img.DockerArchive == "") {
				return f.errorAt(p, errors.New("give exactly one of ociLayout or dockerArchive"))
			}
		}
	}
	for i, p := range a.Parameters {
		if p.Value == "" {
			return f.errorAt(fmt.Sprintf("%s.parameters[%d]", ap, i), errors.New("value is required"))
		}
	}
	for i, s := range a.Secrets {
		if !s.Value.Set {
			return f.errorAt(fmt.Sprintf("%s.secrets[%d]", ap, i), errors.New("value is required"))
		}
	}
	return nil
}

func (f *File) checkKey(p string, k AccessKey) error {
	if k.ID == "" {
		return f.errorAt(p, errors.New("id is required"))
	}
	if k.Secret == "" {
		return f.errorAt(p, errors.New("secret is required"))
	}
	return nil
}
