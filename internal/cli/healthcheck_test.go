package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthcheckURL(t *testing.T) {
	for _, tc := range []struct {
		addr string
		tls  bool
		want string
	}{
		{"0.0.0.0:5000", false, "http://127.0.0.1:5000"},
		{":5000", false, "http://127.0.0.1:5000"},
		{"[::]:5000", true, "https://[::1]:5000"},
		{"127.0.0.1:7000", false, "http://127.0.0.1:7000"},
		{"registry.internal:443", true, "https://registry.internal:443"},
	} {
		if got := healthcheckURL(tc.addr, tc.tls); got != tc.want {
			t.Errorf("healthcheckURL(%q, %v) = %q, want %q", tc.addr, tc.tls, got, tc.want)
		}
	}
}

func TestHealthcheck(t *testing.T) {
	handler := func(status int, challenge bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v2/" || r.Header.Get("Authorization") != "" {
				http.Error(w, "unexpected request", http.StatusTeapot)
				return
			}
			if challenge {
				w.Header().Set("WWW-Authenticate", `Basic realm="berth"`)
			}
			w.WriteHeader(status)
		}
	}
	for _, tc := range []struct {
		name      string
		status    int
		challenge bool
		wantCode  int
		wantErr   string
	}{
		{"registry challenge", http.StatusUnauthorized, true, ExitOK, ""},
		{"anonymous registry", http.StatusOK, false, ExitOK, ""},
		{"401 without challenge", http.StatusUnauthorized, false, ExitFailure, "without a WWW-Authenticate"},
		{"server error", http.StatusServiceUnavailable, true, ExitFailure, "503 Service Unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(handler(tc.status, tc.challenge))
			defer srv.Close()
			code, out, errOut := run(t, []string{"berth", "healthcheck", "--url", srv.URL}, "")
			if code != tc.wantCode || !strings.Contains(errOut, tc.wantErr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d with %q", code, out, errOut, tc.wantCode, tc.wantErr)
			}
		})
	}
	t.Run("from BERTH_ADDR, nothing listening", func(t *testing.T) {
		srv := httptest.NewServer(handler(http.StatusUnauthorized, true))
		addr := srv.Listener.Addr().String()
		srv.Close()
		t.Setenv("BERTH_ADDR", addr)
		t.Setenv("BERTH_TLS_CERT", "")
		code, _, errOut := run(t, []string{"berth", "healthcheck", "--timeout", "2s"}, "")
		if code != ExitFailure || !strings.Contains(errOut, "unhealthy") || !strings.Contains(errOut, addr) {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
	})
	t.Run("from BERTH_ADDR over TLS", func(t *testing.T) {
		srv := httptest.NewTLSServer(handler(http.StatusUnauthorized, true))
		defer srv.Close()
		t.Setenv("BERTH_ADDR", srv.Listener.Addr().String())
		t.Setenv("BERTH_TLS_CERT", "/some/cert.pem")
		code, out, errOut := run(t, []string{"berth", "healthcheck"}, "")
		if code != ExitOK || !strings.HasPrefix(out, "ok: https://") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
}
