package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/localca"
)

// TLSAuto is the --tls value that makes berth run its own CA.
const TLSAuto = "auto"

// tlsRenewCheck is how often a running server checks whether its auto
// certificate is due (renewal starts 30 days before expiry, so a check
// twice a day is plenty and costs one file read).
const tlsRenewCheck = 12 * time.Hour

// defaultTLSDomain is the domain whose ECR-style names the auto
// certificate covers when --tls-domain is not given: *.localhost resolves
// to loopback on most systems.
const defaultTLSDomain = "localhost"

func (c *Config) validateTLS() error {
	switch c.TLS {
	case "", "off":
		c.TLS = ""
	case TLSAuto:
		if c.TLSCert != "" {
			return errors.New("--tls auto issues its own certificate; drop --tls-cert/--tls-key, or drop --tls auto to serve yours")
		}
	default:
		return fmt.Errorf("--tls %q: want auto or off", c.TLS)
	}
	if c.TLS == "" && (len(c.TLSDomains) > 0 || len(c.TLSRegions) > 0 || len(c.TLSNames) > 0) {
		return errors.New("--tls-domain, --tls-region and --tls-san shape the certificate of --tls auto; add --tls auto")
	}
	for _, r := range c.TLSRegions {
		if !validRegion(r) {
			return fmt.Errorf("--tls-region %q: a region is lowercase letters, digits and dashes (us-east-1)", r)
		}
	}
	for _, d := range c.TLSDomains {
		if strings.HasPrefix(d, "*.") || net.ParseIP(d) != nil {
			return fmt.Errorf("--tls-domain %q: give a plain domain (example.com); berth adds *.dkr.ecr.REGION.DOMAIN itself", d)
		}
	}
	if err := localca.CheckNames(c.TLSDomains); err != nil {
		return fmt.Errorf("--tls-domain: %w", err)
	}
	if err := localca.CheckNames(c.TLSNames); err != nil {
		return fmt.Errorf("--tls-san: %w", err)
	}
	return nil
}

func validRegion(r string) bool {
	if r == "" || len(r) > 50 {
		return false
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func (c *Config) tlsDomains() []string {
	if len(c.TLSDomains) == 0 {
		return []string{defaultTLSDomain}
	}
	return c.TLSDomains
}

// tlsNames are the subject alternative names of the auto certificate:
//   - localhost, 127.0.0.1 and ::1;
//   - the listen address (its host name if --addr names one); on an
//     unspecified address (0.0.0.0, ::) the machine's host name and the
//     address of every interface;
//   - each domain D, and *.dkr.ecr.R.D plus the API host api.ecr.R.D for
//     the default region and every --tls-region R. A wildcard covers exactly one label, so one name per
//     region covers every account id there; a region not listed is not
//     covered (add it with --tls-region);
//   - every --tls-san.
func (c *Config) tlsNames(listen net.Addr) []string {
	names := []string{"localhost", "127.0.0.1", "::1"}
	if h, _, err := net.SplitHostPort(c.Addr); err == nil && h != "" && net.ParseIP(h) == nil {
		names = append(names, h)
	}
	if ta, ok := listen.(*net.TCPAddr); ok {
		if ta.IP.IsUnspecified() {
			if hn, err := os.Hostname(); err == nil {
				names = append(names, hn)
			}
			if addrs, err := net.InterfaceAddrs(); err == nil {
				for _, a := range addrs {
					if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLinkLocalUnicast() {
						names = append(names, ipn.IP.String())
					}
				}
			}
		} else {
			names = append(names, ta.IP.String())
		}
	}
	for _, d := range c.tlsDomains() {
		names = append(names, d)
		for _, r := range c.tlsRegions() {
			names = append(names, "*.dkr.ecr."+r+"."+d, "api.ecr."+r+"."+d)
		}
	}
	return append(names, c.TLSNames...)
}

func (c *Config) tlsRegions() []string {
	regions := []string{c.Region}
	for _, r := range c.TLSRegions {
		if !slices.Contains(regions, r) {
			regions = append(regions, r)
		}
	}
	return regions
}

// registryHosts are the host[:port] names clients most likely use for
// this server (listening on listen, "host:port"), for the trust commands.
func (c *Config) registryHosts(listen string) []string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		host, port = listen, "443"
	}
	withPort := func(h string) string {
		if port == "443" {
			return h
		}
		return net.JoinHostPort(h, port)
	}
	var hosts []string
	if ip := net.ParseIP(host); host == "" || host == "localhost" || ip != nil && (ip.IsUnspecified() || ip.IsLoopback()) {
		hosts = append(hosts, withPort("localhost"), withPort("127.0.0.1"))
		if hn, err := os.Hostname(); err == nil && hn != "" && (host == "" || ip != nil && ip.IsUnspecified()) {
			hosts = append(hosts, withPort(strings.ToLower(hn))) // what other machines are likely to use
		}
	} else {
		hosts = append(hosts, withPort(host))
	}
	return append(hosts, withPort(ecrhost.Host(c.AccountID, c.Region, c.tlsDomains()[0])))
}

// TLSDir is where --tls auto keeps its CA and server certificate, made
// absolute because it is printed for copy-and-paste.
func (c *Config) TLSDir() string {
	dir := filepath.Join(c.DataDir, "tls")
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// CATrust is what `berth admin ca` prints: the local CA of the data
// directory in cfg and the commands that make clients trust it; an
// fs.ErrNotExist error when there is no CA there yet.
func CATrust(cfg Config) (text string, pemCA []byte, err error) {
	pemCA, ca, err := localca.ReadCA(cfg.TLSDir())
	if err != nil {
		return "", nil, err
	}
	return localca.TrustInstructions(filepath.Join(cfg.TLSDir(), localca.CACertFile), ca, cfg.registryHosts(cfg.Addr)), pemCA, nil
}

// secureListener wraps ln in TLS as configured and reports the scheme. With
// --tls auto it starts the renewal loop (ending with ctx) and records the
// CA for the banner and --print-env.
func (s *Server) secureListener(ctx context.Context, ln net.Listener) (net.Listener, string, error) {
	base := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	switch {
	case s.cfg.TLSCert != "":
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			return nil, "", fmt.Errorf("loading TLS certificate: %w", err)
		}
		base.Certificates = []tls.Certificate{cert}
	case s.cfg.TLS == TLSAuto:
		mgr, err := localca.NewManager(localca.Options{Dir: s.cfg.TLSDir(), Names: s.cfg.tlsNames(ln.Addr())}, s.log)
		if err != nil {
			return nil, "", fmt.Errorf("--tls auto: %w", err)
		}
		go mgr.Run(ctx, tlsRenewCheck)
		base.GetCertificate = mgr.GetCertificate
		s.caPath = mgr.First.CACertPath
		s.tlsBanner = localca.TrustInstructions(s.caPath, mgr.First.CA, s.cfg.registryHosts(ln.Addr().String()))
		if mgr.First.CACreated {
			s.tlsBanner = "A new local CA was created; clients must trust it once.\n" + s.tlsBanner
		}
		s.log.Info("TLS with the local CA", "ca", s.caPath, "ca_sha256", localca.Fingerprint(mgr.First.CA), "ca_created", mgr.First.CACreated,
			"cert_not_after", mgr.Current().Leaf.NotAfter, "names", mgr.Current().Leaf.DNSNames)
	default:
		if !isLoopbackAddr(ln.Addr()) {
			s.plainWarning = fmt.Sprintf("WARNING: plain HTTP on the non-loopback address %s: passwords, tokens and images cross the network unencrypted, and docker refuses it unless listed in insecure-registries. Use --tls auto (or --tls-cert/--tls-key).", ln.Addr())
			s.log.Warn("serving plain HTTP on a non-loopback address; use --tls auto or --tls-cert/--tls-key", "addr", ln.Addr().String())
		}
		return ln, "http", nil
	}
	return tls.NewListener(ln, base), "https", nil
}

func isLoopbackAddr(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
