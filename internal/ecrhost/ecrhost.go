// Package ecrhost maps registry host names to accounts and regions the way ECR
// does: ACCOUNT.dkr.ecr.REGION.<any domain>[:port] names one registry; any other
// host is the server's default registry.
package ecrhost

import (
	"net"
	"strings"
)

// Registry is the account and region a request addresses.
type Registry struct {
	Account string
	Region  string
}

// Parse extracts account and region from host. ok is false when host is not
// of the ECR form; the caller then uses its default account and region.
func Parse(host string) (r Registry, ok bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	parts := strings.SplitN(host, ".", 5)
	if len(parts) < 4 || parts[1] != "dkr" || parts[2] != "ecr" || !IsAccountID(parts[0]) || parts[3] == "" {
		return Registry{}, false
	}
	return Registry{Account: parts[0], Region: parts[3]}, true
}

// IsAccountID reports whether s is 12 ASCII digits.
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

// Host builds the registry host for account and region under domain
// (e.g. "localhost:5000" → "222222222222.dkr.ecr.eu-west-2.localhost:5000").
func Host(account, region, domain string) string {
	return account + ".dkr.ecr." + region + "." + domain
}

// APIDomain recognises the ECR API host names api.ecr.REGION.DOMAIN and
// ecr.REGION.DOMAIN (AWS's own endpoints have this shape, so clients
// configured with AWS_ENDPOINT_URL_ECR=https://api.ecr.… use it) and
// returns DOMAIN with any port, under which the registries of that server
// are ACCOUNT.dkr.ecr.REGION.DOMAIN.
func APIDomain(host string) (domain string, ok bool) {
	lower := strings.ToLower(host)
	for _, prefix := range []string{"api.ecr.", "ecr."} {
		rest, found := strings.CutPrefix(lower, prefix)
		if !found {
			continue
		}
		region, domain, found := strings.Cut(rest, ".")
		if !found || !looksLikeRegion(region) || domain == "" || strings.HasPrefix(domain, ":") {
			return "", false
		}
		return host[len(host)-len(domain):], true
	}
	return "", false
}

// looksLikeRegion accepts AWS region names (us-east-1, us-gov-west-1,
// eu-isoe-west-1): letters-and-dashes groups ending in a number, so that a
// server simply named ecr.example.com is not mistaken for an API host.
func looksLikeRegion(r string) bool {
	parts := strings.Split(r, "-")
	if len(parts) < 3 {
		return false
	}
	for i, p := range parts {
		if p == "" {
			return false
		}
		for _, c := range p {
			digit := c >= '0' && c <= '9'
			if i == len(parts)-1 && !digit || i < len(parts)-1 && !(c >= 'a' && c <= 'z') {
				return false
			}
		}
	}
	return true
}
