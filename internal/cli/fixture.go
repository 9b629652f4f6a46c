package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/berth-dev/berth/internal/server"
)

// berth as a test fixture: `serve --ephemeral --seed --print-env
// --background --ready-file --pid-file` and `berth stop`.

type fixtureFlags struct {
	background bool
	logFile    string
}

func addFixtureFlags(cmd *cobra.Command, env *Env, cfg *server.Config) *fixtureFlags {
	ff := &fixtureFlags{}
	f := cmd.Flags()
	f.BoolVar(&cfg.Ephemeral, "ephemeral", env.Getenv("BERTH_EPHEMERAL") == "1",
		"keep all data in a temporary directory that is removed on exit (env BERTH_EPHEMERAL=1)")
	var seeds []string
	if v := env.Getenv("BERTH_SEED"); v != "" {
		seeds = strings.Split(v, string(os.PathListSeparator))
	}
	f.StringArrayVar(&cfg.Seeds, "seed", seeds,
		"apply a seed file (YAML, see docs/seed.md) before serving; repeatable, idempotent (env BERTH_SEED, ':'-separated)")
	f.BoolVar(&cfg.PrintEnv, "print-env", false,
		"print shell export lines (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, …, BERTH_REGISTRY) instead of the banner")
	f.StringVar(&cfg.ReadyFile, "ready-file", "", "once serving, write this file (the export lines, mode 0600); removed on exit")
	f.StringVar(&cfg.PidFile, "pid-file", "", "once serving, write the process id here; removed on exit (default with --background: "+defaultPidFile()+")")
	f.BoolVar(&ff.background, "background", false,
		"start the server detached, wait until it is ready, print what it printed and exit; stop it with `berth stop`")
	f.StringVar(&ff.logFile, "log-file", "", "with --background: the server's log (default: the pid file with .log)")
	return ff
}

// defaultPidFile is per user, so two users' CI jobs on one host never share it.
func defaultPidFile() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("berth-%d.pid", os.Getuid()))
}

// prepare checks the fixture flags; with --background it starts the
// server detached and reports done.
func (ff *fixtureFlags) prepare(cmd *cobra.Command, env *Env, cfg *server.Config) (done bool, err error) {
	if cfg.Ephemeral && cmd.Flags().Changed("data") {
		return false, &ExitError{Code: ExitUsage, Err: errors.New("--ephemeral and --data exclude each other")}
	}
	if !ff.background {
		if ff.logFile != "" {
			return false, &ExitError{Code: ExitUsage, Err: errors.New("--log-file needs --background")}
		}
		return false, nil
	}
	return true, ff.daemonize(cmd, env, cfg)
}

// daemonize re-runs `berth serve` with the same flags in a new session,
// its output in the log file, and waits for its ready file.
func (ff *fixtureFlags) daemonize(cmd *cobra.Command, env *Env, cfg *server.Config) error {
	pidFile := cfg.PidFile
	if pidFile == "" {
		pidFile = defaultPidFile()
	}
	if pid, err := readPidFile(pidFile); err == nil && processAlive(pid) {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("a berth (pid %d) is already running with pid file %s; stop it with `berth stop --pid-file %s` or choose another --pid-file", pid, pidFile, pidFile)}
	}
	logFile := ff.logFile
	if logFile == "" {
		logFile = strings.TrimSuffix(pidFile, ".pid") + ".log"
	}
	readyFile := cfg.ReadyFile
	if readyFile == "" {
		dir, err := os.MkdirTemp("", "berth-ready-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		readyFile = filepath.Join(dir, "ready")
	}
	_ = os.Remove(readyFile)
	args := []string{"serve"}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		switch f.Name {
		case "background", "log-file", "ready-file", "pid-file":
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				args = append(args, "--"+f.Name+"="+v)
			}
			return
		}
		args = append(args, "--"+f.Name+"="+f.Value.String())
	})
	args = append(args, "--ready-file="+readyFile, "--pid-file="+pidFile)
	if cfg.Ephemeral && !cmd.Flags().Changed("ephemeral") {
		args = append(args, "--ephemeral") // from BERTH_EPHEMERAL; explicit for the log
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("--log-file: %w", err)
	}
	defer logf.Close()
	child := exec.Command(exe, args...)
	// stdout (banner or export lines, which hold credentials) goes nowhere:
	// the ready file carries the same and is 0600. The log is stderr.
	child.Stderr = logf
	child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := child.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return &ExitError{Code: ExitFailure, Err: fmt.Errorf("berth serve exited before it was ready (%v); its log %s ends:\n%s", err, logFile, tail(logFile, 20))}
		case <-deadline.C:
			_ = child.Process.Signal(syscall.SIGTERM)
			return &ExitError{Code: ExitFailure, Err: fmt.Errorf("berth serve was not ready within 60s; log: %s", logFile)}
		case <-tick.C:
		}
		data, err := os.ReadFile(readyFile)
		if err != nil {
			continue
		}
		if cfg.PrintEnv {
			fmt.Fprint(env.Stdout, string(data))
			fmt.Fprintf(env.Stdout, "# berth pid %d, log %s; stop with: berth stop\n", child.Process.Pid, logFile)
		} else {
			fmt.Fprintf(env.Stdout, "berth serve running in the background: pid %d (pid file %s), log %s\n", child.Process.Pid, pidFile, logFile)
			fmt.Fprintf(env.Stdout, "stop it with: berth stop --pid-file %s\n", pidFile)
		}
		return nil
	}
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func readPidFile(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		return 0, fmt.Errorf("%s does not hold a process id", path)
	}
	return pid, nil
}

// processAlive reports whether pid is a running berth server: signal 0
// succeeds and, where /proc exists, its command line is berth's (a pid
// reused by another program after a crash must not be signalled).
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return !errors.Is(err, os.ErrNotExist) || !procMounted()
	}
	return bytes.Contains(cmdline, []byte("serve"))
}

func procMounted() bool {
	_, err := os.Stat("/proc/self/cmdline")
	return err == nil
}

func newStopCmd(env *Env) *cobra.Command {
	var pidFile string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "stop",
		Short: "Stop a berth serve started with --background (or with --pid-file)",
		Long: `Send SIGTERM to the berth server named by the pid file and wait for it to exit
(graceful shutdown; an ephemeral server removes its data). After --timeout it is
killed. The pid file is --pid-file, else $BERTH_PID_FILE (set by --print-env), else
the --background default.`,
		Example: `  berth stop
  berth stop --pid-file /run/berth-ci.pid --timeout 30s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if pidFile == "" {
				pidFile = env.Getenv("BERTH_PID_FILE")
			}
			if pidFile == "" {
				pidFile = defaultPidFile()
			}
			pid, err := readPidFile(pidFile)
			if errors.Is(err, os.ErrNotExist) {
				return &ExitError{Code: ExitNotFound, Err: fmt.Errorf("no pid file %s: is berth running with --background or --pid-file?", pidFile)}
			}
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			if !processAlive(pid) {
				_ = os.Remove(pidFile)
				fmt.Fprintf(env.Stdout, "berth (pid %d) was not running; removed stale pid file %s\n", pid, pidFile)
				return nil
			}
			if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("signalling pid %d: %w", pid, err)}
			}
			deadline := time.Now().Add(timeout)
			for processAlive(pid) {
				if time.Now().After(deadline) {
					_ = syscall.Kill(pid, syscall.SIGKILL)
					_ = os.Remove(pidFile)
					return &ExitError{Code: ExitFailure, Err: fmt.Errorf("berth (pid %d) did not exit within %s of SIGTERM; killed it", pid, timeout)}
				}
				time.Sleep(10 * time.Millisecond)
			}
			fmt.Fprintf(env.Stdout, "stopped berth (pid %d)\n", pid)
			return nil
		},
	}
	cmd.Flags().StringVar(&pidFile, "pid-file", "", "pid file of the server (default $BERTH_PID_FILE, else "+defaultPidFile()+")")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait for a graceful exit before SIGKILL")
	return cmd
}
