// Package doctor walks the pull path of one image step by step — reference,
// DNS, TCP/TLS, /v2/ challenge, credential source, token freshness, AWS
// identity, the registry's authorization answer, manifest and platform, and
// whether one layer can really be downloaded (following the registry's
// redirect, e.g. ECR to S3) — and returns the results. It never prints.
package doctor

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/berth-dev/berth/internal/client/ecrclient"
	"github.com/berth-dev/berth/internal/client/endpoint"
)

// Status of one step.
type Status string

const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Warn Status = "WARN"
	Skip Status = "SKIP"
)

// Class says what kind of failure stops the pull; the CLI maps it to an exit code.
type Class string

const (
	ClassOK       Class = "ok"
	ClassAuth     Class = "auth"      // credentials missing, invalid, expired or denied
	ClassNotFound Class = "not-found" // repository or tag missing
	ClassOther    Class = "other"
)

// Result is one step's outcome.
type Result struct {
	Step     string   `json:"step"`
	Status   Status   `json:"status"`
	Message  string   `json:"message"`
	Fix      string   `json:"fix,omitempty"`
	Evidence []string `json:"evidence,omitempty"`
	Class    Class    `json:"-"`
}

// Report is the whole diagnosis.
type Report struct {
	Image    string   `json:"image"`
	Host     string   `json:"host"`
	Repo     string   `json:"repository"`
	Ref      string   `json:"reference"`
	Platform string   `json:"platform"`
	Results  []Result `json:"results"`
	// OK is true when the pull is expected to work.
	OK      bool   `json:"ok"`
	Class   Class  `json:"class"`
	Summary string `json:"summary"`
	Fix     string `json:"fix,omitempty"`
	// Plaintext lists files where doctor found registry secrets stored in clear.
	Plaintext []string `json:"plaintextSecrets,omitempty"`
}

// Tokens is the part of ecrclient.Client doctor uses.
type Tokens interface {
	Token(ctx context.Context, target endpoint.Target, o ecrclient.GetOptions) (ecrclient.Token, error)
	CallerIdentity(ctx context.Context, target endpoint.Target) (ecrclient.Identity, string, error)
}

// Resolver maps hosts to targets.
type Resolver interface {
	Resolve(hostOrURL string) (endpoint.Target, error)
}

// HelperRunner runs docker-credential-<helper> <verb> with stdin and returns
// its stdout and exit error.
type HelperRunner func(ctx context.Context, helper, verb, stdin string) (string, error)

// Options configure a diagnosis.
type Options struct {
	Image    string
	Platform string // os/arch[/variant]; runtime default when empty
	// DockerConfigDir overrides $DOCKER_CONFIG / ~/.docker.
	DockerConfigDir string
	// KubeletConfig is a CredentialProviderConfig path to check (optional).
	KubeletConfig string
	// ECSConfig is an ecs.config path (checked only if the file exists).
	ECSConfig  string
	Getenv     func(string) string
	LookPath   func(string) (string, error)
	LookupHost func(ctx context.Context, host string) ([]string, error)
	// Dial opens a TCP connection (net.Dialer.DialContext when nil).
	Dial       func(ctx context.Context, network, addr string) (net.Conn, error)
	HTTPClient *http.Client
	Resolver   Resolver
	Tokens     Tokens
	RunHelper  HelperRunner
	// TokenCache is consulted to date static tokens.
	TokenCache ecrclient.Cache
	Now        func() time.Time
	Timeout    time.Duration
	// CertsDirs are docker-style certs.d directories (/etc/docker/certs.d):
	// CAs in DIR/HOST[:PORT]/*.crt are trusted for that host, as the docker
	// engine does. None when empty.
	CertsDirs []string
}
