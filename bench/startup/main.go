// Command startup measures what a CI job waits for and pays when it starts a
// fixture server: wall time from exec to the first HTTP answer and to the
// first successful ECR API call, and the server's resident memory, for
// `berth serve --ephemeral` (bare, with docs/seed-example.yaml, and through
// `--print-env --background`) beside moto's server (`python3 -m moto.server`)
// on the same machine, in alternating order. It is a benchmark, not a test:
// it prints numbers and judges nothing (docs/PERFORMANCE.md, "Fixture start").
//
//	go run ./bench/startup -rounds 20
//	go run ./bench/startup -berth /tmp/berth -python /usr/bin/python3 -json out.json
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// sample is one start of one server.
type sample struct {
	HTTP     time.Duration // exec → first HTTP answer (any status)
	API      time.Duration // exec → first successful ecr:DescribeRepositories
	RSSKiB   int64         // VmRSS after the first API call
	HWMKiB   int64         // VmHWM (peak) at the same moment
	StopTime time.Duration // SIGTERM → exit
}

// target is one way of starting a fixture server.
type target struct {
	name  string
	start func(ctx context.Context, work string) (*server, error)
}

type server struct {
	pid     int
	url     string
	key     string
	secret  string
	t0      time.Time
	httpAt  time.Duration
	stop    func() (time.Duration, error)
	cleanup func()
}

func main() {
	rounds := flag.Int("rounds", 10, "starts per server")
	berthBin := flag.String("berth", "", "berth binary (default: go build ./cmd/berth into the work dir)")
	python := flag.String("python", "", "python with moto[server] (default: python3 on PATH, resolved to its real interpreter)")
	seed := flag.String("seed", "docs/seed-example.yaml", "seed file for the seeded berth variant")
	jsonOut := flag.String("json", "", "also write the raw samples here")
	flag.Parse()
	if err := run(*rounds, *berthBin, *python, *seed, *jsonOut); err != nil {
		fmt.Fprintln(os.Stderr, "startup:", err)
		os.Exit(1)
	}
}

func run(rounds int, berthBin, python, seed, jsonOut string) error {
	if rounds < 1 || rounds > 200 {
		return errors.New("-rounds: 1..200")
	}
	ctx := context.Background()
	work, err := os.MkdirTemp("", "berth-startup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if berthBin == "" {
		berthBin = filepath.Join(work, "berth")
		build := exec.Command("go", "build", "-o", berthBin, "./cmd/berth")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build ./cmd/berth: %w", err)
		}
	}
	if python == "" {
		// A pyenv shim is a shell script that execs python; timing it would
		// charge moto for pyenv. Ask the interpreter for its real path.
		out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
		if err != nil {
			return fmt.Errorf("python3: %w", err)
		}
		python = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command(python, "-c", "import moto.server").CombinedOutput(); err != nil {
		return fmt.Errorf("%s cannot import moto.server (pip install 'moto[server]'): %v\n%s", python, err, out)
	}
	seedAbs, err := filepath.Abs(seed)
	if err != nil {
		return err
	}
	targets := []target{
		{"berth serve --ephemeral", berthForeground(berthBin, nil)},
		{"berth serve --ephemeral --seed seed-example.yaml", berthForeground(berthBin, []string{"--seed", seedAbs})},
		{"berth serve --ephemeral --print-env --background", berthBackground(berthBin)},
		{"python3 -m moto.server", motoServer(python)},
	}
	results := make([][]sample, len(targets))
	for r := range rounds {
		// Rotate the order so no server always runs first (cold caches) or last.
		for i := range targets {
			ti := (i + r) % len(targets)
			s, err := measure(ctx, targets[ti], work)
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", r+1, targets[ti].name, err)
			}
			results[ti] = append(results[ti], s)
		}
	}
	report(os.Stdout, rounds, berthBin, python, targets, results)
	if jsonOut != "" {
		raw := map[string][]sample{}
		for i, t := range targets {
			raw[t.name] = results[i]
		}
		data, _ := json.MarshalIndent(raw, "", "  ")
		return os.WriteFile(jsonOut, data, 0o644)
	}
	return nil
}

func measure(ctx context.Context, t target, work string) (sample, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	srv, err := t.start(ctx, work)
	if err != nil {
		return sample{}, err
	}
	defer srv.cleanup()
	client := ecr.New(ecr.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.url),
		Credentials:  credentials.NewStaticCredentialsProvider(srv.key, srv.secret, ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{Proxy: nil}},
	})
	for {
		_, err = client.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return sample{}, fmt.Errorf("DescribeRepositories: %w", err)
		}
		time.Sleep(time.Millisecond)
	}
	s := sample{HTTP: srv.httpAt, API: time.Since(srv.t0)}
	if s.RSSKiB, err = vmKiB(srv.pid, "VmRSS"); err != nil {
		return s, err
	}
	if s.HWMKiB, err = vmKiB(srv.pid, "VmHWM"); err != nil {
		return s, err
	}
	s.StopTime, err = srv.stop()
	return s, err
}

// berthForeground starts `berth serve --ephemeral` as a supervisor would.
func berthForeground(bin string, extra []string) func(context.Context, string) (*server, error) {
	return func(ctx context.Context, work string) (*server, error) {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		args := append([]string{"serve", "--ephemeral", "--addr", addr}, extra...)
		return startProcess(ctx, work, addr, rootKey, rootSecret, berthEnv(), bin, args...)
	}
}

// berthBackground is the CI recipe: the timer covers the whole
// `eval "$(berth serve --ephemeral --print-env --background)"` command
// (parent, detached child, ready file) and the first API call after it.
func berthBackground(bin string) func(context.Context, string) (*server, error) {
	return func(ctx context.Context, work string) (*server, error) {
		pidFile := filepath.Join(work, "bg.pid")
		t0 := time.Now()
		cmd := exec.CommandContext(ctx, bin, "serve", "--ephemeral", "--addr", "127.0.0.1:0", "--print-env", "--background",
			"--pid-file", pidFile, "--log-file", filepath.Join(work, "bg.log"))
		cmd.Env = append(os.Environ(), berthEnv()...)
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("--background: %w", err)
		}
		returned := time.Since(t0)
		env := map[string]string{}
		for _, line := range strings.Split(string(out), "\n") {
			if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok {
				env[k] = strings.Trim(v, "'")
			}
		}
		pid, err := readPid(pidFile)
		if err != nil {
			return nil, err
		}
		stop := func() (time.Duration, error) {
			t := time.Now()
			if out, err := exec.Command(bin, "stop", "--pid-file", pidFile).CombinedOutput(); err != nil {
				return 0, fmt.Errorf("berth stop: %v: %s", err, out)
			}
			return time.Since(t), nil
		}
		return &server{pid: pid, url: env["AWS_ENDPOINT_URL"], key: env["AWS_ACCESS_KEY_ID"], secret: env["AWS_SECRET_ACCESS_KEY"],
			t0: t0, httpAt: returned, stop: stop, cleanup: func() { _ = syscall.Kill(pid, syscall.SIGKILL) }}, nil
	}
}

func motoServer(python string) func(context.Context, string) (*server, error) {
	return func(ctx context.Context, work string) (*server, error) {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		host, port, _ := net.SplitHostPort(addr)
		return startProcess(ctx, work, addr, "testing", "testing", nil, python, "-m", "moto.server", "-H", host, "-p", port)
	}
}

const (
	rootKey    = "AKIABERTHSTARTUPROOT"
	rootSecret = "berthStartupBenchRootSecretKey0000000000"
)

func berthEnv() []string {
	return []string{"BERTH_ROOT_ACCESS_KEY_ID=" + rootKey, "BERTH_ROOT_SECRET_ACCESS_KEY=" + rootSecret}
}

// startProcess execs bin and polls addr every millisecond until any HTTP
// answer arrives.
func startProcess(ctx context.Context, work, addr, key, secret string, env []string, bin string, args ...string) (*server, error) {
	logf, err := os.CreateTemp(work, "server-*.log")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	srv := &server{pid: cmd.Process.Pid, url: "http://" + addr, key: key, secret: secret, t0: t0}
	srv.cleanup = func() {
		_ = cmd.Process.Kill()
		logf.Close()
	}
	srv.stop = func() (time.Duration, error) {
		t := time.Now()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
			return time.Since(t), nil
		case <-time.After(30 * time.Second):
			return 0, errors.New("no exit within 30s of SIGTERM")
		}
	}
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	for {
		select {
		case err := <-exited:
			logf.Close()
			log, _ := os.ReadFile(logf.Name())
			return nil, fmt.Errorf("%s exited during start-up (%v): %s", filepath.Base(bin), err, tailLines(string(log), 10))
		default:
		}
		if resp, err := hc.Get(srv.url + "/"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			srv.httpAt = time.Since(t0)
			return srv, nil
		}
		if ctx.Err() != nil {
			srv.cleanup()
			return nil, fmt.Errorf("no HTTP answer: %w", ctx.Err())
		}
		time.Sleep(time.Millisecond)
	}
}

func report(w io.Writer, rounds int, berthBin, python string, targets []target, results [][]sample) {
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(w, "%d rounds, %s/%s, %d CPUs, load average %s\n", rounds, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Fprintf(w, "berth: %s\npython: %s\n\n", berthBin, python)
	fmt.Fprintln(w, "| server | first HTTP answer (median / p90) | first ECR API call OK (median / p90 / min) | RSS after it (median) | peak RSS (median) | SIGTERM → exit (median) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for i, t := range targets {
		s := results[i]
		httpT := durations(s, func(x sample) time.Duration { return x.HTTP })
		apiT := durations(s, func(x sample) time.Duration { return x.API })
		stopT := durations(s, func(x sample) time.Duration { return x.StopTime })
		rss := kibs(s, func(x sample) int64 { return x.RSSKiB })
		hwm := kibs(s, func(x sample) int64 { return x.HWMKiB })
		fmt.Fprintf(w, "| `%s` | %s / %s | %s / %s / %s | %.1f MiB | %.1f MiB | %s |\n", t.name,
			ms(pct(httpT, 50)), ms(pct(httpT, 90)), ms(pct(apiT, 50)), ms(pct(apiT, 90)), ms(apiT[0]),
			float64(pct(rss, 50))/1024, float64(pct(hwm, 50))/1024, ms(pct(stopT, 50)))
	}
	fmt.Fprintln(w, "\n(--background: \"first HTTP answer\" is when the command returned with the export lines.)")
}

func durations(s []sample, f func(sample) time.Duration) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, x := range s {
		out[i] = f(x)
	}
	slices.Sort(out)
	return out
}

func kibs(s []sample, f func(sample) int64) []int64 {
	out := make([]int64, len(s))
	for i, x := range s {
		out[i] = f(x)
	}
	slices.Sort(out)
	return out
}

// pct is the nearest-rank percentile of a sorted slice.
func pct[T any](sorted []T, p int) T {
	i := (p*len(sorted)+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func readPid(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

// vmKiB reads a VmXXX line of /proc/PID/status in KiB.
func vmKiB(pid int, field string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New(field + " not in /proc status")
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
