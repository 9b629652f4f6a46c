// Package server assembles berth: storage, authentication, authorization, the
// /v2/ registry and the AWS APIs behind one http.Handler.
package server

import (
	"context"
	"database/sql"
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
	"time"

	"github.com/berth-dev/berth/internal/audit"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/authz"
	"github.com/berth-dev/berth/internal/awsapi/ecr"
	"github.com/berth-dev/berth/internal/console"
	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/httpx"
	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/ocireg"
	"github.com/berth-dev/berth/internal/params"
	"github.com/berth-dev/berth/internal/pullthrough"
	"github.com/berth-dev/berth/internal/secrets"
	"github.com/berth-dev/berth/internal/storage"
)

// Server is a running berth minus its listener, so tests can serve Handler
// in-process.
type Server struct {
	cfg     Config
	log     *slog.Logger
	creds   RootCredentials
	blobs   storage.BlobStore
	meta    storage.MetaStore
	ecrDocs *ecr.SQLStore // registry-level ECR documents (templates, rules, policies)
	images  *images.Service
	ids     *iamsvc.Service
	authn   *auth.Authenticator
	authz   *authz.Authorizer
	handler http.Handler
	// Services the seed loader writes through (set while building the handler).
	ecrAPI  *ecr.API
	params  *params.Service
	secrets *secrets.Service
	ptc     *pullthrough.Engine

	auditLog *audit.Log
	cluster  clusterState // nodes sharing PostgreSQL metadata (metadata.go)

	stopCleanup context.CancelFunc
	cleanupDone chan struct{}
	closeOnce   sync.Once

	// Set by secureListener: the CA of --tls auto and its trust commands,
	// or the warning for plain HTTP off loopback.
	caPath, tlsBanner, plainWarning string
}

// New opens storage under cfg.DataDir (blobs/ via fsblob, berth.db via
// sqlmeta), loads or generates the root credentials and builds the handler.
// Close releases everything.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	creds, err := loadRootCredentials(cfg)
	if err != nil {
		return nil, err
	}
	meta, err := openMetadata(ctx, cfg)
	if err != nil {
		return nil, err
	}
	blobs, err := openBlobStore(ctx, cfg, meta)
	if err != nil {
		meta.Close()
		return nil, err
	}
	// The ECR documents are opened before images: pushes that create a
	// repository take its settings from the creation templates stored there.
	ecrDocs, err := ecr.NewSQLStore(ctx, meta.DB())
	if err != nil {
		meta.Close()
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, creds: creds, blobs: blobs, meta: meta, ecrDocs: ecrDocs}
	imgOpts := []images.Option{images.WithMaxManifestBytes(cfg.MaxManifestBytes), images.WithLogger(log),
		images.WithRegionHint(s.callerMayDescribe), images.WithRepositoryDefaults(ecr.CreateOnPushSettings(ecrDocs))}
	if cfg.clustered() {
		copts, err := s.joinCluster(ctx)
		if err != nil {
			meta.Close()
			return nil, err
		}
		imgOpts = append(imgOpts, copts...)
	}
	img, err := images.New(blobs, meta, imgOpts...)
	if err != nil {
		meta.Close()
		return nil, err
	}
	s.images = img
	if err := s.openIdentity(ctx, meta.DB()); err != nil {
		meta.Close()
		return nil, err
	}
	if err := s.openAudit(); err != nil {
		meta.Close()
		return nil, err
	}
	if s.handler, err = s.buildHandler(ctx); err != nil {
		meta.Close()
		return nil, err
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.stopCleanup, s.cleanupDone = cancel, make(chan struct{})
	go s.cleanupLoop(cctx)
	s.startCoherence(cctx)
	return s, nil
}

// buildHandler is the one place that decides which component serves which
// request: /v2/ → ocireg, AWS API calls and presigned layer links → the AWS
// front door, /_berth/admin/ → the operator endpoint, anything else → 404.
func (s *Server) buildHandler(ctx context.Context) (http.Handler, error) {
	account := s.cfg.AccountID
	ptc, err := s.openPullThrough(ctx)
	if err != nil {
		return nil, err
	}
	s.ptc = ptc
	registry, err := ocireg.New(ocireg.Deps{
		Images:        s.images,
		Authenticator: s.authn,
		Authorizer:    s.authz,
		Default:       ecrhost.Registry{Account: account, Region: s.cfg.Region},
		Audit:         s.auditor(),
		AuditPulls:    s.cfg.AuditPulls,
		PullThrough:   ptc,
	})
	if err != nil {
		return nil, err
	}

	// AWS APIs (ECR, IAM, STS, SSM, Secrets Manager): POST / with
	// X-Amz-Target (JSON 1.1) or Action= (Query), plus presigned layer
	// links; see awsapi.go.
	awsAPI, err := s.buildAWSAPI(ctx)
	if err != nil {
		return nil, err
	}

	web, err := s.newConsole()
	if err != nil {
		return nil, err
	}
	ids, err := httpx.NewIDGenerator()
	if err != nil {
		return nil, err
	}
	admin := &adminHandler{authn: s.authn, ids: s.ids, operator: account, region: s.cfg.Region, audit: s.auditor()}
	m := s.newMetrics()
	operator := s.newOperatorEndpoints(m)
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if operator.handles(r.URL.Path) {
			operator.ServeHTTP(w, r)
			return
		}
		if isRegistryPath(r.URL.Path) {
			registry.ServeHTTP(w, r)
			return
		}
		if strings.HasPrefix(r.URL.Path, AdminPathPrefix) {
			admin.ServeHTTP(w, r)
			return
		}
		if console.Handles(r.URL.Path) {
			web.ServeHTTP(w, r)
			return
		}
		awsAPI.ServeHTTP(w, r)
	})
	trusted, err := httpx.ParseTrustedProxies(s.cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	return httpx.TrustProxies(trusted, httpx.Middleware(root, s.log, ids, httpx.WithObserver(observeRequest(m)))), nil
}

func isRegistryPath(p string) bool { return p == "/v2" || strings.HasPrefix(p, "/v2/") }

// openIdentity loads accounts, users and policies from the metadata database,
// with secrets sealed under <data>/keys/master.key, and makes sure the
// default account's root user holds the operator's credentials.
func (s *Server) openIdentity(ctx context.Context, db *sql.DB) error {
	keys, err := iamsvc.LoadOrCreateKeys(filepath.Join(s.cfg.DataDir, "keys"))
	if err != nil {
		return fmt.Errorf("identity keys: %w", err)
	}
	if s.ids, err = iamsvc.Open(ctx, db, keys); err != nil {
		return fmt.Errorf("identity store: %w", err)
	}
	if _, _, err := s.ids.EnsureRootKey(ctx, s.cfg.AccountID, s.creds.AccessKeyID, s.creds.SecretAccessKey); err != nil {
		return fmt.Errorf("root credentials: %w", err)
	}
	if s.authn, err = auth.NewAuthenticator(s.ids, keys.TokenMACKey()); err != nil {
		return err
	}
	s.authz, err = authz.New(s.ids, s.meta, s.clusterAuthzOptions()...)
	return err
}

// Identity is the IAM/STS domain service (accounts, users, roles, policies, sessions).
func (s *Server) Identity() *iamsvc.Service { return s.ids }

// Authenticator verifies Basic and SigV4 credentials and issues ECR tokens.
func (s *Server) Authenticator() *auth.Authenticator { return s.authn }

// Authorizer decides IAM actions; call InvalidateRepository after changing a
// repository's policy or tags.
func (s *Server) Authorizer() *authz.Authorizer { return s.authz }

// Handler serves every berth API.
func (s *Server) Handler() http.Handler { return s.handler }

// Images is the registry domain service (for in-process tests and tools).
func (s *Server) Images() *images.Service { return s.images }

// RootCredentials returns the operator's credentials.
func (s *Server) RootCredentials() RootCredentials { return s.creds }

// Close stops background work and closes storage.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.stopCleanup()
		<-s.cleanupDone
		if s.ptc != nil {
			s.ptc.Close()
		}
		s.leaveCluster()
		err = s.meta.Close()
		if s.auditLog != nil {
			err = errors.Join(err, s.auditLog.Close())
		}
	})
	return err
}

// cleanupLoop removes upload sessions idle for longer than UploadTTL.
func (s *Server) cleanupLoop(ctx context.Context) {
	defer close(s.cleanupDone)
	interval := min(max(s.cfg.UploadTTL/4, time.Second), 15*time.Minute)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := s.images.CleanupUploads(ctx, time.Now().Add(-s.cfg.UploadTTL))
		if err != nil && ctx.Err() == nil {
			s.log.Warn("upload cleanup", "err", err)
		} else if n > 0 {
			s.log.Info("removed abandoned uploads", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Run serves until ctx is cancelled, then shuts down gracefully.
func Run(ctx context.Context, cfg Config, log *slog.Logger, stdout io.Writer) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	removeData, err := prepareEphemeral(&cfg)
	if err != nil {
		return err
	}
	defer removeData(log)
	s, err := New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer s.Close()
	cfg = s.cfg
	if err := s.applySeeds(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	sln, scheme, err := s.secureListener(ctx, ln)
	if err != nil {
		ln.Close()
		return err
	}
	ln = sln
	unready, err := s.announce(stdout, scheme, ln.Addr().String())
	if err != nil {
		ln.Close()
		return err
	}
	defer unready()
	srv := newHTTPServer(s.Handler(), log)
	srv.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *Server) printBanner(w io.Writer, scheme, addr string) {
	fmt.Fprintf(w, "berth listening on %s://%s (registry at /v2/, default account %s, region %s, data %s)\n",
		scheme, addr, s.cfg.AccountID, s.cfg.Region, s.cfg.DataDir)
	switch {
	case s.creds.Generated:
		fmt.Fprintf(w, "\nGenerated root credentials (stored in %s; shown only this once):\n", s.creds.Path)
		fmt.Fprintf(w, "  AccessKeyId:     %s\n  SecretAccessKey: %s\n", s.creds.AccessKeyID, s.creds.SecretAccessKey)
		fmt.Fprintf(w, "Log in with: docker login %s -u %s --password-stdin\n\n", addr, s.creds.AccessKeyID)
	case s.creds.Path != "":
		fmt.Fprintf(w, "root credentials: %s\n", s.creds.Path)
	default:
		fmt.Fprintf(w, "root credentials: from BERTH_ROOT_ACCESS_KEY_ID / BERTH_ROOT_SECRET_ACCESS_KEY\n")
	}
	fmt.Fprint(w, s.tlsBanner)
	if s.plainWarning != "" {
		fmt.Fprintln(w, s.plainWarning)
	}
}

// callerMayDescribe answers images' "may this caller learn that the repository
// exists in region X?": only if it may ecr:DescribeRepositories there.
func (s *Server) callerMayDescribe(ctx context.Context, k storage.RepoKey) bool {
	p := auth.FromContext(ctx)
	if p == nil || s.authz == nil {
		return false
	}
	return s.authz.Allowed(ctx, p, "ecr:DescribeRepositories", k, auth.RequestInfo{Now: time.Now()})
}
