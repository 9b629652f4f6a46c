package ecr

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/berth-dev/berth/internal/pullthrough"
	"github.com/berth-dev/berth/internal/storage"
)

// UpstreamValidator contacts the upstream registry of a pull-through
// cache rule (the pullthrough engine implements it). Optional: without one
// ValidatePullThroughCacheRule checks only what berth holds (the secret).
type UpstreamValidator interface {
	Validate(ctx context.Context, account, region string, r pullthrough.Rule) (failure string, err error)
	// InvalidateRules drops what is cached about a registry's rules after
	// one was created, updated or deleted.
	InvalidateRules(account, region string)
}

// PullThroughRules exposes the rules kept in store to the pullthrough
// engine, which reads them without going through the ECR API.
func PullThroughRules(store RegistryStore) pullthrough.RuleSource { return ruleSource{store} }

type ruleSource struct{ store RegistryStore }

func (s ruleSource) PullThroughRules(ctx context.Context, account, region string) ([]pullthrough.Rule, error) {
	var out []pullthrough.Rule
	after := ""
	for {
		docs, err := s.store.ListDocs(ctx, account, region, kindPTCRule, after, maxPTCRules)
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			r, err := pullthrough.DecodeRule(d.Body)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", d.ID, err)
			}
			out = append(out, r)
		}
		if len(docs) < maxPTCRules {
			return out, nil
		}
		after = docs[len(docs)-1].ID
	}
}

// PullThroughSettings returns the settings of a repository the first pull
// through a cache rule creates: the most specific creation template applied
// for PULL_THROUGH_CACHE, or nil for ECR's defaults.
func PullThroughSettings(store RegistryStore) func(ctx context.Context, k storage.RepoKey) (*storage.Repository, error) {
	return templateSettings(store, "PULL_THROUGH_CACHE")
}

// engineRule is r as the engine reads it.
func engineRule(r *ptcRule) pullthrough.Rule {
	b, _ := json.Marshal(r)
	out, _ := pullthrough.DecodeRule(b)
	return out
}
