// Package bench is a load generator for any OCI registry (berth,
// distribution, zot, ECR): manifest GET rate, blob pull and push throughput,
// many small pushes, and the cold ECR-token-then-pull path. Every scenario
// is bounded both in time (Config.Duration) and in count (Config.MaxOps),
// reports p50/p99 latency, operations/s and MiB/s, and prints progress to
// Config.Progress.
package bench

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Scenario names accepted by Config.Scenarios (and `berth bench --scenario`).
const (
	ManifestGet = "manifest-get"
	BlobPull    = "blob-pull"
	BlobPush    = "blob-push"
	SmallPushes = "small-pushes"
	ColdStart   = "cold-start"
)

// AllScenarios returns every scenario name in the default order: reads
// first, so that they run against a store not yet filled by the pushes.
func AllScenarios() []string {
	return []string{ManifestGet, BlobPull, BlobPush, SmallPushes, ColdStart}
}

// Credentials authenticate registry requests with HTTP Basic; empty User
// sends no Authorization header.
type Credentials struct {
	User, Password string
}

// TokenFunc obtains registry credentials the way a freshly booted node does
// (GetAuthorizationToken over hc). The cold-start scenario calls it once per
// pull; nil means static Credentials.
type TokenFunc func(ctx context.Context, hc *http.Client) (Credentials, error)

// Config describes one bench run.
type Config struct {
	URL         string // registry base URL, e.g. http://127.0.0.1:5000
	Repo        string // repository to push to and pull from
	Creds       Credentials
	Token       TokenFunc
	Scenarios   []string
	Concurrency int           // concurrent clients (default 16)
	Duration    time.Duration // per scenario (default 10s)
	BlobSize    int64         // blob-pull and blob-push blob size (default 256 MiB)
	ChunkSize   int64         // chunked push PATCH size (default 8 MiB)
	Images      int           // small-pushes: images to push (default 100); cold-start: pulls (bounded by it too)
	Layers      int           // small-pushes: layers per image (default 3)
	LayerSize   int64         // small-pushes layer size (default 64 KiB)
	MaxOps      int64         // hard cap on operations per scenario (default 5,000,000)
	Progress    io.Writer     // progress lines; nil discards
	// Transport, when set, replaces the default loopback-friendly transport
	// (tests use it to reach an in-process server).
	Transport http.RoundTripper
}

// Result is the JSON document `berth bench --json` prints.
type Result struct {
	URL             string           `json:"url"`
	Repo            string           `json:"repo"`
	Auth            string           `json:"auth"` // none | basic | ecr-token
	Concurrency     int              `json:"concurrency"`
	DurationSeconds float64          `json:"duration_seconds"`
	BlobSize        int64            `json:"blob_size"`
	Started         time.Time        `json:"started"`
	Scenarios       []ScenarioResult `json:"scenarios"`
}

// ScenarioResult is one scenario (blob-push reports two: monolithic and chunked).
type ScenarioResult struct {
	Name        string  `json:"name"`
	Mode        string  `json:"mode,omitempty"`
	Concurrency int     `json:"concurrency"`
	Ops         int64   `json:"ops"`      // completed operations (a GET, a push, an image, a cold pull)
	Requests    int64   `json:"requests"` // HTTP requests those operations made
	Errors      int64   `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
	Seconds     float64 `json:"seconds"`
	OpsPerSec   float64 `json:"ops_per_sec"`
	Bytes       int64   `json:"bytes"`
	MiBPerSec   float64 `json:"mib_per_sec"`
	P50Ms       float64 `json:"p50_ms"`
	P99Ms       float64 `json:"p99_ms"`
	MaxMs       float64 `json:"max_ms"`
	// TokenP50Ms/TokenP99Ms: cold-start only, the GetAuthorizationToken step.
	TokenP50Ms float64 `json:"token_p50_ms,omitempty"`
	TokenP99Ms float64 `json:"token_p99_ms,omitempty"`
}

// Failed reports whether any scenario had errors.
func (r *Result) Failed() bool {
	for _, s := range r.Scenarios {
		if s.Errors > 0 {
			return true
		}
	}
	return false
}

// Scenario returns the first result with that name (and mode, when given).
func (r *Result) Scenario(name, mode string) (ScenarioResult, bool) {
	for _, s := range r.Scenarios {
		if s.Name == name && (mode == "" || s.Mode == mode) {
			return s, true
		}
	}
	return ScenarioResult{}, false
}

func (c *Config) validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url %q: want http(s)://host[:port]", c.URL)
	}
	c.URL = strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/")
	if c.Repo == "" {
		c.Repo = "berth-bench"
	}
	if len(c.Scenarios) == 0 {
		c.Scenarios = AllScenarios()
	}
	for _, s := range c.Scenarios {
		if !slices.Contains(AllScenarios(), s) {
			return fmt.Errorf("unknown scenario %q (known: %s)", s, strings.Join(AllScenarios(), ","))
		}
	}
	defaults := []struct {
		ok  bool
		set func()
	}{
		{c.Concurrency > 0, func() { c.Concurrency = 16 }},
		{c.Duration > 0, func() { c.Duration = 10 * time.Second }},
		{c.BlobSize > 0, func() { c.BlobSize = 256 << 20 }},
		{c.ChunkSize > 0, func() { c.ChunkSize = 8 << 20 }},
		{c.Images > 0, func() { c.Images = 100 }},
		{c.Layers > 0, func() { c.Layers = 3 }},
		{c.LayerSize > 0, func() { c.LayerSize = 64 << 10 }},
		{c.MaxOps > 0, func() { c.MaxOps = 5_000_000 }},
	}
	for _, d := range defaults {
		if !d.ok {
			d.set()
		}
	}
	if c.Concurrency > 1024 {
		return errors.New("--concurrency: at most 1024")
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return nil
}

// Run executes the configured scenarios in order. An error means the run
// could not be set up (bad config, fixture push refused); failures under
// load are counted in each ScenarioResult instead.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	b, err := newBencher(cfg)
	if err != nil {
		return nil, err
	}
	res := &Result{
		URL: cfg.URL, Repo: cfg.Repo, Auth: b.authKind(), Concurrency: cfg.Concurrency,
		DurationSeconds: cfg.Duration.Seconds(), BlobSize: cfg.BlobSize, Started: time.Now().UTC(),
	}
	for _, name := range cfg.Scenarios {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		rs, err := b.run(ctx, name)
		if err != nil {
			return res, fmt.Errorf("%s: %w", name, err)
		}
		res.Scenarios = append(res.Scenarios, rs...)
	}
	return res, nil
}

func basicHeader(c Credentials) string {
	if c.User == "" {
		return ""
	}
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(c.User+":"+c.Password))
}
