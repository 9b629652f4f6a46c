package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// trustDockerCAs makes the TLS checks trust what the docker engine trusts
// for this host: the system roots plus every *.crt in CERTSDIR/HOST[:PORT]
// (docker's certs.d layout). Without it a registry whose CA is installed
// only there — berth's --tls auto CA, for instance — would fail here while
// docker pulls fine.
func (r *run) trustDockerCAs() {
	if r.target.Host == "" || len(r.o.CertsDirs) == 0 {
		return
	}
	tr, ok := r.o.HTTPClient.Transport.(*http.Transport)
	if !ok && r.o.HTTPClient.Transport != nil {
		return
	}
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport)
	}
	var pool *x509.CertPool
	var used []string
	for _, dir := range r.o.CertsDirs {
		files, _ := filepath.Glob(filepath.Join(dir, r.target.Host, "*.crt"))
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			if pool == nil {
				if pool, _ = x509.SystemCertPool(); pool == nil {
					pool = x509.NewCertPool()
				}
			}
			if pool.AppendCertsFromPEM(data) {
				used = append(used, f)
			}
		}
	}
	if len(used) == 0 {
		return
	}
	tr = tr.Clone()
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{}
	}
	tr.TLSClientConfig.RootCAs = pool
	client := *r.o.HTTPClient
	client.Transport = tr
	r.o.HTTPClient = &client
	r.trustedCAs = used
}

// unknownCAFix explains a certificate signed by an authority this machine
// does not trust, naming berth's local CA when that is the issuer (read
// from an unverified second handshake, used only for this message).
func (r *run) unknownCAFix(ctx context.Context, addr string, cfg *tls.Config, err error) (string, bool) {
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) {
		var ve *tls.CertificateVerificationError
		if !errors.As(err, &ve) || !errors.As(ve.Err, &ua) {
			return "", false
		}
	}
	issuer := ""
	if conn, derr := r.o.Dial(ctx, "tcp", addr); derr == nil {
		peek := cfg.Clone()
		peek.InsecureSkipVerify = true
		tc := tls.Client(conn, peek)
		if tc.HandshakeContext(ctx) == nil {
			if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
				issuer = certs[0].Issuer.CommonName
				if len(certs[0].Issuer.Organization) > 0 && certs[0].Issuer.Organization[0] == "berth local CA" {
					issuer = "berth local CA:" + issuer
				}
			}
		}
		tc.Close()
	}
	host := r.target.Host
	trust := fmt.Sprintf("install the CA as /etc/docker/certs.d/%s/ca.crt (containerd: hosts.toml ca; podman: /etc/containers/certs.d/%s/ca.crt) and export AWS_CA_BUNDLE=/path/to/ca.crt for the API calls", host, host)
	if name, ok := strings.CutPrefix(issuer, "berth local CA:"); ok {
		return fmt.Sprintf("the certificate comes from berth's --tls auto CA (%q), which this machine does not trust yet: on the server run `berth admin ca --pem --data DIR > ca.crt` (compare the SHA-256 it prints), then %s", name, trust), true
	}
	if issuer != "" {
		return fmt.Sprintf("the certificate is issued by %q, which this machine does not trust: %s", issuer, trust), true
	}
	return trust, true
}

func (r *run) trustEvidence() []string {
	var ev []string
	for _, f := range r.trustedCAs {
		ev = append(ev, "trusting "+f+" for this host, as docker does")
	}
	return ev
}
