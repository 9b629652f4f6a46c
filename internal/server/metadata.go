package server

import (
	"context"
	"path/filepath"
	"time"

	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/storage/sqldb"
	"github.com/berth-dev/berth/internal/storage/sqlmeta"
)

// ClusterSyncInterval is the periodic identity check under LISTEN/NOTIFY;
// with it an IAM change made on another node takes effect here within
// about this long even when a notification is lost (docs/ARCHITECTURE.md).
const ClusterSyncInterval = 500 * time.Millisecond

// clusterRepoTTL bounds how long another node's repository policy or tag
// change can go unseen by this node's authorizer.
const clusterRepoTTL = 500 * time.Millisecond

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

// startCoherence keeps this node's identity model current with the other
// nodes' writes: a LISTEN on the identity channel for changes within
// milliseconds, and a periodic generation check as the safety net.
func (s *Server) startCoherence(ctx context.Context) {
	if !s.cfg.clustered() {
		return
	}
	sync := func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := s.ids.Sync(sctx); err != nil && ctx.Err() == nil {
			s.log.Warn("identity sync", "err", err)
		}
	}
	go sqldb.Listen(ctx, s.cfg.Metadata, iamsvc.NotifyChannel, sync, s.log)
	go s.ids.Watch(ctx, ClusterSyncInterval)
}
