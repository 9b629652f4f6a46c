package resolve

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// NewAWS builds SSM and Secrets Manager clients from cfg. endpointURL, when
// set, overrides every other endpoint source; otherwise the SDK applies
// AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL
// and the shared config file, as the aws CLI does.
func NewAWS(cfg aws.Config, endpointURL string) *AWS {
	return &AWS{
		SSM: ssm.NewFromConfig(cfg, func(o *ssm.Options) {
			if endpointURL != "" {
				o.BaseEndpoint = aws.String(endpointURL)
			}
		}),
		Secrets: secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
			if endpointURL != "" {
				o.BaseEndpoint = aws.String(endpointURL)
			}
		}),
	}
}
