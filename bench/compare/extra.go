package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/berth-dev/berth/internal/bench"
)

func bcryptHash(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	return string(h), err
}

// RSS is berth's memory under concurrent large pushes.
type RSS struct {
	Clients     int     `json:"clients"`
	BlobMiB     int64   `json:"blob_mib"`
	BaselineMiB float64 `json:"baseline_vmhwm_mib"` // after start, before load
	PeakMiB     float64 `json:"peak_vmhwm_mib"`
	PushMiBs    float64 `json:"push_mib_s"`
	Errors      int64   `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
}

// measureRSS pushes rssClients blobs of rssSize at once to a fresh berth
// and reads its VmHWM (peak resident set) from /proc.
func measureRSS(ctx context.Context, o options, bins binaries, rep *Report) error {
	dir := filepath.Join(o.work, "rss")
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	p, err := startBerth(ctx, bins.berth, dir)
	if err != nil {
		return err
	}
	defer p.stop()
	base, err := vmKiB(p.pid(), "VmHWM")
	if err != nil {
		return err
	}
	logf("peak RSS: %d × %d MiB pushes to berth (pid %d)", o.rssClients, o.rssSize>>20, p.pid())
	res, err := bench.Run(ctx, bench.Config{
		URL: p.url, Repo: "bench/rss", Creds: bench.Credentials{User: rootKey, Password: rootSecret},
		Scenarios: []string{bench.BlobPush}, Concurrency: o.rssClients, MaxOps: int64(o.rssClients),
		Duration: time.Minute, BlobSize: o.rssSize, Progress: os.Stderr,
	})
	if err != nil {
		return err
	}
	peak, err := vmKiB(p.pid(), "VmHWM")
	if err != nil {
		return err
	}
	r := &RSS{Clients: o.rssClients, BlobMiB: o.rssSize >> 20, BaselineMiB: float64(base) / 1024, PeakMiB: float64(peak) / 1024}
	for _, s := range res.Scenarios {
		r.PushMiBs = max(r.PushMiBs, s.MiBPerSec)
		r.Errors += s.Errors
		if r.FirstError == "" {
			r.FirstError = s.FirstError
		}
	}
	rep.RSS = r
	return nil
}

// GoBench is one `go test -bench` line.
type GoBench struct {
	Package string  `json:"package"`
	Name    string  `json:"name"`
	NsPerOp float64 `json:"ns_per_op"`
	MBs     float64 `json:"mb_s,omitempty"`
	Allocs  float64 `json:"allocs_per_op,omitempty"`
}

// runGoBenchmarks runs the hot-path benchmarks of issue 7 (and the other
// benchmarks in the same packages) twice each.
func runGoBenchmarks(ctx context.Context, o options, rep *Report) []GoBench {
	pkgs := []string{"./internal/iam", "./internal/sigv4", "./internal/storage/sqlmeta", "./internal/storage/fsblob", "./internal/authz", "./internal/ocireg"}
	benchLine := regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(.*)$`)
	var out []GoBench
	for _, pkg := range pkgs {
		logf("go test -bench %s", pkg)
		text, err := run(ctx, 10*time.Minute, nil, "go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", "1s", "-count", "2", pkg)
		if err != nil {
			rep.Notes = append(rep.Notes, fmt.Sprintf("go test -bench %s failed: %v", pkg, err))
		}
		sc := bufio.NewScanner(strings.NewReader(text))
		for sc.Scan() {
			m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
			if m == nil {
				continue
			}
			ns, _ := strconv.ParseFloat(m[2], 64)
			g := GoBench{Package: strings.TrimPrefix(pkg, "./"), Name: m[1], NsPerOp: ns}
			fields := strings.Fields(m[3])
			for i := 1; i < len(fields); i++ {
				v, _ := strconv.ParseFloat(fields[i-1], 64)
				switch fields[i] {
				case "MB/s":
					g.MBs = v
				case "allocs/op":
					g.Allocs = v
				}
			}
			out = append(out, g)
		}
	}
	return out
}
