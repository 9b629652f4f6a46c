package authz

import "sync/atomic"

type counters struct {
	allowed, denied              atomic.Uint64
	identityHits, identityMisses atomic.Uint64
	repoHits, repoMisses         atomic.Uint64
}

// Stats are the Authorizer's decision and cache counters since it started.
type Stats struct {
	Allowed, Denied              uint64
	IdentityHits, IdentityMisses uint64 // identity policy sets per principal
	RepoHits, RepoMisses         uint64 // repository policy and tags
}

// Stats reads the counters; cheap enough for every scrape.
func (a *Authorizer) Stats() Stats {
	c := &a.stats
	return Stats{
		Allowed: c.allowed.Load(), Denied: c.denied.Load(),
		IdentityHits: c.identityHits.Load(), IdentityMisses: c.identityMisses.Load(),
		RepoHits: c.repoHits.Load(), RepoMisses: c.repoMisses.Load(),
	}
}
