package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/bench"
	"github.com/berth-dev/berth/internal/bench/nullreg"
	"github.com/berth-dev/berth/internal/server"
)

const (
	rootKey    = "AKIAROOTROOTROOTROOT"
	rootSecret = "secretsecretsecretsecretsecretsecret0000"
)

// smoke is a tiny configuration: the point is that every scenario runs to
// completion and reports, not how fast.
func smoke(url string) bench.Config {
	return bench.Config{
		URL: url, Repo: "smoke/app", Concurrency: 2, Duration: 200 * time.Millisecond,
		BlobSize: 3<<20 + 17, ChunkSize: 1 << 20, Images: 3, Layers: 2, LayerSize: 5000, MaxOps: 50,
	}
}

func checkResult(t *testing.T, res *bench.Result, scenarios ...string) {
	t.Helper()
	raw, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back bench.Result
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatalf("JSON does not round-trip: %v", err)
	}
	for _, s := range back.Scenarios {
		if s.Errors != 0 {
			t.Errorf("%s/%s: %d errors, first: %s", s.Name, s.Mode, s.Errors, s.FirstError)
		}
		if s.Ops < 1 || s.Requests < s.Ops || s.Seconds <= 0 || s.P99Ms < s.P50Ms || s.MaxMs < s.P99Ms {
			t.Errorf("%s/%s: implausible result %+v", s.Name, s.Mode, s)
		}
		if s.Ops > 50 {
			t.Errorf("%s/%s: %d ops exceeds MaxOps", s.Name, s.Mode, s.Ops)
		}
	}
	for _, name := range scenarios {
		if _, ok := back.Scenario(name, ""); !ok {
			t.Errorf("no result for %s", name)
		}
	}
}

func TestNullRegistryAllScenarios(t *testing.T) {
	srv := httptest.NewServer(nullreg.New())
	defer srv.Close()
	cfg := smoke(srv.URL)
	cfg.BlobSize = 1 << 20 // the null registry keeps only small blobs, so pull one it keeps
	res, err := bench.Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, bench.AllScenarios()...)
	if res.Auth != "none" {
		t.Errorf("auth = %q", res.Auth)
	}
	for _, mode := range []string{"monolithic", "chunked"} {
		s, ok := res.Scenario(bench.BlobPush, mode)
		if !ok || s.Bytes != s.Ops*cfg.BlobSize {
			t.Errorf("blob-push/%s: %+v", mode, s)
		}
	}
	// Downloads count streamed bytes: every completed GET, plus any cut at the deadline.
	if s, _ := res.Scenario(bench.BlobPull, ""); s.Bytes < s.Ops*cfg.BlobSize {
		t.Errorf("blob-pull: %d bytes for %d whole GETs", s.Bytes, s.Ops)
	}
	// Chunked pushes of a 1 MiB blob in 1 MiB chunks: POST, PATCH, PUT.
	if s, _ := res.Scenario(bench.BlobPush, "chunked"); s.Requests != 3*s.Ops {
		t.Errorf("chunked: %d requests for %d pushes", s.Requests, s.Ops)
	}
}

func TestBerthInProcess(t *testing.T) {
	s, err := server.New(t.Context(), server.Config{DataDir: t.TempDir(), RootAccessKeyID: rootKey, RootSecretKey: rootSecret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	var progress bytes.Buffer
	cfg := smoke(srv.URL)
	cfg.Creds = bench.Credentials{User: rootKey, Password: rootSecret}
	cfg.Progress = &progress
	res, err := bench.Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, bench.AllScenarios()...)
	if res.Auth != "basic" {
		t.Errorf("auth = %q", res.Auth)
	}
	if !strings.Contains(progress.String(), "manifest-get:") {
		t.Errorf("no progress for manifest-get in %q", progress.String())
	}
	// The pull fixture is what WriteBlob produces, so a null registry can be seeded with it.
	path := filepath.Join(t.TempDir(), "blob")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	dg, err := bench.WriteBlob(f, cfg.BlobSize)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Images().StatBlob(t.Context(), keyFor("smoke/app"), dg); err != nil {
		t.Errorf("WriteBlob digest %s is not the pushed fixture: %v", dg, err)
	}
}

func TestTokenColdStart(t *testing.T) {
	srv := httptest.NewServer(nullreg.New())
	defer srv.Close()
	calls := 0
	cfg := smoke(srv.URL)
	cfg.Concurrency = 1
	cfg.Scenarios = []string{bench.ColdStart}
	cfg.Token = func(ctx context.Context, hc *http.Client) (bench.Credentials, error) {
		calls++
		return bench.Credentials{User: "AWS", Password: "token"}, nil
	}
	res, err := bench.Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, bench.ColdStart)
	s, _ := res.Scenario(bench.ColdStart, "")
	if int64(calls) != s.Ops || s.TokenP99Ms <= 0 {
		t.Errorf("token called %d times for %d pulls, token p99 %v", calls, s.Ops, s.TokenP99Ms)
	}
}

func TestRejectsBadConfig(t *testing.T) {
	for _, cfg := range []bench.Config{
		{URL: "ftp://x"},
		{URL: "http://127.0.0.1:1", Scenarios: []string{"nope"}},
		{URL: "http://127.0.0.1:1", Concurrency: 5000},
	} {
		if _, err := bench.Run(t.Context(), cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

func TestSetupFailureIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	cfg := smoke(srv.URL)
	cfg.Scenarios = []string{bench.ManifestGet}
	if _, err := bench.Run(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("err = %v, want the fixture push's 401", err)
	}
}
