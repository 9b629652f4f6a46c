// Package dockercfg reads and writes Docker's config.json (and the legacy
// flat .dockercfg), normalizes registry keys the way the Docker CLI does, and
// reports which credential source Docker would use for a host.
package dockercfg

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// HubKey is the only key under which Docker (and the ECS agent, and
// credHelpers) look up Docker Hub credentials.
const HubKey = "https://index.docker.io/v1/"

// IdentityTokenUser is the credential-helper username that marks Secret as an
// identity (refresh) token rather than a password.
const IdentityTokenUser = "<token>"

// AuthEntry is one value under "auths" (or one entry of a legacy .dockercfg).
// Docker writes only Auth (and IdentityToken); Username/Password/Email/
// ServerAddress/RegistryToken are accepted on read because other tools write them.
type AuthEntry struct {
	Auth          string `json:"auth,omitempty"`
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
	RegistryToken string `json:"registrytoken,omitempty"`
	Email         string `json:"email,omitempty"`
	ServerAddress string `json:"serveraddress,omitempty"`
}

// Empty reports whether the entry carries no credential at all; Docker writes
// `{}` when the secret went to a credential helper.
func (e AuthEntry) Empty() bool {
	return e.Auth == "" && e.Username == "" && e.Password == "" && e.IdentityToken == "" && e.RegistryToken == ""
}

// Credentials returns the username and password the entry stands for:
// Auth wins (as in the Docker CLI), then Username/Password. An identity token
// without a username is returned as user "<token>".
func (e AuthEntry) Credentials() (user, pass string, err error) {
	if e.Auth != "" {
		return DecodeAuth(e.Auth)
	}
	if e.IdentityToken != "" && e.Username == "" {
		return IdentityTokenUser, e.IdentityToken, nil
	}
	if e.Username == "" && e.Password == "" {
		return "", "", ErrNoCredentials
	}
	if e.Username == "" {
		return "", "", errors.New("entry has a password but no username")
	}
	return e.Username, e.Password, nil
}

// ErrNoCredentials means an entry exists but holds no usable secret.
var ErrNoCredentials = errors.New("entry holds no credentials")

// EncodeAuth returns base64("user:pass"), the value of an "auth" field.
func EncodeAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// DecodeAuth reverses EncodeAuth the way the Docker CLI does: split on the
// first ':', username must be non-empty, trailing NULs trimmed from the password.
func DecodeAuth(b64 string) (user, pass string, err error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return "", "", fmt.Errorf("auth is not valid base64: %w", err)
	}
	u, p, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", errors.New("auth does not contain ':' (expected base64 of user:password)")
	}
	if u == "" {
		return "", "", errors.New("auth has an empty username")
	}
	return u, strings.TrimRight(p, "\x00"), nil
}

// NormalizeKey returns the key the Docker CLI uses for a registry given as a
// host, host:port, URL or image-reference domain: scheme and path dropped,
// port kept, lower-cased host, and docker.io / index.docker.io mapped to HubKey.
func NormalizeKey(hostOrURL string) string {
	h := HostOf(hostOrURL)
	if h == "docker.io" || h == "index.docker.io" {
		return HubKey
	}
	return h
}

// HostOf reduces a key, URL or host to host[:port] (scheme stripped, path
// dropped, port kept, host lower-cased, IPv6 brackets preserved). It is the
// "hostname form" Docker's file store compares keys by.
func HostOf(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		s = s[i+1:]
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return strings.ToLower(s)
	}
	host = strings.ToLower(host)
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// Hostname is HostOf without the port.
func Hostname(s string) string {
	hp := HostOf(s)
	u, err := url.Parse("//" + hp)
	if err != nil || u.Hostname() == "" {
		return hp
	}
	return u.Hostname()
}
