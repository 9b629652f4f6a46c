package ecr

import (
	"context"

	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/pullthrough"
)

// validatePullThroughCacheRule checks the rule as ECR does: the secret it
// names holds {"username","accessToken"} and the upstream registry answers
// /v2/ with those credentials (through the upstream validator; without one
// only the secret is checked).
func (a *API) validatePullThroughCacheRule(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		ECRRepositoryPrefix string `json:"ecrRepositoryPrefix"`
		RegistryID          string `json:"registryId"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	_, r, err := a.authorizedRule(ctx, c, "ecr:ValidatePullThroughCacheRule", in.RegistryID, in.ECRRepositoryPrefix)
	if err != nil {
		return nil, err
	}
	failure := ""
	if a.ups != nil {
		if failure, err = a.ups.Validate(ctx, r.RegistryID, c.Region, engineRule(r)); err != nil {
			return nil, err
		}
	} else if r.CredentialARN != "" {
		if failure, err = a.credentialProblem(ctx, r.RegistryID, c.Region, r.CredentialARN); err != nil {
			return nil, err
		}
	}
	return struct {
		ECRRepositoryPrefix      string `json:"ecrRepositoryPrefix"`
		RegistryID               string `json:"registryId"`
		UpstreamRegistryURL      string `json:"upstreamRegistryUrl"`
		CredentialARN            string `json:"credentialArn,omitempty"`
		CustomRoleARN            string `json:"customRoleArn,omitempty"`
		UpstreamRepositoryPrefix string `json:"upstreamRepositoryPrefix,omitempty"`
		IsValid                  bool   `json:"isValid"`
		Failure                  string `json:"failure,omitempty"`
	}{r.ECRRepositoryPrefix, r.RegistryID, r.UpstreamRegistryURL, r.CredentialARN, r.CustomRoleARN,
		r.UpstreamRepositoryPrefix, failure == "", failure}, nil
}

// credentialProblem describes what is wrong with a rule's secret ("" when
// nothing berth can see is). The secret's value is never part of the text.
func (a *API) credentialProblem(ctx context.Context, account, region, credARN string) (string, error) {
	if a.secrets == nil {
		return "berth has no Secrets Manager store to read the credential secret from", nil
	}
	value, ok, err := a.secrets.SecretString(ctx, account, region, credARN)
	if err != nil {
		return "", err
	}
	_, problem := pullthrough.ParseSecret(credARN, value, ok)
	return problem, nil
}
