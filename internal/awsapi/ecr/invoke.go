package ecr

import (
	"context"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/awsapi"
)

// Invoke runs one ECR operation in-process, as the JSON front door does
// once a caller is authenticated: same decoding, validation, authorization
// and result. The web console calls it so that a page answers exactly what
// the API would (one policy validator, one listing visibility rule).
// c.Principal, c.Region, c.Operation and c.Info must be set; c.Body is the
// operation's JSON input and c.Host the host URIs are built for.
func (a *API) Invoke(ctx context.Context, c *awsapi.Call) (any, error) {
	h, ok := a.handlers()[c.Operation]
	if !ok || c.Principal == nil {
		return nil, apierr.New(apierr.InvalidParameter, "unknown ECR operation %q", c.Operation)
	}
	if len(c.Body) == 0 {
		c.Body = []byte("{}")
	}
	return h(ctx, c)
}
