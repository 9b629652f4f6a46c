package ecr

import (
	"context"
	"sort"
	"strings"

	"github.com/berth-dev/berth/internal/arn"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/storage"
)

// resourceKey parses a repository ARN (the only taggable ECR resource
// berth has) in the call's region.
func (a *API) resourceKey(c *awsapi.Call, resourceARN string) (storage.RepoKey, error) {
	if resourceARN == "" {
		return storage.RepoKey{}, missing("resourceArn")
	}
	p, err := arn.Parse(resourceARN)
	name, isRepo := strings.CutPrefix(p.Resource, "repository/")
	if err != nil || p.Service != "ecr" || !isRepo || !ecrhost.IsAccountID(p.AccountID) {
		return storage.RepoKey{}, invalidParam("resourceArn", "Invalid resource ARN '%s': expected arn:aws:ecr:REGION:ACCOUNT:repository/NAME", resourceARN)
	}
	if p.Region != c.Region {
		return storage.RepoKey{}, invalidParam("resourceArn", "The resource ARN is in region %s but the request was sent to region %s", p.Region, c.Region)
	}
	if err := a.checkRepoName("resourceArn", name); err != nil {
		return storage.RepoKey{}, err
	}
	return storage.RepoKey{Account: p.AccountID, Region: p.Region, Name: name}, nil
}

func (a *API) tagResource(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		ResourceARN string `json:"resourceArn"`
		Tags        []tag  `json:"tags"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.resourceKey(c, in.ResourceARN)
	if err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, missing("tags")
	}
	if _, err := mergeTags(nil, in.Tags); err != nil {
		return nil, err
	}
	if err := a.authz.AuthorizeRepo(ctx, c.Principal, "ecr:TagResource", k, requestTags(c.Info, in.Tags)); err != nil {
		return nil, err
	}
	_, err = a.img.UpdateRepository(ctx, k, func(r *storage.Repository) error {
		merged, err := mergeTags(r.Tags, in.Tags)
		r.Tags = merged
		return err
	})
	if err != nil {
		return nil, err
	}
	a.authz.InvalidateRepository(k)
	return struct{}{}, nil
}

func (a *API) untagResource(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		ResourceARN string   `json:"resourceArn"`
		TagKeys     []string `json:"tagKeys"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.resourceKey(c, in.ResourceARN)
	if err != nil {
		return nil, err
	}
	if in.TagKeys == nil {
		return nil, missing("tagKeys")
	}
	for _, key := range in.TagKeys {
		if err := checkTagKey(key); err != nil {
			return nil, err
		}
	}
	if err := a.authz.AuthorizeRepo(ctx, c.Principal, "ecr:UntagResource", k, c.Info.WithTagKeys(in.TagKeys)); err != nil {
		return nil, err
	}
	_, err = a.img.UpdateRepository(ctx, k, func(r *storage.Repository) error {
		for _, key := range in.TagKeys {
			delete(r.Tags, key)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.authz.InvalidateRepository(k)
	return struct{}{}, nil
}

func (a *API) listTagsForResource(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		ResourceARN string `json:"resourceArn"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.resourceKey(c, in.ResourceARN)
	if err != nil {
		return nil, err
	}
	r, err := a.repo(ctx, c, "ecr:ListTagsForResource", k)
	if err != nil {
		return nil, err
	}
	type kv struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	}
	out := struct {
		Tags []kv `json:"tags"`
	}{[]kv{}}
	for key, v := range r.Tags {
		out.Tags = append(out.Tags, kv{key, v})
	}
	sort.Slice(out.Tags, func(i, j int) bool { return out.Tags[i].Key < out.Tags[j].Key })
	return out, nil
}
