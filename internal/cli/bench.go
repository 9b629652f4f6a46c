package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/internal/bench"
)

type benchFlags struct {
	url, user, password, repo, region string
	scenarios                         []string
	concurrency                       int
	duration                          time.Duration
	blobSize                          string
	images, layers                    int
	maxOps                            int64
	json                              bool
}

func newBenchCmd(env *Env) *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench --url URL",
		Short: "Load-test any OCI registry: manifest GETs, blob pull/push, CI-style pushes, cold token+pull",
		Long: `Measure a registry (berth, distribution, zot, ECR) with concurrent clients.

Scenarios (--scenario, comma separated, default all):
  manifest-get   GET one small manifest by tag, C clients for T
  blob-pull      GET one --blob-size blob repeatedly (pushed first if missing)
  blob-push      push distinct --blob-size blobs, monolithic (POST+PUT) then chunked (PATCH)
  small-pushes   push --images images of --layers small layers each, like a CI farm
  cold-start     fresh connections: GetAuthorizationToken (with AWS credentials), then pull

Every scenario stops after --duration or --max-ops operations, whichever comes first.
Credentials: --user/--password as HTTP Basic; without them, AWS credentials from the SDK
default chain call ecr:GetAuthorizationToken on --url and use the token (user AWS).
Progress goes to stderr; --json prints the result document on stdout.`,
		Example: `  berth bench --url http://127.0.0.1:5000 --scenario manifest-get --concurrency 16 --duration 10s
  berth bench --url http://127.0.0.1:5000 --user AKIA... --password ... --scenario blob-push --blob-size 1GiB --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBench(cmd.Context(), env, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.url, "url", "", "registry base URL, e.g. http://127.0.0.1:5000 (required)")
	fl.StringVar(&f.user, "user", "", "Basic auth user (default: an ECR token from AWS credentials)")
	fl.StringVar(&f.password, "password", "", "Basic auth password")
	fl.StringVar(&f.repo, "repo", "berth-bench", "repository to push to and pull from")
	fl.StringVar(&f.region, "region", "", "region for GetAuthorizationToken (default: AWS_REGION / profile / us-east-1)")
	fl.StringSliceVar(&f.scenarios, "scenario", bench.AllScenarios(), "scenarios to run: "+strings.Join(bench.AllScenarios(), ","))
	fl.IntVar(&f.concurrency, "concurrency", 16, "concurrent clients")
	fl.DurationVar(&f.duration, "duration", 10*time.Second, "how long each scenario runs")
	fl.StringVar(&f.blobSize, "blob-size", "256MiB", "blob size for blob-pull and blob-push (B, KiB, MiB, GiB)")
	fl.IntVar(&f.images, "images", 100, "small-pushes: images to push; cold-start: most pulls")
	fl.IntVar(&f.layers, "layers", 3, "small-pushes: layers per image")
	fl.Int64Var(&f.maxOps, "max-ops", 5_000_000, "most operations per scenario")
	fl.BoolVar(&f.json, "json", false, "print the result as JSON on stdout")
	return cmd
}

func runBench(ctx context.Context, env *Env, f benchFlags) error {
	if f.url == "" {
		return &ExitError{Code: ExitUsage, Err: errors.New("--url is required")}
	}
	if (f.user == "") != (f.password == "") {
		return &ExitError{Code: ExitUsage, Err: errors.New("--user and --password go together")}
	}
	size, err := parseSize(f.blobSize)
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--blob-size: %w", err)}
	}
	cfg := bench.Config{
		URL: f.url, Repo: f.repo, Scenarios: f.scenarios, Concurrency: f.concurrency, Duration: f.duration,
		BlobSize: size, Images: f.images, Layers: f.layers, MaxOps: f.maxOps, Progress: env.Stderr,
		Creds: bench.Credentials{User: f.user, Password: f.password},
	}
	if f.user == "" {
		awsCfg, err := benchAWSConfig(ctx, env, f.region)
		if err != nil {
			return &ExitError{Code: ExitAuthError, Err: err}
		}
		cfg.Token = func(ctx context.Context, hc *http.Client) (bench.Credentials, error) {
			return bench.ECRToken(ctx, awsCfg, f.url, hc)
		}
		if cfg.Creds, err = cfg.Token(ctx, nil); err != nil {
			return &ExitError{Code: ExitAuthError, Err: fmt.Errorf("GetAuthorizationToken on %s: %w", f.url, err)}
		}
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	res, err := bench.Run(ctx, cfg)
	if err != nil {
		if strings.Contains(err.Error(), "--") || strings.Contains(err.Error(), "unknown scenario") {
			return &ExitError{Code: ExitUsage, Err: err}
		}
		return err
	}
	if f.json {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printBenchTable(env, res)
	}
	if res.Failed() {
		return &ExitError{Code: ExitFailure, Err: errors.New("some requests failed (see first_error)")}
	}
	return nil
}

func printBenchTable(env *Env, res *bench.Result) {
	fmt.Fprintf(env.Stdout, "%s %s (auth %s, %d clients, %s per scenario)\n", res.URL, res.Repo, res.Auth, res.Concurrency, time.Duration(res.DurationSeconds*float64(time.Second)))
	fmt.Fprintf(env.Stdout, "%-24s %9s %7s %10s %10s %10s %10s\n", "scenario", "ops", "errors", "ops/s", "MiB/s", "p50 ms", "p99 ms")
	for _, s := range res.Scenarios {
		name := s.Name
		if s.Mode != "" {
			name += "/" + s.Mode
		}
		fmt.Fprintf(env.Stdout, "%-24s %9d %7d %10.1f %10.1f %10.3f %10.3f\n", name, s.Ops, s.Errors, s.OpsPerSec, s.MiBPerSec, s.P50Ms, s.P99Ms)
		if s.FirstError != "" {
			fmt.Fprintf(env.Stdout, "  first error: %s\n", s.FirstError)
		}
	}
}

// benchAWSConfig prefers credentials given in the command's environment and
// falls back to the SDK's default chain.
func benchAWSConfig(ctx context.Context, env *Env, region string) (aws.Config, error) {
	if region == "" {
		region = env.Getenv("AWS_REGION")
	}
	if region == "" {
		region = env.Getenv("AWS_DEFAULT_REGION")
	}
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if id, secret := env.Getenv("AWS_ACCESS_KEY_ID"), env.Getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, env.Getenv("AWS_SESSION_TOKEN"))))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, err
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return cfg, fmt.Errorf("no --user/--password and no AWS credentials: %w", err)
	}
	return cfg, nil
}

// parseSize reads 256MiB, 1GiB, 512KiB, 100MB or plain bytes.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n > (1<<50)/mult {
		return 0, fmt.Errorf("%q is not a positive size like 256MiB", s)
	}
	return n * mult, nil
}
