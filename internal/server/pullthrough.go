package server

import (
	"context"
	"database/sql"
	"path/filepath"
	"time"

	"github.com/berth-dev/berth/internal/awsapi/ecr"
	"github.com/berth-dev/berth/internal/pullthrough"
)

// PullThroughConfig are the pull-through cache settings of `berth serve`.
type PullThroughConfig struct {
	// AllowUpstream lists what the SSRF guard lets upstreams resolve to
	// besides public addresses: IPs, CIDRs, loopback, private, link-local
	// (--allow-upstream).
	AllowUpstream []string
	// Revalidate is how long a cached tag is served before the upstream is
	// asked again (--pull-through-revalidate, default 24 h).
	Revalidate time.Duration // 0 = default
	// NoServeStale fails pulls of cached tags while the upstream is down
	// instead of serving the last good copy (--pull-through-serve-stale=false).
	NoServeStale bool
}

// openPullThrough builds the pull-through cache engine over the images
// service, the rules and templates in the ECR documents and the Secrets
// Manager store; its state tables live in the metadata database.
func (s *Server) openPullThrough(ctx context.Context) (*pullthrough.Engine, error) {
	dbm, ok := s.meta.(interface{ DB() *sql.DB })
	if !ok {
		return nil, errNoSQLStore
	}
	db := dbm.DB()
	guard, err := pullthrough.NewGuard(s.cfg.PullThrough.AllowUpstream)
	if err != nil {
		return nil, err
	}
	store, err := pullthrough.OpenStore(ctx, db)
	if err != nil {
		return nil, err
	}
	sec, err := s.openSecretsForECR(ctx, db)
	if err != nil {
		return nil, err
	}
	return pullthrough.New(pullthrough.Config{
		Images:          s.images,
		Rules:           ecr.PullThroughRules(s.ecrDocs),
		Secrets:         secretChecker{sec},
		Store:           store,
		Settings:        ecr.PullThroughSettings(s.ecrDocs),
		Created:         s.authz.InvalidateRepository,
		Guard:           guard,
		SpoolDir:        filepath.Join(s.cfg.DataDir, "pullthrough-spool"),
		RevalidateAfter: s.cfg.PullThrough.Revalidate,
		NoServeStale:    s.cfg.PullThrough.NoServeStale,
		Log:             s.log,
	})
}
