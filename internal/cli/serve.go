package cli

import (
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/internal/server"
)

func newServeCmd(env *Env) *cobra.Command {
	cfg := server.Config{}
	var fixture *fixtureFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the registry and the AWS-compatible APIs on one listener",
		Long: `Run berth: the OCI registry (/v2/) and the ECR, IAM, STS, SSM and Secrets Manager
APIs on one port, with filesystem blobs and SQLite metadata under --data.

Every flag can also be set with its environment variable. The operator's credentials are
BERTH_ROOT_ACCESS_KEY_ID / BERTH_ROOT_SECRET_ACCESS_KEY (root of the default account); when
unset on first start, berth generates a pair, stores it (0600) in the data directory and
prints it once.`,
		Example: `  berth serve
  BERTH_ADDR=127.0.0.1:5000 BERTH_DATA=/var/lib/berth berth serve --account-id 111111111111 --region eu-west-2
  berth serve --tls-cert cert.pem --tls-key key.pem
  berth serve --tls auto --addr 0.0.0.0:5000 --tls-domain registry.example.com --tls-region eu-west-2
  eval "$(berth serve --ephemeral --addr 127.0.0.1:0 --seed ci.yaml --print-env --background)"; ...; berth stop`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.RootAccessKeyID = env.Getenv("BERTH_ROOT_ACCESS_KEY_ID")
			cfg.RootSecretKey = env.Getenv("BERTH_ROOT_SECRET_ACCESS_KEY")
			if err := cfg.Validate(); err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			if done, err := fixture.prepare(cmd, env, &cfg); done || err != nil {
				return err
			}
			log := slog.New(slog.NewJSONHandler(env.Stderr, nil))
			return server.Run(cmd.Context(), cfg, log, env.Stdout)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", envOr(env, "BERTH_ADDR", "127.0.0.1:5000"), "listen address (env BERTH_ADDR)")
	f.StringVar(&cfg.DataDir, "data", envOr(env, "BERTH_DATA", "./berth-data"), "data directory (env BERTH_DATA)")
	f.StringVar(&cfg.Region, "region", envOr(env, "BERTH_REGION", "us-east-1"), "default region (env BERTH_REGION)")
	f.StringVar(&cfg.AccountID, "account-id", envOr(env, "BERTH_ACCOUNT_ID", "000000000000"), "default account id, 12 digits (env BERTH_ACCOUNT_ID)")
	f.StringVar(&cfg.TLSCert, "tls-cert", env.Getenv("BERTH_TLS_CERT"), "TLS certificate file; HTTPS when set with --tls-key (env BERTH_TLS_CERT)")
	f.StringVar(&cfg.TLSKey, "tls-key", env.Getenv("BERTH_TLS_KEY"), "TLS key file (env BERTH_TLS_KEY)")
	addTLSAutoFlags(cmd, env, &cfg)
	f.Int64Var(&cfg.MaxManifestBytes, "max-manifest-bytes", 4<<20, "largest manifest accepted, bytes")
	f.StringArrayVar(&cfg.TrustedProxies, "trusted-proxy", envList(env, "BERTH_TRUSTED_PROXIES"),
		"reverse proxy (CIDR or address, repeatable) whose X-Forwarded-For names the client for aws:SourceIp and logs; without it forwarding headers are ignored (env BERTH_TRUSTED_PROXIES, comma-separated)")
	f.DurationVar(&cfg.UploadTTL, "upload-ttl", 24*time.Hour, "remove upload sessions idle for longer than this")
	fixture = addFixtureFlags(cmd, env, &cfg)
	addAuditFlags(cmd, env, &cfg)
	addPullThroughFlags(cmd, env, &cfg)
	addMetricsFlags(cmd, env, &cfg)
	f.StringVar(&cfg.Storage, "storage", env.Getenv("BERTH_STORAGE"), "blob store: empty = filesystem under --data, or s3://BUCKET/PREFIX?endpoint=URL&region=R with credentials from the AWS chain (env BERTH_STORAGE)")
	f.BoolVar(&cfg.S3Redirect, "s3-redirect", envOr(env, "BERTH_S3_REDIRECT", "") == "1", "with --storage s3://: answer blob GETs with 307 to a presigned S3 URL instead of streaming (env BERTH_S3_REDIRECT=1)")
	f.StringVar(&cfg.Metadata, "metadata", env.Getenv("BERTH_METADATA"), "metadata database: empty for SQLite in the data directory, or postgres://user:pass@host:5432/db (env BERTH_METADATA)")
	f.IntVar(&cfg.MetadataPool, "metadata-pool", 32, "PostgreSQL connections per node, for queries and again for upload locks (each chunk being written holds one lock connection)")
	return cmd
}

func envOr(env *Env, key, def string) string {
	if v := env.Getenv(key); v != "" {
		return v
	}
	return def
}
