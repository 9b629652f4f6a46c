package bench

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
)

// ECRToken calls GetAuthorizationToken on endpoint (a berth URL or an ECR
// API endpoint) with cfg's credentials and region, and splits the base64
// "AWS:<token>" into Basic credentials. hc may be nil (the SDK's client).
func ECRToken(ctx context.Context, cfg aws.Config, endpoint string, hc *http.Client) (Credentials, error) {
	c := ecr.NewFromConfig(cfg, func(o *ecr.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		if hc != nil {
			o.HTTPClient = hc
		}
	})
	out, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return Credentials{}, err
	}
	if len(out.AuthorizationData) == 0 || out.AuthorizationData[0].AuthorizationToken == nil {
		return Credentials{}, errors.New("GetAuthorizationToken returned no token")
	}
	raw, err := base64.StdEncoding.DecodeString(*out.AuthorizationData[0].AuthorizationToken)
	if err != nil {
		return Credentials{}, fmt.Errorf("token is not base64: %w", err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return Credentials{}, errors.New("token is not user:password")
	}
	return Credentials{User: user, Password: pass}, nil
}
