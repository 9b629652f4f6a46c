package resolve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

// Error classes callers map to exit codes.
var (
	ErrNotFound = errors.New("not found")
	ErrDenied   = errors.New("access denied")
	ErrType     = errors.New("wrong parameter type")
)

// ParameterAPI is the slice of the SSM client the resolver needs.
type ParameterAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// SecretAPI is the slice of the Secrets Manager client the resolver needs.
type SecretAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// AWS resolves references against SSM Parameter Store and Secrets Manager.
// Secrets may be nil when only SSM references are expected.
type AWS struct {
	SSM     ParameterAPI
	Secrets SecretAPI
}

// Param is what one GetParameter call returned.
type Param struct {
	Name    string
	Type    string
	Value   string
	Version int64
}

// Resolve implements Resolver with CloudFormation's rules: ssm accepts only
// String and StringList, ssm-secure only SecureString (decrypted); no
// version means the latest one; a pinned version must exist.
func (a *AWS) Resolve(ctx context.Context, r Ref) (string, error) {
	switch r.Service {
	case ServiceSSM, ServiceSSMSecure:
		p, err := a.Parameter(ctx, r.Name, r.Version, r.Service == ServiceSSMSecure)
		if err != nil {
			return "", err
		}
		return p.Value, nil
	case ServiceSecretsManager:
		return a.secret(ctx, r)
	}
	return "", fmt.Errorf("%w: unknown service %q", ErrSyntax, r.Service)
}

// Parameter fetches one parameter (version "" = latest) and enforces the
// String/SecureString split between ssm and ssm-secure.
func (a *AWS) Parameter(ctx context.Context, name, version string, secure bool) (Param, error) {
	if a.SSM == nil {
		return Param{}, errors.New("no SSM client configured")
	}
	sel := name
	if version != "" {
		if err := checkVersion(version); err != nil {
			return Param{}, fmt.Errorf("%w: %v", ErrSyntax, err)
		}
		sel = name + ":" + version
	}
	out, err := a.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(sel), WithDecryption: aws.Bool(secure)})
	if err != nil {
		return Param{}, classifySSM(err, name, version)
	}
	if out.Parameter == nil {
		return Param{}, fmt.Errorf("SSM returned no parameter for %s", sel)
	}
	p := Param{Name: aws.ToString(out.Parameter.Name), Type: string(out.Parameter.Type), Value: aws.ToString(out.Parameter.Value), Version: out.Parameter.Version}
	if version != "" && fmt.Sprint(p.Version) != version {
		return Param{}, fmt.Errorf("%w: asked for version %s of parameter %s but the SSM endpoint returned version %d", ErrNotFound, version, name, p.Version)
	}
	switch {
	case !secure && p.Type == string(ssmtypes.ParameterTypeSecureString):
		return Param{}, fmt.Errorf("%w: parameter %s is a SecureString; ssm references resolve only String and StringList — use ssm-secure", ErrType, name)
	case secure && p.Type != string(ssmtypes.ParameterTypeSecureString):
		return Param{}, fmt.Errorf("%w: parameter %s is a %s, not a SecureString; ssm-secure resolves only SecureString — use ssm", ErrType, name, p.Type)
	}
	return p, nil
}

func classifySSM(err error, name, version string) error {
	var nf *ssmtypes.ParameterNotFound
	var vnf *ssmtypes.ParameterVersionNotFound
	switch {
	case errors.As(err, &vnf):
		return fmt.Errorf("%w: version %s of parameter %s does not exist", ErrNotFound, version, name)
	case errors.As(err, &nf):
		if version != "" {
			return fmt.Errorf("%w: parameter %s (version %s) does not exist", ErrNotFound, name, version)
		}
		return fmt.Errorf("%w: parameter %s does not exist", ErrNotFound, name)
	}
	return classifyAPI(err)
}

func classifyAPI(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidSignatureException",
			"ExpiredTokenException", "ExpiredToken", "InvalidClientTokenId", "SignatureDoesNotMatch":
			return fmt.Errorf("%w: %s: %s", ErrDenied, ae.ErrorCode(), ae.ErrorMessage())
		case "ResourceNotFoundException":
			return fmt.Errorf("%w: %s", ErrNotFound, ae.ErrorMessage())
		}
		return fmt.Errorf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	return err
}

func (a *AWS) secret(ctx context.Context, r Ref) (string, error) {
	if a.Secrets == nil {
		return "", errors.New("no Secrets Manager client configured")
	}
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(r.SecretID)}
	if s := r.VersionStage(); s != "" {
		in.VersionStage = aws.String(s)
	}
	if id := r.VersionID(); id != "" {
		in.VersionId = aws.String(id)
	}
	out, err := a.Secrets.GetSecretValue(ctx, in)
	if err != nil {
		return "", classifyAPI(err)
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("secret %s has no SecretString (binary secrets cannot be referenced)", r.SecretID)
	}
	s := *out.SecretString
	key := r.JSONKey()
	if key == "" {
		return s, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return "", fmt.Errorf("secret %s is not a JSON object, so key %q cannot be selected", r.SecretID, key)
	}
	v, ok := m[key]
	if !ok {
		return "", fmt.Errorf("%w: secret %s has no top-level key %q", ErrNotFound, r.SecretID, key)
	}
	var str string
	if json.Unmarshal(v, &str) == nil {
		return str, nil
	}
	return strings.TrimSpace(string(v)), nil
}
