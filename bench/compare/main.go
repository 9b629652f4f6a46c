// Command compare measures berth side by side with the CNCF distribution
// registry (no auth, and htpasswd/bcrypt), zot when it can be built, and a
// null registry (the physical ceiling), plus the machine's own limits, all
// in one run on one machine. It prints a table of ratios against the
// targets of issue 7 and writes every raw number to <work>/results.json.
//
// Run it from the repository root:
//
//	go run ./bench/compare -work /tmp/berth-compare
//
// Peers are installed with `go install` into <work>/gobin at run time; none
// of their code is part of berth. All traffic stays on 127.0.0.1.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/berth-dev/berth/internal/bench/nullreg"
)

type options struct {
	work        string
	rounds      int
	duration    time.Duration
	concurrency int
	blobSize    int64
	rssSize     int64
	rssClients  int
	scaleRepos  int
	scaleTags   int
	skip        map[string]bool
	keep        bool
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "null-server" {
		if err := nullServer(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "null-server:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "profile-server" {
		if err := profileServer(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "profile-server:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	var skip string
	var blobMiB, rssMiB int64
	flag.StringVar(&o.work, "work", filepath.Join(os.TempDir(), "berth-compare"), "work directory (data dirs, binaries, logs, results.json)")
	flag.IntVar(&o.rounds, "rounds", 2, "how many times each scenario runs against each registry")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "duration of each scenario")
	flag.IntVar(&o.concurrency, "concurrency", 16, "concurrent clients")
	flag.Int64Var(&blobMiB, "blob-mib", 256, "blob size for pull and push scenarios, MiB")
	flag.Int64Var(&rssMiB, "rss-mib", 1024, "blob size of each push in the peak-RSS test, MiB")
	flag.IntVar(&o.rssClients, "rss-clients", 16, "concurrent pushes in the peak-RSS test")
	flag.IntVar(&o.scaleRepos, "scale-repos", 100_000, "repositories seeded for the scale test")
	flag.IntVar(&o.scaleTags, "scale-tags", 1_000_000, "tags seeded for the scale test (spread over the repositories)")
	flag.StringVar(&skip, "skip", "", "comma-separated sections to skip: registries,rss,docker,scale,gobench")
	flag.BoolVar(&o.keep, "keep", false, "keep data directories after the run")
	flag.Parse()
	o.blobSize, o.rssSize = blobMiB<<20, rssMiB<<20
	o.skip = map[string]bool{}
	for _, s := range strings.Split(skip, ",") {
		if s != "" {
			o.skip[s] = true
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := compare(ctx, o)
	if rep != nil {
		printReport(os.Stdout, rep)
		if raw, jerr := json.MarshalIndent(rep, "", "  "); jerr == nil {
			_ = os.WriteFile(filepath.Join(o.work, "results.json"), raw, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// nullServer is the null registry's process: null-server ADDR [DIGEST FILE].
func nullServer(args []string) error {
	if len(args) != 1 && len(args) != 3 {
		return fmt.Errorf("usage: null-server ADDR [DIGEST FILE]")
	}
	s := nullreg.New()
	if len(args) == 3 {
		if err := s.SeedFile(digestOf(args[1]), args[2]); err != nil {
			return err
		}
	}
	return serveHTTP(args[0], s)
}

// Machine describes where the numbers were measured.
type Machine struct {
	CPUs      int     `json:"cpus"`
	CPUModel  string  `json:"cpu_model"`
	Kernel    string  `json:"kernel"`
	GoVersion string  `json:"go_version"`
	LoadAvg   string  `json:"loadavg_at_start"`
	MemGiB    float64 `json:"mem_gib"`
}

func describeMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				m.CPUModel = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadAvg = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		if _, err := fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %f kB", &kb); err == nil {
			m.MemGiB = kb / (1 << 20)
		}
	}
	return m
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
