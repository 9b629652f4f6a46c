package ecr

import (
	"context"
	"encoding/base64"

	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
	"github.com/berth-dev/berth/internal/ecrhost"
)

type authorizationData struct {
	AuthorizationToken string             `json:"authorizationToken"`
	ExpiresAt          protocol.EpochTime `json:"expiresAt"`
	ProxyEndpoint      string             `json:"proxyEndpoint"`
}

// getAuthorizationToken issues one token for the caller, bound to the
// call's region; it works against every registry of that region the
// principal may reach, so each requested registryId gets an entry with the
// same token and its own proxyEndpoint (as `aws ecr get-login --registry-ids`
// expects). Without registryIds the entry is the caller's own registry.
func (a *API) getAuthorizationToken(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryIDs []string `json:"registryIds"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if in.RegistryIDs != nil {
		if err := checkListLen("registryIds", len(in.RegistryIDs), 1, 10); err != nil {
			return nil, err
		}
	}
	regs := []ecrhost.Registry{{Account: c.Principal.Account, Region: c.Region}}
	if len(in.RegistryIDs) > 0 {
		regs = regs[:0]
		for _, id := range in.RegistryIDs {
			if !ecrhost.IsAccountID(id) {
				return nil, invalidPattern("registryIds", patRegistryID)
			}
			regs = append(regs, ecrhost.Registry{Account: id, Region: c.Region})
		}
	}
	if err := a.authz.AuthorizeRegistry(ctx, c.Principal, "ecr:GetAuthorizationToken", c.Principal.Account, c.Region, c.Info); err != nil {
		return nil, err
	}
	password, expires, err := a.tokens.IssueToken(ctx, c.Principal, c.Region)
	if err != nil {
		return nil, err
	}
	token := base64.StdEncoding.EncodeToString([]byte("AWS:" + password))
	out := make([]authorizationData, 0, len(regs))
	for _, reg := range regs {
		out = append(out, authorizationData{
			AuthorizationToken: token,
			ExpiresAt:          protocol.EpochTime(expires),
			ProxyEndpoint:      c.Scheme + "://" + a.registryHost(c, reg),
		})
	}
	return struct {
		AuthorizationData []authorizationData `json:"authorizationData"`
	}{out}, nil
}
