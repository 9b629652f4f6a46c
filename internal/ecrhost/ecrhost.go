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
