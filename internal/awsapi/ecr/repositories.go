package ecr

import (
	"context"
	"fmt"
	"maps"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/arn"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
	"github.com/berth-dev/berth/internal/awstags"
	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/storage"
)

type mutabilityFilter struct {
	FilterType string `json:"filterType"`
	Filter     string `json:"filter"`
}

type scanningConfiguration struct {
	ScanOnPush bool `json:"scanOnPush"`
}

type encryptionConfiguration struct {
	EncryptionType string `json:"encryptionType"`
	KMSKey         string `json:"kmsKey,omitempty"`
}

type repositoryShape struct {
	RepositoryARN                      string                  `json:"repositoryArn"`
	RegistryID                         string                  `json:"registryId"`
	RepositoryName                     string                  `json:"repositoryName"`
	RepositoryURI                      string                  `json:"repositoryUri"`
	CreatedAt                          protocol.EpochTime      `json:"createdAt"`
	ImageTagMutability                 string                  `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []mutabilityFilter      `json:"imageTagMutabilityExclusionFilters,omitempty"`
	ImageScanningConfiguration         scanningConfiguration   `json:"imageScanningConfiguration"`
	EncryptionConfiguration            encryptionConfiguration `json:"encryptionConfiguration"`
}

func (a *API) repoShape(c *awsapi.Call, r *storage.Repository) repositoryShape {
	reg := ecrhost.Registry{Account: r.Key.Account, Region: r.Key.Region}
	return repositoryShape{
		RepositoryARN:                      arn.Repository(r.Key.Region, r.Key.Account, r.Key.Name),
		RegistryID:                         r.Key.Account,
		RepositoryName:                     r.Key.Name,
		RepositoryURI:                      a.registryHost(c, reg) + "/" + r.Key.Name,
		CreatedAt:                          protocol.EpochTime(r.CreatedAt),
		ImageTagMutability:                 r.TagMutability,
		ImageTagMutabilityExclusionFilters: filtersOut(r.MutabilityFilters),
		ImageScanningConfiguration:         scanningConfiguration{ScanOnPush: r.ScanOnPush},
		EncryptionConfiguration:            encryptionConfiguration{EncryptionType: r.EncryptionType, KMSKey: r.KMSKey},
	}
}

func filtersOut(fs []string) []mutabilityFilter {
	var out []mutabilityFilter
	for _, f := range fs {
		out = append(out, mutabilityFilter{FilterType: "WILDCARD", Filter: f})
	}
	return out
}

// checkMutability validates imageTagMutability and its exclusion filters
// together and returns the filter patterns to store.
func (a *API) checkMutability(mutability string, filters []mutabilityFilter, filtersSet bool) ([]string, error) {
	if err := checkEnum("imageTagMutability", mutability, "MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"); err != nil {
		return nil, err
	}
	withExclusion := mutability == "IMMUTABLE_WITH_EXCLUSION" || mutability == "MUTABLE_WITH_EXCLUSION"
	if !withExclusion {
		if len(filters) > 0 {
			return nil, invalidParam("imageTagMutabilityExclusionFilters", "Exclusion filters can only be used with IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION")
		}
		return nil, nil
	}
	if !filtersSet || len(filters) == 0 {
		return nil, invalidParam("imageTagMutabilityExclusionFilters", "Exclusion filters are required when imageTagMutability is %s", mutability)
	}
	if err := checkListLen("imageTagMutabilityExclusionFilters", len(filters), 1, 5); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(filters))
	for _, f := range filters {
		if err := checkEnum("imageTagMutabilityExclusionFilters.filterType", f.FilterType, "WILDCARD"); err != nil {
			return nil, err
		}
		if !a.re.mutFilter.MatchString(f.Filter) {
			return nil, invalidPattern("imageTagMutabilityExclusionFilters.filter", patMutFilter)
		}
		out = append(out, f.Filter)
	}
	return out, nil
}

func (a *API) createRepository(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID                         string                   `json:"registryId"`
		RepositoryName                     string                   `json:"repositoryName"`
		Tags                               []tag                    `json:"tags"`
		ImageTagMutability                 *string                  `json:"imageTagMutability"`
		ImageTagMutabilityExclusionFilters []mutabilityFilter       `json:"imageTagMutabilityExclusionFilters"`
		ImageScanningConfiguration         *scanningConfiguration   `json:"imageScanningConfiguration"`
		EncryptionConfiguration            *encryptionConfiguration `json:"encryptionConfiguration"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	r := &storage.Repository{Key: k, TagMutability: "MUTABLE", EncryptionType: "AES256"}
	if in.ImageTagMutability != nil {
		r.TagMutability = *in.ImageTagMutability
	}
	if r.MutabilityFilters, err = a.checkMutability(r.TagMutability, in.ImageTagMutabilityExclusionFilters, in.ImageTagMutabilityExclusionFilters != nil); err != nil {
		return nil, err
	}
	if in.ImageScanningConfiguration != nil {
		r.ScanOnPush = in.ImageScanningConfiguration.ScanOnPush
	}
	if e := in.EncryptionConfiguration; e != nil {
		if err := checkEnum("encryptionConfiguration.encryptionType", e.EncryptionType, "AES256", "KMS", "KMS_DSSE"); err != nil {
			return nil, err
		}
		if e.KMSKey != "" {
			if e.EncryptionType == "AES256" {
				return nil, invalidParam("encryptionConfiguration.kmsKey", "A KMS key can only be specified with the KMS or KMS_DSSE encryption type")
			}
			if err := checkLen("encryptionConfiguration.kmsKey", e.KMSKey, 1, 2048); err != nil {
				return nil, err
			}
		}
		r.EncryptionType, r.KMSKey = e.EncryptionType, e.KMSKey
	}
	if r.Tags, err = mergeTags(nil, in.Tags); err != nil {
		return nil, err
	}
	info := requestTags(c.Info, in.Tags)
	if err := a.authz.AuthorizeRepo(ctx, c.Principal, "ecr:CreateRepository", k, info); err != nil {
		return nil, err
	}
	if len(in.Tags) > 0 {
		if err := a.authz.AuthorizeRepo(ctx, c.Principal, "ecr:TagResource", k, info); err != nil {
			return nil, err
		}
	}
	if err := a.img.CreateRepositoryWith(ctx, r); err != nil {
		return nil, err
	}
	a.authz.InvalidateRepository(k)
	return struct {
		Repository repositoryShape `json:"repository"`
	}{a.repoShape(c, r)}, nil
}

func (a *API) describeRepositories(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID      string   `json:"registryId"`
		RepositoryNames []string `json:"repositoryNames"`
		NextToken       string   `json:"nextToken"`
		MaxResults      *int     `json:"maxResults"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	reg, err := a.registry(c, in.RegistryID)
	if err != nil {
		return nil, err
	}
	type output struct {
		Repositories []repositoryShape `json:"repositories"`
		NextToken    *string           `json:"nextToken,omitempty"`
	}
	out := output{Repositories: []repositoryShape{}}
	if in.RepositoryNames != nil {
		if in.MaxResults != nil || in.NextToken != "" {
			return nil, invalidParam("maxResults", "maxResults and nextToken cannot be used together with repositoryNames")
		}
		if err := checkListLen("repositoryNames", len(in.RepositoryNames), 1, 100); err != nil {
			return nil, err
		}
		for _, name := range in.RepositoryNames {
			if err := a.checkRepoName("repositoryNames", name); err != nil {
				return nil, err
			}
		}
		for _, name := range in.RepositoryNames {
			k := storage.RepoKey{Account: reg.Account, Region: reg.Region, Name: name}
			r, err := a.repo(ctx, c, "ecr:DescribeRepositories", k)
			if err != nil {
				return nil, err
			}
			out.Repositories = append(out.Repositories, a.repoShape(c, r))
		}
		return out, nil
	}
	limit, err := pageSize("maxResults", in.MaxResults, 1000)
	if err != nil {
		return nil, err
	}
	op := "DescribeRepositories\x00" + reg.Account
	tok, err := decodeToken(in.NextToken, op)
	if err != nil {
		return nil, err
	}
	// Listing without names shows each repository the caller may describe,
	// decided per repository exactly as a named lookup is: identity-policy
	// Denies and Allows scoped to some repositories count, not only
	// repository policies. The registry-wide decision (resource
	// repository/*) only speaks when nothing at all is visible, so the
	// caller learns no more than it would from naming each repository.
	all := arn.Repository(reg.Region, reg.Account, "*")
	wide, wideErr := a.authz.Effect(ctx, c.Principal, "ecr:DescribeRepositories", all, reg.Account, c.Info)
	if wideErr != nil && (wide == iam.ExplicitDeny || !apierr.HasCode(wideErr, apierr.AccessDenied)) {
		return nil, wideErr
	}
	repos, err := a.img.ListRepositories(ctx, reg.Account, reg.Region, storage.Page{After: tok.After, Limit: limit + 1})
	if err != nil {
		return nil, err
	}
	if len(repos) > limit {
		repos = repos[:limit]
		out.NextToken = encodeToken(pageToken{Op: op, After: repos[limit-1].Key.Name})
	}
	for i := range repos {
		eff, err := a.authz.RepoEffect(ctx, c.Principal, "ecr:DescribeRepositories", &repos[i], c.Info)
		if eff != iam.Allow {
			if err != nil && !apierr.HasCode(err, apierr.AccessDenied) {
				return nil, err
			}
			continue
		}
		out.Repositories = append(out.Repositories, a.repoShape(c, &repos[i]))
	}
	if wideErr != nil && len(out.Repositories) == 0 && out.NextToken == nil && tok.After == "" {
		return nil, wideErr
	}
	return out, nil
}

func (a *API) deleteRepository(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID     string `json:"registryId"`
		RepositoryName string `json:"repositoryName"`
		Force          bool   `json:"force"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	r, err := a.repo(ctx, c, "ecr:DeleteRepository", k)
	if err != nil {
		return nil, err
	}
	if err := a.img.DeleteRepository(ctx, k, in.Force); err != nil {
		return nil, err
	}
	a.authz.InvalidateRepository(k)
	_ = a.store.DeleteDoc(ctx, k.Account, k.Region, kindLifecycleView, k.Name)
	return struct {
		Repository repositoryShape `json:"repository"`
	}{a.repoShape(c, r)}, nil
}

func (a *API) putImageTagMutability(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID                         string             `json:"registryId"`
		RepositoryName                     string             `json:"repositoryName"`
		ImageTagMutability                 string             `json:"imageTagMutability"`
		ImageTagMutabilityExclusionFilters []mutabilityFilter `json:"imageTagMutabilityExclusionFilters"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if in.ImageTagMutability == "" {
		return nil, missing("imageTagMutability")
	}
	filters, err := a.checkMutability(in.ImageTagMutability, in.ImageTagMutabilityExclusionFilters, in.ImageTagMutabilityExclusionFilters != nil)
	if err != nil {
		return nil, err
	}
	if err := a.authRepo(ctx, c, "ecr:PutImageTagMutability", k); err != nil {
		return nil, err
	}
	r, err := a.img.UpdateRepository(ctx, k, func(r *storage.Repository) error {
		r.TagMutability, r.MutabilityFilters = in.ImageTagMutability, filters
		return nil
	})
	if err != nil {
		return nil, err
	}
	return struct {
		RegistryID                         string             `json:"registryId"`
		RepositoryName                     string             `json:"repositoryName"`
		ImageTagMutability                 string             `json:"imageTagMutability"`
		ImageTagMutabilityExclusionFilters []mutabilityFilter `json:"imageTagMutabilityExclusionFilters,omitempty"`
	}{k.Account, k.Name, r.TagMutability, filtersOut(r.MutabilityFilters)}, nil
}

func (a *API) putImageScanningConfiguration(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID                 string                 `json:"registryId"`
		RepositoryName             string                 `json:"repositoryName"`
		ImageScanningConfiguration *scanningConfiguration `json:"imageScanningConfiguration"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if in.ImageScanningConfiguration == nil {
		return nil, missing("imageScanningConfiguration")
	}
	if err := a.authRepo(ctx, c, "ecr:PutImageScanningConfiguration", k); err != nil {
		return nil, err
	}
	r, err := a.img.UpdateRepository(ctx, k, func(r *storage.Repository) error {
		r.ScanOnPush = in.ImageScanningConfiguration.ScanOnPush
		return nil
	})
	if err != nil {
		return nil, err
	}
	return struct {
		RegistryID                 string                `json:"registryId"`
		RepositoryName             string                `json:"repositoryName"`
		ImageScanningConfiguration scanningConfiguration `json:"imageScanningConfiguration"`
	}{k.Account, k.Name, scanningConfiguration{ScanOnPush: r.ScanOnPush}}, nil
}

// ---- resource tags ------------------------------------------------------------

type tag struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// requestTags publishes tags as aws:RequestTag/K and aws:TagKeys.
func requestTags(info auth.RequestInfo, tags []tag) auth.RequestInfo {
	keys, vals := make([]string, 0, len(tags)), make([]string, 0, len(tags))
	for _, t := range tags {
		if t.Key != nil {
			keys, vals = append(keys, *t.Key), append(vals, deref(t.Value))
		}
	}
	return info.WithRequestTags(keys, vals)
}

const maxTags = 50

// mergeTags validates add and returns have plus add (add wins).
func mergeTags(have map[string]string, add []tag) (map[string]string, error) {
	out := maps.Clone(have)
	if out == nil {
		out = map[string]string{}
	}
	for _, t := range add {
		if t.Key == nil || *t.Key == "" {
			return nil, apierr.New(apierr.InvalidTagParameter, "Tag keys must be between 1 and 128 characters long")
		}
		if err := checkTagKey(*t.Key); err != nil {
			return nil, err
		}
		v := ""
		if t.Value != nil {
			v = *t.Value
		}
		if len([]rune(v)) > 256 {
			return nil, apierr.New(apierr.InvalidTagParameter, "Tag value '%s' exceeds the maximum length of 256 characters", v)
		}
		if v := awstags.Check([]awstags.Tag{{Key: *t.Key, Value: v}}, false); v != nil && v.Problem == awstags.ValueChars {
			return nil, apierr.New(apierr.InvalidTagParameter, "Tag value '%s' must match the pattern %s", v.Tag.Value, awstags.ValuePattern)
		}
		out[*t.Key] = v
	}
	if len(out) > maxTags {
		return nil, apierr.New(apierr.TooManyTags, "A resource can have at most %d tags; this request would leave %d", maxTags, len(out))
	}
	return out, nil
}

func checkTagKey(k string) error {
	if n := len([]rune(k)); n < 1 || n > 128 {
		return apierr.New(apierr.InvalidTagParameter, "Tag key '%s' must be between 1 and 128 characters long", k)
	}
	if v := awstags.CheckKeys([]string{k}); v != nil {
		return apierr.New(apierr.InvalidTagParameter, "Tag key '%s' must match the pattern %s", k, awstags.KeyPattern)
	}
	if len(k) >= 4 && (k[:4] == "aws:" || k[:4] == "AWS:") {
		return apierr.New(apierr.InvalidTagParameter, "%s", fmt.Sprintf("Tag keys starting with 'aws:' are reserved: '%s'", k))
	}
	return nil
}
