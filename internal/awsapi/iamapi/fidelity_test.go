package iamapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

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

// TestTagValidationAsAWS: AWS's Tag type for users, roles and policies,
// with messages naming the member, the limit and the resource type.
func TestTagValidationAsAWS(t *testing.T) {
	ctx := context.Background()
	e := awsapitest.New(t, awsapitest.IdentityAPIs)
	c := e.RootIAM()
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	long := strings.Repeat("v", 257)
	cases := []struct {
		name string
		tags []types.Tag
		code string
		msg  string
	}{
		{"value too long", []types.Tag{tag("ok", "1"), tag("k", long)}, "ValidationError",
			"1 validation error detected: Value '" + long + "' at 'tags.2.member.value' failed to satisfy constraint: Member must have length less than or equal to 256"},
		{"key too long", []types.Tag{tag(strings.Repeat("k", 129), "")}, "ValidationError",
			"1 validation error detected: Value '" + strings.Repeat("k", 129) + "' at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"key characters", []types.Tag{tag("NOWAY!", "v")}, "ValidationError",
			`1 validation error detected: Value 'NOWAY!' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`},
		{"value characters", []types.Tag{tag("k", "a*b")}, "ValidationError",
			`1 validation error detected: Value 'a*b' at 'tags.1.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*`},
		{"keys fold", []types.Tag{tag("a", "1"), tag("A", "2")}, "InvalidInput",
			"Duplicate tag keys found. Please note that Tag keys are case insensitive."},
	}
	n := 0
	for _, tc := range cases {
		for _, kind := range []string{"user", "role", "policy"} {
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				n++
				name := aws.String(fmt.Sprintf("x%d", n))
				var err error
				switch kind {
				case "user":
					_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: name, Tags: tc.tags})
				case "role":
					_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: name, AssumeRolePolicyDocument: aws.String(trustAccount), Tags: tc.tags})
				case "policy":
					_, err = c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: name, PolicyDocument: aws.String(ecrPullDoc), Tags: tc.tags})
				}
				status := 400
				awsapitest.WantErr(t, err, tc.code, status, tc.msg)
			})
		}
	}

	// Unicode letters, separators and the punctuation AWS allows are fine.
	iamsvctest.Must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u"),
		Tags: []types.Tag{tag("ünï code:/=+-@_.", ""), tag("a b", "välue 1")}}))

	// 51 tags in one request is the model's list limit; growing past 50 by
	// TagUser is the user quota.
	var fifty []types.Tag
	for i := 0; i < 50; i++ {
		fifty = append(fifty, tag(fmt.Sprintf("k%02d", i), ""))
	}
	_, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("many"), PolicyDocument: aws.String(ecrPullDoc), Tags: append(fifty, tag("k50", ""))})
	awsapitest.WantErrContaining(t, err, "ValidationError", 400, "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
	iamsvctest.Must[*iam.TagUserOutput](t)(c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("u"), Tags: fifty[:48]}))
	_, err = c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("u"), Tags: []types.Tag{tag("one-more", "")}})
	awsapitest.WantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for TagsPerUser: 50")
	// Re-tagging a key in another case replaces it instead of adding one.
	iamsvctest.Must[*iam.TagUserOutput](t)(c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("u"), Tags: []types.Tag{tag("K00", "x")}}))
	_, err = c.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("u"), TagKeys: []string{"NOWAY!"}})
	awsapitest.WantErr(t, err, "ValidationError", 400,
		`1 validation error detected: Value 'NOWAY!' at 'tagKeys.1.member' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
}
