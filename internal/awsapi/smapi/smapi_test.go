package smapi_test

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/awsapitest"
	"github.com/berth-dev/berth/internal/awsapi/smapi"
	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/iamsvc/iamsvctest"
	"github.com/berth-dev/berth/internal/secrets"
)

const (
	acct   = awsapitest.Account
	region = awsapitest.Region
)

var ctx = context.Background()

type testEnv struct{ *awsapitest.Env }

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	return &testEnv{awsapitest.New(t, func(rt *awsapi.Router, d awsapitest.Deps) error {
		sealer, err := d.IDs.Keys.Sealer("secretsmanager secrets")
		if err != nil {
			return err
		}
		svc, err := secrets.Open(ctx, d.IDs.DB, sealer, secrets.WithClock(d.Clock.Now))
		if err != nil {
			return err
		}
		return smapi.Register(rt, smapi.Deps{Secrets: svc, Authz: d.Authz})
	})}
}

func (e *testEnv) client(k *iamsvc.AccessKey) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(e.Config(k.AccessKeyID, k.SecretAccessKey, ""), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(e.URL) })
}

// wantErr asserts err is an AWS API error with code, HTTP 400 and a message
// containing sub.
func wantErr(t *testing.T, err error, code, sub string) {
	t.Helper()
	awsapitest.WantErrContaining(t, err, code, http.StatusBadRequest, sub)
}

var arnRE = regexp.MustCompile(`^arn:aws:secretsmanager:` + region + `:` + acct + `:secret:ecr-pullthroughcache/hub-[A-Za-z0-9]{6}$`)

func TestCreateGetPutStages(t *testing.T) {
	e := newEnv(t)
	c := e.client(e.Root)
	cr := iamsvctest.Must[*secretsmanager.CreateSecretOutput](t)(c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("ecr-pullthroughcache/hub"), SecretString: aws.String(`{"username":"u","accessToken":"t1"}`), Description: aws.String("hub creds"),
	}))
	if !arnRE.MatchString(aws.ToString(cr.ARN)) || aws.ToString(cr.Name) != "ecr-pullthroughcache/hub" || len(aws.ToString(cr.VersionId)) != 36 {
		t.Fatalf("create: %+v", cr)
	}
	arn := aws.ToString(cr.ARN)
	partial := arn[:len(arn)-7]
	for _, id := range []string{"ecr-pullthroughcache/hub", arn, partial} {
		g := iamsvctest.Must[*secretsmanager.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)}))
		if aws.ToString(g.SecretString) != `{"username":"u","accessToken":"t1"}` || aws.ToString(g.ARN) != arn ||
			aws.ToString(g.VersionId) != aws.ToString(cr.VersionId) || !slices.Equal(g.VersionStages, []string{"AWSCURRENT"}) || g.CreatedDate == nil {
			t.Fatalf("get by %s: %+v", id, g)
		}
	}
	_, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("ecr-pullthroughcache/hub"), SecretString: aws.String("x")})
	wantErr(t, err, "ResourceExistsException", "The operation failed because the secret ecr-pullthroughcache/hub already exists.")

	p := iamsvctest.Must[*secretsmanager.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String("t2")}))
	if !slices.Equal(p.VersionStages, []string{"AWSCURRENT"}) || aws.ToString(p.VersionId) == aws.ToString(cr.VersionId) {
		t.Fatalf("put: %+v", p)
	}
	prev := iamsvctest.Must[*secretsmanager.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(partial), VersionStage: aws.String("AWSPREVIOUS")}))
	if aws.ToString(prev.VersionId) != aws.ToString(cr.VersionId) || !slices.Equal(prev.VersionStages, []string{"AWSPREVIOUS"}) {
		t.Fatalf("previous: %+v", prev)
	}
	byID := iamsvctest.Must[*secretsmanager.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionId: p.VersionId}))
	if aws.ToString(byID.SecretString) != "t2" {
		t.Fatalf("by version id: %+v", byID)
	}
	// A third value: the first version loses every label.
	iamsvctest.Must[*secretsmanager.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String("t3")}))
	d := iamsvctest.Must[*secretsmanager.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("ecr-pullthroughcache/hub")}))
	if len(d.VersionIdsToStages) != 2 || !slices.Equal(d.VersionIdsToStages[aws.ToString(p.VersionId)], []string{"AWSPREVIOUS"}) || aws.ToString(d.Description) != "hub creds" || d.DeletedDate != nil {
		t.Fatalf("describe: %+v", d)
	}
	// A custom stage does not move AWSCURRENT.
	pend := iamsvctest.Must[*secretsmanager.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String("t4"), VersionStages: []string{"AWSPENDING"}}))
	cur := iamsvctest.Must[*secretsmanager.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)}))
	if aws.ToString(cur.SecretString) != "t3" || !slices.Equal(pend.VersionStages, []string{"AWSPENDING"}) {
		t.Fatalf("current after AWSPENDING put: %q", aws.ToString(cur.SecretString))
	}

	notFound := []struct {
		name string
		in   secretsmanager.GetSecretValueInput
		msg  string
	}{
		{"name", secretsmanager.GetSecretValueInput{SecretId: aws.String("nope")}, "Secrets Manager can't find the specified secret."},
		{"arn", secretsmanager.GetSecretValueInput{SecretId: aws.String(arn + "x")}, "Secrets Manager can't find the specified secret."},
		{"stage", secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String("NOPE")}, "staging label: NOPE"},
		{"version", secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionId: aws.String(strings.Repeat("0", 36))}, "VersionId: "},
	}
	for _, tc := range notFound {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.GetSecretValue(ctx, &tc.in)
			wantErr(t, err, "ResourceNotFoundException", tc.msg)
		})
	}
}

func TestClientRequestTokenIdempotency(t *testing.T) {
	e := newEnv(t)
	c := e.client(e.Root)
	tok := "11111111-2222-3333-4444-555555555555"
	in := &secretsmanager.CreateSecretInput{Name: aws.String("idem"), SecretString: aws.String("v1"), ClientRequestToken: aws.String(tok)}
	a := iamsvctest.Must[*secretsmanager.CreateSecretOutput](t)(c.CreateSecret(ctx, in))
	b := iamsvctest.Must[*secretsmanager.CreateSecretOutput](t)(c.CreateSecret(ctx, in))
	if aws.ToString(a.ARN) != aws.ToString(b.ARN) || aws.ToString(b.VersionId) != tok {
		t.Fatalf("retry gave %+v vs %+v", a, b)
	}
	tok2 := "66666666-2222-3333-4444-555555555555"
	put := &secretsmanager.PutSecretValueInput{SecretId: aws.String("idem"), SecretString: aws.String("v2"), ClientRequestToken: aws.String(tok2)}
	iamsvctest.Must[*secretsmanager.PutSecretValueOutput](t)(c.PutSecretValue(ctx, put))
	again := iamsvctest.Must[*secretsmanager.PutSecretValueOutput](t)(c.PutSecretValue(ctx, put))
	if aws.ToString(again.VersionId) != tok2 {
		t.Fatalf("retry put: %+v", again)
	}
	put.SecretString = aws.String("different")
	_, err := c.PutSecretValue(ctx, put)
	wantErr(t, err, "ResourceExistsException", "")
	// The idempotent retry did not demote anything twice.
	prev := iamsvctest.Must[*secretsmanager.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("idem"), VersionStage: aws.String("AWSPREVIOUS")}))
	if aws.ToString(prev.SecretString) != "v1" {
		t.Fatalf("previous = %q", aws.ToString(prev.SecretString))
	}
	_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("idem"), SecretString: aws.String("x"), ClientRequestToken: aws.String("short")})
	wantErr(t, err, "InvalidParameterException", "ClientRequestToken")
}

func TestBinaryAndValidation(t *testing.T) {
	e := newEnv(t)
	c := e.client(e.Root)
	bin := []byte{0, 1, 2, 0xff}
	iamsvctest.Must[*secretsmanager.CreateSecretOutput](t)(c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("bin"), SecretBinary: bin}))
	g := iamsvctest.Must[*secretsmanager.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("bin")}))
	if !bytes.Equal(g.SecretBinary, bin) || g.SecretString != nil {
		t.Fatalf("binary: %+v", g)
	}
	// A secret without a value has no version yet.
	empty := iamsvctest.Must[*secretsmanager.CreateSecretOutput](t)(c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("later")}))
	if empty.VersionId != nil {
		t.Fatalf("empty create got version %q", aws.ToString(empty.VersionId))
	}
	_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("later")})
	wantErr(t, err, "ResourceNotFoundException", "AWSCURRENT")
	cases := []struct {
		name string
		in   secretsmanager.CreateSecretInput
	}{
		{"bad name", secretsmanager.CreateSecretInput{Name: aws.String("a b"), SecretString: aws.String("x")}},
		{"both values", secretsmanager.CreateSecretInput{Name: aws.String("both"), SecretString: aws.String("x"), SecretBinary: []byte("y")}},
		{"too long", secretsmanager.CreateSecretInput{Name: aws.String("big"), SecretString: aws.String(strings.Repeat("x", 65537))}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateSecret(ctx, &tc.in)
			wantErr(t, err, "InvalidParameterException", "")
		})
	}
}

func TestDeleteSecret(t *testing.T) {
	e := newEnv(t)
	c := e.client(e.Root)
	cr := iamsvctest.Must[*secretsmanager.CreateSecretOutput](t)(c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("gone"), SecretString: aws.String("v")}))
	_, err := c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("gone"), RecoveryWindowInDays: aws.Int64(3)})
	wantErr(t, err, "InvalidParameterException", "between 7 and 30")
	_, err = c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("gone"), RecoveryWindowInDays: aws.Int64(7), ForceDeleteWithoutRecovery: aws.Bool(true)})
	wantErr(t, err, "InvalidParameterException", "ForceDeleteWithoutRecovery")

	d := iamsvctest.Must[*secretsmanager.DeleteSecretOutput](t)(c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("gone"), RecoveryWindowInDays: aws.Int64(7)}))
	if aws.ToString(d.ARN) != aws.ToString(cr.ARN) || d.DeletionDate == nil || d.DeletionDate.Sub(time.Now()) < 6*24*time.Hour {
		t.Fatalf("delete: %+v", d)
	}
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("gone")})
	wantErr(t, err, "InvalidRequestException", "marked for deletion")
	_, err = c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("gone"), SecretString: aws.String("w")})
	wantErr(t, err, "InvalidRequestException", "marked for deletion")
	_, err = c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("gone"), SecretString: aws.String("w")})
	wantErr(t, err, "InvalidRequestException", "scheduled for deletion")
	desc := iamsvctest.Must[*secretsmanager.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("gone")}))
	if desc.DeletedDate == nil {
		t.Fatal("describe lacks DeletedDate")
	}
	// After the recovery window the secret is gone and the name is free.
	e.Clock.Advance(8 * 24 * time.Hour)
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("gone")})
	wantErr(t, err, "ResourceNotFoundException", "")
	again := iamsvctest.Must[*secretsmanager.CreateSecretOutput](t)(c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("gone"), SecretString: aws.String("new")}))
	if aws.ToString(again.ARN) == aws.ToString(cr.ARN) {
		t.Fatal("recreated secret reused the old ARN suffix")
	}
	iamsvctest.Must[*secretsmanager.DeleteSecretOutput](t)(c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: again.ARN, ForceDeleteWithoutRecovery: aws.Bool(true)}))
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("gone")})
	wantErr(t, err, "ResourceNotFoundException", "")
}

func TestSecretsAuthorization(t *testing.T) {
	e := newEnv(t)
	cr := iamsvctest.Must[*secretsmanager.CreateSecretOutput](t)(e.client(e.Root).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String("v")}))
	u := e.IDs.UserWithKey(t, acct, "app", nil, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:app/*"}]}`)
	c := e.client(u)
	iamsvctest.Must[*secretsmanager.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/db")}))
	_, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("app/db"), SecretString: aws.String("x")})
	wantErr(t, err, "AccessDeniedException", "User: arn:aws:iam::"+acct+":user/app is not authorized to perform: secretsmanager:PutSecretValue on resource: "+aws.ToString(cr.ARN))
	// Probing a name the caller may not read says AccessDenied, not "not found".
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("other/missing")})
	wantErr(t, err, "AccessDeniedException", "secret:other/missing")
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/missing")})
	wantErr(t, err, "ResourceNotFoundException", "")
	_, err = c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app/new"), SecretString: aws.String("x")})
	wantErr(t, err, "AccessDeniedException", "secretsmanager:CreateSecret")
}
