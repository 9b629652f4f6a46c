// Package rewrite points the image references of deployment files at a
// pull-through cache or vendor proxy: Kubernetes manifests (multi-document,
// as Helm renders them), docker-compose files and Elastic Beanstalk's
// Dockerrun.aws.json (v1, v2; v3 keeps its images in docker-compose.yml).
//
// Files are edited in place at the byte level: the parsers only locate the
// image scalars, and just those bytes are replaced, so comments, key order,
// quoting and indentation stay exactly as they were.
package rewrite

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/berth-dev/berth/internal/client/endpoint"
	"github.com/berth-dev/berth/internal/ociref"
)

// Rule sends images of one upstream (a registry host, optionally with a
// repository path prefix) to Prefix in the target registry, the way an ECR
// pull-through cache rule maps ecrRepositoryPrefix to upstreamRegistryUrl.
type Rule struct {
	Upstream string // "docker.io", "ghcr.io", "registry.vendor.com/acme"
	Prefix   string // "docker-hub"; "" places repositories at the registry root (ECR's ROOT)
}

// ParseRule parses UPSTREAM=PREFIX.
func ParseRule(s string) (Rule, error) {
	up, prefix, ok := strings.Cut(s, "=")
	if !ok {
		return Rule{}, fmt.Errorf("rule %q: want UPSTREAM=PREFIX (for example docker.io=docker-hub)", s)
	}
	up = canonicalUpstream(strings.TrimSuffix(strings.TrimSpace(up), "/"))
	prefix = strings.Trim(strings.TrimSpace(prefix), "/")
	if up == "" {
		return Rule{}, fmt.Errorf("rule %q: empty upstream", s)
	}
	host, path, _ := strings.Cut(up, "/")
	if !validHost(host) {
		return Rule{}, fmt.Errorf("rule %q: %q is not a registry host", s, host)
	}
	if path != "" {
		if err := ociref.ValidateName(path); err != nil {
			return Rule{}, fmt.Errorf("rule %q: upstream path: %v", s, err)
		}
	}
	if prefix != "" {
		if err := ociref.ValidateName(prefix); err != nil {
			return Rule{}, fmt.Errorf("rule %q: prefix: %v", s, err)
		}
	}
	return Rule{Upstream: up, Prefix: prefix}, nil
}

func validHost(h string) bool {
	if h == "" {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ':' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}

// Options say where images go.
type Options struct {
	// Registry is the host[:port] of the cache or proxy, e.g.
	// 111111111111.dkr.ecr.us-east-1.amazonaws.com or 127.0.0.1:5000.
	Registry string
	Rules    []Rule
	// PullSecret, when set, is added to every Kubernetes pod spec's
	// imagePullSecrets (once).
	PullSecret string
}

// Validate checks the options before any file is read.
func (o *Options) Validate() error {
	o.Registry = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(o.Registry, "https://"), "http://"), "/")
	if o.Registry == "" {
		return errors.New("the target registry is required (--registry HOST[:PORT])")
	}
	if strings.Contains(o.Registry, "/") || !validHost(strings.ToLower(o.Registry)) {
		return fmt.Errorf("registry %q: want a host[:port] without a path", o.Registry)
	}
	if len(o.Rules) == 0 {
		return errors.New("at least one rule is required (--rule UPSTREAM=PREFIX, e.g. docker.io=docker-hub)")
	}
	seen := map[string]bool{}
	for _, r := range o.Rules {
		if seen[r.Upstream] {
			return fmt.Errorf("two rules for upstream %q", r.Upstream)
		}
		seen[r.Upstream] = true
	}
	if o.PullSecret != "" && !validSecretName(o.PullSecret) {
		return fmt.Errorf("pull secret name %q: want a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')", o.PullSecret)
	}
	return nil
}

func validSecretName(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	first, last := s[0], s[len(s)-1]
	return first != '-' && first != '.' && last != '-' && last != '.'
}

// Status is what happened to one image reference.
type Status int

// Statuses, in the order a report lists them.
const (
	Rewritten Status = iota // changed (or, under --check, would change)
	Already                 // already points at the target registry
	NoRule                  // no rule covers its upstream; left as written
	Skipped                 // not a literal reference (template variable, alias, empty); left as written
)

func (s Status) String() string {
	switch s {
	case Rewritten:
		return "rewrite"
	case Already:
		return "ok"
	case NoRule:
		return "no rule"
	default:
		return "skipped"
	}
}

// Ref is one image reference found in a file.
type Ref struct {
	File   string
	Line   int
	Field  string // e.g. "Deployment/web: spec.template.spec.containers[0].image"
	From   string
	To     string // == From unless Status is Rewritten
	Status Status
	Reason string // for NoRule and Skipped
}

func (r Ref) String() string {
	loc := fmt.Sprintf("%s:%d: %s", r.File, r.Line, r.Field)
	switch r.Status {
	case Rewritten:
		return fmt.Sprintf("%s: %s -> %s", loc, r.From, r.To)
	case Already:
		return fmt.Sprintf("%s: %s (already through the target registry)", loc, r.From)
	default:
		return fmt.Sprintf("%s: %s left as written: %s", loc, r.From, r.Reason)
	}
}

// canonicalUpstream folds Docker Hub's aliases into docker.io.
func canonicalUpstream(s string) string {
	host, path, hasPath := strings.Cut(s, "/")
	s = strings.ToLower(host)
	if hasPath {
		s += "/" + path
	}
	for _, alias := range []string{"index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"} {
		if s == alias || strings.HasPrefix(s, alias+"/") {
			return "docker.io" + s[len(alias):]
		}
	}
	return s
}

// Map computes the rewritten reference for image. The tag and digest are
// kept byte for byte; only the registry and repository path change.
func (o *Options) Map(image string) (to string, st Status, reason string) {
	image = strings.TrimSpace(image)
	switch {
	case image == "":
		return image, Skipped, "empty image"
	case strings.Contains(image, "${") || strings.Contains(image, "{{") || strings.HasPrefix(image, "$"):
		return image, Skipped, "uses a variable; rewrite the value it is given instead"
	}
	host, rest := endpoint.SplitImage(image)
	if strings.EqualFold(host, o.Registry) {
		return image, Already, ""
	}
	ref, err := ociref.ParseRef(rest)
	if err != nil {
		return image, Skipped, fmt.Sprintf("not an image reference: %v", err)
	}
	full := canonicalUpstream(host) + "/" + ref.Name
	best := -1
	for i, r := range o.Rules {
		if (full == r.Upstream || strings.HasPrefix(full, r.Upstream+"/")) && (best < 0 || len(r.Upstream) > len(o.Rules[best].Upstream)) {
			best = i
		}
	}
	if best < 0 {
		return image, NoRule, fmt.Sprintf("no rule for %s", canonicalUpstream(host))
	}
	r := o.Rules[best]
	repo := strings.TrimPrefix(strings.TrimPrefix(full, r.Upstream), "/")
	if repo == "" {
		return image, Skipped, fmt.Sprintf("rule %s=%s names the whole repository; add a path below it", r.Upstream, r.Prefix)
	}
	if r.Prefix != "" {
		repo = r.Prefix + "/" + repo
	}
	// The tag and digest are copied from the text as written (rest minus
	// its name), so a digest pin stays exactly the same string.
	return o.Registry + "/" + repo + rest[len(ref.Name):], Rewritten, ""
}

// Format is the kind of file.
type Format string

// Formats Detect can return.
const (
	Kubernetes Format = "kubernetes"
	Compose    Format = "compose"
	Dockerrun  Format = "dockerrun"
)

// ParseFormat accepts the values of --format ("auto" is "").
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "", "auto":
		return "", nil
	case Kubernetes, Compose, Dockerrun:
		return f, nil
	}
	return "", fmt.Errorf("format %q: want auto, kubernetes, compose or dockerrun", s)
}

// Result is one file's outcome.
type Result struct {
	Format Format
	Output []byte // the rewritten file; equal to the input when nothing changed
	Refs   []Ref
	// PullSecretAdded counts pod specs that gained imagePullSecrets.
	PullSecretAdded int
}

// Pending reports whether applying the result would change the file.
func (r *Result) Pending() bool {
	for _, ref := range r.Refs {
		if ref.Status == Rewritten {
			return true
		}
	}
	return r.PullSecretAdded > 0
}

// File rewrites one file. name is used for detection and messages; format ""
// detects it from name and content.
func File(name string, data []byte, format Format, o Options) (*Result, error) {
	if format == "" {
		format = Detect(name, data)
	}
	var (
		res *Result
		err error
	)
	switch format {
	case Dockerrun:
		res, err = rewriteDockerrun(name, data, o)
	case Compose:
		res, err = rewriteYAML(name, data, o, composeImages)
	default:
		format = Kubernetes
		res, err = rewriteYAML(name, data, o, kubeImages)
	}
	if err != nil {
		return nil, err
	}
	res.Format = format
	sort.SliceStable(res.Refs, func(i, j int) bool { return res.Refs[i].Line < res.Refs[j].Line })
	return res, nil
}

// Detect guesses the format: Dockerrun.aws.json by name or by its
// AWSEBDockerrunVersion key, compose by name or by a top-level services map
// without a Kubernetes kind, Kubernetes otherwise.
func Detect(name string, data []byte) Format {
	base := strings.ToLower(name[strings.LastIndexAny(name, `/\`)+1:])
	switch {
	case base == "dockerrun.aws.json" || (strings.HasSuffix(base, ".json") && strings.Contains(string(data), "AWSEBDockerrunVersion")):
		return Dockerrun
	case strings.Contains(base, "compose") && (strings.HasSuffix(base, ".yml") || strings.HasSuffix(base, ".yaml")):
		return Compose
	case looksLikeCompose(data):
		return Compose
	}
	return Kubernetes
}
