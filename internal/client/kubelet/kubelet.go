// Package kubelet implements the kubelet image credential provider protocol
// (credentialprovider.kubelet.k8s.io/v1) and renders the matching
// CredentialProviderConfig (kubelet.config.k8s.io/v1).
package kubelet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"path"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/berth-dev/berth/internal/client/ecrclient"
	"github.com/berth-dev/berth/internal/client/endpoint"
)

const (
	// APIVersion is the GA provider API; v1beta1 and v1alpha1 requests are
	// answered in their own version (the kubelet requires the same one back).
	APIVersion         = "credentialprovider.kubelet.k8s.io/v1"
	ConfigAPIVersion   = "kubelet.config.k8s.io/v1"
	KindRequest        = "CredentialProviderRequest"
	KindResponse       = "CredentialProviderResponse"
	KindConfig         = "CredentialProviderConfig"
	CacheKeyRegistry   = "Registry"
	maxRequestSize     = 1 << 20
	defaultCacheString = "6h"
)

// ECRMatchImages are the globs for real ECR private hosts.
func ECRMatchImages() []string {
	return []string{"*.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com.cn", "*.dkr-ecr.*.on.aws", "*.dkr.ecr-fips.*.amazonaws.com"}
}

func supportedVersion(v string) bool {
	switch v {
	case APIVersion, "credentialprovider.kubelet.k8s.io/v1beta1", "credentialprovider.kubelet.k8s.io/v1alpha1":
		return true
	}
	return false
}

// Request is a CredentialProviderRequest.
type Request struct {
	APIVersion                string            `json:"apiVersion"`
	Kind                      string            `json:"kind"`
	Image                     string            `json:"image"`
	ServiceAccountToken       string            `json:"serviceAccountToken,omitempty"`
	ServiceAccountAnnotations map[string]string `json:"serviceAccountAnnotations,omitempty"`
}

// AuthConfig is one credential in a response.
type AuthConfig struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Response is a CredentialProviderResponse. Auth is null when berth has
// nothing for the image.
type Response struct {
	APIVersion    string                `json:"apiVersion"`
	Kind          string                `json:"kind"`
	CacheKeyType  string                `json:"cacheKeyType"`
	CacheDuration string                `json:"cacheDuration,omitempty"`
	Auth          map[string]AuthConfig `json:"auth"`
}

// ParseRequest reads and validates a request from stdin.
func ParseRequest(r io.Reader) (Request, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRequestSize+1))
	if err != nil {
		return Request{}, err
	}
	if len(data) > maxRequestSize {
		return Request{}, fmt.Errorf("request larger than %d bytes", maxRequestSize)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return Request{}, errors.New("empty stdin: expected a CredentialProviderRequest JSON document from the kubelet")
	}
	if trimmed[0] != '{' {
		return Request{}, fmt.Errorf("stdin is not JSON (got %q…): this command is a kubelet credential provider; docker's helper protocol is served by the docker-credential-berth link", truncate(string(trimmed), 40))
	}
	var req Request
	if err := json.Unmarshal(trimmed, &req); err != nil {
		return Request{}, fmt.Errorf("CredentialProviderRequest: %w", err)
	}
	if req.Kind != KindRequest {
		return Request{}, fmt.Errorf("CredentialProviderRequest: kind %q, want %q", req.Kind, KindRequest)
	}
	if !supportedVersion(req.APIVersion) {
		return Request{}, fmt.Errorf("CredentialProviderRequest: apiVersion %q not supported (want %s)", req.APIVersion, APIVersion)
	}
	if strings.TrimSpace(req.Image) == "" {
		return Request{}, errors.New("CredentialProviderRequest: image is empty")
	}
	return req, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Resolver maps hosts to targets.
type Resolver interface {
	Resolve(hostOrURL string) (endpoint.Target, error)
}

// Minter mints tokens.
type Minter interface {
	Token(ctx context.Context, target endpoint.Target, o ecrclient.GetOptions) (ecrclient.Token, error)
}

// Provider answers requests.
type Provider struct {
	Resolver Resolver
	Minter   Minter
	Now      func() time.Time
}

// Respond builds the response for req: credentials keyed by the image's host
// (cacheKeyType Registry) cached for half the token's remaining lifetime, or
// auth null (not cached) for hosts that are neither berth nor ECR.
func (p *Provider) Respond(ctx context.Context, req Request) (Response, error) {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	resp := Response{APIVersion: req.APIVersion, Kind: KindResponse, CacheKeyType: CacheKeyRegistry}
	host, _ := endpoint.SplitImage(strings.TrimSpace(req.Image))
	target, err := p.Resolver.Resolve(host)
	if err != nil {
		return Response{}, fmt.Errorf("image %q: %w", req.Image, err)
	}
	if target.Kind != endpoint.KindBerth && target.Kind != endpoint.KindECR {
		resp.CacheDuration = "0s"
		return resp, nil
	}
	tok, err := p.Minter.Token(ctx, target, ecrclient.GetOptions{})
	if err != nil {
		return Response{}, fmt.Errorf("image %q: %w", req.Image, err)
	}
	half := tok.Remaining(now()) / 2
	if half < 0 {
		half = 0
	}
	resp.CacheDuration = half.Truncate(time.Second).String()
	resp.Auth = map[string]AuthConfig{host: {Username: tok.Username, Password: tok.Password}}
	return resp, nil
}

// ProviderConfig is one entry of CredentialProviderConfig.providers.
type ProviderConfig struct {
	Name                 string   `yaml:"name" json:"name"`
	MatchImages          []string `yaml:"matchImages" json:"matchImages"`
	DefaultCacheDuration string   `yaml:"defaultCacheDuration" json:"defaultCacheDuration"`
	APIVersion           string   `yaml:"apiVersion" json:"apiVersion"`
	Args                 []string `yaml:"args,omitempty" json:"args,omitempty"`
	Env                  []EnvVar `yaml:"env,omitempty" json:"env,omitempty"`
}

// EnvVar is a provider env entry.
type EnvVar struct {
	Name  string `yaml:"name" json:"name"`
	Value string `yaml:"value" json:"value"`
}

// Config is a CredentialProviderConfig.
type Config struct {
	APIVersion string           `yaml:"apiVersion" json:"apiVersion"`
	Kind       string           `yaml:"kind" json:"kind"`
	Providers  []ProviderConfig `yaml:"providers" json:"providers"`
}

// ConfigOptions drive RenderConfig.
type ConfigOptions struct {
	// Name must equal the executable's file name in the kubelet's
	// --image-credential-provider-bin-dir.
	Name string
	// Hosts are registry hosts (host[:port]) or matchImages globs to add.
	Hosts []string
	// NoECR leaves out the real-ECR globs.
	NoECR bool
	Env   []EnvVar
}

// BuildConfig assembles the config: berth-specific hosts first, then the ECR
// globs, duplicates removed; args ["kubelet-credential-provider"] so the same
// berth binary (copied or linked into the bin dir) serves the kubelet.
func BuildConfig(o ConfigOptions) Config {
	name := o.Name
	if name == "" {
		name = "berth"
	}
	seen := map[string]bool{}
	var match []string
	add := func(s string) {
		s = strings.ToLower(strings.TrimSpace(s))
		if s != "" && !seen[s] {
			seen[s] = true
			match = append(match, s)
		}
	}
	for _, h := range o.Hosts {
		add(h)
	}
	if !o.NoECR {
		for _, h := range ECRMatchImages() {
			add(h)
		}
	}
	return Config{APIVersion: ConfigAPIVersion, Kind: KindConfig, Providers: []ProviderConfig{{
		Name: name, MatchImages: match, DefaultCacheDuration: defaultCacheString, APIVersion: APIVersion,
		Args: []string{"kubelet-credential-provider"}, Env: o.Env,
	}}}
}

// RenderConfig renders c as YAML (the kubelet accepts YAML or JSON).
func RenderConfig(c Config) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ParseConfig reads a CredentialProviderConfig (YAML or JSON) and checks the
// fields the kubelet requires.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	if err := yaml.Unmarshal(data, &c); err != nil {
		return Config{}, err
	}
	if c.Kind != KindConfig {
		return Config{}, fmt.Errorf("kind %q, want %q", c.Kind, KindConfig)
	}
	switch c.APIVersion {
	case ConfigAPIVersion, "kubelet.config.k8s.io/v1beta1", "kubelet.config.k8s.io/v1alpha1":
	default:
		return Config{}, fmt.Errorf("apiVersion %q, want %s", c.APIVersion, ConfigAPIVersion)
	}
	for i, p := range c.Providers {
		if p.Name == "" {
			return Config{}, fmt.Errorf("providers[%d].name is empty", i)
		}
		if len(p.MatchImages) == 0 {
			return Config{}, fmt.Errorf("providers[%d] (%s): matchImages is empty", i, p.Name)
		}
		if p.DefaultCacheDuration == "" {
			return Config{}, fmt.Errorf("providers[%d] (%s): defaultCacheDuration is required", i, p.Name)
		}
		if _, err := time.ParseDuration(p.DefaultCacheDuration); err != nil {
			return Config{}, fmt.Errorf("providers[%d] (%s): defaultCacheDuration: %w", i, p.Name, err)
		}
		if !supportedVersion(p.APIVersion) {
			return Config{}, fmt.Errorf("providers[%d] (%s): apiVersion %q, want %s", i, p.Name, p.APIVersion, APIVersion)
		}
		for _, m := range p.MatchImages {
			if _, err := parseMatch(m); err != nil {
				return Config{}, fmt.Errorf("providers[%d] (%s): matchImages %q: %w", i, p.Name, m, err)
			}
		}
	}
	return c, nil
}

type matchURL struct{ host, port, path string }

func parseMatch(s string) (matchURL, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	hostport, p, _ := strings.Cut(s, "/")
	if hostport == "" {
		return matchURL{}, errors.New("empty host")
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, ""
	}
	return matchURL{host: host, port: port, path: p}, nil
}

// MatchImage applies the kubelet's matchImages semantics: globs only in the
// host, each '*' matching within one DNS label, the same number of labels,
// equal ports, and the pattern path a prefix of the image path.
func MatchImage(pattern, image string) bool {
	pm, err := parseMatch(pattern)
	if err != nil {
		return false
	}
	host, rest := endpoint.SplitImage(image)
	if i := strings.IndexAny(rest, ":@"); i >= 0 && !strings.Contains(rest[i:], "/") {
		rest = rest[:i]
	}
	im, err := parseMatch(host + "/" + rest)
	if err != nil {
		return false
	}
	if pm.port != im.port {
		return false
	}
	pl, il := strings.Split(pm.host, "."), strings.Split(im.host, ".")
	if len(pl) != len(il) {
		return false
	}
	for i := range pl {
		if ok, err := path.Match(pl[i], il[i]); err != nil || !ok {
			return false
		}
	}
	return strings.HasPrefix(im.path, pm.path)
}
