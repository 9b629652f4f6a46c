// Package localca keeps a private certificate authority and one server
// certificate it signed in a directory, for `berth serve --tls auto`.
//
// The CA is created once and never replaced behind the operator's back:
// clients were told to trust it, so a missing key or a CA that does not
// match its key is an error that names the fix. The server certificate is
// disposable: it is issued again whenever it is missing, unreadable, not
// signed by the CA, lacks a wanted name or enters its renewal window.
package localca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/atomicfile"
)

// File names inside the directory.
const (
	CACertFile     = "ca.crt"
	CAKeyFile      = "ca.key"
	ServerCertFile = "server.crt"
	ServerKeyFile  = "server.key"
)

// Lifetimes. Clients trust the CA, not the server certificate, so the
// server certificate can be short-lived: renewing it costs nobody anything.
const (
	DefaultCAValidity     = 10 * 365 * 24 * time.Hour
	DefaultServerValidity = 90 * 24 * time.Hour
	// DefaultRenewBefore is the remaining lifetime at which the server
	// certificate is issued again (a third of its validity).
	DefaultRenewBefore = 30 * 24 * time.Hour
)

// Options say where the CA lives and what the server certificate covers.
type Options struct {
	Dir string
	// Names are the subject alternative names: DNS names (a leading "*."
	// covers exactly one label) and IP addresses.
	Names []string
	// Zero values mean the defaults above and time.Now.
	CAValidity, ServerValidity, RenewBefore time.Duration
	Now                                     func() time.Time
}

func (o *Options) fill() {
	if o.CAValidity <= 0 {
		o.CAValidity = DefaultCAValidity
	}
	if o.ServerValidity <= 0 {
		o.ServerValidity = DefaultServerValidity
	}
	if o.RenewBefore <= 0 || o.RenewBefore >= o.ServerValidity {
		o.RenewBefore = min(DefaultRenewBefore, o.ServerValidity/3)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Result describes the state after Ensure.
type Result struct {
	CACertPath string
	CA         *x509.Certificate
	Server     tls.Certificate // Leaf is set
	CACreated  bool            // a new CA was made (clients must trust it)
	Issued     bool            // the server certificate was (re)issued
	Reason     string          // why it was issued ("" when not)
}

// Ensure makes the directory hold a usable CA and a server certificate for
// opts.Names, creating or reissuing what is needed.
func Ensure(opts Options) (*Result, error) {
	opts.fill()
	names, ips, err := splitNames(opts.Names)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("TLS directory: %w", err)
	}
	now := opts.Now()
	ca, caKey, created, err := loadOrCreateCA(opts.Dir, now, opts.CAValidity)
	if err != nil {
		return nil, err
	}
	if !now.Before(ca.NotAfter) {
		return nil, fmt.Errorf("the local CA %s expired on %s; remove %s and %s to create a new one (every client must then trust the new CA)",
			filepath.Join(opts.Dir, CACertFile), ca.NotAfter.Format(time.DateOnly), CACertFile, CAKeyFile)
	}
	res := &Result{CACertPath: filepath.Join(opts.Dir, CACertFile), CA: ca, CACreated: created}
	cur, reason := loadServer(opts.Dir, ca, names, ips, now, opts.RenewBefore)
	if reason == "" {
		res.Server = cur
		return res, nil
	}
	srv, err := issueServer(opts.Dir, ca, caKey, names, ips, now, opts.ServerValidity)
	if err != nil {
		return nil, err
	}
	res.Server, res.Issued, res.Reason = srv, true, reason
	return res, nil
}

// splitNames separates DNS names from IP addresses and rejects names no
// certificate can carry.
func splitNames(in []string) (dns []string, ips []net.IP, err error) {
	for _, n := range in {
		n = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(n)), ".")
		if n == "" {
			continue
		}
		if ip := net.ParseIP(strings.Trim(n, "[]")); ip != nil {
			if !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
			continue
		}
		if err := checkDNSName(n); err != nil {
			return nil, nil, err
		}
		if !slices.Contains(dns, n) {
			dns = append(dns, n)
		}
	}
	if len(dns) == 0 && len(ips) == 0 {
		return nil, nil, errors.New("a server certificate needs at least one name")
	}
	return dns, ips, nil
}

// checkDNSName enforces what TLS clients verify: a wildcard is only the
// whole leftmost label and matches exactly one label, so "*.dkr.ecr.*.x"
// can never match anything and is refused here rather than at handshake.
func checkDNSName(n string) error {
	labels := strings.Split(n, ".")
	for i, l := range labels {
		if l == "*" && i == 0 && len(labels) > 1 {
			continue
		}
		if l == "" || len(l) > 63 {
			return fmt.Errorf("TLS name %q: empty or over-long label", n)
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				if c == '*' {
					return fmt.Errorf("TLS name %q: a wildcard must be the whole first label (\"*.example.com\"); it then covers exactly one label", n)
				}
				return fmt.Errorf("TLS name %q: invalid character %q", n, c)
			}
		}
	}
	if len(n) > 253 {
		return fmt.Errorf("TLS name %q: longer than 253 characters", n)
	}
	return nil
}

func loadOrCreateCA(dir string, now time.Time, validity time.Duration) (*x509.Certificate, crypto.Signer, bool, error) {
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	switch {
	case errors.Is(certErr, fs.ErrNotExist):
		// No CA certificate was ever handed out (it is written last), so
		// a lone key is the remainder of an interrupted creation.
		ca, key, err := createCA(dir, now, validity)
		return ca, key, err == nil, err
	case certErr != nil:
		return nil, nil, false, fmt.Errorf("reading the local CA: %w", certErr)
	case keyErr != nil:
		return nil, nil, false, fmt.Errorf("the local CA %s has no usable key (%v); restore %s, or remove %s to create a new CA (every client must then trust the new CA)",
			certPath, keyErr, keyPath, certPath)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, false, fmt.Errorf("the local CA %s and its key %s do not belong together: %v", certPath, keyPath, err)
	}
	ca, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil || !ca.IsCA {
		return nil, nil, false, fmt.Errorf("%s is not a CA certificate", certPath)
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, nil, false, fmt.Errorf("%s: unsupported key type", keyPath)
	}
	return ca, signer, false, nil
}

func createCA(dir string, now time.Time, validity time.Duration) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"berth local CA"}, CommonName: "berth local CA " + host + " " + now.UTC().Format(time.DateOnly)},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	if err := writeKey(filepath.Join(dir, CAKeyFile), key); err != nil {
		return nil, nil, err
	}
	if err := atomicfile.Write(filepath.Join(dir, CACertFile), pemCert(der), 0o644); err != nil {
		return nil, nil, err
	}
	ca, err := x509.ParseCertificate(der)
	return ca, key, err
}

// loadServer returns the stored server certificate, or why it must be
// issued again.
func loadServer(dir string, ca *x509.Certificate, names []string, ips []net.IP, now time.Time, renewBefore time.Duration) (tls.Certificate, string) {
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, ServerCertFile), filepath.Join(dir, ServerKeyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return pair, "no server certificate yet"
	}
	if err != nil {
		return pair, "stored server certificate unreadable: " + err.Error()
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return pair, "stored server certificate unreadable: " + err.Error()
		}
		pair.Leaf = leaf
	}
	if err := leaf.CheckSignatureFrom(ca); err != nil {
		return pair, "stored server certificate is not signed by the local CA"
	}
	if left := leaf.NotAfter.Sub(now); left < renewBefore {
		return pair, fmt.Sprintf("server certificate expires %s (renewal starts %s before expiry)", leaf.NotAfter.UTC().Format(time.RFC3339), renewBefore)
	}
	for _, n := range names {
		if !slices.Contains(leaf.DNSNames, n) {
			return pair, "server certificate does not cover " + n
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
			return pair, "server certificate does not cover " + ip.String()
		}
	}
	return pair, ""
}

func issueServer(dir string, ca *x509.Certificate, caKey crypto.Signer, names []string, ips []net.IP, now time.Time, validity time.Duration) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := randomSerial()
	if err != nil {
		return tls.Certificate{}, err
	}
	cn := ""
	if len(names) > 0 {
		cn = names[0]
	} else {
		cn = ips[0].String()
	}
	notAfter := now.Add(validity)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{"berth"}, CommonName: cn},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     notAfter,
		DNSNames:     names,
		IPAddresses:  ips,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("issuing the server certificate: %w", err)
	}
	// Key first: a crash between the two writes leaves a pair that does
	// not match, which the next start treats as "issue again".
	if err := writeKey(filepath.Join(dir, ServerKeyFile), key); err != nil {
		return tls.Certificate{}, err
	}
	if err := atomicfile.Write(filepath.Join(dir, ServerCertFile), pemCert(der), 0o644); err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// ReadCA returns the PEM of the CA certificate in dir.
func ReadCA(dir string) ([]byte, *x509.Certificate, error) {
	path := filepath.Join(dir, CACertFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return bytes.TrimSpace(data), ca, nil
}

// CheckNames reports the first name no certificate can carry, so a bad
// flag is a usage error before anything is created.
func CheckNames(names []string) error {
	for _, n := range names {
		if _, _, err := splitNames([]string{n}); err != nil {
			return err
		}
	}
	return nil
}
