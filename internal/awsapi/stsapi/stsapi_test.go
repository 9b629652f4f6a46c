package stsapi_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/awsapi/awsapitest"
	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/iamsvc/iamsvctest"
)

const readOnlyARN = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"

// trustUser lets only the IAM user "deployer" assume the role.
const trustUser = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/deployer"},"Action":"sts:AssumeRole"}]}`

const iamAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`

type fixture struct {
	*awsapitest.Env
	deployer, other *iam.CreateAccessKeyOutput
	roleARN         string
}

// newFixture: role "ci" (trust: user deployer; permissions: iam:* inline,
// ECR read-only) and users deployer and other with keys.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	e := awsapitest.New(t, awsapitest.IdentityAPIs)
	c := e.RootIAM()
	r := iamsvctest.Must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ci"), Path: aws.String("/build/"),
		AssumeRolePolicyDocument: aws.String(trustUser), MaxSessionDuration: aws.Int32(7200)}))
	iamsvctest.Must[*iam.PutRolePolicyOutput](t)(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ci"), PolicyName: aws.String("iam"), PolicyDocument: aws.String(iamAll)}))
	iamsvctest.Must[*iam.AttachRolePolicyOutput](t)(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("ci"), PolicyArn: aws.String(readOnlyARN)}))
	f := &fixture{Env: e, roleARN: aws.ToString(r.Role.Arn)}
	for _, u := range []string{"deployer", "other"} {
		iamsvctest.Must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}))
		k := iamsvctest.Must[*iam.CreateAccessKeyOutput](t)(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(u)}))
		if u == "deployer" {
			f.deployer = k
		} else {
			f.other = k
		}
	}
	return f
}

func keySTS(e *awsapitest.Env, k *iam.CreateAccessKeyOutput) *sts.Client {
	return e.STS(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), "")
}

func credsSTS(e *awsapitest.Env, c *ststypes.Credentials) *sts.Client {
	return e.STS(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
}

func credsIAM(e *awsapitest.Env, c *ststypes.Credentials) *iam.Client {
	return e.IAM(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
}

func TestGetCallerIdentity(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	tests := []struct {
		name    string
		client  *sts.Client
		arn     string
		userID  func(string) bool
		account string
	}{
		{"root", f.RootSTS(), "arn:aws:iam::111111111111:root", func(s string) bool { return s == awsapitest.Account }, awsapitest.Account},
		{"user", keySTS(f.Env, f.deployer), "arn:aws:iam::111111111111:user/deployer",
			func(s string) bool { return strings.HasPrefix(s, "AIDA") && len(s) == 21 }, awsapitest.Account},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tt.client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.Arn) != tt.arn || aws.ToString(out.Account) != tt.account || !tt.userID(aws.ToString(out.UserId)) {
				t.Fatalf("GetCallerIdentity = %s %s %s", aws.ToString(out.UserId), aws.ToString(out.Account), aws.ToString(out.Arn))
			}
		})
	}
}

func TestAssumeRole(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	dep := keySTS(f.Env, f.deployer)

	out := iamsvctest.Must[*sts.AssumeRoleOutput](t)(dep.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(f.roleARN), RoleSessionName: aws.String("build-42")}))
	cr := out.Credentials
	if id := aws.ToString(cr.AccessKeyId); !strings.HasPrefix(id, "ASIA") || len(id) != 20 || len(aws.ToString(cr.SecretAccessKey)) != 40 ||
		len(aws.ToString(cr.SessionToken)) < 100 || cr.Expiration == nil {
		t.Fatalf("credentials = %+v", cr)
	}
	if d := time.Until(*cr.Expiration); d < 55*time.Minute || d > 61*time.Minute {
		t.Fatalf("default expiration in %v, want 1h", d)
	}
	if aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::111111111111:assumed-role/ci/build-42" ||
		!strings.HasPrefix(aws.ToString(out.AssumedRoleUser.AssumedRoleId), "AROA") ||
		!strings.HasSuffix(aws.ToString(out.AssumedRoleUser.AssumedRoleId), ":build-42") {
		t.Fatalf("AssumedRoleUser = %+v", out.AssumedRoleUser)
	}

	// The session works for SigV4 with the role's permissions …
	who := iamsvctest.Must[*sts.GetCallerIdentityOutput](t)(credsSTS(f.Env, cr).GetCallerIdentity(ctx, nil))
	if aws.ToString(who.Arn) != aws.ToString(out.AssumedRoleUser.Arn) || aws.ToString(who.UserId) != aws.ToString(out.AssumedRoleUser.AssumedRoleId) {
		t.Fatalf("session identity = %+v", who)
	}
	roleIAM := credsIAM(f.Env, cr)
	if _, err := roleIAM.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatalf("role session with iam:* cannot ListUsers: %v", err)
	}
	// … and for registry Basic auth with the session password encoding.
	p, err := f.Authn.AuthenticateBasic(ctx, aws.ToString(cr.AccessKeyId), auth.SessionPassword(aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken)),
		ecrhost.Registry{Account: awsapitest.Account, Region: "eu-west-1"})
	if err != nil || p.ARN != aws.ToString(out.AssumedRoleUser.Arn) {
		t.Fatalf("Basic auth with session credentials: %v, %+v", err, p)
	}
	if _, err := f.Authn.AuthenticateBasic(ctx, aws.ToString(cr.AccessKeyId), auth.SessionPassword(aws.ToString(cr.SecretAccessKey), "forged"),
		ecrhost.Registry{Account: awsapitest.Account, Region: "eu-west-1"}); !apierr.HasCode(err, apierr.InvalidCredentials) {
		t.Fatalf("forged session token accepted: %v", err)
	}
	// Without the session token the key is refused.
	_, err = f.STS(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), "").GetCallerIdentity(ctx, nil)
	awsapitest.WantErr(t, err, "InvalidClientTokenId", 403, "The security token included in the request is invalid.")

	// Denied by the trust policy: "other" is not named and has no identity allow.
	_, err = keySTS(f.Env, f.other).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(f.roleARN), RoleSessionName: aws.String("x1")})
	awsapitest.WantErr(t, err, "AccessDenied", 403, "")
	if !strings.HasPrefix(errMessage(err), "User: arn:aws:iam::111111111111:user/other is not authorized to perform: sts:AssumeRole on resource: "+f.roleARN) {
		t.Fatalf("denial message = %q", errMessage(err))
	}
	// A missing role is indistinguishable from a refused one.
	_, err = dep.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/ghost"), RoleSessionName: aws.String("x1")})
	awsapitest.WantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::111111111111:user/deployer is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/ghost")

	// Validation.
	bad := []struct {
		name string
		in   sts.AssumeRoleInput
		msg  string
	}{
		{"session name short", sts.AssumeRoleInput{RoleSessionName: aws.String("a")},
			"1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2"},
		{"session name long", sts.AssumeRoleInput{RoleSessionName: aws.String(strings.Repeat("s", 65))},
			"1 validation error detected: Value '" + strings.Repeat("s", 65) + "' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		// AWS's words for a RoleArn that is no ARN at all, and the model's length bounds.
		{"role arn malformed", sts.AssumeRoleInput{RoleArn: aws.String("not-an-arn-but-long-enough"), RoleSessionName: aws.String("ok")},
			"not-an-arn-but-long-enough is invalid"},
		{"role arn missing colons", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam:111111111111:role/ci"), RoleSessionName: aws.String("ok")},
			"arn:aws:iam:111111111111:role/ci is invalid"},
		{"role arn short", sts.AssumeRoleInput{RoleArn: aws.String("role/ci"), RoleSessionName: aws.String("ok")},
			"1 validation error detected: Value 'role/ci' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20"},
		{"over 43200", sts.AssumeRoleInput{RoleSessionName: aws.String("ok"), DurationSeconds: aws.Int32(43201)},
			"1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"},
		{"session name chars", sts.AssumeRoleInput{RoleSessionName: aws.String("a b")},
			`1 validation error detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`},
		{"over MaxSessionDuration", sts.AssumeRoleInput{RoleSessionName: aws.String("ok"), DurationSeconds: aws.Int32(7201)},
			"The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
		{"under 900", sts.AssumeRoleInput{RoleSessionName: aws.String("ok"), DurationSeconds: aws.Int32(899)},
			"1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			in := b.in
			if in.RoleArn == nil {
				in.RoleArn = aws.String(f.roleARN)
			}
			_, err := dep.AssumeRole(ctx, &in)
			awsapitest.WantErr(t, err, "ValidationError", 400, b.msg)
		})
	}

	// Longer sessions up to the role's MaxSessionDuration.
	long := iamsvctest.Must[*sts.AssumeRoleOutput](t)(dep.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(f.roleARN), RoleSessionName: aws.String("long"), DurationSeconds: aws.Int32(7200)}))
	if d := time.Until(*long.Credentials.Expiration); d < 115*time.Minute {
		t.Fatalf("7200s session expires in %v", d)
	}
}

func TestSessionPolicies(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	dep := keySTS(f.Env, f.deployer)
	only := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}`
	out := iamsvctest.Must[*sts.AssumeRoleOutput](t)(dep.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(f.roleARN), RoleSessionName: aws.String("narrow"),
		Policy: aws.String(only)}))
	if out.PackedPolicySize == nil {
		t.Fatal("PackedPolicySize missing with a session policy")
	}
	c := credsIAM(f.Env, out.Credentials)
	if _, err := c.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
	_, err := c.ListRoles(ctx, &iam.ListRolesInput{})
	awsapitest.WantErr(t, err, "AccessDenied", 403,
		"User: arn:aws:sts::111111111111:assumed-role/ci/narrow is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::111111111111:role/ because no session policy allows the iam:ListRoles action")

	// A managed session policy (ECR read-only) leaves no IAM rights at all.
	out = iamsvctest.Must[*sts.AssumeRoleOutput](t)(dep.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(f.roleARN), RoleSessionName: aws.String("ecr-only"),
		PolicyArns: []ststypes.PolicyDescriptorType{{Arn: aws.String(readOnlyARN)}}}))
	_, err = credsIAM(f.Env, out.Credentials).ListUsers(ctx, &iam.ListUsersInput{})
	awsapitest.WantErr(t, err, "AccessDenied", 403, "")

	_, err = dep.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(f.roleARN), RoleSessionName: aws.String("bad"), Policy: aws.String(`{"Statement":`)})
	awsapitest.WantErr(t, err, "MalformedPolicyDocument", 400, "")
}

func TestExpiredSession(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	out := iamsvctest.Must[*sts.AssumeRoleOutput](t)(keySTS(f.Env, f.deployer).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(f.roleARN), RoleSessionName: aws.String("short"), DurationSeconds: aws.Int32(900)}))
	s := credsSTS(f.Env, out.Credentials)
	if _, err := s.GetCallerIdentity(ctx, nil); err != nil {
		t.Fatal(err)
	}
	f.Clock.Advance(901 * time.Second)
	_, err := s.GetCallerIdentity(ctx, nil)
	awsapitest.WantErr(t, err, "ExpiredToken", 403, "The security token included in the request is expired")
	_, err = credsIAM(f.Env, out.Credentials).ListUsers(ctx, &iam.ListUsersInput{})
	awsapitest.WantErr(t, err, "ExpiredToken", 403, "The security token included in the request is expired")
}

func TestGetSessionToken(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	out := iamsvctest.Must[*sts.GetSessionTokenOutput](t)(keySTS(f.Env, f.deployer).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(3600)}))
	if !strings.HasPrefix(aws.ToString(out.Credentials.AccessKeyId), "ASIA") || out.Credentials.Expiration == nil {
		t.Fatalf("GetSessionToken = %+v", out.Credentials)
	}
	s := credsSTS(f.Env, out.Credentials)
	who := iamsvctest.Must[*sts.GetCallerIdentityOutput](t)(s.GetCallerIdentity(ctx, nil))
	if aws.ToString(who.Arn) != "arn:aws:iam::111111111111:user/deployer" {
		t.Fatalf("session identity = %s", aws.ToString(who.Arn))
	}
	_, err := s.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	awsapitest.WantErr(t, err, "AccessDenied", 403, "Cannot call GetSessionToken with session credentials")

	// Root: at most an hour.
	_, err = f.RootSTS().GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(7200)})
	awsapitest.WantErr(t, err, "ValidationError", 400, "")
	if _, err := f.RootSTS().GetSessionToken(ctx, &sts.GetSessionTokenInput{}); err != nil {
		t.Fatal(err)
	}
}

func errMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}
