package endpoint

import (
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/client/dockercfg"
)

// tlsProbeTimeout bounds the probe; a loopback peer answers in well under
// a millisecond, so this only matters for a port that accepts and hangs.
const tlsProbeTimeout = 500 * time.Millisecond

// newTLSProbe returns a memoised check of whether a loopback host:port
// completes a TLS handshake. The handshake is not verified: it only picks
// the scheme; the real connection verifies the certificate as usual. A
// host without a port is never probed (which port would it be?).
func newTLSProbe() func(hostport string) bool {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(hostport string) bool {
		_, port, err := net.SplitHostPort(hostport)
		if err != nil || port == "" {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		if v, ok := seen[hostport]; ok {
			return v
		}
		host := strings.Trim(dockercfg.Hostname(hostport), "[]")
		if host == "localhost" || strings.HasSuffix(host, ".localhost") {
			host = "127.0.0.1" // *.localhost need not resolve
		}
		v := handshakes(net.JoinHostPort(host, port))
		seen[hostport] = v
		return v
	}
}

func handshakes(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, tlsProbeTimeout)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(tlsProbeTimeout))
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"}) // #nosec: scheme detection only
	return tc.Handshake() == nil
}
