package resolve

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/berth-dev/berth/internal/client/resolve/mototest"
)

// seedSSM writes parameters through the real SDK so the resolver is tested
// against the SSM wire protocol, not a fake.
func seedSSM(t *testing.T, ctx context.Context, c *ssm.Client, name, value string, typ ssmtypes.ParameterType) {
	t.Helper()
	_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: typ, Overwrite: aws.Bool(true)})
	if err != nil {
		t.Fatalf("PutParameter %s: %v", name, err)
	}
}

// RunSSMSemantics checks CloudFormation's semantics against any SSM endpoint
// (moto here; berth's own SSM API once it exists).
func runSSMSemantics(t *testing.T, endpoint string) {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	a := NewAWS(cfg, endpoint)
	c := a.SSM.(*ssm.Client)
	seedSSM(t, ctx, c, "USER", "alice", ssmtypes.ParameterTypeString)
	seedSSM(t, ctx, c, "USER", "bob", ssmtypes.ParameterTypeString) // version 2
	seedSSM(t, ctx, c, "PASSWD", "s3cr3t", ssmtypes.ParameterTypeSecureString)
	seedSSM(t, ctx, c, "/app/prod/hosts", "a,b,c", ssmtypes.ParameterTypeStringList)

	tests := []struct {
		ref     string
		want    string
		wantErr error
		errSub  string
	}{
		{ref: "{{resolve:ssm:USER}}", want: "bob"},
		{ref: "{{resolve:ssm:USER:1}}", want: "alice"},
		{ref: "{{resolve:ssm:USER:2}}", want: "bob"},
		{ref: "{{resolve:ssm:USER:3}}", wantErr: ErrNotFound, errSub: "version 3 of parameter USER"},
		{ref: "{{resolve:ssm:/app/prod/hosts}}", want: "a,b,c"},
		{ref: "{{resolve:ssm-secure:PASSWD}}", want: "s3cr3t"},
		{ref: "{{resolve:ssm-secure:PASSWD:1}}", want: "s3cr3t"},
		{ref: "{{resolve:ssm:PASSWD}}", wantErr: ErrType, errSub: "use ssm-secure"},
		{ref: "{{resolve:ssm-secure:USER}}", wantErr: ErrType, errSub: "use ssm"},
		{ref: "{{resolve:ssm:NOPE}}", wantErr: ErrNotFound, errSub: "parameter NOPE does not exist"},
		{ref: "{{resolve:ssm:NOPE:1}}", wantErr: ErrNotFound, errSub: "NOPE"},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			r, err := ParseRef(tc.ref)
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.Resolve(ctx, r)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.errSub) {
					t.Fatalf("err = %v, want %v containing %q", err, tc.wantErr, tc.errSub)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestSSMAgainstMoto(t *testing.T) {
	runSSMSemantics(t, mototest.Start(t))
}

func TestSecretsManagerAgainstMoto(t *testing.T) {
	endpoint := mototest.Start(t)
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	a := NewAWS(cfg, endpoint)
	sm := a.Secrets.(*secretsmanager.Client)
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("registry"), SecretString: aws.String(`{"username":"u","password":"p:w","port":5000}`)}); err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{
		"{{resolve:secretsmanager:registry}}":                       `{"username":"u","password":"p:w","port":5000}`,
		"{{resolve:secretsmanager:registry:SecretString:password}}": "p:w",
		"{{resolve:secretsmanager:registry::username}}":             "u",
		"{{resolve:secretsmanager:registry::port:AWSCURRENT}}":      "5000",
	} {
		r, err := ParseRef(ref)
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.Resolve(ctx, r)
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", ref, got, err, want)
		}
	}
	r, _ := ParseRef("{{resolve:secretsmanager:registry::nokey}}")
	if _, err := a.Resolve(ctx, r); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing key: %v", err)
	}
	r, _ = ParseRef("{{resolve:secretsmanager:missing}}")
	if _, err := a.Resolve(ctx, r); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing secret: %v", err)
	}
}
