// Package berthtest runs a complete berth — OCI registry, ECR, IAM, STS, SSM
// and Secrets Manager APIs with IAM enforced — inside a Go test, the way
// net/http/httptest runs an HTTP server:
//
//	srv := berthtest.Start(t, berthtest.WithSeed("testdata/seed.yaml"))
//	cfg := srv.AWSConfig()                 // aws-sdk-go-v2, root credentials
//	ecrClient := ecr.NewFromConfig(cfg)
//	remote.Write(ref, img, srv.RemoteOptions(ctx)...) // go-containerregistry
//
// Each server has its own temporary data directory and a random loopback
// port and is shut down by t.Cleanup. It is the only public package of the
// berth module; its API follows semantic versioning with the module.
package berthtest

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/berth-dev/berth/internal/server"
)

// Server is a running in-process berth.
type Server struct {
	// Endpoint is the base URL of every API, e.g. http://127.0.0.1:40123.
	Endpoint string
	// Registry is the registry host for image references, e.g. 127.0.0.1:40123.
	Registry string
	// AccountID and Region are the default account and region.
	AccountID, Region string
	// AccessKeyID and SecretAccessKey are the default account's root
	// credentials: allowed everything in that account.
	AccessKeyID, SecretAccessKey string

	srv       *server.Server
	close     func() error
	closeOnce sync.Once
}

type options struct {
	cfg   server.Config
	logs  bool
	logTo io.Writer
}

func logsWanted(opts []Option) bool {
	o := &options{}
	for _, opt := range opts {
		opt(o)
	}
	return o.logs
}

func withLogWriter(w io.Writer) Option { return func(o *options) { o.logTo = w } }

func withDataDir(dir string) Option { return func(o *options) { o.cfg.DataDir = dir } }

// Option configures Start.
type Option func(*options)

// WithSeed applies a seed file (accounts, IAM users with fixed keys,
// roles, policies, repositories, images, SSM parameters, secrets; schema
// in docs/seed.md of the berth repository) before Start returns.
// Repeatable; files apply in order.
func WithSeed(path string) Option {
	return func(o *options) { o.cfg.Seeds = append(o.cfg.Seeds, path) }
}

// WithAccountID sets the default account (12 digits; default 000000000000).
func WithAccountID(id string) Option { return func(o *options) { o.cfg.AccountID = id } }

// WithRegion sets the default region (default us-east-1).
func WithRegion(region string) Option { return func(o *options) { o.cfg.Region = region } }

// WithRootCredentials fixes the root access key instead of generating one.
func WithRootCredentials(accessKeyID, secretAccessKey string) Option {
	return func(o *options) { o.cfg.RootAccessKeyID, o.cfg.RootSecretKey = accessKeyID, secretAccessKey }
}

// WithLogs sends the server's request log to t.Log (Start) or stderr (New).
func WithLogs() Option {
	return func(o *options) {
		o.logs = true
		if o.logTo == nil {
			o.logTo = os.Stderr
		}
	}
}

// Start runs a server for the duration of t (closed by t.Cleanup) and
// fails t if it cannot.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	if logsWanted(opts) {
		opts = append(opts, withLogWriter(testWriter{t}))
	}
	s, err := New(context.WithoutCancel(t.Context()), append(opts, withDataDir(filepath.Join(t.TempDir(), "berth")))...)
	if err != nil {
		t.Fatalf("berthtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("berthtest: %v", err)
		}
	})
	return s
}

// New runs a server until Close, for code without a testing.TB (TestMain,
// examples, benchmarks' setup). Its data lives in a temporary directory
// that Close removes.
func New(ctx context.Context, opts ...Option) (*Server, error) {
	o := &options{}
	for _, opt := range opts {
		opt(o)
	}
	if o.cfg.RootAccessKeyID == "" {
		id, secret, err := generatedKey()
		if err != nil {
			return nil, err
		}
		o.cfg.RootAccessKeyID, o.cfg.RootSecretKey = id, secret
	}
	var removeDir func()
	if o.cfg.DataDir == "" {
		dir, err := os.MkdirTemp("", "berthtest-")
		if err != nil {
			return nil, fmt.Errorf("berthtest: %w", err)
		}
		o.cfg.DataDir, removeDir = dir, func() { _ = os.RemoveAll(dir) }
	} else {
		removeDir = func() {}
	}
	log := slog.New(slog.DiscardHandler)
	if o.logTo != nil {
		log = slog.New(slog.NewTextHandler(o.logTo, nil))
	}
	srv, err := server.New(ctx, o.cfg, log)
	if err != nil {
		removeDir()
		return nil, fmt.Errorf("berthtest: %w", err)
	}
	fail := func(err error) (*Server, error) {
		srv.Close()
		removeDir()
		return nil, fmt.Errorf("berthtest: %w", err)
	}
	for _, path := range o.cfg.Seeds {
		if _, err := srv.Seed(ctx, path); err != nil {
			return fail(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 30 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	addr := ln.Addr().String()
	account, region := o.cfg.AccountID, o.cfg.Region
	if account == "" {
		account = "000000000000"
	}
	if region == "" {
		region = "us-east-1"
	}
	creds := srv.RootCredentials()
	s := &Server{Endpoint: "http://" + addr, Registry: addr, AccountID: account, Region: region,
		AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, srv: srv}
	s.close = func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			_ = hs.Close()
		}
		err := <-served
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		err = errors.Join(err, srv.Close())
		removeDir()
		return err
	}
	return s, nil
}

// Close shuts the server down and removes its data; later calls do nothing.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() { err = s.close() })
	return err
}

// generatedKey makes a fresh root key per server, so tests cannot come to
// depend on one well-known pair.
func generatedKey() (id, secret string, err error) {
	b := make([]byte, 40)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	return "AKIA" + enc[:16], enc[16:56], nil
}

// AWSConfig is an aws-sdk-go-v2 configuration for the root user pointed at
// this server: pass it to ecr.NewFromConfig, iam.NewFromConfig,
// sts.NewFromConfig, ssm.NewFromConfig or secretsmanager.NewFromConfig.
func (s *Server) AWSConfig() aws.Config {
	return s.AWSConfigFor(s.AccessKeyID, s.SecretAccessKey)
}

// AWSConfigFor is AWSConfig with other credentials (a seeded IAM user's),
// to test what that user may and may not do.
func (s *Server) AWSConfigFor(accessKeyID, secretAccessKey string) aws.Config {
	return aws.Config{
		Region:       s.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKeyID, secretAccessKey, ""),
		BaseEndpoint: aws.String(s.Endpoint),
		// Fail fast in tests instead of retrying a denied call.
		RetryMaxAttempts: 1,
	}
}

// Keychain resolves this server's registry to the root credentials (and
// nothing else), for go-containerregistry's remote.WithAuthFromKeychain.
func (s *Server) Keychain() authn.Keychain { return keychain{s: s} }

type keychain struct{ s *Server }

func (k keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if r.RegistryStr() != k.s.Registry {
		return authn.Anonymous, nil
	}
	return &authn.Basic{Username: k.s.AccessKeyID, Password: k.s.SecretAccessKey}, nil
}

// RemoteOptions are go-containerregistry options that authenticate as root.
func (s *Server) RemoteOptions(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(s.Keychain())}
}

// Ref parses "repo:tag" or "repo@sha256:…" as an image reference in this
// registry (plain HTTP).
func (s *Server) Ref(repoAndSuffix string) (name.Reference, error) {
	return name.ParseReference(s.Registry+"/"+repoAndSuffix, name.Insecure, name.StrictValidation)
}

// Env lists the environment a subprocess (aws CLI, boto3, docker) needs to
// reach this server as root: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, …,
// BERTH_REGISTRY, as KEY=VALUE pairs for exec.Cmd.Env.
func (s *Server) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + s.Endpoint,
		"AWS_ACCESS_KEY_ID=" + s.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretAccessKey,
		"AWS_DEFAULT_REGION=" + s.Region,
		"AWS_REGION=" + s.Region,
		"BERTH_REGISTRY=" + s.Registry,
		"BERTH_ACCOUNT_ID=" + s.AccountID,
	}
}

// Seed applies another seed file to the running server.
func (s *Server) Seed(ctx context.Context, path string) error {
	_, err := s.srv.Seed(ctx, path)
	return err
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
