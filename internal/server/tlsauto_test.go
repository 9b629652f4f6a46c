package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// runUntil starts Run in the background and waits until out matches re;
// it returns the first submatch and a function that stops the server.
func runUntil(t *testing.T, cfg Config, re *regexp.Regexp) (string, *syncBuffer, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, nil, out) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], out, stop
		}
		select {
		case err := <-done:
			t.Fatalf("Run ended: %v; output %q", err, out.String())
		default:
		}
	}
	stop()
	t.Fatalf("no match for %s in %q", re, out.String())
	return "", nil, nil
}

func caPool(t *testing.T, path string) *x509.CertPool {
	t.Helper()
	pemCA, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pemCA) {
		t.Fatal("CA file holds no certificate")
	}
	return p
}

// clientVia dials addr whatever host the URL names, so a test can use an
// ECR-style host name without touching name resolution, while TLS still
// verifies that name.
func clientVia(addr string, roots *x509.CertPool) *http.Client {
	d := &net.Dialer{}
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2: true,
	}}
}

func TestRunTLSAutoServesACertificateForECRHostNames(t *testing.T) {
	data := t.TempDir()
	cfg := Config{Addr: "127.0.0.1:0", DataDir: data, TLS: TLSAuto, AccountID: "111111111111", TLSRegions: []string{"eu-west-2"},
		TLSDomains: []string{"localhost", "registry.test"}, TLSNames: []string{"extra.test"},
		RootAccessKeyID: "AKIATLSAUTOROOT00001", RootSecretKey: "tls-auto-root-secret-0123456789"}
	re := regexp.MustCompile(`listening on https://(127\.0\.0\.1:\d+)[\s\S]*export AWS_CA_BUNDLE=\S+\n`)
	addr, out, stop := runUntil(t, cfg, re)
	caFile := filepath.Join(data, "tls", "ca.crt")
	banner := out.String()
	for _, want := range []string{
		"A new local CA was created",
		"TLS: local CA " + caFile,
		"/etc/docker/certs.d/$h/ca.crt",
		"for h in localhost:" + strings.Split(addr, ":")[1] + " " + addr + " 111111111111.dkr.ecr.us-east-1.localhost:" + strings.Split(addr, ":")[1] + ";",
		"export AWS_CA_BUNDLE=" + caFile,
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	client := clientVia(addr, caPool(t, caFile))
	port := strings.Split(addr, ":")[1]
	for host, ok := range map[string]bool{
		"localhost": true,
		"127.0.0.1": true,
		"111111111111.dkr.ecr.us-east-1.localhost":     true,
		"222222222222.dkr.ecr.eu-west-2.localhost":     true,
		"333333333333.dkr.ecr.eu-west-2.registry.test": true,
		"registry.test":                             true,
		"api.ecr.us-east-1.localhost":               true,
		"api.ecr.eu-west-2.registry.test":           true,
		"extra.test":                                true,
		"222222222222.dkr.ecr.ap-south-1.localhost": false, // region not covered
		"other.test":                                false,
	} {
		req, _ := http.NewRequest(http.MethodGet, "https://"+net.JoinHostPort(host, port)+"/v2/", nil)
		req.SetBasicAuth(cfg.RootAccessKeyID, cfg.RootSecretKey)
		resp, err := client.Do(req)
		if !ok {
			var verr *tls.CertificateVerificationError
			if !errors.As(err, &verr) {
				t.Errorf("%s: want a certificate name error, got %v", host, err)
			}
			if resp != nil {
				resp.Body.Close()
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", host, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
			t.Errorf("%s: status %d proto %s", host, resp.StatusCode, resp.Proto)
		}
	}
	stop()

	// A restart keeps the CA clients were told to trust, and the certificate.
	before, _ := os.ReadFile(caFile)
	certBefore, _ := os.ReadFile(filepath.Join(data, "tls", "server.crt"))
	_, out, stop = runUntil(t, cfg, regexp.MustCompile(`listening on https://(127\.0\.0\.1:\d+)[\s\S]*export AWS_CA_BUNDLE=\S+\n`))
	stop()
	after, _ := os.ReadFile(caFile)
	certAfter, _ := os.ReadFile(filepath.Join(data, "tls", "server.crt"))
	if !bytes.Equal(before, after) || !bytes.Equal(certBefore, certAfter) || strings.Contains(out.String(), "A new local CA") {
		t.Fatalf("restart replaced the CA or certificate:\n%s", out.String())
	}

	// berth admin ca's text is the banner's.
	cfg.Addr = addr
	text, pemCA, err := CATrust(cfg)
	if err != nil || !strings.Contains(text, "AWS_CA_BUNDLE="+caFile) || !bytes.Contains(before, pemCA) {
		t.Fatalf("CATrust: %v\n%s", err, text)
	}
}

func TestPrintEnvWithTLSAutoExportsTheCABundle(t *testing.T) {
	cfg := Config{Addr: "127.0.0.1:0", Ephemeral: true, PrintEnv: true, TLS: TLSAuto,
		RootAccessKeyID: "AKIATLSAUTOROOT00002", RootSecretKey: "tls-auto-root-secret-0123456789"}
	bundle, out, stop := runUntil(t, cfg, regexp.MustCompile(`export AWS_CA_BUNDLE=(\S+)\n`))
	defer stop()
	if !strings.Contains(out.String(), "export AWS_ENDPOINT_URL=https://127.0.0.1:") {
		t.Fatalf("env lines: %s", out.String())
	}
	if strings.Contains(out.String(), "Trust it") {
		t.Fatalf("--print-env printed the banner: %s", out.String())
	}
	endpoint := regexp.MustCompile(`AWS_ENDPOINT_URL=https://(\S+)`).FindStringSubmatch(out.String())[1]
	resp, err := clientVia(endpoint, caPool(t, bundle)).Get("https://localhost/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestTLSConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{TLS: "yes"}, `--tls "yes": want auto or off`},
		{Config{TLS: TLSAuto, TLSCert: "c", TLSKey: "k"}, "drop --tls-cert"},
		{Config{TLSDomains: []string{"example.com"}}, "add --tls auto"},
		{Config{TLS: TLSAuto, TLSDomains: []string{"*.example.com"}}, "plain domain"},
		{Config{TLS: TLSAuto, TLSRegions: []string{"EU_WEST"}}, "--tls-region"},
		{Config{TLS: TLSAuto, TLSNames: []string{"*.dkr.ecr.*.localhost"}}, "whole first label"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
	off := Config{TLS: "off"}
	if err := off.Validate(); err != nil || off.TLS != "" {
		t.Fatalf("--tls off: %v %q", err, off.TLS)
	}
}

// fakeListener reports any address without binding it, so the non-loopback
// paths run without opening a port to the network.
type fakeListener struct {
	net.Listener
	addr net.Addr
}

func (f fakeListener) Addr() net.Addr { return f.addr }

func TestPlainHTTPOffLoopbackIsAWarning(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{cfg: Config{DataDir: t.TempDir()}, log: slog.New(slog.NewTextHandler(&logs, nil))}
	_, scheme, err := s.secureListener(t.Context(), fakeListener{addr: &net.TCPAddr{IP: net.ParseIP("192.0.2.10"), Port: 5000}})
	if err != nil || scheme != "http" {
		t.Fatal(scheme, err)
	}
	if !strings.Contains(s.plainWarning, "plain HTTP on the non-loopback address 192.0.2.10:5000") || !strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("warning %q, log %q", s.plainWarning, logs.String())
	}
	banner := &bytes.Buffer{}
	s.printBanner(banner, scheme, "192.0.2.10:5000")
	if !strings.Contains(banner.String(), "WARNING: plain HTTP") {
		t.Fatalf("banner: %s", banner.String())
	}
	for _, ip := range []string{"127.0.0.1", "::1"} {
		s := &Server{cfg: Config{DataDir: t.TempDir()}, log: slog.New(slog.DiscardHandler)}
		if _, _, err := s.secureListener(t.Context(), fakeListener{addr: &net.TCPAddr{IP: net.ParseIP(ip), Port: 5000}}); err != nil || s.plainWarning != "" {
			t.Fatalf("%s: warning %q %v", ip, s.plainWarning, err)
		}
	}
}

func TestTLSNamesOnAnUnspecifiedAddressCoverTheInterfaces(t *testing.T) {
	cfg := Config{Addr: "0.0.0.0:5000", Region: "us-east-1"}
	names := cfg.tlsNames(&net.TCPAddr{IP: net.IPv4zero, Port: 5000})
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skip(err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLinkLocalUnicast() && !slices.Contains(names, ipn.IP.String()) {
			t.Errorf("names %v lack interface address %s", names, ipn.IP)
		}
	}
	if hn, err := os.Hostname(); err == nil && !slices.Contains(names, hn) {
		t.Errorf("names %v lack host name %s", names, hn)
	}
	for _, want := range []string{"localhost", "127.0.0.1", "::1", "*.dkr.ecr.us-east-1.localhost"} {
		if !slices.Contains(names, want) {
			t.Errorf("names %v lack %s", names, want)
		}
	}
	named := Config{Addr: "registry.internal:443", Region: "eu-west-2", TLSDomains: []string{"example.com"}, AccountID: "111111111111"}
	if n := named.tlsNames(&net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 443}); !slices.Contains(n, "registry.internal") || !slices.Contains(n, "10.1.2.3") || !slices.Contains(n, "*.dkr.ecr.eu-west-2.example.com") || slices.Contains(n, "*.dkr.ecr.eu-west-2.localhost") {
		t.Errorf("names %v", n)
	}
	if hn, err := os.Hostname(); err == nil {
		if h := cfg.registryHosts("0.0.0.0:5000"); !slices.Contains(h, strings.ToLower(hn)+":5000") || !slices.Contains(h, "127.0.0.1:5000") {
			t.Errorf("registry hosts on 0.0.0.0: %v", h)
		}
	}
	if h := named.registryHosts("registry.internal:443"); !slices.Equal(h, []string{"registry.internal", "111111111111.dkr.ecr.eu-west-2.example.com"}) {
		t.Errorf("registry hosts %v", h)
	}
}
