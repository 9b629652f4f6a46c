package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/authz"
	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/storage"
	"github.com/berth-dev/berth/internal/storage/sqldb"
	"github.com/berth-dev/berth/internal/storage/sqlmeta"
)

// Coherence between nodes sharing one PostgreSQL (docs/ARCHITECTURE.md,
// "Several nodes"): what a node caches is dropped when another node's
// notification arrives, and re-checked periodically in case one was lost.
const (
	// ClusterSyncInterval is the periodic identity check under LISTEN/NOTIFY.
	ClusterSyncInterval = 500 * time.Millisecond
	// clusterRepoTTL bounds how long a repository policy or tag change on
	// another node can go unseen when its notification was lost.
	clusterRepoTTL = 500 * time.Millisecond
	// repoChannel carries the JSON RepoKey of a repository whose policy,
	// tags or existence changed.
	repoChannel = "berth_repo"
)

// clusterState is what a node on shared metadata holds beyond one process.
type clusterState struct {
	// locks is a pool of its own for upload advisory locks: each held lock
	// pins a connection, and holders must never starve the main pool they
	// need to finish their work.
	locks *sql.DB
	bg    sync.WaitGroup
}

// openMetadata opens the MetaStore the configuration selects: PostgreSQL for
// a postgres:// --metadata, else SQLite at <data>/berth.db.
func openMetadata(ctx context.Context, cfg Config) (*sqlmeta.Store, error) {
	if sqldb.IsPostgresURL(cfg.Metadata) {
		return sqlmeta.OpenPostgres(ctx, cfg.Metadata, cfg.MetadataPool)
	}
	return sqlmeta.Open(ctx, filepath.Join(cfg.DataDir, "berth.db"))
}

// clustered tells whether other berth processes may share the metadata.
func (c Config) clustered() bool { return sqldb.IsPostgresURL(c.Metadata) }

// joinCluster prepares a node for sharing its metadata and returns the
// images options that go with it: no manifest cache (a tag moved through
// another node must be visible to the next request here, whichever node the
// client's previous request reached) and upload locks held in PostgreSQL.
func (s *Server) joinCluster(ctx context.Context) ([]images.Option, error) {
	locks, err := sqldb.OpenPostgres(ctx, s.cfg.Metadata, s.cfg.MetadataPool)
	if err != nil {
		return nil, err
	}
	s.cluster.locks = locks
	return []images.Option{
		images.WithManifestCache(0, 0),
		images.WithUploadLock(func(ctx context.Context, key string) (func(), error) {
			return sqldb.LockSession(ctx, locks, key)
		}),
	}, nil
}

// clusterAuthzOptions makes a clustered node's authorizer announce its
// repository invalidations and keep repository entries briefly.
func (s *Server) clusterAuthzOptions() []authz.Option {
	if !s.cfg.clustered() {
		return nil
	}
	return []authz.Option{authz.WithRepoTTL(clusterRepoTTL), authz.WithInvalidationHook(s.announceRepository)}
}

// announceRepository tells the other nodes that k's policy, tags or
// existence changed (this node dropped its own entry already).
func (s *Server) announceRepository(k storage.RepoKey) {
	payload, err := json.Marshal(k)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := sqldb.Notify(ctx, s.cluster.locks, repoChannel, string(payload)); err != nil {
		// The other nodes' repository TTL still bounds how long they lag.
		s.log.Warn("repository change notification", "repository", k.Name, "err", err)
	}
}

// startCoherence keeps this node current with the other nodes' writes: a
// LISTEN on the identity and repository channels for changes within
// milliseconds, and a periodic identity generation check as the safety net.
func (s *Server) startCoherence(ctx context.Context) {
	if !s.cfg.clustered() {
		return
	}
	syncIdentity := func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := s.ids.Sync(sctx); err != nil && ctx.Err() == nil {
			s.log.Warn("identity sync", "err", err)
		}
	}
	l := sqldb.Listener{
		Notify: func(channel, payload string) {
			switch channel {
			case iamsvc.NotifyChannel:
				syncIdentity()
			case repoChannel:
				var k storage.RepoKey
				if json.Unmarshal([]byte(payload), &k) == nil {
					s.authz.ForgetRepository(k)
				}
			}
		},
		// Whatever changed while the listener was away went unannounced.
		Connected: func() {
			syncIdentity()
			s.authz.ForgetRepositories()
		},
	}
	s.cluster.bg.Add(2)
	go func() {
		defer s.cluster.bg.Done()
		sqldb.Listen(ctx, s.cfg.Metadata, []string{iamsvc.NotifyChannel, repoChannel}, l, s.log)
	}()
	go func() {
		defer s.cluster.bg.Done()
		s.ids.Watch(ctx, ClusterSyncInterval)
	}()
}

// leaveCluster waits for the coherence goroutines (their context is already
// cancelled) and closes the lock pool.
func (s *Server) leaveCluster() {
	s.cluster.bg.Wait()
	if s.cluster.locks != nil {
		s.cluster.locks.Close()
	}
}
