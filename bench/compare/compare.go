package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/bench"
)

const (
	account    = "111111111111"
	region     = "us-east-1"
	rootKey    = "AKIABERTHCOMPARE0001"
	rootSecret = "berthCompareRootSecret000000000000000000"
	htUser     = "bench"
	htPassword = "bench-password"
	readOnly   = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	repo       = "bench/app"
)

// Report is everything one run measured (results.json).
type Report struct {
	Started  time.Time `json:"started"`
	Command  string    `json:"command"`
	Machine  Machine   `json:"machine"`
	Limits   []Limits  `json:"limits"` // one per round
	Runs     []Run     `json:"runs"`
	Startup  []Startup `json:"startup"`
	GoBench  []GoBench `json:"go_bench"`
	RSS      *RSS      `json:"rss,omitempty"`
	Docker   []Docker  `json:"docker,omitempty"`
	Scale    *Scale    `json:"scale,omitempty"`
	Notes    []string  `json:"notes"`
	Finished time.Time `json:"finished"`
}

// Run is one bench run of one target in one round.
type Run struct {
	Target string        `json:"target"`
	Round  int           `json:"round"`
	Result *bench.Result `json:"result,omitempty"`
	Error  string        `json:"error,omitempty"`
}

// Startup is the time from exec to the first answer on /v2/.
type Startup struct {
	Target  string  `json:"target"`
	Round   int     `json:"round"`
	Seconds float64 `json:"seconds"`
}

// Target names used in the report.
const (
	tBerthToken = "berth (IAM read-only user, ECR token)"
	tBerthKey   = "berth (IAM read-only user, access key as Basic)"
	tBerthRoot  = "berth (root key)"
	tDist       = "distribution v3.1.2 (no auth)"
	tDistHT     = "distribution v3.1.2 (htpasswd bcrypt)"
	tZot        = "zot (no auth)"
	tNull       = "null registry"
)

func compare(ctx context.Context, o options) (*Report, error) {
	if err := os.MkdirAll(o.work, 0o755); err != nil {
		return nil, err
	}
	rep := &Report{Started: time.Now().UTC(), Command: strings.Join(os.Args, " "), Machine: describeMachine()}
	defer func() { rep.Finished = time.Now().UTC() }()
	bins, err := buildBinaries(ctx, o, rep)
	if err != nil {
		return rep, err
	}
	if !o.skip["registries"] {
		for round := 1; round <= o.rounds; round++ {
			if err := registryRound(ctx, o, bins, rep, round); err != nil {
				return rep, fmt.Errorf("round %d: %w", round, err)
			}
		}
	}
	if !o.skip["rss"] {
		if err := measureRSS(ctx, o, bins, rep); err != nil {
			rep.Notes = append(rep.Notes, "peak RSS test failed: "+err.Error())
		}
	}
	if !o.skip["docker"] {
		if err := dockerRound(ctx, o, bins, rep); err != nil {
			rep.Notes = append(rep.Notes, "docker push/pull not measured: "+err.Error())
		}
	}
	if !o.skip["scale"] {
		if err := measureScale(ctx, o, bins, rep); err != nil {
			rep.Notes = append(rep.Notes, "scale test failed: "+err.Error())
		}
	}
	if !o.skip["gobench"] {
		rep.GoBench = runGoBenchmarks(ctx, o, rep)
	}
	return rep, nil
}

type binaries struct {
	berth, registry, zot, self string
}

// buildBinaries builds berth from this tree and installs the peers into a
// private GOBIN (never into the repository).
func buildBinaries(ctx context.Context, o options, rep *Report) (binaries, error) {
	var b binaries
	bin := filepath.Join(o.work, "bin")
	gobin := filepath.Join(o.work, "gobin")
	logf("building berth")
	b.berth = filepath.Join(bin, "berth")
	if _, err := run(ctx, 10*time.Minute, nil, "go", "build", "-o", b.berth, "./cmd/berth"); err != nil {
		return b, err
	}
	self, err := os.Executable()
	if err != nil {
		return b, err
	}
	b.self = self
	if o.skip["registries"] && o.skip["docker"] {
		return b, nil
	}
	logf("installing distribution v3.1.2 into %s", gobin)
	if _, err := run(ctx, 20*time.Minute, []string{"GOBIN=" + gobin}, "go", "install", "github.com/distribution/distribution/v3/cmd/registry@v3.1.2"); err != nil {
		return b, fmt.Errorf("distribution: %w", err)
	}
	b.registry = filepath.Join(gobin, "registry")
	logf("trying zot once")
	if out, err := run(ctx, 10*time.Minute, []string{"GOBIN=" + gobin}, "go", "install", "zotregistry.dev/zot/v2/cmd/zot@latest"); err != nil {
		rep.Notes = append(rep.Notes, "zot not measured: `go install zotregistry.dev/zot/v2/cmd/zot@latest` failed: "+lastLines(out, 1))
	} else {
		b.zot = filepath.Join(gobin, "zot")
	}
	return b, nil
}

// registryRound starts fresh instances of every registry, runs the
// scenarios against each, and removes their data.
func registryRound(ctx context.Context, o options, bins binaries, rep *Report, round int) error {
	dir := filepath.Join(o.work, fmt.Sprintf("round%d", round))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	lim := Limits{SHA256MiBs: measureSHA256(2 * time.Second)}
	var err error
	if lim.LoopbackMiBs, err = measureLoopback(2 * time.Second); err != nil {
		return err
	}
	if lim.DiskMiBs, err = measureDisk(dir, 1<<30); err != nil {
		return err
	}
	rep.Limits = append(rep.Limits, lim)
	logf("round %d limits: sha256 %.0f MiB/s, loopback %.0f MiB/s, disk+fsync %.0f MiB/s", round, lim.SHA256MiBs, lim.LoopbackMiBs, lim.DiskMiBs)

	// The null registry serves the pull fixture from a file, like berth.
	blobPath := filepath.Join(dir, "null-pull-blob")
	f, err := os.Create(blobPath)
	if err != nil {
		return err
	}
	dg, err := bench.WriteBlob(f, o.blobSize)
	f.Close()
	if err != nil {
		return err
	}
	procs := map[string]*proc{}
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	if procs[tNull], err = start(ctx, tNull, addr, filepath.Join(dir, "null.log"), nil, bins.self, "null-server", addr, string(dg), blobPath); err != nil {
		return err
	}
	if procs[tDist], err = startDistribution(ctx, bins.registry, filepath.Join(dir, "dist"), false); err != nil {
		return err
	}
	if procs[tDistHT], err = startDistribution(ctx, bins.registry, filepath.Join(dir, "dist-htpasswd"), true); err != nil {
		return err
	}
	if bins.zot != "" {
		if procs[tZot], err = startZot(ctx, bins.zot, filepath.Join(dir, "zot")); err != nil {
			rep.Notes = append(rep.Notes, "zot failed to start: "+err.Error())
			delete(procs, tZot)
		}
	}
	berth, err := startBerth(ctx, bins.berth, filepath.Join(dir, "berth"))
	if err != nil {
		return err
	}
	procs[tBerthRoot] = berth
	for _, name := range []string{tBerthRoot, tDist, tNull} {
		rep.Startup = append(rep.Startup, Startup{Target: name, Round: round, Seconds: procs[name].startup.Seconds()})
	}
	reader, err := createReader(ctx, berth.url)
	if err != nil {
		return fmt.Errorf("IAM read-only user: %w", err)
	}
	readerCfg := awsConfig(reader.id, reader.secret)
	token, err := bench.ECRToken(ctx, readerCfg, berth.url, nil)
	if err != nil {
		return fmt.Errorf("GetAuthorizationToken as the read-only user: %w", err)
	}

	root := bench.Credentials{User: rootKey, Password: rootSecret}
	ht := bench.Credentials{User: htUser, Password: htPassword}
	type target struct {
		name  string
		url   string
		creds bench.Credentials
		token bench.TokenFunc
	}
	targets := map[string]target{
		tNull:      {tNull, procs[tNull].url, bench.Credentials{}, nil},
		tDist:      {tDist, procs[tDist].url, bench.Credentials{}, nil},
		tDistHT:    {tDistHT, procs[tDistHT].url, ht, nil},
		tBerthRoot: {tBerthRoot, berth.url, root, nil},
		tBerthToken: {tBerthToken, berth.url, token, func(ctx context.Context, hc *http.Client) (bench.Credentials, error) {
			return bench.ECRToken(ctx, readerCfg, berth.url, hc)
		}},
		tBerthKey: {tBerthKey, berth.url, bench.Credentials{User: reader.id, Password: reader.secret}, nil},
	}
	if p := procs[tZot]; p != nil {
		targets[tZot] = target{tZot, p.url, bench.Credentials{}, nil}
	}
	// Fixtures: pushed once per registry with write access (berth's by root).
	for _, name := range []string{tNull, tDist, tDistHT, tBerthRoot, tZot} {
		t, ok := targets[name]
		if !ok {
			continue
		}
		logf("round %d: pushing fixtures to %s", round, name)
		res, err := bench.Run(ctx, bench.Config{URL: t.url, Repo: repo, Creds: t.creds, Scenarios: []string{bench.ManifestGet, bench.BlobPull},
			Concurrency: 1, Duration: time.Second, MaxOps: 1, BlobSize: o.blobSize})
		if err != nil {
			return fmt.Errorf("fixtures on %s: %w", name, err)
		}
		if res.Failed() {
			return fmt.Errorf("fixtures on %s: %s", name, res.Scenarios[0].FirstError)
		}
	}
	plan := []struct {
		scenario string
		targets  []string
	}{
		{bench.ManifestGet, []string{tBerthToken, tDist, tBerthKey, tZot, tNull, tDistHT}},
		{bench.BlobPull, []string{tBerthToken, tDist, tZot, tNull}},
		{bench.BlobPush, []string{tBerthRoot, tDist, tZot, tNull}},
		{bench.SmallPushes, []string{tBerthRoot, tDist, tZot, tNull}},
		{bench.ColdStart, []string{tBerthToken, tDist, tZot}},
	}
	for _, step := range plan {
		for _, name := range step.targets {
			t, ok := targets[name]
			if !ok {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			logf("round %d: %s → %s", round, step.scenario, name)
			cfg := bench.Config{URL: t.url, Repo: repo, Creds: t.creds, Token: t.token, Scenarios: []string{step.scenario},
				Concurrency: o.concurrency, Duration: o.duration, BlobSize: o.blobSize, Images: 200, Layers: 3, Progress: os.Stderr}
			if step.scenario == bench.ColdStart {
				cfg.Concurrency, cfg.Images = 4, 200
			}
			res, err := bench.Run(ctx, cfg)
			r := Run{Target: name, Round: round, Result: res}
			if err != nil {
				r.Error = err.Error()
			}
			rep.Runs = append(rep.Runs, r)
		}
	}
	return nil
}

type accessKey struct{ id, secret string }

func awsConfig(id, secret string) aws.Config {
	return aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")}
}

// createReader makes the read-only IAM user of seed 003 through the IAM API.
func createReader(ctx context.Context, url string) (accessKey, error) {
	c := iam.NewFromConfig(awsConfig(rootKey, rootSecret), func(o *iam.Options) { o.BaseEndpoint = aws.String(url) })
	user := aws.String("bench-reader")
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: user}); err != nil {
		return accessKey{}, err
	}
	if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: user, PolicyArn: aws.String(readOnly)}); err != nil {
		return accessKey{}, err
	}
	out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: user})
	if err != nil {
		return accessKey{}, err
	}
	return accessKey{aws.ToString(out.AccessKey.AccessKeyId), aws.ToString(out.AccessKey.SecretAccessKey)}, nil
}

func startBerth(ctx context.Context, bin, data string, extra ...string) (*proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--addr", addr, "--data", data, "--account-id", account, "--region", region}, extra...)
	return start(ctx, "berth", addr, data+".log", []string{"BERTH_ROOT_ACCESS_KEY_ID=" + rootKey, "BERTH_ROOT_SECRET_ACCESS_KEY=" + rootSecret}, bin, args...)
}

// startDistribution runs the registry with the configuration its release
// image ships (filesystem storage, in-memory blob descriptor cache), plus
// htpasswd auth when asked.
func startDistribution(ctx context.Context, bin, dir string, htpasswd bool) (*proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  headers:
    X-Content-Type-Options: [nosniff]
`, filepath.Join(dir, "data"), addr)
	if htpasswd {
		hash, err := bcryptHash(htPassword)
		if err != nil {
			return nil, err
		}
		pw := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(pw, []byte(htUser+":"+hash+"\n"), 0o600); err != nil {
			return nil, err
		}
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: bench\n    path: %s\n", pw)
	}
	path := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	return start(ctx, "distribution", addr, dir+".log", nil, bin, "serve", path)
}

func startZot(ctx context.Context, bin, dir string) (*proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(addr)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`{"distSpecVersion":"1.1.1","storage":{"rootDirectory":%q},"http":{"address":%q,"port":%q},"log":{"level":"error"}}`,
		filepath.Join(dir, "data"), host, port)
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	return start(ctx, "zot", addr, dir+".log", nil, bin, "serve", path)
}

func digestOf(s string) digest.Digest { return digest.Digest(s) }

func serveHTTP(addr string, h http.Handler) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 30 * time.Second}
	return srv.ListenAndServe()
}
