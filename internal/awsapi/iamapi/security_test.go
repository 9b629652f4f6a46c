package iamapi_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/berth-dev/berth/internal/awsapi/awsapitest"
	"github.com/berth-dev/berth/internal/iamsvc/iamsvctest"
)

// A user allowed to manage itself (Resource user/${aws:username}) must not
// rename or move itself into a name another policy trusts: AWS authorizes
// UpdateUser on the old AND the new user ARN.
func TestUpdateUserAuthorizesNewNameAndPath(t *testing.T) {
	ctx := context.Background()
	e := awsapitest.New(t, awsapitest.IdentityAPIs)
	root := e.RootIAM()
	iamsvctest.Must[*iam.CreateUserOutput](t)(root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dev"), Path: aws.String("/team/")}))
	self := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:UpdateUser","Resource":"arn:aws:iam::111111111111:user/team/${aws:username}"}]}`
	iamsvctest.Must[*iam.PutUserPolicyOutput](t)(root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dev"), PolicyName: aws.String("self"), PolicyDocument: aws.String(self)}))
	k := iamsvctest.Must[*iam.CreateAccessKeyOutput](t)(root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("dev")}))
	dev := e.IAM(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), "")

	_, err := dev.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("dev"), NewUserName: aws.String("deploy-bot")})
	awsapitest.WantErr(t, err, "AccessDenied", 403,
		"User: arn:aws:iam::111111111111:user/team/dev is not authorized to perform: iam:UpdateUser on resource: arn:aws:iam::111111111111:user/team/deploy-bot because no identity-based policy allows the iam:UpdateUser action")
	_, err = dev.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("dev"), NewPath: aws.String("/admins/")})
	awsapitest.WantErr(t, err, "AccessDenied", 403,
		"User: arn:aws:iam::111111111111:user/team/dev is not authorized to perform: iam:UpdateUser on resource: arn:aws:iam::111111111111:user/admins/dev because no identity-based policy allows the iam:UpdateUser action")
	if u := iamsvctest.Must[*iam.GetUserOutput](t)(root.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("dev")})); aws.ToString(u.User.Path) != "/team/" {
		t.Fatalf("user moved anyway: %+v", u.User)
	}
	// Same name and path (a no-op) needs only the one ARN; root may rename.
	iamsvctest.Must[*iam.UpdateUserOutput](t)(dev.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("dev"), NewPath: aws.String("/team/")}))
	iamsvctest.Must[*iam.UpdateUserOutput](t)(root.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("dev"), NewUserName: aws.String("dev2")}))
}
