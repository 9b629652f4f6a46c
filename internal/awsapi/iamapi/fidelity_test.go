package iamapi_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/berth-dev/berth/internal/awsapi/awsapitest"
	"github.com/berth-dev/berth/internal/iamsvc/iamsvctest"
)

// TestResponseShapesAsAWS: members AWS sends or leaves out, per operation.
func TestResponseShapesAsAWS(t *testing.T) {
	ctx := context.Background()
	e := awsapitest.New(t, awsapitest.IdentityAPIs)
	c := e.RootIAM()

	// CreateRole answers without MaxSessionDuration; GetRole and ListRoles have it.
	cr := iamsvctest.Must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"),
		AssumeRolePolicyDocument: aws.String(trustAccount), MaxSessionDuration: aws.Int32(7200)}))
	if cr.Role.MaxSessionDuration != nil {
		t.Fatalf("CreateRole sent MaxSessionDuration %d", *cr.Role.MaxSessionDuration)
	}
	gr := iamsvctest.Must[*iam.GetRoleOutput](t)(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")}))
	if aws.ToInt32(gr.Role.MaxSessionDuration) != 7200 {
		t.Fatalf("GetRole MaxSessionDuration %v", gr.Role.MaxSessionDuration)
	}
	lr := iamsvctest.Must[*iam.ListRolesOutput](t)(c.ListRoles(ctx, &iam.ListRolesInput{}))
	if len(lr.Roles) != 1 || aws.ToInt32(lr.Roles[0].MaxSessionDuration) != 7200 {
		t.Fatalf("ListRoles %+v", lr.Roles)
	}

	// GetPolicy of an untagged policy: Tags is an empty list, not missing
	// (CreatePolicy leaves it out).
	cp := iamsvctest.Must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(ecrPullDoc)}))
	if cp.Policy.Tags != nil {
		t.Fatalf("CreatePolicy sent Tags %v", cp.Policy.Tags)
	}
	gp := iamsvctest.Must[*iam.GetPolicyOutput](t)(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: cp.Policy.Arn}))
	if gp.Policy.Tags == nil || len(gp.Policy.Tags) != 0 {
		t.Fatalf("GetPolicy Tags %#v, want an empty list", gp.Policy.Tags)
	}
}

// TestAttachWithNonARN: every attach and detach call parses PolicyArn and
// answers a non-ARN in AWS's words.
func TestAttachWithNonARN(t *testing.T) {
	ctx := context.Background()
	e := awsapitest.New(t, awsapitest.IdentityAPIs)
	c := e.RootIAM()
	iamsvctest.Must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")}))
	iamsvctest.Must[*iam.CreateGroupOutput](t)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g")}))
	iamsvctest.Must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trustAccount)}))
	const bad = "AmazonEC2ContainerRegistryReadOnly"
	const want = "Invalid ARN:  Could not be parsed!"
	calls := map[string]func() error{
		"AttachUserPolicy": func() error {
			_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(bad)})
			return err
		},
		"DetachUserPolicy": func() error {
			_, err := c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(bad)})
			return err
		},
		"AttachRolePolicy": func() error {
			_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String(bad)})
			return err
		},
		"DetachRolePolicy": func() error {
			_, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String(bad)})
			return err
		},
		"AttachGroupPolicy": func() error {
			_, err := c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: aws.String(bad)})
			return err
		},
		"DetachGroupPolicy": func() error {
			_, err := c.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: aws.String(bad)})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { awsapitest.WantErr(t, call(), "ValidationError", 400, want) })
	}
	// Too short for the model: the length rule speaks first.
	_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String("short")})
	awsapitest.WantErr(t, err, "ValidationError", 400,
		"1 validation error detected: Value 'short' at 'policyArn' failed to satisfy constraint: Member must have length greater than or equal to 20")
	// An ARN that names no policy stays InvalidInput.
	_, err = c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String("arn:aws:s3:::bucket/policy")})
	awsapitest.WantErr(t, err, "InvalidInput", 400, "ARN arn:aws:s3:::bucket/policy is not valid.")
}
