package ecr

import (
	"context"
	"errors"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/storage"
)

// Pull-time update exclusions name principals whose pulls ECR does not
// record as lastRecordedPullTime. berth records no pull times, so the list
// is stored and listed only.

const (
	patPrincipalARN  = `^arn:aws(-[a-z]+)*:iam::[0-9]{12}:(role|user)/[\w+=,.@-]+(/[\w+=,.@-]+)*$`
	maxPullExclusion = 100 // berth's bound; one page of the model's list
)

type pullExclusion struct {
	PrincipalARN string             `json:"principalArn"`
	CreatedAt    protocol.EpochTime `json:"createdAt"`
}

func (a *API) decodePrincipalARN(c *awsapi.Call) (string, error) {
	var in struct {
		PrincipalARN string `json:"principalArn"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return "", err
	}
	if in.PrincipalARN == "" {
		return "", missing("principalArn")
	}
	if err := checkLen("principalArn", in.PrincipalARN, 0, 200); err != nil {
		return "", err
	}
	if !a.re.principalARN.MatchString(in.PrincipalARN) {
		return "", invalidPattern("principalArn", patPrincipalARN)
	}
	return in.PrincipalARN, nil
}

func exclusionNotFound(p string, reg ecrhost.Registry) error {
	return apierr.New(apierr.ExclusionNotFound, "The pull time update exclusion for principal '%s' does not exist in the registry with id '%s'", p, reg.Account)
}

func (a *API) registerPullTimeUpdateExclusion(ctx context.Context, c *awsapi.Call) (any, error) {
	p, err := a.decodePrincipalARN(c)
	if err != nil {
		return nil, err
	}
	reg, err := a.authRegistry(ctx, c, "ecr:RegisterPullTimeUpdateExclusion")
	if err != nil {
		return nil, err
	}
	a.stateMu.Lock()
	defer a.stateMu.Unlock()
	if err := a.checkDocLimit(ctx, reg, kindPullExclusion, maxPullExclusion, "pull time update exclusions"); err != nil {
		return nil, err
	}
	ex := pullExclusion{PrincipalARN: p, CreatedAt: protocol.EpochTime(a.now().UTC())}
	err = a.createJSON(ctx, reg, kindPullExclusion, p, ex)
	if errors.Is(err, storage.ErrAlreadyExists) {
		return nil, apierr.New(apierr.ExclusionAlreadyExists, "The pull time update exclusion for principal '%s' already exists in the registry with id '%s'", p, reg.Account)
	}
	if err != nil {
		return nil, err
	}
	return ex, nil
}

func (a *API) deregisterPullTimeUpdateExclusion(ctx context.Context, c *awsapi.Call) (any, error) {
	p, err := a.decodePrincipalARN(c)
	if err != nil {
		return nil, err
	}
	reg, err := a.authRegistry(ctx, c, "ecr:DeregisterPullTimeUpdateExclusion")
	if err != nil {
		return nil, err
	}
	err = a.store.DeleteDoc(ctx, reg.Account, reg.Region, kindPullExclusion, p)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, exclusionNotFound(p, reg)
	}
	if err != nil {
		return nil, err
	}
	return struct {
		PrincipalARN string `json:"principalArn"`
	}{p}, nil
}

func (a *API) listPullTimeUpdateExclusions(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		NextToken  string `json:"nextToken"`
		MaxResults *int   `json:"maxResults"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	limit, err := pageSize("maxResults", in.MaxResults, 1000)
	if err != nil {
		return nil, err
	}
	reg, err := a.authRegistry(ctx, c, "ecr:ListPullTimeUpdateExclusions")
	if err != nil {
		return nil, err
	}
	op := "ListPullTimeUpdateExclusions\x00" + reg.Account
	docs, next, err := a.docPage(ctx, reg, kindPullExclusion, op, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	out := struct {
		Exclusions []string `json:"pullTimeUpdateExclusions"`
		NextToken  *string  `json:"nextToken,omitempty"`
	}{Exclusions: []string{}, NextToken: next}
	for _, d := range docs {
		out.Exclusions = append(out.Exclusions, d.ID)
	}
	return out, nil
}
