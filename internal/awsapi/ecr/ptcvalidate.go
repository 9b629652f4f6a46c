package ecr

import (
	"context"
	"encoding/json"

	"github.com/berth-dev/berth/internal/awsapi"
)

// validatePullThroughCacheRule checks what berth can check without
// contacting the upstream registry: the rule exists and, when it names a
// credentialArn, the secret exists and holds {"username","accessToken"}.
// isValid true therefore does not mean the upstream accepted the
// credentials, as it does on ECR; berth never logs in to the upstream here.
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
	if r.CredentialARN != "" {
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
	if !ok {
		return "The secret '" + credARN + "' does not exist or has no string value", nil
	}
	var cred struct {
		Username    *string `json:"username"`
		AccessToken *string `json:"accessToken"`
	}
	if json.Unmarshal([]byte(value), &cred) != nil {
		return "The secret '" + credARN + "' is not a JSON object with the keys username and accessToken", nil
	}
	if cred.Username == nil || *cred.Username == "" || cred.AccessToken == nil || *cred.AccessToken == "" {
		return "The secret '" + credARN + "' must contain non-empty username and accessToken values", nil
	}
	return "", nil
}
