package localca

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var ecrNames = []string{"localhost", "127.0.0.1", "::1", "*.dkr.ecr.us-east-1.localhost", "registry.example.com"}

func clock(t time.Time) func() time.Time { return func() time.Time { return t } }

func ensure(t *testing.T, o Options) *Result {
	t.Helper()
	res, err := Ensure(o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func pool(ca *x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca)
	return p
}

func TestEnsureCreatesCAAndServerCertificate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	res := ensure(t, Options{Dir: dir, Names: ecrNames, Now: clock(t0)})
	if !res.CACreated || !res.Issued || res.Reason != "no server certificate yet" {
		t.Fatalf("first Ensure: created %v issued %v reason %q", res.CACreated, res.Issued, res.Reason)
	}
	for name, want := range map[string]os.FileMode{CAKeyFile: 0o600, ServerKeyFile: 0o600, CACertFile: 0o644, ServerCertFile: 0o644, ".": 0o700} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", name, got, want)
		}
	}
	leaf := res.Server.Leaf
	if !res.CA.IsCA || !res.CA.MaxPathLenZero || leaf.IsCA {
		t.Fatalf("CA flags: ca.IsCA %v maxPathLenZero %v leaf.IsCA %v", res.CA.IsCA, res.CA.MaxPathLenZero, leaf.IsCA)
	}
	if got := leaf.NotAfter.Sub(t0); got != DefaultServerValidity {
		t.Errorf("server validity %s", got)
	}
	if got := res.CA.NotAfter.Sub(t0); got != DefaultCAValidity {
		t.Errorf("CA validity %s", got)
	}
	if len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("ext key usage %v", leaf.ExtKeyUsage)
	}
	// What a TLS client verifies: each wanted name, and a wildcard that
	// covers exactly one label.
	for host, ok := range map[string]bool{
		"localhost":            true,
		"127.0.0.1":            true,
		"::1":                  true,
		"registry.example.com": true,
		"111111111111.dkr.ecr.us-east-1.localhost":   true,
		"222222222222.dkr.ecr.us-east-1.localhost":   true,
		"222222222222.dkr.ecr.eu-west-2.localhost":   false, // region not listed
		"a.111111111111.dkr.ecr.us-east-1.localhost": false, // two labels under the wildcard
		"dkr.ecr.us-east-1.localhost":                false,
		"example.com":                                false,
		"10.0.0.1":                                   false,
	} {
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: pool(res.CA), CurrentTime: t0.Add(time.Hour)})
		if (err == nil) != ok {
			t.Errorf("verify %s: %v, want ok=%v", host, err, ok)
		}
	}
	// The files on disk are the same pair a TLS server loads.
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, ServerCertFile), filepath.Join(dir, ServerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(pair.Certificate[0]) != string(leaf.Raw) {
		t.Fatal("server.crt is not the certificate Ensure returned")
	}
	pemCA, ca, err := ReadCA(dir)
	if err != nil || !ca.Equal(res.CA) || !strings.HasPrefix(string(pemCA), "-----BEGIN CERTIFICATE-----") {
		t.Fatalf("ReadCA: %v", err)
	}
}

func TestEnsureReusesAndRenews(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	first := ensure(t, Options{Dir: dir, Names: ecrNames, Now: clock(t0)})
	serial := first.Server.Leaf.SerialNumber

	// Within the validity and outside the renewal window: nothing changes.
	again := ensure(t, Options{Dir: dir, Names: ecrNames, Now: clock(t0.Add(59 * 24 * time.Hour))})
	if again.CACreated || again.Issued || again.Server.Leaf.SerialNumber.Cmp(serial) != 0 {
		t.Fatalf("second Ensure: created %v issued %v (%s)", again.CACreated, again.Issued, again.Reason)
	}
	// A subset of the names is still covered.
	if r := ensure(t, Options{Dir: dir, Names: ecrNames[:2], Now: clock(t0)}); r.Issued {
		t.Fatalf("fewer names reissued: %s", r.Reason)
	}

	// 30 days before expiry: reissued under the same CA.
	t1 := t0.Add(61 * 24 * time.Hour)
	renewed := ensure(t, Options{Dir: dir, Names: ecrNames, Now: clock(t1)})
	if !renewed.Issued || renewed.CACreated || !strings.Contains(renewed.Reason, "expires") {
		t.Fatalf("renewal: issued %v created %v reason %q", renewed.Issued, renewed.CACreated, renewed.Reason)
	}
	if !renewed.CA.Equal(first.CA) || renewed.Server.Leaf.SerialNumber.Cmp(serial) == 0 {
		t.Fatal("renewal changed the CA or kept the serial")
	}
	if _, err := renewed.Server.Leaf.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: pool(first.CA), CurrentTime: t1.Add(80 * 24 * time.Hour)}); err != nil {
		t.Fatalf("renewed certificate not valid 80 days on: %v", err)
	}

	// A new name: reissued, and the reason says which name.
	more := append([]string{"*.dkr.ecr.eu-west-2.localhost"}, ecrNames...)
	r := ensure(t, Options{Dir: dir, Names: more, Now: clock(t1)})
	if !r.Issued || r.Reason != "server certificate does not cover *.dkr.ecr.eu-west-2.localhost" {
		t.Fatalf("new name: issued %v reason %q", r.Issued, r.Reason)
	}
	if r := ensure(t, Options{Dir: dir, Names: append(more, "192.0.2.7"), Now: clock(t1)}); !r.Issued || r.Reason != "server certificate does not cover 192.0.2.7" {
		t.Fatalf("new IP: issued %v reason %q", r.Issued, r.Reason)
	}
}

func TestServerCertificateNeverOutlivesTheCA(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	res := ensure(t, Options{Dir: dir, Names: ecrNames, Now: clock(t0), CAValidity: 10 * 24 * time.Hour})
	if !res.Server.Leaf.NotAfter.Equal(res.CA.NotAfter) {
		t.Fatalf("server not after %s, CA %s", res.Server.Leaf.NotAfter, res.CA.NotAfter)
	}
	_, err := Ensure(Options{Dir: dir, Names: ecrNames, Now: clock(t0.Add(11 * 24 * time.Hour))})
	if err == nil || !strings.Contains(err.Error(), "expired") || !strings.Contains(err.Error(), "trust the new CA") {
		t.Fatalf("expired CA: %v", err)
	}
}

func TestEnsureRepairsTheServerCertificateButNeverReplacesTheCA(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	o := func(dir string) Options { return Options{Dir: dir, Names: ecrNames, Now: clock(t0)} }

	t.Run("corrupt server certificate is reissued", func(t *testing.T) {
		dir := t.TempDir()
		first := ensure(t, o(dir))
		if err := os.WriteFile(filepath.Join(dir, ServerCertFile), []byte("garbage"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := ensure(t, o(dir))
		if !r.Issued || !strings.Contains(r.Reason, "unreadable") || !r.CA.Equal(first.CA) {
			t.Fatalf("issued %v reason %q", r.Issued, r.Reason)
		}
	})
	t.Run("server certificate of another CA is reissued", func(t *testing.T) {
		dir, other := t.TempDir(), t.TempDir()
		ensure(t, o(dir))
		ensure(t, o(other))
		for _, f := range []string{ServerCertFile, ServerKeyFile} {
			data, _ := os.ReadFile(filepath.Join(other, f))
			if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if r := ensure(t, o(dir)); !r.Issued || r.Reason != "stored server certificate is not signed by the local CA" {
			t.Fatalf("issued %v reason %q", r.Issued, r.Reason)
		}
	})
	t.Run("missing CA key is an error that names the fix", func(t *testing.T) {
		dir := t.TempDir()
		ensure(t, o(dir))
		before, _ := os.ReadFile(filepath.Join(dir, CACertFile))
		os.Remove(filepath.Join(dir, CAKeyFile))
		_, err := Ensure(o(dir))
		if err == nil || !strings.Contains(err.Error(), "no usable key") || !strings.Contains(err.Error(), "remove") {
			t.Fatalf("Ensure without CA key: %v", err)
		}
		after, _ := os.ReadFile(filepath.Join(dir, CACertFile))
		if string(before) != string(after) {
			t.Fatal("the CA certificate was replaced")
		}
	})
	t.Run("CA key of another CA is an error", func(t *testing.T) {
		dir, other := t.TempDir(), t.TempDir()
		ensure(t, o(dir))
		ensure(t, o(other))
		data, _ := os.ReadFile(filepath.Join(other, CAKeyFile))
		os.WriteFile(filepath.Join(dir, CAKeyFile), data, 0o600)
		if _, err := Ensure(o(dir)); err == nil || !strings.Contains(err.Error(), "do not belong together") {
			t.Fatalf("mismatched CA key: %v", err)
		}
	})
	t.Run("a lone CA key from an interrupted start is replaced", func(t *testing.T) {
		dir := t.TempDir()
		ensure(t, o(dir))
		os.Remove(filepath.Join(dir, CACertFile))
		if r := ensure(t, o(dir)); !r.CACreated || !r.Issued {
			t.Fatalf("created %v issued %v", r.CACreated, r.Issued)
		}
	})
	t.Run("no CA yet", func(t *testing.T) {
		if _, _, err := ReadCA(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("ReadCA of an empty dir: %v", err)
		}
	})
}

func TestNamesAreChecked(t *testing.T) {
	for _, n := range []string{"*.dkr.ecr.*.localhost", "a.*.example.com", "foo*.example.com", "*", "exa mple.com", "a..b", strings.Repeat("a", 64) + ".com"} {
		if err := CheckNames([]string{n}); err == nil {
			t.Errorf("CheckNames(%q) accepted", n)
		}
	}
	for _, n := range []string{"*.dkr.ecr.us-east-1.localhost", "localhost", "[::1]", "10.0.0.1", "Registry.Example.com."} {
		if err := CheckNames([]string{n}); err != nil {
			t.Errorf("CheckNames(%q): %v", n, err)
		}
	}
	if _, err := Ensure(Options{Dir: t.TempDir()}); err == nil {
		t.Fatal("Ensure without names accepted")
	}
	// Names are normalised (case, trailing dot, brackets) and deduplicated.
	res := ensure(t, Options{Dir: t.TempDir(), Names: []string{"Registry.Example.com.", "registry.example.com", "[::1]", "::1"}})
	if got := res.Server.Leaf.DNSNames; len(got) != 1 || got[0] != "registry.example.com" || len(res.Server.Leaf.IPAddresses) != 1 {
		t.Fatalf("names %v ips %v", got, res.Server.Leaf.IPAddresses)
	}
}

func TestManagerSwapsInTheRenewedCertificate(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	m, err := NewManager(Options{Dir: dir, Names: ecrNames, Now: func() time.Time { return now }}, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := m.GetCertificate(nil)
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	if same, _ := m.GetCertificate(nil); same != first {
		t.Fatal("Check swapped a certificate that was not due")
	}
	now = now.Add(70 * 24 * time.Hour)
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	renewed, _ := m.GetCertificate(nil)
	if renewed == first || !renewed.Leaf.NotAfter.After(first.Leaf.NotAfter) {
		t.Fatalf("not renewed: %s → %s", first.Leaf.NotAfter, renewed.Leaf.NotAfter)
	}
}

func TestTrustInstructions(t *testing.T) {
	res := ensure(t, Options{Dir: t.TempDir(), Names: ecrNames})
	text := TrustInstructions("/var/lib/berth data/tls/ca.crt", res.CA, []string{"localhost:5000", "000000000000.dkr.ecr.us-east-1.localhost:5000"})
	for _, want := range []string{
		"/etc/docker/certs.d/$h/ca.crt",
		"/etc/containers/certs.d/$h/ca.crt",
		"/etc/containerd/certs.d/$h/hosts.toml",
		"export AWS_CA_BUNDLE='/var/lib/berth data/tls/ca.crt'",
		"for h in localhost:5000 000000000000.dkr.ecr.us-east-1.localhost:5000;",
		Fingerprint(res.CA),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("instructions lack %q:\n%s", want, text)
		}
	}
}
