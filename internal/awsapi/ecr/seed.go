package ecr

import (
	"context"
	"maps"
	"slices"

	"github.com/berth-dev/berth/internal/storage"
)

// RepositorySpec is a repository as an operator's seed file declares it
// (berth serve --seed). Empty strings leave a setting as it is on an
// existing repository and at ECR's default on a new one.
type RepositorySpec struct {
	Key                        storage.RepoKey
	TagMutability              string
	MutabilityExclusionFilters []string
	ScanOnPush                 *bool
	Tags                       map[string]string
	Policy                     string // repository policy JSON
	LifecyclePolicy            string // lifecycle policy JSON
}

// EnsureRepository creates the repository of spec or brings an existing one
// to spec, validating every field exactly as CreateRepository,
// PutImageTagMutability, TagResource, SetRepositoryPolicy and
// PutLifecyclePolicy do. It is the operator's path: no IAM check. created
// reports whether the repository is new.
func (a *API) EnsureRepository(ctx context.Context, spec RepositorySpec) (created bool, err error) {
	k := spec.Key
	if err := a.checkRepoName("repositoryName", k.Name); err != nil {
		return false, err
	}
	if !a.re.region.MatchString(k.Region) {
		return false, invalidPattern("region", patRegion)
	}
	var filters []string
	if spec.TagMutability != "" {
		fs := make([]mutabilityFilter, 0, len(spec.MutabilityExclusionFilters))
		for _, f := range spec.MutabilityExclusionFilters {
			fs = append(fs, mutabilityFilter{FilterType: "WILDCARD", Filter: f})
		}
		if filters, err = a.checkMutability(spec.TagMutability, fs, len(fs) > 0); err != nil {
			return false, err
		}
	}
	keys := slices.Sorted(maps.Keys(spec.Tags))
	tags := make([]tag, 0, len(keys))
	for _, key := range keys {
		key, v := key, spec.Tags[key]
		tags = append(tags, tag{Key: &key, Value: &v})
	}
	if _, err := mergeTags(nil, tags); err != nil {
		return false, err
	}
	if spec.Policy != "" {
		if err := checkPolicyText(spec.Policy, "repository"); err != nil {
			return false, err
		}
	}
	if spec.LifecyclePolicy != "" {
		if _, err := parseLifecyclePolicy(spec.LifecyclePolicy); err != nil {
			return false, err
		}
	}
	apply := func(r *storage.Repository) error {
		if spec.TagMutability != "" {
			r.TagMutability, r.MutabilityFilters = spec.TagMutability, filters
		}
		if spec.ScanOnPush != nil {
			r.ScanOnPush = *spec.ScanOnPush
		}
		merged, err := mergeTags(r.Tags, tags)
		if err != nil {
			return err
		}
		r.Tags = merged
		if spec.Policy != "" {
			r.Policy = spec.Policy
		}
		if spec.LifecyclePolicy != "" {
			r.LifecyclePolicy = spec.LifecyclePolicy
		}
		return nil
	}
	defer a.authz.InvalidateRepository(k)
	if _, err := a.img.Repository(ctx, k); err == nil {
		_, err = a.img.UpdateRepository(ctx, k, apply)
		return false, err
	}
	r := &storage.Repository{Key: k}
	if err := apply(r); err != nil {
		return false, err
	}
	if err := a.img.CreateRepositoryWith(ctx, r); err != nil {
		return false, err
	}
	return true, nil
}
