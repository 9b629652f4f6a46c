package localca

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"strings"
)

// Fingerprint is the SHA-256 fingerprint of cert as openssl prints it
// (AB:CD:…), for comparing a copied CA with the original.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// TrustInstructions are the commands that make docker, podman/CRI-O,
// containerd, the AWS CLI/SDKs and the system trust the CA at caPath for
// the given registry hosts (HOST or HOST:PORT, as clients name them).
func TrustInstructions(caPath string, ca *x509.Certificate, hosts []string) string {
	q := shq(caPath)
	hl := strings.Join(hosts, " ")
	var b strings.Builder
	fmt.Fprintf(&b, "TLS: local CA %s (SHA-256 %s, valid until %s)\n", caPath, Fingerprint(ca), ca.NotAfter.UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "Trust it (as root on each client machine; copy the file there first):\n")
	fmt.Fprintf(&b, "  docker:            for h in %s; do mkdir -p /etc/docker/certs.d/$h && cp %s /etc/docker/certs.d/$h/ca.crt; done\n", hl, q)
	fmt.Fprintf(&b, "  podman/skopeo/CRI-O: for h in %s; do mkdir -p /etc/containers/certs.d/$h && cp %s /etc/containers/certs.d/$h/ca.crt; done\n", hl, q)
	fmt.Fprintf(&b, "  containerd:        for h in %s; do mkdir -p /etc/containerd/certs.d/$h && printf 'server = \"https://%%s\"\\n[host.\"https://%%s\"]\\n  ca = \"%%s\"\\n' $h $h %s >/etc/containerd/certs.d/$h/hosts.toml; done\n", hl, q)
	fmt.Fprintf(&b, "                     (with config_path = \"/etc/containerd/certs.d\" in containerd's CRI registry section)\n")
	fmt.Fprintf(&b, "  aws CLI, boto3, AWS SDKs, docker-credential-ecr-login, ecr-credential-provider, berth: export AWS_CA_BUNDLE=%s\n", q)
	fmt.Fprintf(&b, "  whole system (Debian/Ubuntu): cp %s /usr/local/share/ca-certificates/berth-local-ca.crt && update-ca-certificates\n", q)
	return b.String()
}

func shq(s string) string {
	if s != "" && strings.IndexFunc(s, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./:+=@%,", c))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
