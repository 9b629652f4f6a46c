package ecr

import (
	"context"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/ecrhost"
)

// Managed signing (AWS Signer) is stored configuration only: berth signs
// nothing, so DescribeImageSigningStatus always lists no statuses.

type signingFilter struct {
	Filter     string `json:"filter"`
	FilterType string `json:"filterType"`
}

type signingRule struct {
	SigningProfileARN string          `json:"signingProfileArn"`
	RepositoryFilters []signingFilter `json:"repositoryFilters,omitempty"`
}

type signingConfiguration struct {
	Rules []signingRule `json:"rules"`
}

const (
	patSigningProfile = `^arn:aws(-[a-z]+)*:signer:[a-z0-9-]+:[0-9]{12}:\/signing-profiles\/[a-zA-Z0-9_]{2,}$`
	patSigningFilter  = `^(?:[a-z0-9*]+(?:[._-][a-z0-9*]+)*/)*[a-z0-9*]+(?:[._-][a-z0-9*]+)*$`
)

func (a *API) checkSigning(cfg *signingConfiguration) error {
	if cfg.Rules == nil {
		return missing("signingConfiguration.rules")
	}
	if err := checkListLen("signingConfiguration.rules", len(cfg.Rules), 0, 10); err != nil {
		return err
	}
	for _, r := range cfg.Rules {
		if r.SigningProfileARN == "" {
			return missing("signingConfiguration.rules.signingProfileArn")
		}
		if err := checkLen("signingConfiguration.rules.signingProfileArn", r.SigningProfileARN, 0, 200); err != nil {
			return err
		}
		if !a.re.signingProfile.MatchString(r.SigningProfileARN) {
			return invalidPattern("signingConfiguration.rules.signingProfileArn", patSigningProfile)
		}
		if r.RepositoryFilters != nil {
			if err := checkListLen("signingConfiguration.rules.repositoryFilters", len(r.RepositoryFilters), 1, 100); err != nil {
				return err
			}
		}
		for _, f := range r.RepositoryFilters {
			if err := checkEnum("signingConfiguration.rules.repositoryFilters.filterType", f.FilterType, "WILDCARD_MATCH"); err != nil {
				return err
			}
			if err := checkLen("signingConfiguration.rules.repositoryFilters.filter", f.Filter, 1, 256); err != nil {
				return err
			}
			if !a.re.signingFilter.MatchString(f.Filter) {
				return invalidPattern("signingConfiguration.rules.repositoryFilters.filter", patSigningFilter)
			}
		}
	}
	return nil
}

func signingNotFound(reg ecrhost.Registry) error {
	return apierr.New(apierr.SigningConfigNotFound, "Signing configuration does not exist in the registry with id '%s'", reg.Account)
}

type signingOut struct {
	RegistryID           string               `json:"registryId"`
	SigningConfiguration signingConfiguration `json:"signingConfiguration"`
}

func (a *API) putSigningConfiguration(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		SigningConfiguration *signingConfiguration `json:"signingConfiguration"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if in.SigningConfiguration == nil {
		return nil, missing("signingConfiguration")
	}
	if err := a.checkSigning(in.SigningConfiguration); err != nil {
		return nil, err
	}
	reg, err := a.authRegistry(ctx, c, "ecr:PutSigningConfiguration")
	if err != nil {
		return nil, err
	}
	if err := a.putJSON(ctx, reg, kindSigningConfig, singletonID, in.SigningConfiguration); err != nil {
		return nil, err
	}
	return struct {
		SigningConfiguration *signingConfiguration `json:"signingConfiguration"`
	}{in.SigningConfiguration}, nil
}

func (a *API) loadSigning(ctx context.Context, reg ecrhost.Registry) (*signingConfiguration, error) {
	var cfg signingConfiguration
	found, err := a.getJSON(ctx, reg, kindSigningConfig, singletonID, &cfg)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, signingNotFound(reg)
	}
	return &cfg, nil
}

func (a *API) getSigningConfiguration(ctx context.Context, c *awsapi.Call) (any, error) {
	if err := c.DecodeJSON(&struct{}{}); err != nil {
		return nil, err
	}
	reg, err := a.authRegistry(ctx, c, "ecr:GetSigningConfiguration")
	if err != nil {
		return nil, err
	}
	cfg, err := a.loadSigning(ctx, reg)
	if err != nil {
		return nil, err
	}
	return signingOut{reg.Account, *cfg}, nil
}

func (a *API) deleteSigningConfiguration(ctx context.Context, c *awsapi.Call) (any, error) {
	if err := c.DecodeJSON(&struct{}{}); err != nil {
		return nil, err
	}
	reg, err := a.authRegistry(ctx, c, "ecr:DeleteSigningConfiguration")
	if err != nil {
		return nil, err
	}
	a.stateMu.Lock()
	defer a.stateMu.Unlock()
	cfg, err := a.loadSigning(ctx, reg)
	if err != nil {
		return nil, err
	}
	if err := a.store.DeleteDoc(ctx, reg.Account, reg.Region, kindSigningConfig, singletonID); err != nil {
		return nil, err
	}
	return signingOut{reg.Account, *cfg}, nil
}

func (a *API) describeImageSigningStatus(ctx context.Context, c *awsapi.Call) (any, error) {
	in, k, m, err := a.imageForAction(ctx, c, "ecr:DescribeImageSigningStatus")
	if err != nil {
		return nil, err
	}
	return struct {
		RepositoryName  string     `json:"repositoryName"`
		ImageID         imageID    `json:"imageId"`
		RegistryID      string     `json:"registryId"`
		SigningStatuses []struct{} `json:"signingStatuses"`
	}{k.Name, imageID{ImageDigest: string(m.Digest), ImageTag: in.ImageID.ImageTag}, k.Account, []struct{}{}}, nil
}
