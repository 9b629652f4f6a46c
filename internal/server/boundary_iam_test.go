package server_test

import (
	"strings"
	"testing"
)

// An IAM user allowed to manage "any user's" access keys must still not
// reach the root user's keys: an explicit empty UserName is not "the root
// user" for anyone but root. (Root keys of the default account are the
// operator's: they open the admin endpoint.)
func TestBoundaryIAMRootKeysOutOfReach(t *testing.T) {
	w := newWorld(t)
	keyAdmin := w.newUser(w.rootA, "keyadmin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateAccessKey","iam:ListAccessKeys","iam:DeleteAccessKey","iam:UpdateAccessKey"],"Resource":"*"}]}`)
	for _, action := range []string{"CreateAccessKey", "ListAccessKeys"} {
		st, body := w.iam(keyAdmin, action, map[string]string{"UserName": ""})
		if st == 200 || strings.Contains(body, opKey) || strings.Contains(body, "SecretAccessKey") {
			t.Errorf("%s with UserName='' as an IAM user: %d %s", action, st, body)
		}
	}
	for _, action := range []string{"DeleteAccessKey", "UpdateAccessKey"} {
		st, body := w.iam(keyAdmin, action, map[string]string{"UserName": "", "AccessKeyId": opKey, "Status": "Inactive"})
		if st == 200 {
			t.Errorf("%s of the operator key with UserName='' as an IAM user: %d %s", action, st, body)
		}
	}
	// The operator key still works, and its own management of itself too.
	w.mustIAM(w.rootA, "ListAccessKeys", nil)
	// Omitting UserName still means "my own keys" for the IAM user.
	w.mustIAM(keyAdmin, "ListAccessKeys", nil)
}

// Key ids are global; operations on them are scoped to the caller's account.
func TestBoundaryIAMForeignKeyIDs(t *testing.T) {
	w := newWorld(t)
	victim := w.newUser(w.rootA, "victim", "", "AmazonEC2ContainerRegistryReadOnly")
	w.mustIAM(w.rootB, "CreateUser", map[string]string{"UserName": "victim"}) // same name in B
	for _, p := range []map[string]string{
		{"AccessKeyId": victim.key},
		{"AccessKeyId": victim.key, "UserName": "victim"},
		{"AccessKeyId": opKey},
	} {
		for _, action := range []string{"DeleteAccessKey", "UpdateAccessKey"} {
			q := map[string]string{"Status": "Inactive"}
			for k, v := range p {
				q[k] = v
			}
			if st, body := w.iam(w.rootB, action, q); st == 200 {
				t.Errorf("B root %s %v: %d %s", action, p, st, body)
			}
		}
		if st, body := w.iam(w.rootB, "GetAccessKeyLastUsed", p); st == 200 {
			t.Errorf("B root GetAccessKeyLastUsed %v: %d %s", p, st, body)
		}
	}
	if st, body := w.iam(victim, "GetUser", nil); st != 200 && !denied(st, body) {
		t.Fatalf("victim key broken: %d %s", st, body)
	}
	u, p := basicOf(victim)
	if r := w.v2(w.host("", ""), u, p, "GET", "/v2/", nil, nil); r.status != 200 {
		t.Fatalf("victim key no longer authenticates: %d %s", r.status, r.body)
	}
}

// A limited user tries the classic escalation paths.
func TestBoundaryIAMPrivilegeEscalation(t *testing.T) {
	w := newWorld(t)
	// "dev" may read IAM and manage versions of policies named dev-* only.
	dev := w.newUser(w.rootA, "dev", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["iam:Get*","iam:List*","sts:AssumeRole"],"Resource":"*"},
		{"Effect":"Allow","Action":["iam:CreatePolicyVersion","iam:SetDefaultPolicyVersion"],"Resource":"arn:aws:iam::`+acctA+`:policy/dev-*"}]}`)
	ops := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:DescribeRepositories","Resource":"*"}]}`
	admin := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	w.mustIAM(w.rootA, "CreatePolicy", map[string]string{"PolicyName": "ops", "PolicyDocument": ops})
	w.mustIAM(w.rootA, "AttachUserPolicy", map[string]string{"UserName": "dev", "PolicyArn": "arn:aws:iam::" + acctA + ":policy/ops"})
	w.mustIAM(w.rootB, "CreatePolicy", map[string]string{"PolicyName": "dev-b", "PolicyDocument": ops})
	w.mustIAM(w.rootA, "CreateRole", map[string]string{"RoleName": "deployer", "AssumeRolePolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acctA + `:user/ci"},"Action":"sts:AssumeRole"}]}`})
	w.mustIAM(w.rootA, "PutRolePolicy", map[string]string{"RoleName": "deployer", "PolicyName": "all", "PolicyDocument": admin})

	attempts := []struct {
		name   string
		action string
		params map[string]string
	}{
		{"new default version of the attached policy", "CreatePolicyVersion", map[string]string{"PolicyArn": "arn:aws:iam::" + acctA + ":policy/ops", "PolicyDocument": admin, "SetAsDefault": "true"}},
		{"new version of another account's dev-* policy", "CreatePolicyVersion", map[string]string{"PolicyArn": "arn:aws:iam::" + acctB + ":policy/dev-b", "PolicyDocument": admin, "SetAsDefault": "true"}},
		{"attach admin-like policy to itself", "AttachUserPolicy", map[string]string{"UserName": "dev", "PolicyArn": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess"}},
		{"inline policy on itself", "PutUserPolicy", map[string]string{"UserName": "dev", "PolicyName": "x", "PolicyDocument": admin}},
		{"trust itself on the admin role", "UpdateAssumeRolePolicy", map[string]string{"RoleName": "deployer", "PolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acctA + `:user/dev"},"Action":"sts:AssumeRole"}]}`}},
		{"join a group", "AddUserToGroup", map[string]string{"UserName": "dev", "GroupName": "admins"}},
		{"second access key for another user", "CreateAccessKey", map[string]string{"UserName": "keyless"}},
	}
	for _, a := range attempts {
		if st, body := w.iam(dev, a.action, a.params); !denied(st, body) {
			t.Errorf("%s: %d %s", a.name, st, body)
		}
	}
	// The policy in B stayed at v1, and dev still cannot assume the role.
	if body := w.mustIAM(w.rootB, "ListPolicyVersions", map[string]string{"PolicyArn": "arn:aws:iam::" + acctB + ":policy/dev-b"}); strings.Contains(body, "v2") {
		t.Errorf("B's policy got a version from A: %s", body)
	}
	if st, body := w.sts(dev, "AssumeRole", map[string]string{"RoleArn": "arn:aws:iam::" + acctA + ":role/deployer", "RoleSessionName": "xx"}); !denied(st, body) {
		t.Errorf("AssumeRole of a role not trusting dev: %d %s", st, body)
	}
	if st, body := w.ecr(dev, "CreateRepository", `{"repositoryName":"pwned"}`); !denied(st, body) {
		t.Errorf("dev gained ecr:CreateRepository: %d %s", st, body)
	}
}

func TestBoundarySTS(t *testing.T) {
	w := newWorld(t)
	trust := func(principal string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"sts:AssumeRole"}]}`
	}
	all := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	// B's roles: one trusting C, one trusting A (the account).
	w.mustIAM(w.rootB, "CreateRole", map[string]string{"RoleName": "for-c", "AssumeRolePolicyDocument": trust("arn:aws:iam::" + acctC + ":root")})
	w.mustIAM(w.rootB, "CreateRole", map[string]string{"RoleName": "for-a", "AssumeRolePolicyDocument": trust(acctA)})
	w.mustIAM(w.rootB, "PutRolePolicy", map[string]string{"RoleName": "for-a", "PolicyName": "all", "PolicyDocument": all})
	noSTS := w.newUser(w.rootA, "nosts", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}`)
	withSTS := w.newUser(w.rootA, "withsts", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","sts:GetSessionToken"],"Resource":"*"}]}`)

	roleB := func(n string) map[string]string {
		return map[string]string{"RoleArn": "arn:aws:iam::" + acctB + ":role/" + n, "RoleSessionName": "probe"}
	}
	for _, c := range []struct {
		name string
		who  creds
		role string
	}{
		{"A root, trust names C", w.rootA, "for-c"},
		{"A user with sts:AssumeRole, trust names C", withSTS, "for-c"},
		{"A user without sts:AssumeRole, trust names A", noSTS, "for-a"},
		{"missing role (no existence leak)", w.rootA, "nope"},
	} {
		if st, body := w.sts(c.who, "AssumeRole", roleB(c.role)); !denied(st, body) {
			t.Errorf("%s: %d %s", c.name, st, body)
		}
	}
	// Allowed path, then the session policy as a ceiling.
	st, body := w.sts(withSTS, "AssumeRole", map[string]string{"RoleArn": "arn:aws:iam::" + acctB + ":role/for-a", "RoleSessionName": "narrow",
		"Policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:DescribeRepositories","Resource":"*"}]}`})
	w.mustOK(st, body)
	sess := creds{key: xmlField(body, "AccessKeyId"), secret: xmlField(body, "SecretAccessKey"), token: xmlField(body, "SessionToken")}
	if st, body := w.ecr(sess, "DescribeRepositories", "{}"); st != 200 {
		t.Errorf("session policy allows DescribeRepositories: %d %s", st, body)
	}
	for _, op := range []struct{ svc, target, body string }{
		{"ecr", "AmazonEC2ContainerRegistry_V20150921.CreateRepository", `{"repositoryName":"xx"}`},
		{"ecr", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", `{}`},
		{"ssm", "AmazonSSM.PutParameter", `{"Name":"x","Value":"y","Type":"String"}`},
	} {
		if st, body := w.call(sess, op.svc, w.region, op.target, op.body); !denied(st, body) {
			t.Errorf("session policy ceiling, %s: %d %s", op.target, st, body)
		}
	}
	if st, body := w.iam(sess, "CreateUser", map[string]string{"UserName": "x"}); !denied(st, body) {
		t.Errorf("session policy ceiling, iam:CreateUser: %d %s", st, body)
	}
	// Session credentials cannot mint more sessions.
	if st, body := w.sts(sess, "GetSessionToken", nil); st == 200 {
		t.Errorf("GetSessionToken with role session credentials: %d %s", st, body)
	}
	st, body = w.sts(withSTS, "GetSessionToken", nil)
	w.mustOK(st, body)
	userSess := creds{key: xmlField(body, "AccessKeyId"), secret: xmlField(body, "SecretAccessKey"), token: xmlField(body, "SessionToken")}
	if st, body := w.sts(userSess, "GetSessionToken", nil); st == 200 {
		t.Errorf("GetSessionToken with user session credentials: %d %s", st, body)
	}
}

// A deleted user's sessions, keys and ECR tokens die with it, and do not
// come back when a new user of the same name appears.
func TestBoundaryCredentialsAfterDeleteUser(t *testing.T) {
	w := newWorld(t)
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:GetSessionToken","ecr:GetAuthorizationToken","ecr:DescribeRepositories"],"Resource":"*"}]}`
	bob := w.newUser(w.rootA, "bob", pol)
	st, body := w.sts(bob, "GetSessionToken", nil)
	w.mustOK(st, body)
	sess := creds{key: xmlField(body, "AccessKeyId"), secret: xmlField(body, "SecretAccessKey"), token: xmlField(body, "SessionToken")}
	keyToken := w.ecrToken(bob, w.region)
	sessToken := w.ecrToken(sess, w.region)

	w.mustIAM(w.rootA, "DeleteAccessKey", map[string]string{"UserName": "bob", "AccessKeyId": bob.key})
	w.mustIAM(w.rootA, "DeleteUserPolicy", map[string]string{"UserName": "bob", "PolicyName": "p"})
	w.mustIAM(w.rootA, "DeleteUser", map[string]string{"UserName": "bob"})

	check := func(stage string) {
		t.Helper()
		if st, body := w.ecr(sess, "DescribeRepositories", "{}"); st == 200 {
			t.Errorf("%s: session of deleted bob still signs: %s", stage, body)
		}
		su, sp := basicOf(sess)
		for _, c := range []struct{ name, user, pass string }{
			{"session basic", su, sp}, {"token from key", "AWS", keyToken}, {"token from session", "AWS", sessToken}, {"key", bob.key, bob.secret},
		} {
			if r := w.v2(w.host("", ""), c.user, c.pass, "GET", "/v2/_catalog", nil, nil); r.status == 200 {
				t.Errorf("%s: %s of deleted bob still opens /v2/: %d %s", stage, c.name, r.status, r.body)
			}
		}
	}
	check("after DeleteUser")
	// A new, more privileged "bob" is a different user.
	w.newUser(w.rootA, "bob", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	check("after re-creating bob")
}

// AWS-managed policies are shared by every account: no account, not even
// its root, may change them; and another account's customer-managed
// policies cannot be attached or read.
func TestBoundaryIAMSharedPolicies(t *testing.T) {
	w := newWorld(t)
	ro := "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	admin := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	w.mustIAM(w.rootB, "CreatePolicy", map[string]string{"PolicyName": "b-admin", "PolicyDocument": admin})
	bPolicy := "arn:aws:iam::" + acctB + ":policy/b-admin"
	w.mustIAM(w.rootA, "CreateUser", map[string]string{"UserName": "u"})
	for _, a := range []struct {
		action string
		params map[string]string
	}{
		{"CreatePolicyVersion", map[string]string{"PolicyArn": ro, "PolicyDocument": admin, "SetAsDefault": "true"}},
		{"SetDefaultPolicyVersion", map[string]string{"PolicyArn": ro, "VersionId": "v1"}},
		{"DeletePolicyVersion", map[string]string{"PolicyArn": ro, "VersionId": "v3"}},
		{"DeletePolicy", map[string]string{"PolicyArn": ro}},
		{"AttachUserPolicy", map[string]string{"UserName": "u", "PolicyArn": bPolicy}},
		{"GetPolicy", map[string]string{"PolicyArn": bPolicy}},
		{"GetPolicyVersion", map[string]string{"PolicyArn": bPolicy, "VersionId": "v1"}},
		{"DeletePolicy", map[string]string{"PolicyArn": bPolicy}},
		{"CreatePolicyVersion", map[string]string{"PolicyArn": bPolicy, "PolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, "SetAsDefault": "true"}},
	} {
		if st, body := w.iam(w.rootA, a.action, a.params); st == 200 {
			t.Errorf("A root %s %v: %s", a.action, a.params, body)
		}
	}
	body := w.mustIAM(w.rootB, "GetPolicyVersion", map[string]string{"PolicyArn": ro, "VersionId": "v3"})
	if !strings.Contains(body, "ecr%3AGetAuthorizationToken") && !strings.Contains(body, "ecr:GetAuthorizationToken") || strings.Contains(body, "%22%2A%22%2C%22Resource") {
		t.Errorf("AWS-managed policy changed: %s", body)
	}
	if body := w.mustIAM(w.rootB, "ListPolicyVersions", map[string]string{"PolicyArn": bPolicy}); strings.Contains(body, "v2") {
		t.Errorf("B's policy got a version from A: %s", body)
	}
}
