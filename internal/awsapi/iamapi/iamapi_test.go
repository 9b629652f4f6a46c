package iamapi_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/berth-dev/berth/internal/awsapi/awsapitest"
	"github.com/berth-dev/berth/internal/iamsvc/iamsvctest"
)

const readOnlyARN = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"

const ecrPullDoc = `{"Version":"2012-10-17","Statement":[{"Sid":"Pull","Effect":"Allow","Action":["ecr:BatchGetImage"],"Resource":"arn:aws:ecr:*:111111111111:repository/app+x"}]}`

func TestUsersAndAccessKeys(t *testing.T) {
	ctx := context.Background()
	e := awsapitest.New(t, awsapitest.IdentityAPIs)
	c := e.RootIAM()

	created := iamsvctest.Must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{
		UserName: aws.String("release"), Path: aws.String("/ci/"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}},
	}))
	u := created.User
	if aws.ToString(u.Arn) != "arn:aws:iam::111111111111:user/ci/release" || aws.ToString(u.Path) != "/ci/" ||
		!strings.HasPrefix(aws.ToString(u.UserId), "AIDA") || len(aws.ToString(u.UserId)) != 21 ||
		u.CreateDate == nil || time.Since(*u.CreateDate) > time.Hour || len(u.Tags) != 1 {
		t.Fatalf("CreateUser = %+v", u)
	}

	_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("RELEASE")})
	awsapitest.WantErr(t, err, "EntityAlreadyExists", 409, "User with name RELEASE already exists.")
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bad/name")})
	awsapitest.WantErr(t, err, "ValidationError", 400,
		`1 validation error detected: Value 'bad/name' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`)

	got := iamsvctest.Must[*iam.GetUserOutput](t)(c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("release")}))
	if aws.ToString(got.User.UserId) != aws.ToString(u.UserId) || aws.ToString(got.User.Tags[0].Value) != "platform" {
		t.Fatalf("GetUser = %+v", got.User)
	}
	_, err = c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("ghost")})
	awsapitest.WantErr(t, err, "NoSuchEntity", 404, "The user with name ghost cannot be found.")

	// GetUser without a name describes the caller: the root user here.
	self := iamsvctest.Must[*iam.GetUserOutput](t)(c.GetUser(ctx, &iam.GetUserInput{}))
	if aws.ToString(self.User.Arn) != "arn:aws:iam::111111111111:root" || aws.ToString(self.User.UserId) != awsapitest.Account {
		t.Fatalf("GetUser(root) = %+v", self.User)
	}

	// Tags.
	iamsvctest.Must[*iam.TagUserOutput](t)(c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("release"),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}))
	iamsvctest.Must[*iam.UntagUserOutput](t)(c.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("release"), TagKeys: []string{"team"}}))
	tags := iamsvctest.Must[*iam.ListUserTagsOutput](t)(c.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("release")}))
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" || tags.IsTruncated {
		t.Fatalf("ListUserTags = %+v", tags.Tags)
	}

	// Access keys: two allowed, a third is over quota.
	k1 := iamsvctest.Must[*iam.CreateAccessKeyOutput](t)(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("release")}))
	if id := aws.ToString(k1.AccessKey.AccessKeyId); !strings.HasPrefix(id, "AKIA") || len(id) != 20 ||
		len(aws.ToString(k1.AccessKey.SecretAccessKey)) != 40 || k1.AccessKey.Status != types.StatusTypeActive ||
		aws.ToString(k1.AccessKey.UserName) != "release" {
		t.Fatalf("CreateAccessKey = %+v", k1.AccessKey)
	}
	k2 := iamsvctest.Must[*iam.CreateAccessKeyOutput](t)(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("release")}))
	_, err = c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("release")})
	awsapitest.WantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: 2")

	keys := iamsvctest.Must[*iam.ListAccessKeysOutput](t)(c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("release")}))
	if len(keys.AccessKeyMetadata) != 2 || keys.IsTruncated {
		t.Fatalf("ListAccessKeys = %+v", keys)
	}
	for _, k := range keys.AccessKeyMetadata {
		if k.CreateDate == nil || aws.ToString(k.UserName) != "release" {
			t.Fatalf("key metadata = %+v", k)
		}
	}

	// The new key works (its owner is the caller), then stops when inactive.
	userSTS := e.STS(aws.ToString(k1.AccessKey.AccessKeyId), aws.ToString(k1.AccessKey.SecretAccessKey), "")
	if _, err := userSTS.GetCallerIdentity(ctx, nil); err != nil {
		t.Fatal(err)
	}
	iamsvctest.Must[*iam.UpdateAccessKeyOutput](t)(c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{
		UserName: aws.String("release"), AccessKeyId: k1.AccessKey.AccessKeyId, Status: types.StatusTypeInactive}))
	_, err = userSTS.GetCallerIdentity(ctx, nil)
	awsapitest.WantErr(t, err, "InvalidClientTokenId", 403, "The security token included in the request is invalid.")
	_, err = c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("release"), AccessKeyId: k1.AccessKey.AccessKeyId, Status: "Paused"})
	awsapitest.WantErr(t, err, "ValidationError", 400, "")

	last := iamsvctest.Must[*iam.GetAccessKeyLastUsedOutput](t)(c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k2.AccessKey.AccessKeyId}))
	if aws.ToString(last.UserName) != "release" || aws.ToString(last.AccessKeyLastUsed.ServiceName) != "N/A" {
		t.Fatalf("GetAccessKeyLastUsed = %+v", last)
	}

	// DeleteConflict while keys, policies or groups remain.
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("release")})
	awsapitest.WantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must delete access keys first.")
	for _, k := range []*types.AccessKey{k1.AccessKey, k2.AccessKey} {
		iamsvctest.Must[*iam.DeleteAccessKeyOutput](t)(c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("release"), AccessKeyId: k.AccessKeyId}))
	}
	_, err = c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("release"), AccessKeyId: k1.AccessKey.AccessKeyId})
	awsapitest.WantErr(t, err, "NoSuchEntity", 404, fmt.Sprintf("The Access Key with id %s cannot be found.", aws.ToString(k1.AccessKey.AccessKeyId)))

	iamsvctest.Must[*iam.PutUserPolicyOutput](t)(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("release"),
		PolicyName: aws.String("pull"), PolicyDocument: aws.String(ecrPullDoc)}))
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("release")})
	awsapitest.WantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must delete policies first.")
	iamsvctest.Must[*iam.DeleteUserPolicyOutput](t)(c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("release"), PolicyName: aws.String("pull")}))

	iamsvctest.Must[*iam.AttachUserPolicyOutput](t)(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("release"), PolicyArn: aws.String(readOnlyARN)}))
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("release")})
	awsapitest.WantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
	iamsvctest.Must[*iam.DetachUserPolicyOutput](t)(c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("release"), PolicyArn: aws.String(readOnlyARN)}))

	// UpdateUser renames and moves.
	iamsvctest.Must[*iam.UpdateUserOutput](t)(c.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("release"),
		NewUserName: aws.String("release2"), NewPath: aws.String("/")}))
	moved := iamsvctest.Must[*iam.GetUserOutput](t)(c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("release2")}))
	if aws.ToString(moved.User.Arn) != "arn:aws:iam::111111111111:user/release2" {
		t.Fatalf("after UpdateUser: %+v", moved.User)
	}
	iamsvctest.Must[*iam.DeleteUserOutput](t)(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("release2")}))
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("release2")})
	awsapitest.WantErr(t, err, "NoSuchEntity", 404, "The user with name release2 cannot be found.")
}

func TestListUsersPaginator(t *testing.T) {
	ctx := context.Background()
	e := awsapitest.New(t, awsapitest.IdentityAPIs)
	c := e.RootIAM()
	for i := range 7 {
		path := "/"
		if i%2 == 0 {
			path = "/even/"
		}
		iamsvctest.Must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("u%02d", i)), Path: aws.String(path)}))
	}
	tests := []struct {
		prefix string
		max    int32
		want   []string
		pages  int
	}{
		{"", 3, []string{"u00", "u01", "u02", "u03", "u04", "u05", "u06"}, 3},
		{"", 7, []string{"u00", "u01", "u02", "u03", "u04", "u05", "u06"}, 1},
		{"/even/", 2, []string{"u00", "u02", "u04", "u06"}, 2},
		{"/none/", 5, nil, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.prefix, tt.max), func(t *testing.T) {
			in := &iam.ListUsersInput{MaxItems: aws.Int32(tt.max)}
			if tt.prefix != "" {
				in.PathPrefix = aws.String(tt.prefix)
			}
			p := iam.NewListUsersPaginator(c, in)
			var names []string
			pages := 0
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if out.IsTruncated != (out.Marker != nil) {
					t.Fatalf("IsTruncated %v with Marker %v", out.IsTruncated, out.Marker)
				}
				for _, u := range out.Users {
					names = append(names, aws.ToString(u.UserName))
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") || pages != tt.pages {
				t.Fatalf("got %v in %d pages, want %v in %d", names, pages, tt.want, tt.pages)
			}
		})
	}
	_, err := c.ListUsers(ctx, &iam.ListUsersInput{Marker: aws.String("u03")})
	awsapitest.WantErr(t, err, "ValidationError", 400, "")
	_, err = c.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(1001)})
	awsapitest.WantErr(t, err, "ValidationError", 400,
		"1 validation error detected: Value '1001' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000")
}

func TestManagedPolicies(t *testing.T) {
	ctx := context.Background()
	e := awsapitest.New(t, awsapitest.IdentityAPIs)
	c := e.RootIAM()

	doc := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}`
	cp := iamsvctest.Must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("ecr-all"),
		PolicyDocument: aws.String(doc), Description: aws.String("all of ecr"), Path: aws.String("/team/")}))
	pa := aws.ToString(cp.Policy.Arn)
	if pa != "arn:aws:iam::111111111111:policy/team/ecr-all" || aws.ToString(cp.Policy.DefaultVersionId) != "v1" ||
		!cp.Policy.IsAttachable || aws.ToInt32(cp.Policy.AttachmentCount) != 0 || !strings.HasPrefix(aws.ToString(cp.Policy.PolicyId), "ANPA") {
		t.Fatalf("CreatePolicy = %+v", cp.Policy)
	}
	_, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("ecr-all"), PolicyDocument: aws.String(doc)})
	awsapitest.WantErr(t, err, "EntityAlreadyExists", 409, "A policy called ecr-all already exists. Duplicate names are not allowed.")
	_, err = c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("broken"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`)})
	awsapitest.WantErr(t, err, "MalformedPolicyDocument", 400, "")
	_, err = c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("broken"), PolicyDocument: aws.String(`{not json`)})
	awsapitest.WantErr(t, err, "MalformedPolicyDocument", 400, "")

	gp := iamsvctest.Must[*iam.GetPolicyOutput](t)(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(pa)}))
	if aws.ToString(gp.Policy.Description) != "all of ecr" {
		t.Fatalf("GetPolicy = %+v", gp.Policy)
	}
	_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::111111111111:policy/nope")})
	awsapitest.WantErr(t, err, "NoSuchEntity", 404, "Policy arn:aws:iam::111111111111:policy/nope was not found.")
	_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("not-an-arn-but-long-enough")})
	awsapitest.WantErr(t, err, "InvalidInput", 400, "ARN not-an-arn-but-long-enough is not valid.")

	// Documents come back URL-encoded, exactly as sent once decoded.
	v1 := iamsvctest.Must[*iam.GetPolicyVersionOutput](t)(c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(pa), VersionId: aws.String("v1")}))
	if dec, err := url.QueryUnescape(aws.ToString(v1.PolicyVersion.Document)); err != nil || dec != doc || !v1.PolicyVersion.IsDefaultVersion {
		t.Fatalf("GetPolicyVersion document %q → %q (%v)", aws.ToString(v1.PolicyVersion.Document), dec, err)
	}
	if strings.ContainsAny(aws.ToString(v1.PolicyVersion.Document), "{ \"+") {
		t.Fatalf("document not encoded: %q", aws.ToString(v1.PolicyVersion.Document))
	}

	// Versions: up to 5, default switching, deleting.
	for i := 2; i <= 5; i++ {
		v := iamsvctest.Must[*iam.CreatePolicyVersionOutput](t)(c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(pa),
			PolicyDocument: aws.String(ecrPullDoc), SetAsDefault: i == 3}))
		if aws.ToString(v.PolicyVersion.VersionId) != fmt.Sprintf("v%d", i) || v.PolicyVersion.IsDefaultVersion != (i == 3) {
			t.Fatalf("CreatePolicyVersion = %+v", v.PolicyVersion)
		}
	}
	_, err = c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(pa), PolicyDocument: aws.String(doc)})
	awsapitest.WantErr(t, err, "LimitExceeded", 409, "")
	vs := iamsvctest.Must[*iam.ListPolicyVersionsOutput](t)(c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(pa), MaxItems: aws.Int32(3)}))
	if len(vs.Versions) != 3 || !vs.IsTruncated || aws.ToString(vs.Versions[0].VersionId) != "v5" {
		t.Fatalf("ListPolicyVersions = %+v", vs)
	}
	rest := iamsvctest.Must[*iam.ListPolicyVersionsOutput](t)(c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(pa), Marker: vs.Marker}))
	if len(rest.Versions) != 2 || rest.IsTruncated || aws.ToString(rest.Versions[1].VersionId) != "v1" {
		t.Fatalf("ListPolicyVersions page 2 = %+v", rest)
	}
	_, err = c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(pa), VersionId: aws.String("v3")})
	awsapitest.WantErr(t, err, "DeleteConflict", 409, "Cannot delete the default version of a policy.")
	iamsvctest.Must[*iam.SetDefaultPolicyVersionOutput](t)(c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(pa), VersionId: aws.String("v1")}))
	_, err = c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(pa), VersionId: aws.String("v9")})
	awsapitest.WantErr(t, err, "NoSuchEntity", 404, "")

	// Attach to a user, role and group; deleting the policy conflicts.
	iamsvctest.Must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}))
	iamsvctest.Must[*iam.AttachUserPolicyOutput](t)(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(pa)}))
	iamsvctest.Must[*iam.AttachUserPolicyOutput](t)(c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(readOnlyARN)}))
	_, err = c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
	awsapitest.WantErr(t, err, "NoSuchEntity", 404, "Policy arn:aws:iam::aws:policy/NoSuchPolicy does not exist or is not attachable.")
	att := iamsvctest.Must[*iam.ListAttachedUserPoliciesOutput](t)(c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("bob")}))
	if len(att.AttachedPolicies) != 2 || aws.ToString(att.AttachedPolicies[0].PolicyName) != "AmazonEC2ContainerRegistryReadOnly" {
		t.Fatalf("ListAttachedUserPolicies = %+v", att.AttachedPolicies)
	}
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(pa)})
	awsapitest.WantErr(t, err, "DeleteConflict", 409, "Cannot delete a policy attached to entities.")

	// ListPolicies scopes and OnlyAttached; the AWS-managed ECR policies are there.
	names := func(in *iam.ListPoliciesInput) []string {
		var out []string
		p := iam.NewListPoliciesPaginator(c, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, pol := range page.Policies {
				out = append(out, aws.ToString(pol.PolicyName))
			}
		}
		return out
	}
	awsPols := names(&iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, MaxItems: aws.Int32(1)})
	want := "AmazonEC2ContainerRegistryFullAccess,AmazonEC2ContainerRegistryPowerUser,AmazonEC2ContainerRegistryPullOnly,AmazonEC2ContainerRegistryReadOnly"
	if strings.Join(awsPols, ",") != want {
		t.Fatalf("Scope=AWS: %v", awsPols)
	}
	if got := names(&iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal}); strings.Join(got, ",") != "ecr-all" {
		t.Fatalf("Scope=Local: %v", got)
	}
	if got := names(&iam.ListPoliciesInput{MaxItems: aws.Int32(2)}); len(got) != 5 {
		t.Fatalf("Scope=All: %v", got)
	}
	if got := names(&iam.ListPoliciesInput{OnlyAttached: true}); strings.Join(got, ",") != "AmazonEC2ContainerRegistryReadOnly,ecr-all" {
		t.Fatalf("OnlyAttached: %v", got)
	}
	if got := names(&iam.ListPoliciesInput{PathPrefix: aws.String("/team/")}); strings.Join(got, ",") != "ecr-all" {
		t.Fatalf("PathPrefix: %v", got)
	}

	ro := iamsvctest.Must[*iam.GetPolicyVersionOutput](t)(c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(readOnlyARN), VersionId: aws.String("v3")}))
	if dec, _ := url.QueryUnescape(aws.ToString(ro.PolicyVersion.Document)); !strings.Contains(dec, "ecr:BatchGetImage") {
		t.Fatalf("AWS-managed document: %q", dec)
	}
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(readOnlyARN)})
	awsapitest.WantErr(t, err, "InvalidInput", 400, "")

	iamsvctest.Must[*iam.DetachUserPolicyOutput](t)(c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(pa)}))
	_, err = c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(pa)})
	awsapitest.WantErr(t, err, "NoSuchEntity", 404, "Policy "+pa+" was not found.")
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(pa)})
	awsapitest.WantErr(t, err, "DeleteConflict", 409, "")
	for _, v := range []string{"v2", "v3", "v4", "v5"} {
		iamsvctest.Must[*iam.DeletePolicyVersionOutput](t)(c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(pa), VersionId: aws.String(v)}))
	}
	iamsvctest.Must[*iam.DeletePolicyOutput](t)(c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(pa)}))

	// Ten attachments at most.
	for i := range 10 {
		p := iamsvctest.Must[*iam.CreatePolicyOutput](t)(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("p%d", i)), PolicyDocument: aws.String(doc)}))
		_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: p.Policy.Arn})
		if i < 9 && err != nil {
			t.Fatal(err)
		}
		if i == 9 {
			awsapitest.WantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for PoliciesPerUser: 10")
		}
	}
}

func TestInlinePolicies(t *testing.T) {
	ctx := context.Background()
	e := awsapitest.New(t, awsapitest.IdentityAPIs)
	c := e.RootIAM()
	iamsvctest.Must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}))
	iamsvctest.Must[*iam.CreateGroupOutput](t)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}))
	iamsvctest.Must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ci"),
		AssumeRolePolicyDocument: aws.String(trustAccount)}))

	type kind struct {
		name                         string
		put                          func(name, doc string) error
		get                          func(name string) (entity, policy, doc string, err error)
		list                         func() ([]string, error)
		del                          func(name string) error
		attach                       func(arn string) error
		attached                     func() (int, error)
		missingEntity, missingPolicy string
	}
	kinds := []kind{
		{
			name: "user",
			put: func(n, d string) error {
				_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String(n), PolicyDocument: aws.String(d)})
				return err
			},
			get: func(n string) (string, string, string, error) {
				o, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String(n)})
				if err != nil {
					return "", "", "", err
				}
				return aws.ToString(o.UserName), aws.ToString(o.PolicyName), aws.ToString(o.PolicyDocument), nil
			},
			list: func() ([]string, error) {
				o, err := c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("bob")})
				if err != nil {
					return nil, err
				}
				return o.PolicyNames, nil
			},
			del: func(n string) error {
				_, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String(n)})
				return err
			},
			attach: func(a string) error {
				_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(a)})
				return err
			},
			attached: func() (int, error) {
				o, err := c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("bob")})
				if err != nil {
					return 0, err
				}
				return len(o.AttachedPolicies), nil
			},
			missingPolicy: "The user policy with name nope cannot be found.",
		},
		{
			name: "group",
			put: func(n, d string) error {
				_, err := c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String(n), PolicyDocument: aws.String(d)})
				return err
			},
			get: func(n string) (string, string, string, error) {
				o, err := c.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String(n)})
				if err != nil {
					return "", "", "", err
				}
				return aws.ToString(o.GroupName), aws.ToString(o.PolicyName), aws.ToString(o.PolicyDocument), nil
			},
			list: func() ([]string, error) {
				o, err := c.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: aws.String("devs")})
				if err != nil {
					return nil, err
				}
				return o.PolicyNames, nil
			},
			del: func(n string) error {
				_, err := c.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String(n)})
				return err
			},
			attach: func(a string) error {
				_, err := c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String(a)})
				return err
			},
			attached: func() (int, error) {
				o, err := c.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("devs")})
				if err != nil {
					return 0, err
				}
				return len(o.AttachedPolicies), nil
			},
			missingPolicy: "The group policy with name nope cannot be found.",
		},
		{
			name: "role",
			put: func(n, d string) error {
				_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ci"), PolicyName: aws.String(n), PolicyDocument: aws.String(d)})
				return err
			},
			get: func(n string) (string, string, string, error) {
				o, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("ci"), PolicyName: aws.String(n)})
				if err != nil {
					return "", "", "", err
				}
				return aws.ToString(o.RoleName), aws.ToString(o.PolicyName), aws.ToString(o.PolicyDocument), nil
			},
			list: func() ([]string, error) {
				o, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("ci")})
				if err != nil {
					return nil, err
				}
				return o.PolicyNames, nil
			},
			del: func(n string) error {
				_, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("ci"), PolicyName: aws.String(n)})
				return err
			},
			attach: func(a string) error {
				_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("ci"), PolicyArn: aws.String(a)})
				return err
			},
			attached: func() (int, error) {
				o, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("ci")})
				if err != nil {
					return 0, err
				}
				return len(o.AttachedPolicies), nil
			},
			missingPolicy: "The role policy with name nope cannot be found.",
		},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			if names, err := k.list(); err != nil || len(names) != 0 {
				t.Fatalf("empty list = %v, %v", names, err)
			}
			if err := k.put("pull", ecrPullDoc); err != nil {
				t.Fatal(err)
			}
			entity, policy, enc, err := k.get("pull")
			if err != nil {
				t.Fatal(err)
			}
			if dec, _ := url.QueryUnescape(enc); dec != ecrPullDoc || policy != "pull" || entity == "" {
				t.Fatalf("get = %s %s %q", entity, policy, dec)
			}
			awsapitest.WantErr(t, k.put("bad", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*"}]}`), "MalformedPolicyDocument", 400, "")
			_, _, _, err = k.get("nope")
			awsapitest.WantErr(t, err, "NoSuchEntity", 404, k.missingPolicy)
			if names, err := k.list(); err != nil || strings.Join(names, ",") != "pull" {
				t.Fatalf("list = %v, %v", names, err)
			}
			if err := k.attach(readOnlyARN); err != nil {
				t.Fatal(err)
			}
			if n, err := k.attached(); err != nil || n != 1 {
				t.Fatalf("attached = %d, %v", n, err)
			}
			if err := k.del("pull"); err != nil {
				t.Fatal(err)
			}
			awsapitest.WantErr(t, k.del("pull"), "NoSuchEntity", 404, "")
		})
	}
	// Oversized inline policies hit the per-user total.
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"arn:aws:ecr:*:*:repository/` + strings.Repeat("a", 2100) + `"}]}`
	_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("big"), PolicyDocument: aws.String(big)})
	awsapitest.WantErr(t, err, "LimitExceeded", 409, "Maximum policy size of 2048 bytes exceeded for user bob.")
	_, err = c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ghost"), PolicyName: aws.String("p"), PolicyDocument: aws.String(ecrPullDoc)})
	awsapitest.WantErr(t, err, "NoSuchEntity", 404, "The user with name ghost cannot be found.")
}

const trustAccount = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}`

func TestRolesAndGroups(t *testing.T) {
	ctx := context.Background()
	e := awsapitest.New(t, awsapitest.IdentityAPIs)
	c := e.RootIAM()

	cr := iamsvctest.Must[*iam.CreateRoleOutput](t)(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"), Path: aws.String("/svc/"),
		AssumeRolePolicyDocument: aws.String(trustAccount), Description: aws.String("deploys"), MaxSessionDuration: aws.Int32(7200),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}))
	r := cr.Role
	if aws.ToString(r.Arn) != "arn:aws:iam::111111111111:role/svc/deployer" || r.MaxSessionDuration != nil ||
		!strings.HasPrefix(aws.ToString(r.RoleId), "AROA") || aws.ToString(r.Description) != "deploys" || len(r.Tags) != 1 {
		t.Fatalf("CreateRole = %+v", r)
	}
	if dec, _ := url.QueryUnescape(aws.ToString(r.AssumeRolePolicyDocument)); dec != trustAccount {
		t.Fatalf("trust policy = %q", dec)
	}
	_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deployer"), AssumeRolePolicyDocument: aws.String(trustAccount)})
	awsapitest.WantErr(t, err, "EntityAlreadyExists", 409, "Role with name deployer already exists.")
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("x2"), AssumeRolePolicyDocument: aws.String(ecrPullDoc)})
	awsapitest.WantErr(t, err, "MalformedPolicyDocument", 400, "")
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("x3"), AssumeRolePolicyDocument: aws.String(trustAccount), MaxSessionDuration: aws.Int32(60)})
	awsapitest.WantErr(t, err, "ValidationError", 400,
		"1 validation error detected: Value '60' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600")

	gr := iamsvctest.Must[*iam.GetRoleOutput](t)(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("deployer")}))
	if aws.ToString(gr.Role.RoleName) != "deployer" || gr.Role.RoleLastUsed == nil {
		t.Fatalf("GetRole = %+v", gr.Role)
	}
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("ghost")})
	awsapitest.WantErr(t, err, "NoSuchEntity", 404, "The role with name ghost cannot be found.")

	newTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	iamsvctest.Must[*iam.UpdateAssumeRolePolicyOutput](t)(c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("deployer"), PolicyDocument: aws.String(newTrust)}))
	iamsvctest.Must[*iam.UpdateRoleOutput](t)(c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("deployer"), Description: aws.String("d2")}))
	lr := iamsvctest.Must[*iam.ListRolesOutput](t)(c.ListRoles(ctx, &iam.ListRolesInput{}))
	if len(lr.Roles) != 1 || aws.ToString(lr.Roles[0].Description) != "d2" {
		t.Fatalf("ListRoles = %+v", lr.Roles)
	}
	if dec, _ := url.QueryUnescape(aws.ToString(lr.Roles[0].AssumeRolePolicyDocument)); dec != newTrust {
		t.Fatalf("updated trust = %q", dec)
	}
	iamsvctest.Must[*iam.AttachRolePolicyOutput](t)(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("deployer"), PolicyArn: aws.String(readOnlyARN)}))
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("deployer")})
	awsapitest.WantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
	iamsvctest.Must[*iam.DetachRolePolicyOutput](t)(c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("deployer"), PolicyArn: aws.String(readOnlyARN)}))
	iamsvctest.Must[*iam.DeleteRoleOutput](t)(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("deployer")}))

	// Groups and membership.
	g := iamsvctest.Must[*iam.CreateGroupOutput](t)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs"), Path: aws.String("/eng/")}))
	if aws.ToString(g.Group.Arn) != "arn:aws:iam::111111111111:group/eng/devs" || !strings.HasPrefix(aws.ToString(g.Group.GroupId), "AGPA") {
		t.Fatalf("CreateGroup = %+v", g.Group)
	}
	_, err = c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")})
	awsapitest.WantErr(t, err, "EntityAlreadyExists", 409, "Group with name devs already exists.")
	iamsvctest.Must[*iam.CreateGroupOutput](t)(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")}))
	for _, u := range []string{"ann", "bob", "cat"} {
		iamsvctest.Must[*iam.CreateUserOutput](t)(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}))
		iamsvctest.Must[*iam.AddUserToGroupOutput](t)(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String(u)}))
	}
	iamsvctest.Must[*iam.AddUserToGroupOutput](t)(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String("bob")}))
	_, err = c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("nope"), UserName: aws.String("bob")})
	awsapitest.WantErr(t, err, "NoSuchEntity", 404, "The group with name nope cannot be found.")

	p := iam.NewGetGroupPaginator(c, &iam.GetGroupInput{GroupName: aws.String("devs"), MaxItems: aws.Int32(2)})
	var members []string
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.Group.GroupName) != "devs" {
			t.Fatalf("GetGroup group = %+v", out.Group)
		}
		for _, u := range out.Users {
			members = append(members, aws.ToString(u.UserName))
		}
	}
	if strings.Join(members, ",") != "ann,bob,cat" {
		t.Fatalf("GetGroup members = %v", members)
	}
	gfu := iamsvctest.Must[*iam.ListGroupsForUserOutput](t)(c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("bob")}))
	if len(gfu.Groups) != 2 || aws.ToString(gfu.Groups[0].GroupName) != "devs" {
		t.Fatalf("ListGroupsForUser = %+v", gfu.Groups)
	}
	lg := iamsvctest.Must[*iam.ListGroupsOutput](t)(c.ListGroups(ctx, &iam.ListGroupsInput{PathPrefix: aws.String("/eng/")}))
	if len(lg.Groups) != 1 {
		t.Fatalf("ListGroups = %+v", lg.Groups)
	}
	_, err = c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("ops")})
	awsapitest.WantErr(t, err, "DeleteConflict", 409, "")
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})
	awsapitest.WantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must remove users from group first.")
	iamsvctest.Must[*iam.RemoveUserFromGroupOutput](t)(c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("ops"), UserName: aws.String("bob")}))
	iamsvctest.Must[*iam.DeleteGroupOutput](t)(c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("ops")}))
	_, err = c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("ops")})
	awsapitest.WantErr(t, err, "NoSuchEntity", 404, "The group with name ops cannot be found.")
}

// A user's IAM permissions come from its policies, and denials carry AWS's message.
func TestAuthorization(t *testing.T) {
	ctx := context.Background()
	e := awsapitest.New(t, awsapitest.IdentityAPIs)
	root := e.RootIAM()
	iamsvctest.Must[*iam.CreateUserOutput](t)(root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("reader")}))
	iamsvctest.Must[*iam.AttachUserPolicyOutput](t)(root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("reader"), PolicyArn: aws.String(readOnlyARN)}))
	k := iamsvctest.Must[*iam.CreateAccessKeyOutput](t)(root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("reader")}))
	reader := e.IAM(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), "")

	_, err := reader.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("eve")})
	awsapitest.WantErr(t, err, "AccessDenied", 403,
		"User: arn:aws:iam::111111111111:user/reader is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::111111111111:user/eve because no identity-based policy allows the iam:CreateUser action")
	_, err = reader.ListUsers(ctx, &iam.ListUsersInput{})
	awsapitest.WantErr(t, err, "AccessDenied", 403,
		"User: arn:aws:iam::111111111111:user/reader is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::111111111111:user/ because no identity-based policy allows the iam:ListUsers action")

	// Self-service with ${aws:username}, as AWS's own examples do it.
	self := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","iam:ListAccessKeys"],"Resource":"arn:aws:iam::111111111111:user/${aws:username}"}]}`
	iamsvctest.Must[*iam.PutUserPolicyOutput](t)(root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("self"), PolicyDocument: aws.String(self)}))
	me := iamsvctest.Must[*iam.GetUserOutput](t)(reader.GetUser(ctx, &iam.GetUserInput{}))
	if aws.ToString(me.User.UserName) != "reader" {
		t.Fatalf("GetUser(self) = %+v", me.User)
	}
	if keys := iamsvctest.Must[*iam.ListAccessKeysOutput](t)(reader.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})); len(keys.AccessKeyMetadata) != 1 {
		t.Fatalf("own keys = %+v", keys.AccessKeyMetadata)
	}
	_, err = reader.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("admin")})
	awsapitest.WantErr(t, err, "AccessDenied", 403, "")

	// An explicit deny beats an allow.
	iamsvctest.Must[*iam.PutUserPolicyOutput](t)(root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("deny"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:GetUser","Resource":"*"}]}`)}))
	_, err = reader.GetUser(ctx, &iam.GetUserInput{})
	awsapitest.WantErr(t, err, "AccessDenied", 403,
		"User: arn:aws:iam::111111111111:user/reader is not authorized to perform: iam:GetUser on resource: arn:aws:iam::111111111111:user/reader with an explicit deny in an identity-based policy")

	// Unsigned-ish failures: unknown key and wrong secret.
	_, err = e.IAM("AKIAUNKNOWNUNKNOWN00", "x", "").ListUsers(ctx, &iam.ListUsersInput{})
	awsapitest.WantErr(t, err, "InvalidClientTokenId", 403, "The security token included in the request is invalid.")
	_, err = e.IAM(e.Root.AccessKeyID, "wrong-secret-wrong-secret-wrong-secret00", "").ListUsers(ctx, &iam.ListUsersInput{})
	awsapitest.WantErr(t, err, "SignatureDoesNotMatch", 403, "")
}

// An IAM user allowed to manage every user's keys ("Resource": "*") must
// not reach the root user's keys by sending an empty UserName: root's keys
// are root's alone, as on AWS. Omitting UserName still means the caller.
func TestEmptyUserNameIsNotRoot(t *testing.T) {
	ctx := context.Background()
	e := awsapitest.New(t, awsapitest.IdentityAPIs)
	root := e.RootIAM()
	iamsvctest.Must[*iam.CreateUserOutput](t)(root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("keyadmin")}))
	keysDoc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*AccessKey*"],"Resource":"*"}]}`
	iamsvctest.Must[*iam.PutUserPolicyOutput](t)(root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("keyadmin"), PolicyName: aws.String("keys"), PolicyDocument: aws.String(keysDoc)}))
	k := iamsvctest.Must[*iam.CreateAccessKeyOutput](t)(root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("keyadmin")}))
	admin := e.IAM(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey), "")
	empty := aws.String("")
	const msg = "1 validation error detected: Value '' at 'userName' failed to satisfy constraint: Member must have length greater than or equal to 1"

	_, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: empty})
	awsapitest.WantErr(t, err, "ValidationError", 400, msg)
	_, err = admin.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: empty})
	awsapitest.WantErr(t, err, "ValidationError", 400, msg)
	_, err = admin.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: empty, AccessKeyId: aws.String(e.Root.AccessKeyID), Status: types.StatusTypeInactive})
	awsapitest.WantErr(t, err, "ValidationError", 400, msg)
	_, err = admin.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: empty, AccessKeyId: aws.String(e.Root.AccessKeyID)})
	awsapitest.WantErr(t, err, "ValidationError", 400, msg)
	// Root's own key is untouched and root still manages it.
	rootKeys := iamsvctest.Must[*iam.ListAccessKeysOutput](t)(root.ListAccessKeys(ctx, &iam.ListAccessKeysInput{}))
	if len(rootKeys.AccessKeyMetadata) != 1 || rootKeys.AccessKeyMetadata[0].Status != types.StatusTypeActive {
		t.Fatalf("root keys = %+v", rootKeys.AccessKeyMetadata)
	}
	// Without UserName the IAM user manages its own keys.
	own := iamsvctest.Must[*iam.ListAccessKeysOutput](t)(admin.ListAccessKeys(ctx, &iam.ListAccessKeysInput{}))
	if len(own.AccessKeyMetadata) != 1 || aws.ToString(own.AccessKeyMetadata[0].UserName) != "keyadmin" {
		t.Fatalf("own keys = %+v", own.AccessKeyMetadata)
	}
}
