package ecr

import (
	"context"
	"errors"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/arn"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/storage"
)

type repoPolicyOut struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	PolicyText     string `json:"policyText"`
}

// checkPolicyText validates a repository or registry policy with the IAM
// engine. AWS answers only "Invalid repository policy provided"; berth
// adds the engine's explanation (statement and field) after it.
func checkPolicyText(text, what string) error {
	if err := checkLen("policyText", text, 0, 10240); err != nil {
		return err
	}
	if _, err := iam.ParsePolicy(text, iam.ResourcePolicy); err != nil {
		var ve *iam.ValidationError
		var se *iam.SizeError
		if errors.As(err, &ve) || errors.As(err, &se) {
			return apierr.New(apierr.InvalidParameter, "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid %s policy provided' (%s)", what, err.Error())
		}
		return apierr.New(apierr.InvalidParameter, "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid %s policy provided'", what)
	}
	return nil
}

func repoPolicyNotFound(k storage.RepoKey) error {
	return apierr.New(apierr.RepositoryPolicyNotFound,
		"Repository policy does not exist for the repository with name '%s' in the registry with id '%s'", k.Name, k.Account)
}

func (a *API) setRepositoryPolicy(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID     string  `json:"registryId"`
		RepositoryName string  `json:"repositoryName"`
		PolicyText     *string `json:"policyText"`
		Force          bool    `json:"force"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if in.PolicyText == nil {
		return nil, missing("policyText")
	}
	if err := checkPolicyText(*in.PolicyText, "repository"); err != nil {
		return nil, err
	}
	if _, err := a.repo(ctx, c, "ecr:SetRepositoryPolicy", k); err != nil {
		return nil, err
	}
	// Without force, refuse a policy under which the caller could not set
	// the policy again (an explicit Deny, or a cross-account caller that
	// only the old policy let in).
	if !in.Force {
		repoARN := arn.Repository(k.Region, k.Account, k.Name)
		if err := a.authz.Authorize(ctx, c.Principal, "ecr:SetRepositoryPolicy", repoARN, k.Account, *in.PolicyText, c.Info); apierr.HasCode(err, apierr.AccessDenied) {
			return nil, apierr.New(apierr.InvalidParameter,
				"Invalid parameter at 'PolicyText' failed to satisfy constraint: 'The repository policy would prevent you from setting the repository policy in the future; use force to set it anyway'")
		} else if err != nil {
			return nil, err
		}
	}
	if _, err := a.img.UpdateRepository(ctx, k, func(r *storage.Repository) error {
		r.Policy = *in.PolicyText
		return nil
	}); err != nil {
		return nil, err
	}
	a.authz.InvalidateRepository(k)
	return repoPolicyOut{k.Account, k.Name, *in.PolicyText}, nil
}

func (a *API) getRepositoryPolicy(ctx context.Context, c *awsapi.Call) (any, error) {
	k, err := a.decodeRepoKey(c)
	if err != nil {
		return nil, err
	}
	r, err := a.repo(ctx, c, "ecr:GetRepositoryPolicy", k)
	if err != nil {
		return nil, err
	}
	if r.Policy == "" {
		return nil, repoPolicyNotFound(k)
	}
	return repoPolicyOut{k.Account, k.Name, r.Policy}, nil
}

func (a *API) deleteRepositoryPolicy(ctx context.Context, c *awsapi.Call) (any, error) {
	k, err := a.decodeRepoKey(c)
	if err != nil {
		return nil, err
	}
	if err := a.authRepo(ctx, c, "ecr:DeleteRepositoryPolicy", k); err != nil {
		return nil, err
	}
	old := ""
	_, err = a.img.UpdateRepository(ctx, k, func(r *storage.Repository) error {
		if r.Policy == "" {
			return repoPolicyNotFound(k)
		}
		old, r.Policy = r.Policy, ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.authz.InvalidateRepository(k)
	return repoPolicyOut{k.Account, k.Name, old}, nil
}
