package ecr

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/berth-dev/berth/internal/storage"
)

// CreateOnPushSettings returns the settings a repository that ECR creates
// on a push to k gets: those of the most specific repository creation
// template applied for CREATE_ON_PUSH (ROOT when no prefix matches), or nil
// when none applies (ECR's defaults). It reads only store, so it can be
// wired into images.WithRepositoryDefaults before the API exists.
func CreateOnPushSettings(store RegistryStore) func(ctx context.Context, k storage.RepoKey) (*storage.Repository, error) {
	return templateSettings(store, "CREATE_ON_PUSH")
}

// templateSettings is the repository settings of the most specific
// template applied for scenario.
func templateSettings(store RegistryStore, scenario string) func(ctx context.Context, k storage.RepoKey) (*storage.Repository, error) {
	return func(ctx context.Context, k storage.RepoKey) (*storage.Repository, error) {
		var ts []creationTemplate
		after := ""
		for {
			docs, err := store.ListDocs(ctx, k.Account, k.Region, kindTemplate, after, maxTemplates)
			if err != nil {
				return nil, err
			}
			for _, d := range docs {
				var t creationTemplate
				if err := json.Unmarshal(d.Body, &t); err != nil {
					return nil, fmt.Errorf("repository creation template %s: %w", d.ID, err)
				}
				ts = append(ts, t)
			}
			if len(docs) < maxTemplates {
				break
			}
			after = docs[len(docs)-1].ID
		}
		t := templateFor(ts, k.Name, scenario)
		if t == nil {
			return nil, nil
		}
		return t.repository(), nil
	}
}

// repository is the template's settings as a repository to create.
func (t *creationTemplate) repository() *storage.Repository {
	r := &storage.Repository{
		TagMutability:   t.ImageTagMutability,
		Policy:          t.RepositoryPolicy,
		LifecyclePolicy: t.LifecyclePolicy,
	}
	for _, f := range t.ImageTagMutabilityExclusionFilters {
		r.MutabilityFilters = append(r.MutabilityFilters, f.Filter)
	}
	if e := t.EncryptionConfiguration; e != nil {
		r.EncryptionType, r.KMSKey = e.EncryptionType, e.KMSKey
	}
	if len(t.ResourceTags) > 0 {
		r.Tags = make(map[string]string, len(t.ResourceTags))
		for _, tg := range t.ResourceTags {
			if tg.Key != nil && tg.Value != nil {
				r.Tags[*tg.Key] = *tg.Value
			}
		}
	}
	return r
}
