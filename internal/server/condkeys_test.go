package server_test

import (
	"strings"
	"testing"
)

// Guardrail Deny statements keyed on condition keys berth used to leave
// unpopulated never matched, so they failed open. Each case is a Deny (or
// a conditional Allow) that must bite exactly when AWS's would.

const allowAll = `{"Effect":"Allow","Action":"*","Resource":"*"}`

func policyDoc(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

func (w *world) sessionOf(c creds) creds {
	w.t.Helper()
	st, body := w.sts(c, "GetSessionToken", nil)
	w.mustOK(st, body)
	return creds{key: xmlField(body, "AccessKeyId"), secret: xmlField(body, "SecretAccessKey"), token: xmlField(body, "SessionToken")}
}

// wantDenied(t, what)(w.call(…)) checks for AccessDenied.
func wantDenied(t *testing.T, what string) func(int, string) {
	return func(st int, body string) {
		t.Helper()
		if !denied(st, body) {
			t.Errorf("%s: want AccessDenied, got %d %s", what, st, body)
		}
	}
}

// wantOK(t, what)(w.call(…)) checks for a 200.
func wantOK(t *testing.T, what string) func(int, string) {
	return func(st int, body string) {
		t.Helper()
		if st != 200 {
			t.Errorf("%s: want 200, got %d %s", what, st, body)
		}
	}
}

func TestConditionKeyRequestedRegion(t *testing.T) {
	w := newWorld(t)
	dev := w.newUser(w.rootA, "dev", policyDoc(allowAll,
		`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1"]}}}`))
	wantOK(t, "ECR in us-east-1")(w.ecrIn(dev, "us-east-1", "DescribeRepositories", "{}"))
	wantDenied(t, "ECR in eu-west-1")(w.ecrIn(dev, "eu-west-1", "DescribeRepositories", "{}"))
	wantDenied(t, "SSM in eu-west-1")(w.call(dev, "ssm", "eu-west-1", "AmazonSSM.PutParameter", `{"Name":"x","Value":"y","Type":"String"}`))
	// The registry data plane: the region is the registry host's.
	tok := w.ecrToken(w.rootA, "eu-west-1")
	w.pushImage(w.host(acctA, "eu-west-1"), creds{key: "AWS", secret: tok}, "app", "v1", "layer-app")
	devTok := w.ecrToken(dev, "us-east-1")
	if r := w.v2(w.host(acctA, "us-east-1"), "AWS", devTok, "GET", "/v2/app/tags/list", nil, nil); r.status == 401 || r.status == 403 {
		t.Errorf("us-east-1 registry: %d %s", r.status, r.body)
	}
	wantDenied(t, "token for eu-west-1")(w.ecrIn(dev, "eu-west-1", "GetAuthorizationToken", "{}"))
}

func TestConditionKeyIAMPolicyARNAndBoundary(t *testing.T) {
	w := newWorld(t)
	const fullAccess = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess"
	const readOnly = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	admin := w.newUser(w.rootA, "useradmin", policyDoc(allowAll,
		`{"Effect":"Deny","Action":["iam:AttachUserPolicy","iam:AttachRolePolicy","iam:AttachGroupPolicy"],"Resource":"*","Condition":{"ArnEquals":{"iam:PolicyARN":"`+fullAccess+`"}}}`))
	w.mustIAM(w.rootA, "CreateUser", map[string]string{"UserName": "target"})
	w.mustIAM(w.rootA, "CreateGroup", map[string]string{"GroupName": "devs"})
	wantDenied(t, "attach the denied policy to a user")(w.iam(admin, "AttachUserPolicy", map[string]string{"UserName": "target", "PolicyArn": fullAccess}))
	wantDenied(t, "attach the denied policy to a group")(w.iam(admin, "AttachGroupPolicy", map[string]string{"GroupName": "devs", "PolicyArn": fullAccess}))
	wantOK(t, "attach another policy")(w.iam(admin, "AttachUserPolicy", map[string]string{"UserName": "target", "PolicyArn": readOnly}))

	// Delegated user creation: only with the boundary set (the AWS pattern).
	boundaryBody := w.mustIAM(w.rootA, "CreatePolicy", map[string]string{"PolicyName": "ceiling", "PolicyDocument": policyDoc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*"}`)})
	boundary := xmlField(boundaryBody, "Arn")
	delegate := w.newUser(w.rootA, "delegate", policyDoc(
		`{"Effect":"Allow","Action":["iam:CreateUser","iam:PutUserPolicy","iam:AttachUserPolicy"],"Resource":"*","Condition":{"StringEquals":{"iam:PermissionsBoundary":"`+boundary+`"}}}`))
	wantDenied(t, "CreateUser without the boundary")(w.iam(delegate, "CreateUser", map[string]string{"UserName": "free"}))
	wantOK(t, "CreateUser with the boundary")(w.iam(delegate, "CreateUser", map[string]string{"UserName": "bounded", "PermissionsBoundary": boundary}))
	// On an existing user the key is that user's boundary.
	wantOK(t, "PutUserPolicy on the bounded user")(w.iam(delegate, "PutUserPolicy", map[string]string{"UserName": "bounded", "PolicyName": "p", "PolicyDocument": policyDoc(allowAll)}))
	wantDenied(t, "PutUserPolicy on an unbounded user")(w.iam(delegate, "PutUserPolicy", map[string]string{"UserName": "target", "PolicyName": "p", "PolicyDocument": policyDoc(allowAll)}))
	wantDenied(t, "AttachUserPolicy on an unbounded user")(w.iam(delegate, "AttachUserPolicy", map[string]string{"UserName": "target", "PolicyArn": fullAccess}))
}

func TestConditionKeyTags(t *testing.T) {
	w := newWorld(t)
	// ECR: creating or tagging needs a team tag; untagging "team" is denied.
	dev := w.newUser(w.rootA, "dev", policyDoc(allowAll,
		`{"Effect":"Deny","Action":"ecr:CreateRepository","Resource":"*","Condition":{"Null":{"aws:RequestTag/team":"true"}}}`,
		`{"Effect":"Deny","Action":["ecr:TagResource","ecr:UntagResource"],"Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["locked"]}}}`,
		`{"Effect":"Deny","Action":"ecr:DeleteRepository","Resource":"*","Condition":{"StringEquals":{"ecr:ResourceTag/protected":"yes"}}}`,
		`{"Effect":"Deny","Action":"iam:DeleteUser","Resource":"*","Condition":{"StringEquals":{"iam:ResourceTag/protected":"yes"}}}`,
		`{"Effect":"Deny","Action":"iam:DeleteRole","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/protected":"yes"}}}`,
		`{"Effect":"Deny","Action":["iam:CreateUser","iam:TagUser"],"Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/role":"admin"}}}`,
		`{"Effect":"Deny","Action":"secretsmanager:CreateSecret","Resource":"*","Condition":{"Null":{"aws:RequestTag/owner":"true"}}}`,
		`{"Effect":"Deny","Action":"ssm:PutParameter","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":"forbidden"}}}`))
	repoARN := "arn:aws:ecr:" + w.region + ":" + acctA + ":repository/"
	wantDenied(t, "CreateRepository without team tag")(w.ecr(dev, "CreateRepository", `{"repositoryName":"untagged"}`))
	wantOK(t, "CreateRepository with team tag")(w.ecr(dev, "CreateRepository", `{"repositoryName":"tagged","tags":[{"Key":"team","Value":"blue"}]}`))
	wantDenied(t, "TagResource locked")(w.ecr(dev, "TagResource", `{"resourceArn":"`+repoARN+`tagged","tags":[{"Key":"locked","Value":"1"}]}`))
	wantDenied(t, "UntagResource locked")(w.ecr(dev, "UntagResource", `{"resourceArn":"`+repoARN+`tagged","tagKeys":["team","locked"]}`))
	wantOK(t, "UntagResource team")(w.ecr(dev, "UntagResource", `{"resourceArn":"`+repoARN+`tagged","tagKeys":["team"]}`))
	wantOK(t, "TagResource other")(w.ecr(dev, "TagResource", `{"resourceArn":"`+repoARN+`tagged","tags":[{"Key":"protected","Value":"yes"}]}`))
	wantDenied(t, "DeleteRepository protected")(w.ecr(dev, "DeleteRepository", `{"repositoryName":"tagged","force":true}`))

	w.mustIAM(w.rootA, "CreateUser", map[string]string{"UserName": "keep", "Tags.member.1.Key": "protected", "Tags.member.1.Value": "yes"})
	w.mustIAM(w.rootA, "CreateUser", map[string]string{"UserName": "temp"})
	wantDenied(t, "DeleteUser protected")(w.iam(dev, "DeleteUser", map[string]string{"UserName": "keep"}))
	wantOK(t, "DeleteUser unprotected")(w.iam(dev, "DeleteUser", map[string]string{"UserName": "temp"}))
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + acctA + `"},"Action":"sts:AssumeRole"}]}`
	w.mustIAM(w.rootA, "CreateRole", map[string]string{"RoleName": "keep", "AssumeRolePolicyDocument": trust, "Tags.member.1.Key": "protected", "Tags.member.1.Value": "yes"})
	wantDenied(t, "DeleteRole protected")(w.iam(dev, "DeleteRole", map[string]string{"RoleName": "keep"}))
	wantDenied(t, "CreateUser tagged role=admin")(w.iam(dev, "CreateUser", map[string]string{"UserName": "x", "Tags.member.1.Key": "role", "Tags.member.1.Value": "admin"}))
	wantDenied(t, "TagUser role=admin")(w.iam(dev, "TagUser", map[string]string{"UserName": "keep", "Tags.member.1.Key": "role", "Tags.member.1.Value": "admin"}))

	wantDenied(t, "CreateSecret without owner")(w.sm(dev, "CreateSecret", `{"Name":"s1","SecretString":"x"}`))
	wantOK(t, "CreateSecret with owner")(w.sm(dev, "CreateSecret", `{"Name":"s2","SecretString":"x","Tags":[{"Key":"owner","Value":"me"}]}`))
	wantDenied(t, "PutParameter tagged forbidden")(w.ssm(dev, "PutParameter", `{"Name":"p1","Value":"v","Type":"String","Tags":[{"Key":"forbidden","Value":"1"}]}`))
	wantOK(t, "PutParameter untagged")(w.ssm(dev, "PutParameter", `{"Name":"p2","Value":"v","Type":"String"}`))
}

func TestConditionKeyServiceKeys(t *testing.T) {
	w := newWorld(t)
	dev := w.newUser(w.rootA, "dev", policyDoc(allowAll,
		`{"Effect":"Deny","Action":"ssm:PutParameter","Resource":"*","Condition":{"Bool":{"ssm:Overwrite":"true"}}}`,
		`{"Effect":"Deny","Action":"ssm:GetParametersByPath","Resource":"*","Condition":{"Bool":{"ssm:Recursive":"true"}}}`,
		`{"Effect":"Deny","Action":"secretsmanager:CreateSecret","Resource":"*","Condition":{"StringLike":{"secretsmanager:Name":"prod/*"}}}`,
		`{"Effect":"Deny","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"secretsmanager:VersionStage":"AWSPREVIOUS"}}}`,
		`{"Effect":"Deny","Action":"secretsmanager:DeleteSecret","Resource":"*","Condition":{"Bool":{"secretsmanager:ForceDeleteWithoutRecovery":"true"}}}`,
		`{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringLike":{"sts:RoleSessionName":"evil*"}}}`))
	wantOK(t, "PutParameter")(w.ssm(dev, "PutParameter", `{"Name":"/a/b","Value":"v","Type":"String"}`))
	wantDenied(t, "PutParameter Overwrite")(w.ssm(dev, "PutParameter", `{"Name":"/a/b","Value":"v2","Type":"String","Overwrite":true}`))
	wantOK(t, "GetParametersByPath")(w.ssm(dev, "GetParametersByPath", `{"Path":"/a"}`))
	wantDenied(t, "GetParametersByPath Recursive")(w.ssm(dev, "GetParametersByPath", `{"Path":"/a","Recursive":true}`))
	wantDenied(t, "CreateSecret prod/")(w.sm(dev, "CreateSecret", `{"Name":"prod/db","SecretString":"x"}`))
	wantOK(t, "CreateSecret dev/")(w.sm(dev, "CreateSecret", `{"Name":"dev/db","SecretString":"x"}`))
	wantOK(t, "GetSecretValue")(w.sm(dev, "GetSecretValue", `{"SecretId":"dev/db"}`))
	wantDenied(t, "GetSecretValue AWSPREVIOUS")(w.sm(dev, "GetSecretValue", `{"SecretId":"dev/db","VersionStage":"AWSPREVIOUS"}`))
	wantDenied(t, "DeleteSecret force")(w.sm(dev, "DeleteSecret", `{"SecretId":"dev/db","ForceDeleteWithoutRecovery":true}`))
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + acctA + `"},"Action":"sts:AssumeRole"}]}`
	w.mustIAM(w.rootA, "CreateRole", map[string]string{"RoleName": "r", "AssumeRolePolicyDocument": trust})
	roleARN := "arn:aws:iam::" + acctA + ":role/r"
	wantDenied(t, "AssumeRole evil session")(w.sts(dev, "AssumeRole", map[string]string{"RoleArn": roleARN, "RoleSessionName": "evil-1"}))
	wantOK(t, "AssumeRole good session")(w.sts(dev, "AssumeRole", map[string]string{"RoleArn": roleARN, "RoleSessionName": "good"}))
}

// Temporary credentials carry aws:MultiFactorAuthPresent=false and
// aws:TokenIssueTime; long-term keys carry neither.
func TestConditionKeyCredentialKeys(t *testing.T) {
	w := newWorld(t)
	dev := w.newUser(w.rootA, "dev", policyDoc(allowAll,
		`{"Effect":"Deny","Action":"ecr:CreateRepository","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}`,
		`{"Effect":"Deny","Action":"ecr:DeleteRepository","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"false"}}}`,
		`{"Effect":"Deny","Action":"ecr:PutImageTagMutability","Resource":"*","Condition":{"Bool":{"aws:ViaAWSService":"true"}}}`))
	sess := w.sessionOf(dev)
	wantOK(t, "long-term key CreateRepository")(w.ecr(dev, "CreateRepository", `{"repositoryName":"aa"}`))
	wantDenied(t, "session CreateRepository (no MFA)")(w.ecr(sess, "CreateRepository", `{"repositoryName":"bb"}`))
	wantDenied(t, "session DeleteRepository (TokenIssueTime present)")(w.ecr(sess, "DeleteRepository", `{"repositoryName":"aa"}`))
	wantOK(t, "PutImageTagMutability")(w.ecr(sess, "PutImageTagMutability", `{"repositoryName":"aa","imageTagMutability":"IMMUTABLE"}`))
	wantOK(t, "long-term key DeleteRepository")(w.ecr(dev, "DeleteRepository", `{"repositoryName":"aa"}`))
}
