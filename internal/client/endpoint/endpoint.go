// Package endpoint maps a registry host to the AWS-style API endpoint,
// account and region that mint its credentials.
//
// Rules, in order:
//  1. A mapping entry for the host (BERTH_REGISTRY_MAP, then the mapping file
//     $BERTH_CONFIG_DIR/registries.json or ${XDG_CONFIG_HOME:-~/.config}/berth/registries.json)
//     decides endpoint, region, registry id and insecure. Entry keys are
//     host[:port], optionally with shell globs ("*.registry.corp").
//  2. A real ECR host (the amazon-ecr-credential-helper regex) uses the AWS
//     SDK's default endpoint resolution, which honours AWS_ENDPOINT_URL_ECR and
//     AWS_ENDPOINT_URL; account and region come from the host name.
//  3. public.ecr.aws / ecr-public.aws.com are ECR Public (anonymous pulls).
//  4. Any other host is a berth server: berth serves the AWS APIs on the same
//     listener as /v2/, so the API endpoint is scheme://host (or BERTH_ENDPOINT
//     when set). Account and region come from ACCOUNT.dkr.ecr.REGION.<domain>
//     when the host has that shape.
//
// Scheme: https, except http when the mapping says "insecure": true or the
// host is loopback (localhost, *.localhost, 127.0.0.0/8, ::1) — the same
// exemption Docker applies to loopback registries — and does not answer a
// TLS handshake on its port.
package endpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/berth-dev/berth/internal/client/dockercfg"
	"github.com/berth-dev/berth/internal/ecrhost"
)

// Kind classifies a registry host.
type Kind string

const (
	KindECR       Kind = "ecr"        // real Amazon ECR private registry
	KindECRPublic Kind = "ecr-public" // public.ecr.aws
	KindBerth     Kind = "berth"      // a berth server (or anything mapped to one)
	KindOther     Kind = "other"      // a well-known third-party registry (Docker Hub, ghcr.io…)
)

// EndpointAWS in a mapping entry means "use the AWS SDK's default ECR endpoint"
// — for DNS aliases and proxies in front of real ECR.
const EndpointAWS = "aws"

// MappingFileName is the mapping file inside the berth config directory.
const MappingFileName = "registries.json"

// Target is everything a client needs to authenticate to one registry host.
type Target struct {
	Host      string // host[:port], lower case
	Kind      Kind
	Account   string // 12 digits, or "" when unknown (server default registry)
	Region    string // "" when unknown: use the SDK's configured region
	FIPS      bool
	DualStack bool
	// APIEndpoint is the base URL for ECR/STS API calls; "" means the AWS
	// SDK's default resolution (AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL, or
	// https://api.ecr.REGION.amazonaws.com).
	APIEndpoint string
	// RegistryURL is the scheme://host base of the /v2/ API.
	RegistryURL string
	Insecure    bool
	// Source says which rule produced the target (for doctor output).
	Source string
}

// Entry is one mapping entry.
type Entry struct {
	Endpoint   string `json:"endpoint,omitempty"`
	Region     string `json:"region,omitempty"`
	RegistryID string `json:"registryId,omitempty"`
	Insecure   bool   `json:"insecure,omitempty"`
}

// MappingFile is the registries.json document.
type MappingFile struct {
	Registries map[string]Entry `json:"registries"`
}

type mapped struct {
	pattern string
	entry   Entry
	source  string
}

// Resolver resolves hosts with a fixed set of mappings.
type Resolver struct {
	mappings      []mapped // env first, then file; exact patterns before globs
	berthEndpoint string
	mappingFile   string
	// loopbackTLS reports whether a loopback host:port speaks TLS
	// (tls.go); nil means never.
	loopbackTLS func(hostport string) bool
}

// ecrHostRE is amazon-ecr-credential-helper's private-registry pattern.
var ecrHostRE = regexp.MustCompile(`^(\d{12})\.dkr[\.\-]ecr(\-fips)?\.([a-zA-Z0-9][a-zA-Z0-9-_]*)\.(amazonaws\.(?:com(?:\.cn)?|eu)|on\.(?:aws|amazonwebservices\.com\.cn)|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$`)

// ConfigDir is $BERTH_CONFIG_DIR, else ${XDG_CONFIG_HOME:-$HOME/.config}/berth.
func ConfigDir(getenv func(string) string) string {
	if d := getenv("BERTH_CONFIG_DIR"); d != "" {
		return d
	}
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "berth")
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	if home == "" {
		return "" // no mapping file rather than one relative to the working directory
	}
	return filepath.Join(home, ".config", "berth")
}

// New builds a Resolver from the environment: BERTH_REGISTRY_MAP (JSON like
// the mapping file, or "host=endpoint,host2=endpoint2"), the mapping file, and
// BERTH_ENDPOINT. A missing mapping file is fine; a malformed one is an error
// naming the file and field.
func New(getenv func(string) string) (*Resolver, error) {
	r := &Resolver{loopbackTLS: newTLSProbe()}
	if dir := ConfigDir(getenv); dir != "" {
		r.mappingFile = filepath.Join(dir, MappingFileName)
	}
	if v := strings.TrimSpace(getenv("BERTH_REGISTRY_MAP")); v != "" {
		m, err := ParseMap(v)
		if err != nil {
			return nil, fmt.Errorf("BERTH_REGISTRY_MAP: %w", err)
		}
		r.add(m, "BERTH_REGISTRY_MAP")
	}
	var data []byte
	err := os.ErrNotExist
	if r.mappingFile != "" {
		data, err = os.ReadFile(r.mappingFile)
	}
	switch {
	case err == nil:
		m, err := ParseMappingFile(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.mappingFile, err)
		}
		r.add(m, r.mappingFile)
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	if v := strings.TrimSpace(getenv("BERTH_ENDPOINT")); v != "" {
		if err := validateEndpoint(v); err != nil {
			return nil, fmt.Errorf("BERTH_ENDPOINT: %w", err)
		}
		r.berthEndpoint = strings.TrimRight(v, "/")
	}
	return r, nil
}

// MappingFilePath is the file New consulted.
func (r *Resolver) MappingFilePath() string { return r.mappingFile }

func (r *Resolver) add(m map[string]Entry, source string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Exact patterns first, then globs; each group sorted for determinism.
	sort.Slice(keys, func(i, j int) bool {
		gi, gj := isGlob(keys[i]), isGlob(keys[j])
		if gi != gj {
			return !gi
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		r.mappings = append(r.mappings, mapped{pattern: strings.ToLower(k), entry: m[k], source: source})
	}
}

func isGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

// MappedHosts lists the configured host patterns (for kubelet matchImages).
func (r *Resolver) MappedHosts() []string {
	out := make([]string, 0, len(r.mappings))
	for _, m := range r.mappings {
		out = append(out, m.pattern)
	}
	return out
}

// ParseMappingFile decodes and validates registries.json. Unknown fields are
// rejected so a typo ("regsitryId") is reported instead of ignored.
func ParseMappingFile(data []byte) (map[string]Entry, error) {
	var f MappingFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	for host, e := range f.Registries {
		if err := validateEntry(host, e); err != nil {
			return nil, err
		}
	}
	if f.Registries == nil {
		return map[string]Entry{}, nil
	}
	return f.Registries, nil
}

// ParseMap decodes BERTH_REGISTRY_MAP: either a registries.json document or
// "host=endpoint[,host=endpoint…]".
func ParseMap(v string) (map[string]Entry, error) {
	if strings.HasPrefix(strings.TrimSpace(v), "{") {
		return ParseMappingFile([]byte(v))
	}
	out := map[string]Entry{}
	for _, pair := range strings.Split(v, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		host, ep, ok := strings.Cut(pair, "=")
		if !ok || host == "" || ep == "" {
			return nil, fmt.Errorf("entry %q: want host=endpoint", pair)
		}
		e := Entry{Endpoint: ep}
		if err := validateEntry(host, e); err != nil {
			return nil, err
		}
		out[host] = e
	}
	return out, nil
}

func validateEntry(host string, e Entry) error {
	if host == "" || strings.Contains(host, "/") {
		return fmt.Errorf("registries key %q: want host[:port] (no scheme or path)", host)
	}
	if isGlob(host) {
		if _, err := path.Match(host, ""); err != nil {
			return fmt.Errorf("registries key %q: bad glob: %w", host, err)
		}
	}
	if e.Endpoint != "" && e.Endpoint != EndpointAWS {
		if err := validateEndpoint(e.Endpoint); err != nil {
			return fmt.Errorf("registries[%q].endpoint: %w", host, err)
		}
	}
	if e.RegistryID != "" && !ecrhost.IsAccountID(e.RegistryID) {
		return fmt.Errorf("registries[%q].registryId %q: want 12 digits", host, e.RegistryID)
	}
	return nil
}

func validateEndpoint(v string) error {
	u, err := url.Parse(v)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: want http(s)://host[:port]", v)
	}
	return nil
}

// Resolve maps a registry host (or URL, or image-reference domain) to a Target.
func (r *Resolver) Resolve(hostOrURL string) (Target, error) {
	host := dockercfg.HostOf(hostOrURL)
	if host == "" {
		return Target{}, errors.New("empty registry host")
	}
	if !validHost(host) {
		return Target{}, fmt.Errorf("%q is not a registry host (want host[:port])", host)
	}
	if host == "docker.io" || host == "index.docker.io" {
		host = "registry-1.docker.io"
	}
	t := Target{Host: host}
	hostname := dockercfg.Hostname(host)
	if m, ok := r.match(host); ok {
		t.Source = "mapping " + m.pattern + " (" + m.source + ")"
		t.Kind = KindBerth
		t.Insecure = m.entry.Insecure
		fillFromHost(&t, hostname)
		switch m.entry.Endpoint {
		case EndpointAWS:
			t.Kind = KindECR
		case "":
			t.APIEndpoint = r.defaultBerthEndpoint(t)
		default:
			t.APIEndpoint = strings.TrimRight(m.entry.Endpoint, "/")
		}
		if m.entry.Region != "" {
			t.Region = m.entry.Region
		}
		if m.entry.RegistryID != "" {
			t.Account = m.entry.RegistryID
		}
		t.RegistryURL = r.scheme(t) + "://" + host
		return t, nil
	}
	if g := ecrHostRE.FindStringSubmatch(hostname); g != nil {
		t.Kind, t.Account, t.FIPS, t.Region = KindECR, g[1], g[2] != "", g[3]
		t.DualStack = strings.Contains(hostname, ".dkr-ecr")
		t.Source = "ECR host name"
		t.RegistryURL = "https://" + host
		return t, nil
	}
	if hostname == "public.ecr.aws" || hostname == "ecr-public.aws.com" {
		t.Kind, t.Region, t.Source = KindECRPublic, "us-east-1", "ECR Public host name"
		t.RegistryURL = "https://" + host
		return t, nil
	}
	if isThirdParty(hostname) {
		t.Kind, t.Source = KindOther, "well-known third-party registry (not berth or ECR)"
		t.RegistryURL = "https://" + host
		return t, nil
	}
	t.Kind = KindBerth
	t.Source = "berth host (API on the registry listener)"
	fillFromHost(&t, hostname)
	t.APIEndpoint = r.defaultBerthEndpoint(t)
	if r.berthEndpoint != "" {
		t.Source = "BERTH_ENDPOINT"
	}
	t.RegistryURL = r.scheme(t) + "://" + host
	return t, nil
}

func (r *Resolver) defaultBerthEndpoint(t Target) string {
	if r.berthEndpoint != "" {
		return r.berthEndpoint
	}
	return r.scheme(t) + "://" + t.Host
}

func fillFromHost(t *Target, hostname string) {
	if reg, ok := ecrhost.Parse(hostname); ok {
		t.Account, t.Region = reg.Account, reg.Region
	}
}

func (r *Resolver) match(host string) (mapped, bool) {
	for _, m := range r.mappings {
		if m.pattern == host {
			return m, true
		}
	}
	for _, m := range r.mappings {
		if isGlob(m.pattern) {
			if ok, _ := path.Match(m.pattern, host); ok {
				return m, true
			}
		}
	}
	return mapped{}, false
}

func (r *Resolver) scheme(t Target) string {
	if t.Insecure {
		return "http"
	}
	if IsLoopback(t.Host) {
		// Loopback registries are plain HTTP unless they answer TLS
		// (berth serve --tls auto on 127.0.0.1): docker tries HTTPS
		// first on them too.
		if r.loopbackTLS != nil && r.loopbackTLS(t.Host) {
			return "https"
		}
		return "http"
	}
	return "https"
}

// IsLoopback reports whether host[:port] names the local machine.
func IsLoopback(host string) bool {
	h := dockercfg.Hostname(host)
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(h, "[]"))
	return ip != nil && ip.IsLoopback()
}

// IsECRHost reports whether hostname matches the real ECR private pattern.
func IsECRHost(hostname string) bool { return ecrHostRE.MatchString(dockercfg.Hostname(hostname)) }

// isThirdParty names registries that are certainly neither berth nor ECR, so
// the credential helper answers "not found" without a network round trip.
// Map such a host explicitly to override.
func isThirdParty(hostname string) bool {
	switch hostname {
	case "registry-1.docker.io", "ghcr.io", "quay.io", "gcr.io", "registry.k8s.io", "mcr.microsoft.com", "registry.gitlab.com":
		return true
	}
	for _, suffix := range []string{".gcr.io", ".pkg.dev", ".azurecr.io"} {
		if strings.HasSuffix(hostname, suffix) {
			return true
		}
	}
	return false
}

// HostMatches reports whether hostOrURL names this target's host.
func (t Target) HostMatches(hostOrURL string) bool { return dockercfg.HostOf(hostOrURL) == t.Host }

func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == ':', c == '[', c == ']', c == '_':
		default:
			return false
		}
	}
	return true
}

// SplitImage splits an image reference into registry host and the rest
// (repository[:tag][@digest]) with Docker's rule: the first path component is
// a host when it contains '.' or ':' or is "localhost"; otherwise the image is
// on Docker Hub ("docker.io"), where one-component names live under library/.
func SplitImage(image string) (host, rest string) {
	first, remainder, ok := strings.Cut(image, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return first, remainder
	}
	if !strings.Contains(image, "/") {
		return "docker.io", "library/" + image
	}
	return "docker.io", image
}
