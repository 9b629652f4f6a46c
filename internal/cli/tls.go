package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/internal/server"
)

// addTLSAutoFlags adds the flags of `berth serve --tls auto`.
func addTLSAutoFlags(cmd *cobra.Command, env *Env, cfg *server.Config) {
	f := cmd.Flags()
	f.StringVar(&cfg.TLS, "tls", env.Getenv("BERTH_TLS"), `"auto": HTTPS with a local CA and server certificate that berth creates in <data>/tls and renews; "off" (default): HTTP unless --tls-cert/--tls-key (env BERTH_TLS)`)
	f.StringSliceVar(&cfg.TLSDomains, "tls-domain", envList(env, "BERTH_TLS_DOMAIN"), "with --tls auto: domains D whose names D and *.dkr.ecr.REGION.D the certificate covers, comma-separated or repeated (default localhost; env BERTH_TLS_DOMAIN)")
	f.StringSliceVar(&cfg.TLSRegions, "tls-region", envList(env, "BERTH_TLS_REGION"), "with --tls auto: regions covered besides --region; a wildcard covers one label, so each region needs its own name (env BERTH_TLS_REGION)")
	f.StringSliceVar(&cfg.TLSNames, "tls-san", envList(env, "BERTH_TLS_SAN"), "with --tls auto: extra certificate names: DNS names, *.one.label wildcards or IP addresses (env BERTH_TLS_SAN)")
}

func envList(env *Env, key string) []string {
	v := env.Getenv(key)
	if v == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func newAdminCACmd(env *Env) *cobra.Command {
	cfg := server.Config{}
	var pemOnly bool
	cmd := &cobra.Command{
		Use:   "ca [--data DIR] [--pem]",
		Short: "Print the local CA of --tls auto and the commands that make clients trust it",
		Long: `Print where the local CA that ` + "`berth serve --tls auto`" + ` created in <data>/tls lives, its
SHA-256 fingerprint, and the commands that make docker, podman/skopeo/CRI-O, containerd,
the AWS CLI and SDKs (AWS_CA_BUNDLE) and the whole system trust it. Reads the data
directory; needs no running server. --pem prints only the certificate, for copying it
to another machine.

--addr, --account-id, --region and --tls-domain only shape the host names in the
printed commands; give the values the server runs with.`,
		Example: `  berth admin ca --data /var/lib/berth
  ssh registry berth admin ca --pem --data /var/lib/berth > berth-ca.crt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.TLS = server.TLSAuto
			if err := cfg.Validate(); err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			text, pemCA, err := server.CATrust(cfg)
			if errors.Is(err, fs.ErrNotExist) {
				return &ExitError{Code: ExitNotFound, Err: fmt.Errorf("no local CA in %s: start `berth serve --tls auto --data %s` once to create it", cfg.TLSDir(), cfg.DataDir)}
			}
			if err != nil {
				return err
			}
			if pemOnly {
				_, err = fmt.Fprintf(env.Stdout, "%s\n", pemCA)
				return err
			}
			_, err = fmt.Fprint(env.Stdout, text)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data", envOr(env, "BERTH_DATA", "./berth-data"), "data directory of the server (env BERTH_DATA)")
	f.StringVar(&cfg.Addr, "addr", envOr(env, "BERTH_ADDR", "127.0.0.1:5000"), "address the server listens on (env BERTH_ADDR)")
	f.StringVar(&cfg.Region, "region", envOr(env, "BERTH_REGION", "us-east-1"), "default region of the server (env BERTH_REGION)")
	f.StringVar(&cfg.AccountID, "account-id", envOr(env, "BERTH_ACCOUNT_ID", "000000000000"), "default account of the server (env BERTH_ACCOUNT_ID)")
	f.StringSliceVar(&cfg.TLSDomains, "tls-domain", envList(env, "BERTH_TLS_DOMAIN"), "the server's --tls-domain (env BERTH_TLS_DOMAIN)")
	f.BoolVar(&pemOnly, "pem", false, "print only the CA certificate (PEM)")
	return cmd
}
