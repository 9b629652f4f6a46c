package ecsauth

import (
	"fmt"
	"sort"
	"strings"
)

// Match is the agent's answer for one image.
type Match struct {
	Image string
	Host  string // the registry host the agent derives ("docker.io" for Hub images)
	// Key is the entry the agent uses when the outcome does not depend on map
	// iteration order; empty when no entry applies.
	Key string
	// Possible lists every key the agent may pick. It has more than one
	// element only in the random-iteration case (no exact host key, several
	// path-scoped keys for the host).
	Possible []string
	Reason   string
}

// Deterministic reports whether the agent always picks the same entry.
func (m Match) Deterministic() bool { return len(m.Possible) <= 1 }

// Lookup predicts which entry the agent's GetAuthconfig returns for image.
// Only usable entries take part, exactly as the agent drops the others.
func (a *Auth) Lookup(image string) Match {
	repo := repositoryOf(image)
	host := indexName(repo)
	m := Match{Image: image, Host: host}
	keys := map[string]bool{}
	for _, e := range a.Entries {
		if e.Usable {
			keys[e.Key] = true
		}
	}
	if isHubHost(host) {
		if keys[agentHubKey] {
			m.Key, m.Possible = agentHubKey, []string{agentHubKey}
			m.Reason = "Docker Hub image: the agent uses the key index.docker.io/v1/"
		} else {
			m.Reason = "Docker Hub image: the agent looks only for the key \"https://index.docker.io/v1/\", which is not present; the pull is anonymous"
		}
		return m
	}
	var sameHost []string
	for k := range keys {
		if h, _, _ := strings.Cut(k, "/"); h == host {
			sameHost = append(sameHost, k)
		}
	}
	sort.Strings(sameHost)
	if len(sameHost) == 0 {
		m.Reason = fmt.Sprintf("no entry for host %s; the pull is anonymous", host)
		return m
	}
	// Outcome for a given first-visited key: the longest key that is a
	// string prefix of the image and longer than the start wins, else the
	// start itself stays (the agent's loop never drops a chosen key).
	outcome := func(start string) string {
		best := start
		for _, k := range sameHost {
			if len(k) > len(best) && strings.HasPrefix(image, k) {
				best = k
			}
		}
		return best
	}
	if keys[host] {
		k := outcome(host)
		m.Key, m.Possible = k, []string{k}
		if k == host {
			m.Reason = "exact host key"
		} else {
			m.Reason = fmt.Sprintf("longest key that prefixes the image (%q)", k)
		}
		return m
	}
	set := map[string]bool{}
	for _, start := range sameHost {
		set[outcome(start)] = true
	}
	for k := range set {
		m.Possible = append(m.Possible, k)
	}
	sort.Strings(m.Possible)
	if len(m.Possible) == 1 {
		m.Key = m.Possible[0]
		m.Reason = fmt.Sprintf("only path-scoped key(s) for %s; %q wins in every iteration order", host, m.Key)
		if !strings.HasPrefix(image, m.Key) {
			m.Reason += " even though the image is outside that path (agent quirk)"
		}
		return m
	}
	m.Reason = fmt.Sprintf("no exact key for %s and several path-scoped keys: the agent takes whichever it meets first in Go's random map order, so the credentials differ between agent restarts; add an exact %q key or make the path keys agree", host, host)
	return m
}

// Covers describes, in words, which images an entry can serve.
func (a *Auth) Covers(e Entry) string {
	if e.RawKey == "auths" {
		return "nothing (this is the config.json wrapper, not a registry)"
	}
	if e.Key == agentHubKey {
		return "Docker Hub images (docker.io/…, index.docker.io/…, registry-1.docker.io/…, and names without a registry host such as nginx or library/nginx)"
	}
	host, path, _ := strings.Cut(e.Key, "/")
	if isHubHost(host) {
		return "nothing: Docker Hub images are looked up only under \"https://index.docker.io/v1/\""
	}
	if path == "" {
		return fmt.Sprintf("every image on %s (e.g. %s/team/app:tag), unless a longer path-scoped key for the host matches", host, host)
	}
	hasExact := false
	for _, o := range a.Entries {
		if o.Usable && o.Key == host {
			hasExact = true
		}
	}
	if hasExact {
		return fmt.Sprintf("images whose name starts with %q", e.Key)
	}
	return fmt.Sprintf("images whose name starts with %q, and — because there is no exact %q key — possibly any other image on %s", e.Key, host, host)
}

// repositoryOf drops the tag or digest the way the agent's
// utils.ParseRepositoryTag does.
func repositoryOf(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		return image[:i]
	}
	if i := strings.LastIndex(image, ":"); i >= 0 && !strings.Contains(image[i+1:], "/") {
		return image[:i]
	}
	return image
}

// indexName is the agent's splitReposName: the first path component is a
// registry host only if it contains '.' or ':' or is "localhost".
func indexName(repo string) string {
	first, _, found := strings.Cut(repo, "/")
	if !found || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		return "docker.io"
	}
	return first
}
