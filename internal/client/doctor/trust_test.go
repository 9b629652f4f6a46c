package doctor

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/client/endpoint"
	"github.com/berth-dev/berth/internal/localca"
)

// A berth with --tls auto whose CA is installed only in docker's certs.d:
// doctor trusts it exactly as the engine would, and without it names the
// local CA and the command that prints it.
func TestDoctorTrustsDockerCertsDir(t *testing.T) {
	caDir := t.TempDir()
	res, err := localca.Ensure(localca.Options{Dir: caDir, Names: []string{"registry.test"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(&fakeECR{})
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{res.Server}}
	srv.StartTLS()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	host := "registry.test:" + port
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	home := t.TempDir()
	getenv := func(k string) string { return map[string]string{"HOME": home, "BERTH_CONFIG_DIR": home}[k] }
	resolver, _ := endpoint.New(getenv)
	diagnose := func(certsDirs ...string) Report {
		return Run(context.Background(), Options{Image: host + "/app:1.2", DockerConfigDir: home, Getenv: getenv, Resolver: resolver,
			LookupHost: func(context.Context, string) ([]string, error) { return []string{"127.0.0.1"}, nil },
			Dial:       dial, HTTPClient: &http.Client{Transport: &http.Transport{DialContext: dial}}, CertsDirs: certsDirs})
	}
	step := func(rep Report, name string) Result {
		for _, r := range rep.Results {
			if r.Step == name {
				return r
			}
		}
		t.Fatalf("no %s step in %+v", name, rep.Results)
		return Result{}
	}

	certsD := t.TempDir()
	rep := diagnose(certsD) // nothing installed for this host yet
	tlsStep := step(rep, "tcp/tls")
	if tlsStep.Status != Fail || !strings.Contains(tlsStep.Fix, "berth's --tls auto CA") || !strings.Contains(tlsStep.Fix, "berth admin ca --pem") ||
		!strings.Contains(tlsStep.Fix, "/etc/docker/certs.d/"+host+"/ca.crt") {
		t.Fatalf("untrusted CA: %+v", tlsStep)
	}

	caFile := filepath.Join(certsD, host, "ca.crt")
	pemCA, _, _ := localca.ReadCA(caDir)
	if err := os.MkdirAll(filepath.Dir(caFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, pemCA, 0o644); err != nil {
		t.Fatal(err)
	}
	rep = diagnose(certsD)
	tlsStep = step(rep, "tcp/tls")
	if tlsStep.Status != Pass || !strings.Contains(strings.Join(tlsStep.Evidence, "\n"), "trusting "+caFile) {
		t.Fatalf("trusted via certs.d: %+v", tlsStep)
	}
	// The registry requests themselves use the same trust.
	if ch := step(rep, "/v2/ challenge"); ch.Status != Pass {
		t.Fatalf("challenge over TLS: %+v", ch)
	}
}
