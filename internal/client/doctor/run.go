package doctor

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/client/dockercfg"
	"github.com/berth-dev/berth/internal/client/ecrclient"
	"github.com/berth-dev/berth/internal/client/endpoint"
	"github.com/berth-dev/berth/internal/client/kubelet"
	"github.com/berth-dev/berth/internal/ociref"
)

const (
	maxManifest  = 4 << 20
	maxErrorBody = 64 << 10
)

// acceptManifests covers OCI index/manifest and Docker list/manifest.
const acceptManifests = ociref.MediaTypeOCIIndex + ", " + ociref.MediaTypeOCIManifest + ", " + ociref.MediaTypeDockerList + ", " + ociref.MediaTypeDockerV2

type run struct {
	o       Options
	rep     *Report
	target  endpoint.Target
	repo    string
	ref     string
	creds   *creds
	stopped bool

	callerArn, callerAccount string
	trustedCAs               []string // certs.d files added to the roots (trust.go)
}

type creds struct {
	user, pass string
	source     string // human description
	viaBerth   bool   // minted on demand by docker-credential-berth
	static     bool   // written in a file (may be stale)
}

func (o *Options) defaults() {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.LookPath == nil {
		o.LookPath = exec.LookPath
	}
	if o.LookupHost == nil {
		o.LookupHost = net.DefaultResolver.LookupHost
	}
	if o.Dial == nil {
		d := &net.Dialer{}
		o.Dial = d.DialContext
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Platform == "" {
		o.Platform = runtime.GOOS + "/" + runtime.GOARCH
	}
	if o.RunHelper == nil {
		o.RunHelper = execHelper
	}
}

func execHelper(ctx context.Context, helper, verb, stdin string) (string, error) {
	cmd := exec.CommandContext(ctx, dockercfg.HelperBinary(helper), verb)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	return out.String(), err
}

// Run diagnoses opts.Image.
func Run(ctx context.Context, opts Options) Report {
	opts.defaults()
	r := &run{o: opts, rep: &Report{Image: opts.Image, Platform: opts.Platform}}
	r.reference()
	r.trustDockerCAs()
	if !r.stopped {
		r.dns(ctx)
		r.connect(ctx)
		r.challenge(ctx)
	}
	// The credential-source report is useful even when the network is broken.
	if r.target.Host != "" {
		netStopped := r.stopped
		r.stopped = false
		r.credentialSource(ctx)
		if netStopped {
			r.stopped = true
		}
	}
	r.extraConsumers()
	if !r.stopped {
		r.freshness()
		r.identity(ctx)
		r.manifest(ctx)
	}
	r.summarize()
	return *r.rep
}

func (r *run) add(res Result) {
	if res.Status == Fail && res.Class == "" {
		res.Class = ClassOther
	}
	r.rep.Results = append(r.rep.Results, res)
	if res.Status == Fail {
		r.stopped = true
	}
}

func (r *run) reference() {
	img := strings.TrimSpace(r.o.Image)
	host, rest := endpoint.SplitImage(img)
	ref, err := ociref.ParseRef(rest)
	if err != nil || img == "" {
		if err == nil {
			err = errors.New("empty")
		}
		r.add(Result{Step: "reference", Status: Fail, Message: fmt.Sprintf("%s is not a valid reference: %v", img, err),
			Fix: "use HOST/REPOSITORY[:TAG|@sha256:DIGEST]"})
		return
	}
	r.repo = ref.Name
	switch {
	case ref.Digest != "":
		r.ref = string(ref.Digest)
	case ref.Tag != "":
		r.ref = ref.Tag
	default:
		r.ref = "latest"
	}
	t, err := r.o.Resolver.Resolve(host)
	if err != nil {
		r.add(Result{Step: "reference", Status: Fail, Message: err.Error(), Fix: "check the registry mapping file / BERTH_REGISTRY_MAP"})
		return
	}
	r.target = t
	r.rep.Host, r.rep.Repo, r.rep.Ref = t.Host, r.repo, r.ref
	ev := []string{"host " + t.Host, "repository " + r.repo, "reference " + r.ref, "registry kind " + string(t.Kind) + " (" + t.Source + ")"}
	if t.Account != "" || t.Region != "" {
		ev = append(ev, fmt.Sprintf("account %s, region %s", orUnknown(t.Account), orUnknown(t.Region)))
	}
	if t.APIEndpoint != "" {
		ev = append(ev, "API endpoint "+t.APIEndpoint)
	}
	msg := fmt.Sprintf("%s → %s/%s:%s", img, t.Host, r.repo, r.ref)
	res := Result{Step: "reference", Status: Pass, Message: msg, Evidence: ev}
	if strings.HasPrefix(r.repo, "docker-hub/") && strings.Count(r.repo, "/") == 1 {
		res.Status = Warn
		res.Message += "; pull-through cache paths for Docker Hub official images need library/ (docker-hub/library/NAME)"
	}
	r.add(res)
}

func orUnknown(s string) string {
	if s == "" {
		return "(server default)"
	}
	return s
}

func (r *run) hostPort() (string, string) {
	hostname := dockercfg.Hostname(r.target.Host)
	_, port, err := net.SplitHostPort(r.target.Host)
	if err != nil || port == "" {
		port = "443"
		if strings.HasPrefix(r.target.RegistryURL, "http://") {
			port = "80"
		}
	}
	return hostname, port
}

func (r *run) dns(ctx context.Context) {
	hostname, _ := r.hostPort()
	if ip := net.ParseIP(strings.Trim(hostname, "[]")); ip != nil {
		r.add(Result{Step: "dns", Status: Pass, Message: hostname + " is an IP address"})
		return
	}
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	addrs, err := r.o.LookupHost(ctx, hostname)
	if err != nil || len(addrs) == 0 {
		if endpoint.IsLoopback(hostname) {
			r.add(Result{Step: "dns", Status: Warn, Message: fmt.Sprintf("cannot resolve %s (%v); *.localhost is loopback for Docker and most resolvers", hostname, err)})
			return
		}
		r.add(Result{Step: "dns", Status: Fail, Message: fmt.Sprintf("cannot resolve %s (%v)", hostname, err),
			Fix: "check the host name, /etc/hosts, VPC DNS or the interface endpoint for ecr.dkr"})
		return
	}
	r.add(Result{Step: "dns", Status: Pass, Message: fmt.Sprintf("%s resolves to %s", hostname, strings.Join(addrs, ", "))})
}

func (r *run) connect(ctx context.Context) {
	if r.stopped {
		return
	}
	hostname, port := r.hostPort()
	addr := net.JoinHostPort(strings.Trim(hostname, "[]"), port)
	if endpoint.IsLoopback(hostname) && !strings.HasPrefix(hostname, "127.") && hostname != "[::1]" && hostname != "::1" {
		addr = net.JoinHostPort("127.0.0.1", port) // *.localhost
	}
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	conn, err := r.o.Dial(ctx, "tcp", addr)
	if err != nil {
		r.add(Result{Step: "tcp/tls", Status: Fail, Message: fmt.Sprintf("cannot connect to %s: %v", addr, err),
			Fix: "is the registry running and reachable (firewall, security group, proxy)?", Evidence: proxyEvidence(r.o.Getenv)})
		return
	}
	defer conn.Close()
	if !strings.HasPrefix(r.target.RegistryURL, "https://") {
		r.add(Result{Step: "tcp/tls", Status: Pass, Message: fmt.Sprintf("connected to %s (plain HTTP: %s)", addr, httpReason(r.target)), Evidence: proxyEvidence(r.o.Getenv)})
		return
	}
	cfg := &tls.Config{ServerName: strings.Trim(hostname, "[]")}
	if tr, ok := r.o.HTTPClient.Transport.(*http.Transport); ok && tr.TLSClientConfig != nil {
		cfg = tr.TLSClientConfig.Clone()
		cfg.ServerName = strings.Trim(hostname, "[]")
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		fix := "install the registry's CA (/etc/docker/certs.d/HOST/ca.crt, containerd hosts.toml ca) or fix the proxy; for a plain-HTTP berth set \"insecure\": true in registries.json"
		if f, ok := r.unknownCAFix(ctx, addr, cfg, err); ok {
			fix = f
		}
		r.add(Result{Step: "tcp/tls", Status: Fail, Message: fmt.Sprintf("TLS to %s failed: %v", r.target.Host, err), Fix: fix, Evidence: r.trustEvidence()})
		return
	}
	st := tc.ConnectionState()
	ev := append(proxyEvidence(r.o.Getenv), r.trustEvidence()...)
	if len(st.PeerCertificates) > 0 {
		c := st.PeerCertificates[0]
		ev = append(ev, fmt.Sprintf("certificate %s issued by %s, expires %s", c.Subject.CommonName, c.Issuer.CommonName, c.NotAfter.Format(time.RFC3339)))
	}
	r.add(Result{Step: "tcp/tls", Status: Pass, Message: "TLS to " + addr + " verified", Evidence: ev})
}

func httpReason(t endpoint.Target) string {
	if t.Insecure {
		return "mapping says insecure"
	}
	return "loopback host"
}

func proxyEvidence(getenv func(string) string) []string {
	var ev []string
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "NO_PROXY", "no_proxy"} {
		if v := getenv(k); v != "" {
			ev = append(ev, k+"="+v)
		}
	}
	return ev
}

func (r *run) challenge(ctx context.Context) {
	if r.stopped {
		return
	}
	resp, body, err := r.get(ctx, r.target.RegistryURL+"/v2/", nil, maxErrorBody)
	if err != nil {
		r.add(Result{Step: "/v2/ challenge", Status: Fail, Message: fmt.Sprintf("GET %s/v2/ failed: %v", r.target.RegistryURL, err),
			Fix: "check that the URL scheme is right (https unless loopback or mapped insecure)"})
		return
	}
	wa := resp.Header.Get("WWW-Authenticate")
	switch {
	case resp.StatusCode == http.StatusOK:
		r.add(Result{Step: "/v2/ challenge", Status: Pass, Message: "registry answers /v2/ without credentials (anonymous access)"})
	case resp.StatusCode == http.StatusUnauthorized && wa != "":
		scheme, _, _ := strings.Cut(wa, " ")
		msg := fmt.Sprintf("registry asks for %s auth (%s)", scheme, wa)
		if strings.Contains(wa, `service="ecr.amazonaws.com"`) {
			msg += "; ECR-style Basic AWS:<token>"
		}
		r.add(Result{Step: "/v2/ challenge", Status: Pass, Message: msg})
	default:
		r.add(Result{Step: "/v2/ challenge", Status: Fail,
			Message: fmt.Sprintf("%s does not speak the registry API (status %d at /v2/%s)", r.target.Host, resp.StatusCode, snippet(body)),
			Fix:     "wrong host or port, or a proxy in the way (containerd: override_path?)"})
	}
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return ": " + s
}

func (r *run) get(ctx context.Context, url string, hdr http.Header, limit int64) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := r.o.HTTPClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	return resp, body, err
}

// registryError is the distribution error envelope.
type registryError struct {
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

func parseRegistryError(body []byte) (code, message string) {
	var e registryError
	if json.Unmarshal(body, &e) == nil && len(e.Errors) > 0 {
		return e.Errors[0].Code, e.Errors[0].Message
	}
	return "", strings.TrimSpace(string(body))
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// tokenCacheEntryFor finds the cache entry holding password (to date a
// static token and learn the region it was minted in).
func (r *run) tokenCacheEntryFor(password string) (ecrclient.CacheEntry, bool) {
	all, err := r.o.TokenCache.Load()
	if err != nil {
		return ecrclient.CacheEntry{}, false
	}
	for _, e := range all {
		if _, p, err := ecrclient.DecodeToken(e.AuthorizationToken); err == nil && p == password {
			return e, true
		}
	}
	return ecrclient.CacheEntry{}, false
}

func kubeletCheck(path, image string) Result {
	data, err := os.ReadFile(path)
	if err != nil {
		return Result{Step: "credentials (kubelet)", Status: Fail, Message: err.Error(), Fix: "pass the file given to the kubelet's --image-credential-provider-config"}
	}
	cfg, err := kubelet.ParseConfig(data)
	if err != nil {
		return Result{Step: "credentials (kubelet)", Status: Fail, Message: fmt.Sprintf("%s: %v", path, err), Fix: "regenerate it: berth kubelet-credential-provider --print-config"}
	}
	for _, p := range cfg.Providers {
		for _, m := range p.MatchImages {
			if kubelet.MatchImage(m, image) {
				return Result{Step: "credentials (kubelet)", Status: Pass,
					Message:  fmt.Sprintf("provider %q in %s matches %s via %q", p.Name, path, image, m),
					Evidence: []string{fmt.Sprintf("the kubelet runs <bin-dir>/%s %s; the file name must be exactly %q", p.Name, strings.Join(p.Args, " "), p.Name)}}
			}
		}
	}
	return Result{Step: "credentials (kubelet)", Status: Warn, Message: fmt.Sprintf("no provider in %s has a matchImages entry for %s", path, image),
		Fix: "add the registry host to matchImages (berth kubelet-credential-provider --print-config --registry HOST)"}
}
