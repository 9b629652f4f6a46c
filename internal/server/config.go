package server

import (
	"fmt"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/httpx"
	"github.com/berth-dev/berth/internal/storage/sqldb"
)

// Config is everything `berth serve` needs; the CLI fills it from flags and env.
type Config struct {
	Addr             string // listen address, default 127.0.0.1:5000
	DataDir          string // default ./berth-data
	Region           string // default region, us-east-1
	AccountID        string // default account, 12 digits
	TLSCert, TLSKey  string // HTTPS when both set
	RootAccessKeyID  string // BERTH_ROOT_ACCESS_KEY_ID; generated and stored when empty
	RootSecretKey    string // BERTH_ROOT_SECRET_ACCESS_KEY
	MaxManifestBytes int64  // default 4 MiB
	// UploadTTL is how long an idle upload session survives before cleanup.
	UploadTTL time.Duration
	// Fixture mode (berth serve --ephemeral, --seed, --print-env,
	// --ready-file, --pid-file); see fixture.go.
	Ephemeral bool     // data in a temporary directory removed on exit
	Seeds     []string // seed files applied before the listener opens
	PrintEnv  bool     // print shell export lines instead of the banner
	ReadyFile string   // written (the export lines, 0600) once serving; removed on exit
	PidFile   string   // written once serving; removed on exit
	// Storage selects the blob store: "" = filesystem under DataDir, or
	// s3://BUCKET/PREFIX?endpoint=URL&region=R (BERTH_STORAGE).
	Storage string
	// S3Redirect answers blob GETs with 307 to a presigned S3 URL.
	S3Redirect bool
	// Metadata selects the metadata database: "" (SQLite in DataDir) or a
	// postgres:// URL (the scale-out backend, shared by every node).
	Metadata string
	// MetadataPool is the PostgreSQL connection pool size per node.
	MetadataPool int

	// TLS "auto": HTTPS with a local CA and a server certificate kept in
	// <data>/tls (tlsauto.go); "" or "off": HTTPS only with TLSCert/TLSKey.
	TLS        string
	TLSDomains []string // domains whose ECR-style host names the auto certificate covers (default localhost)
	TLSRegions []string // regions covered besides Region
	TLSNames   []string // extra subject alternative names (DNS, "*.one.label" or IP)
	// Audit log (audit.go): "" = <data>/audit/audit.log, a path, "-" for
	// stdout, or "off"; rotation size and count; sampling rate of
	// successful manifest pulls (0..1, default none).
	AuditLog      string
	AuditMaxBytes int64
	AuditMaxFiles int
	AuditPulls    float64
	// PullThrough tunes the pull-through cache engine (pullthrough.go).
	PullThrough PullThroughConfig
	// MetricsToken, when set, lets a scraper read /metrics with
	// "Authorization: Bearer TOKEN" (BERTH_METRICS_TOKEN or --metrics-token-file).
	MetricsToken string
	// TrustedProxies (CIDRs or addresses, --trusted-proxy) are the reverse
	// proxies whose X-Forwarded-For names the client (aws:SourceIp, logs).
	// Empty: the TCP peer is the client and forwarding headers are ignored.
	TrustedProxies []string
}

// Validate fills defaults and rejects impossible settings.
func (c *Config) Validate() error {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:5000"
	}
	if c.DataDir == "" {
		c.DataDir = "./berth-data"
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.AccountID == "" {
		c.AccountID = "000000000000"
	}
	if c.Metadata != "" && !sqldb.IsPostgresURL(c.Metadata) {
		return fmt.Errorf("--metadata %q: want a postgres://… URL (leave it empty for SQLite in the data directory)", c.Metadata)
	}
	if c.MetadataPool <= 0 {
		c.MetadataPool = 32
	}
	if !ecrhost.IsAccountID(c.AccountID) {
		return fmt.Errorf("--account-id %q: an account id is exactly 12 digits", c.AccountID)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key must be given together")
	}
	if err := c.validateTLS(); err != nil {
		return err
	}
	if (c.RootAccessKeyID == "") != (c.RootSecretKey == "") {
		return fmt.Errorf("BERTH_ROOT_ACCESS_KEY_ID and BERTH_ROOT_SECRET_ACCESS_KEY must be set together")
	}
	if c.S3Redirect && !strings.HasPrefix(c.Storage, "s3://") {
		return fmt.Errorf("--s3-redirect needs --storage s3://…")
	}
	if c.AuditPulls < 0 || c.AuditPulls > 1 {
		return fmt.Errorf("--audit-pulls %v: a sampling rate is between 0 and 1", c.AuditPulls)
	}
	if _, err := httpx.ParseTrustedProxies(c.TrustedProxies); err != nil {
		return err
	}
	if c.MaxManifestBytes <= 0 {
		c.MaxManifestBytes = 4 << 20
	}
	if c.UploadTTL <= 0 {
		c.UploadTTL = 24 * time.Hour
	}
	return nil
}
