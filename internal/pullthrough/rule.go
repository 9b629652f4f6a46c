// Package pullthrough executes ECR pull-through cache rules: a pull of
// PREFIX/REPO:TAG that the registry does not hold (or holds a tag of that
// is due for re-validation) is answered from an upstream registry and the
// content stored through images.Service, so later pulls are local. It sits
// beneath the API layers: ocireg asks it for manifests and blobs, the ECR
// API asks it to validate a rule; neither knows how an upstream is reached.
package pullthrough

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Rule is a stored pull-through cache rule: the fields of ECR's
// PullThroughCacheRule the engine acts on (JSON names as ECR's API and
// berth's stored documents spell them).
type Rule struct {
	ECRRepositoryPrefix      string `json:"ecrRepositoryPrefix"`
	UpstreamRegistryURL      string `json:"upstreamRegistryUrl"`
	RegistryID               string `json:"registryId"`
	CredentialARN            string `json:"credentialArn,omitempty"`
	CustomRoleARN            string `json:"customRoleArn,omitempty"`
	UpstreamRepositoryPrefix string `json:"upstreamRepositoryPrefix,omitempty"`
	UpstreamRegistry         string `json:"upstreamRegistry,omitempty"`
}

// DecodeRule reads a stored rule document.
func DecodeRule(b []byte) (Rule, error) {
	var r Rule
	if err := json.Unmarshal(b, &r); err != nil {
		return Rule{}, fmt.Errorf("pull through cache rule: %w", err)
	}
	return r, nil
}

// RuleSource lists the pull-through cache rules of one registry.
type RuleSource interface {
	PullThroughRules(ctx context.Context, account, region string) ([]Rule, error)
}

// Root is the prefix that matches every repository name.
const Root = "ROOT"

// Match returns the rule covering repository name (the longest
// ecrRepositoryPrefix that is a path prefix of name; ROOT last) and the
// repository to read upstream, or ok false.
func Match(rules []Rule, name string) (r Rule, upstreamRepo string, ok bool) {
	best := -1
	for _, c := range rules {
		n := 0
		rest := name
		switch {
		case c.ECRRepositoryPrefix == Root:
		case strings.HasPrefix(name, c.ECRRepositoryPrefix+"/"):
			n = len(c.ECRRepositoryPrefix)
			rest = name[n+1:]
		default:
			continue
		}
		if n > best {
			best, r, upstreamRepo = n, c, rest
		}
	}
	if best < 0 || upstreamRepo == "" {
		return Rule{}, "", false
	}
	if p := r.UpstreamRepositoryPrefix; p != "" && p != Root {
		upstreamRepo = p + "/" + upstreamRepo
	}
	if isDockerHub(r.UpstreamRegistryURL) && !strings.Contains(upstreamRepo, "/") {
		// Docker Hub's official images live under library/: "nginx" is
		// library/nginx, as docker itself maps it.
		upstreamRepo = "library/" + upstreamRepo
	}
	return r, upstreamRepo, true
}

// BaseURL is the scheme://host[:port] of an upstreamRegistryUrl; ECR's
// URLs have no scheme and mean https.
func BaseURL(upstream string) (*url.URL, error) {
	s := strings.TrimSuffix(strings.TrimSpace(upstream), "/")
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || (u.Path != "" && u.Path != "/") || u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("upstream registry URL %q is not scheme://host[:port]", upstream)
	}
	u.Path = ""
	return u, nil
}

func isDockerHub(upstream string) bool {
	u, err := BaseURL(upstream)
	return err == nil && (u.Host == "registry-1.docker.io" || u.Host == "docker.io" || u.Host == "index.docker.io")
}
