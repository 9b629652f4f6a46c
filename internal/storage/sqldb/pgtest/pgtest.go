// Package pgtest gives tests a private PostgreSQL: initdb + pg_ctl into a
// temporary directory, listening on a loopback port only, started once per
// test binary (or taken from BERTH_TEST_PG_URL, which test.sh exports for a
// server it started), and a fresh database per test.
//
// Packages that use it stop the server they started in TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/storage/sqldb"
)

var (
	once     sync.Once
	server   *Server
	baseURL  string
	startErr error
)

// Server is a PostgreSQL instance under a temporary directory.
type Server struct {
	Dir  string
	Port int
	bin  string
	user string // the OS user the server runs as ("" = the current one)

	watchdog *exec.Cmd      // stops the server and removes Dir once its stdin closes
	alive    io.WriteCloser // the watchdog's stdin, held open while this process lives
}

// URL is the connection URL of database db on s.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://berth@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// BinDir finds initdb and pg_ctl: $PG_BIN, then Debian's
// /usr/lib/postgresql/<newest>/bin, then $PATH.
func BinDir() (string, error) {
	if d := os.Getenv("PG_BIN"); d != "" {
		return d, nil
	}
	if ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(ms) > 0 {
		sort.Slice(ms, func(i, j int) bool { return pgMajor(ms[i]) > pgMajor(ms[j]) })
		return filepath.Dir(ms[0]), nil
	}
	p, err := exec.LookPath("initdb")
	if err != nil {
		return "", errors.New("PostgreSQL binaries (initdb, pg_ctl) not found; apt-get install postgresql")
	}
	return filepath.Dir(p), nil
}

func pgMajor(p string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
	return n
}

// Start initialises and starts a server in a new temporary directory.
// PostgreSQL refuses to run as root; as root it runs as the "postgres" user.
func Start() (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "berth-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs a postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
		s.user = "postgres"
	}
	out, err := s.run("initdb", "-D", s.data(), "-U", "berth", "--auth=trust", "--locale=C", "--encoding=UTF8", "--no-sync")
	if err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	if err := s.Restart(); err != nil {
		return nil, err
	}
	if err := s.startWatchdog(); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// startWatchdog starts a shell that waits for EOF on its stdin and then
// stops the server and removes its directory. The kernel closes the pipe
// however this process ends (a panic, a test timeout, kill -9), so a test
// binary never leaves a PostgreSQL running behind it.
func (s *Server) startWatchdog() error {
	stop := s.command("pg_ctl", "-D", s.data(), "-m", "immediate", "-w", "stop")
	script := `read -r _ || true; "$@" >/dev/null 2>&1; rm -rf "$BERTH_PGTEST_DIR"`
	cmd := exec.Command("sh", append([]string{"-c", script, "pgtest-watchdog"}, stop.Args...)...)
	cmd.Env = append(os.Environ(), "BERTH_PGTEST_DIR="+s.Dir)
	// Its own process group: a ^C to the test run must not stop the
	// watchdog before the test binary has closed the pipe.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	w, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.watchdog, s.alive = cmd, w
	return nil
}

func (s *Server) data() string { return filepath.Join(s.Dir, "data") }

// command runs a PostgreSQL tool as the server's user.
func (s *Server) command(tool string, args ...string) *exec.Cmd {
	path := filepath.Join(s.bin, tool)
	var cmd *exec.Cmd
	if s.user != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.user, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.Dir
	return cmd
}

func (s *Server) run(tool string, args ...string) ([]byte, error) {
	return s.command(tool, args...).CombinedOutput()
}

// Restart (re)starts the server, on the port it had before if it had one.
func (s *Server) Restart() error {
	if s.Port == 0 {
		p, err := freePort()
		if err != nil {
			return err
		}
		s.Port = p
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories='%s' -c fsync=off -c max_connections=300 -c shared_buffers=32MB",
		s.Port, s.Dir)
	out, err := s.run("pg_ctl", "-D", s.data(), "-l", filepath.Join(s.Dir, "log"), "-o", opts, "-w", "-t", "60", "start")
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(s.Dir, "log"))
		return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	return nil
}

// Stop stops the server (fast shutdown: connections are cut).
func (s *Server) Stop() error {
	out, err := s.run("pg_ctl", "-D", s.data(), "-m", "fast", "-w", "stop")
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

// Close stops the server and removes its directory.
func (s *Server) Close() error {
	err := s.Stop()
	if s.alive != nil {
		s.alive.Close()
		s.watchdog.Wait()
	}
	os.RemoveAll(s.Dir)
	return err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Run runs the tests and then stops the server this binary started.
func Run(m *testing.M) int {
	code := m.Run()
	if server != nil {
		server.Close()
	}
	return code
}

// Available reports whether tests can get a PostgreSQL; when they cannot and
// BERTH_TEST_REQUIRE_PG is not set, DSN skips.
func base(t testing.TB) string {
	once.Do(func() {
		if u := os.Getenv("BERTH_TEST_PG_URL"); u != "" {
			baseURL = u
			return
		}
		server, startErr = Start()
		if startErr == nil {
			baseURL = server.URL("postgres")
		}
	})
	if startErr != nil {
		if os.Getenv("BERTH_TEST_REQUIRE_PG") != "" {
			t.Fatalf("PostgreSQL required: %v", startErr)
		}
		t.Skipf("no PostgreSQL: %v", startErr)
	}
	return baseURL
}

// DSN creates a fresh database for t and returns its URL; the database is
// dropped when t ends.
func DSN(t testing.TB) string {
	t.Helper()
	u := base(t)
	ctx := context.Background()
	admin, err := sqldb.OpenPostgres(ctx, u, 2)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
		admin.Close()
	})
	return withDB(u, name)
}

// withDB replaces the database name of a postgres URL.
func withDB(u, db string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	pu.Path = "/" + db
	return pu.String()
}

// Open is DSN + sqldb.OpenPostgres, closed when t ends.
func Open(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sqldb.OpenPostgres(context.Background(), DSN(t), 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
