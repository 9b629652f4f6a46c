package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/atomicfile"
	"github.com/berth-dev/berth/internal/seed"
)

// Fixture mode: what CI jobs and test harnesses need from `berth serve`
// beyond a long-running registry — a throw-away data directory, a seed
// file, and machine-readable readiness (export lines, a ready file, a pid
// file).

// prepareEphemeral points cfg.DataDir at a new temporary directory when
// cfg.Ephemeral is set; the returned function removes it (after the server
// has closed its database, so it is called last).
func prepareEphemeral(cfg *Config) (func(*slog.Logger), error) {
	if !cfg.Ephemeral {
		return func(*slog.Logger) {}, nil
	}
	dir, err := os.MkdirTemp("", "berth-ephemeral-")
	if err != nil {
		return nil, fmt.Errorf("ephemeral data directory: %w", err)
	}
	cfg.DataDir = dir
	return func(log *slog.Logger) {
		if err := os.RemoveAll(dir); err != nil {
			log.Warn("removing ephemeral data directory", "dir", dir, "err", err)
		}
	}, nil
}

// applySeeds loads every configured seed file through the domain services.
func (s *Server) applySeeds(ctx context.Context) error {
	for _, path := range s.cfg.Seeds {
		res, err := s.Seed(ctx, path)
		if err != nil {
			return err
		}
		s.log.Info("seed applied", "file", path, "created", res.Created, "updated", res.Updated, "unchanged", res.Unchanged)
	}
	return nil
}

// Seed applies a seed file (see internal/seed) with the same services the
// APIs use: IAM validation, sealed SSM/Secrets Manager values, ECR
// repository validation and verified blob uploads.
func (s *Server) Seed(ctx context.Context, path string) (seed.Result, error) {
	f, err := seed.Load(path)
	if err != nil {
		return seed.Result{}, err
	}
	return seed.Apply(ctx, seed.Deps{
		IAM: s.ids, Repositories: s.ecrAPI, Images: s.images, Params: s.params, Secrets: s.secrets,
		DefaultAccount: s.cfg.AccountID, DefaultRegion: s.cfg.Region,
	}, f)
}

// EnvLines are the shell lines `--print-env` prints: everything an AWS SDK,
// the aws CLI and docker need to talk to this server as root.
func (s *Server) EnvLines(scheme, addr string) string {
	var b bytes.Buffer
	for _, kv := range [][2]string{
		{"AWS_ENDPOINT_URL", scheme + "://" + addr},
		{"AWS_ACCESS_KEY_ID", s.creds.AccessKeyID},
		{"AWS_SECRET_ACCESS_KEY", s.creds.SecretAccessKey},
		{"AWS_DEFAULT_REGION", s.cfg.Region},
		{"AWS_REGION", s.cfg.Region},
		{"BERTH_REGISTRY", addr},
		{"BERTH_ACCOUNT_ID", s.cfg.AccountID},
	} {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	if s.caPath != "" {
		// The aws CLI, boto3, the Go SDK and the AWS credential helpers
		// all read it; berth's own client commands use the Go SDK.
		fmt.Fprintf(&b, "export AWS_CA_BUNDLE=%s\n", shellQuote(s.caPath))
	}
	if s.cfg.PidFile != "" {
		fmt.Fprintf(&b, "export BERTH_PID_FILE=%s\n", shellQuote(s.cfg.PidFile))
	}
	return b.String()
}

// shellQuote leaves plain values bare (readable, and valid in a
// GITHUB_ENV file after stripping "export ") and single-quotes the rest.
func shellQuote(v string) string {
	plain := v != ""
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./:+=@%,", c)) {
			plain = false
			break
		}
	}
	if plain {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// announce tells the world the server is serving: the banner or export
// lines on stdout, then the pid file and the ready file (in that order, so
// a supervisor that sees the ready file can also find the pid). The
// returned function removes both files.
func (s *Server) announce(stdout io.Writer, scheme, addr string) (func(), error) {
	if s.cfg.PrintEnv {
		fmt.Fprint(stdout, s.EnvLines(scheme, addr))
		s.log.Info("listening", "url", scheme+"://"+addr, "data", s.cfg.DataDir, "ephemeral", s.cfg.Ephemeral)
	} else {
		s.printBanner(stdout, scheme, addr)
	}
	var written []string
	undo := func() {
		for _, p := range written {
			_ = os.Remove(p)
		}
	}
	if p := s.cfg.PidFile; p != "" {
		if err := atomicfile.Write(p, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			return undo, fmt.Errorf("--pid-file: %w", err)
		}
		written = append(written, p)
	}
	if p := s.cfg.ReadyFile; p != "" {
		// The ready file holds credentials: 0600.
		if err := atomicfile.Write(p, []byte(s.EnvLines(scheme, addr)), 0o600); err != nil {
			undo()
			return func() {}, fmt.Errorf("--ready-file: %w", err)
		}
		written = append(written, p)
	}
	return undo, nil
}
