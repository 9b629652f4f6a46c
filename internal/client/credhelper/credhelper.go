// Package credhelper implements the docker-credential-helpers protocol
// (get/store/erase/list/version) for berth and ECR registries: `get` mints a
// registry token instead of reading a stored secret.
package credhelper

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/berth-dev/berth/internal/client/dockercfg"
	"github.com/berth-dev/berth/internal/client/ecrclient"
	"github.com/berth-dev/berth/internal/client/endpoint"
)

// Exact strings clients compare stdout against (docker-credential-helpers).
const (
	ErrNotFound       = "credentials not found in native keychain"
	ErrMissingURL     = "no credentials server URL"
	ErrMissingUser    = "no credentials username"
	maxStdin          = 1 << 20
	packagePath       = "github.com/berth-dev/berth"
	kubeletConfusion  = "CredentialProviderRequest"
	defaultHelperName = "docker-credential-berth"
)

// Credentials is the protocol's JSON document.
type Credentials struct {
	ServerURL string
	Username  string
	Secret    string
}

// Resolver maps hosts to targets (endpoint.Resolver).
type Resolver interface {
	Resolve(hostOrURL string) (endpoint.Target, error)
	MappedHosts() []string
}

// Minter mints and forgets tokens (ecrclient.Client).
type Minter interface {
	Token(ctx context.Context, target endpoint.Target, o ecrclient.GetOptions) (ecrclient.Token, error)
	Forget(ctx context.Context, target endpoint.Target) error
}

// Helper answers one protocol invocation.
type Helper struct {
	Name     string // argv[0] base name, e.g. docker-credential-berth
	Version  string
	Resolver Resolver
	Minter   Minter
	// CachedHosts lists registries with a cached token (for `list`); may be nil.
	CachedHosts func() []string
	// Stderr receives diagnostics (never secrets); docker does not show it
	// but a human running the helper by hand sees it.
	Stderr io.Writer
}

// Serve runs the verb in args (args excludes the program name) and returns the
// exit status. Errors go to stdout, as the protocol requires.
func (h *Helper) Serve(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) int {
	name := h.Name
	if name == "" {
		name = defaultHelperName
	}
	if h.Stderr == nil {
		h.Stderr = io.Discard
	}
	usage := fmt.Sprintf("Usage: %s <store|get|erase|list|version>", name)
	if len(args) != 1 {
		fmt.Fprintln(stdout, usage)
		return 1
	}
	var err error
	switch args[0] {
	case "get":
		err = h.get(ctx, stdin, stdout)
	case "store":
		err = h.store(stdin)
	case "erase":
		err = h.erase(ctx, stdin)
	case "list":
		err = h.list(stdout)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "%s (%s) %s\n", name, packagePath, h.Version)
	case "--help", "-h":
		fmt.Fprintln(stdout, usage)
	default:
		err = fmt.Errorf("Unknown credential action `%s`", args[0])
	}
	if err != nil {
		fmt.Fprintln(stdout, oneLine(err.Error()))
		return 1
	}
	return 0
}

// oneLine keeps error output to a single line: docker embeds it in its own
// message, and a multi-line answer would garble that.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func readInput(r io.Reader) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(r, maxStdin+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxStdin {
		return nil, fmt.Errorf("input larger than %d bytes", maxStdin)
	}
	return data, nil
}

func readServerURL(r io.Reader) (string, error) {
	data, err := readInput(r)
	if err != nil {
		return "", err
	}
	s := string(bytes.TrimSpace(data))
	if s == "" {
		return "", fmt.Errorf("%s", ErrMissingURL)
	}
	if strings.HasPrefix(s, "{") && strings.Contains(s, kubeletConfusion) {
		return "", fmt.Errorf("received a kubelet CredentialProviderRequest on stdin: this binary is configured as a kubelet image credential provider under its docker-credential name; point the kubelet at `berth kubelet-credential-provider` (see `berth kubelet-credential-provider --print-config`)")
	}
	return s, nil
}

func (h *Helper) get(ctx context.Context, stdin io.Reader, stdout io.Writer) error {
	serverURL, err := readServerURL(stdin)
	if err != nil {
		return err
	}
	// Docker passes host[:port]; containers/image the bare host; some tools
	// host/repo or a URL. HostOf reduces all of them.
	target, err := h.Resolver.Resolve(serverURL)
	if err != nil {
		return fmt.Errorf("%s: %w", serverURL, err)
	}
	if target.Kind != endpoint.KindBerth && target.Kind != endpoint.KindECR {
		fmt.Fprintf(h.Stderr, "%s: %s is a %s registry, not berth or ECR; map it in %s to use berth credentials\n",
			h.Name, target.Host, target.Kind, endpoint.MappingFileName)
		return fmt.Errorf("%s", ErrNotFound)
	}
	tok, err := h.Minter.Token(ctx, target, ecrclient.GetOptions{})
	if err != nil {
		if ecrclient.KindOf(err) == ecrclient.KindUnsupported {
			return fmt.Errorf("%s", ErrNotFound)
		}
		// Surface the real cause (pain point: helpers that collapse every
		// failure into "not found" leave users with "no basic auth credentials").
		return fmt.Errorf("berth could not get a token for %s: %w", target.Host, err)
	}
	if tok.Warning != "" {
		fmt.Fprintf(h.Stderr, "%s: %s\n", h.Name, tok.Warning)
	}
	return json.NewEncoder(stdout).Encode(Credentials{ServerURL: serverURL, Username: tok.Username, Secret: tok.Password})
}

// store accepts credentials for berth/ECR hosts and discards them: berth
// tokens are minted on every `get`, never stored, so `docker login HOST`
// with credHelpers → berth keeps working (unlike ecr-login's "not
// implemented"). For other hosts it refuses loudly instead of dropping a
// password the user expects to be kept.
func (h *Helper) store(stdin io.Reader) error {
	data, err := readInput(stdin)
	if err != nil {
		return err
	}
	var c Credentials
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&c); err != nil {
		return err
	}
	if c.ServerURL == "" {
		return fmt.Errorf("%s", ErrMissingURL)
	}
	if c.Username == "" {
		return fmt.Errorf("%s", ErrMissingUser)
	}
	target, err := h.Resolver.Resolve(c.ServerURL)
	if err != nil {
		return fmt.Errorf("%s: %w", c.ServerURL, err)
	}
	if target.Kind != endpoint.KindBerth && target.Kind != endpoint.KindECR {
		return fmt.Errorf("%s does not store credentials for %s (a %s registry); remove it from credsStore/credHelpers for that host", h.Name, target.Host, target.Kind)
	}
	return nil
}

// erase drops the cached token (so `docker logout HOST` forces a fresh one);
// there is no stored secret to delete.
func (h *Helper) erase(ctx context.Context, stdin io.Reader) error {
	serverURL, err := readServerURL(stdin)
	if err != nil {
		return err
	}
	target, err := h.Resolver.Resolve(serverURL)
	if err != nil {
		return fmt.Errorf("%s: %w", serverURL, err)
	}
	if target.Kind == endpoint.KindBerth || target.Kind == endpoint.KindECR {
		if err := h.Minter.Forget(ctx, target); err != nil {
			fmt.Fprintf(h.Stderr, "%s: could not drop cached token for %s: %v\n", h.Name, target.Host, err)
		}
	}
	return nil
}

// list names the registries berth answers for without touching the network:
// explicitly mapped hosts plus hosts with a cached token, all as user "AWS".
func (h *Helper) list(stdout io.Writer) error {
	out := map[string]string{}
	for _, host := range h.Resolver.MappedHosts() {
		if !strings.ContainsAny(host, "*?[") {
			out[host] = "AWS"
		}
	}
	if h.CachedHosts != nil {
		for _, host := range h.CachedHosts() {
			out[dockercfg.HostOf(host)] = "AWS"
		}
	}
	return json.NewEncoder(stdout).Encode(out)
}
