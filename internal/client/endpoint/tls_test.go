package endpoint

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A loopback berth started with --tls auto answers TLS on its port; berth's
// client commands must then use https:// for it, as docker does.
func TestLoopbackSchemeFollowsWhatThePortSpeaks(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	_, tlsPort, _ := net.SplitHostPort(tlsSrv.Listener.Addr().String())
	_, plainPort, _ := net.SplitHostPort(plain.Listener.Addr().String())
	closed := func() string {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		defer l.Close()
		_, p, _ := net.SplitHostPort(l.Addr().String())
		return p
	}()
	dir := t.TempDir()
	getenv := func(k string) string {
		return map[string]string{"BERTH_CONFIG_DIR": dir, "BERTH_REGISTRY_MAP": `{"registries":{"insecure.localhost:` + tlsPort + `":{"insecure":true}}}`}[k]
	}
	r, err := New(getenv)
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{
		"127.0.0.1:" + tlsPort: "https", "localhost:" + tlsPort: "https", "111111111111.dkr.ecr.us-east-1.localhost:" + tlsPort: "https",
		"127.0.0.1:" + plainPort: "http", "localhost:" + plainPort: "http",
		"127.0.0.1:" + closed: "http", "localhost": "http",
		"insecure.localhost:" + tlsPort: "http", // the mapping says so
	} {
		tg, err := r.Resolve(host)
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		if !strings.HasPrefix(tg.RegistryURL, want+"://") {
			t.Errorf("%s: registry URL %s, want %s", host, tg.RegistryURL, want)
		}
		if tg.APIEndpoint != "" && !strings.HasPrefix(tg.APIEndpoint, want+"://") {
			t.Errorf("%s: API endpoint %s, want %s", host, tg.APIEndpoint, want)
		}
	}
}
