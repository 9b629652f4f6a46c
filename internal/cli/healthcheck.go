package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// `berth healthcheck` is the probe of the container image's HEALTHCHECK:
// the image is FROM scratch, so there is no curl or wget to call.

func newHealthcheckCmd(env *Env) *cobra.Command {
	var url string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the local berth serve answers on /v2/ (for container HEALTHCHECKs)",
		Long: `Probe a berth server: GET /v2/ must answer 401 with a WWW-Authenticate challenge
(the registry is up, its seeds are applied and it enforces authentication) or 200.
Without --url the address is the one berth serve would use: BERTH_ADDR (default
127.0.0.1:5000), with a wildcard host (0.0.0.0, ::) probed on loopback, over HTTPS
when BERTH_TLS_CERT is set. The probe sends no credentials; over HTTPS it does not
verify the certificate (it only reads the status of a loopback answer).`,
		Example: `  berth healthcheck
  berth healthcheck --url http://127.0.0.1:5000
  HEALTHCHECK CMD ["/berth", "healthcheck"]`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" {
				url = healthcheckURL(envOr(env, "BERTH_ADDR", "127.0.0.1:5000"), env.Getenv("BERTH_TLS_CERT") != "")
			}
			if err := probeV2(cmd.Context(), url, timeout); err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			fmt.Fprintf(env.Stdout, "ok: %s/v2/\n", url)
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "base URL of the server (default from BERTH_ADDR and BERTH_TLS_CERT)")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long")
	return cmd
}

// healthcheckURL turns a listen address into the URL a local probe uses.
func healthcheckURL(addr string, tlsOn bool) string {
	scheme := "http"
	if tlsOn {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return scheme + "://" + addr
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

func probeV2(ctx context.Context, base string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/v2/", nil)
	if err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // status-only loopback probe, no credentials sent
		Proxy:           nil,
	}}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") != "":
		return nil
	case resp.StatusCode == http.StatusUnauthorized:
		return errors.New("unhealthy: /v2/ answered 401 without a WWW-Authenticate challenge (not a registry?)")
	default:
		return fmt.Errorf("unhealthy: /v2/ answered %s", resp.Status)
	}
}
