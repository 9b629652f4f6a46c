package iamsvc_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/iamsvc/iamsvctest"
)

const (
	acctA    = "111111111111"
	acctB    = "222222222222"
	readOnly = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
)

func TestUserLifecycleErrors(t *testing.T) {
	ctx := context.Background()
	e := iamsvctest.New(t, "", nil)
	e.Account(t, acctA)
	svc := e.Svc
	if _, err := svc.CreateUser(ctx, acctA, iamsvc.CreateUserInput{UserName: "bob", Path: "/dev/"}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name     string
		do       func() error
		code     apierr.Code
		contains string
	}{
		{"duplicate user, other case", func() error {
			_, err := svc.CreateUser(ctx, acctA, iamsvc.CreateUserInput{UserName: "BOB"})
			return err
		}, apierr.EntityAlreadyExists, "User with name BOB already exists."},
		{"bad name", func() error {
			_, err := svc.CreateUser(ctx, acctA, iamsvc.CreateUserInput{UserName: "bad name"})
			return err
		}, apierr.ValidationError, "regular expression"},
		{"bad path", func() error {
			_, err := svc.CreateUser(ctx, acctA, iamsvc.CreateUserInput{UserName: "x", Path: "dev"})
			return err
		}, apierr.ValidationError, "path"},
		{"unknown user", func() error { _, err := svc.GetUser(ctx, acctA, "alice"); return err },
			apierr.NoSuchEntity, "The user with name alice cannot be found."},
		{"user is per account", func() error { _, err := svc.GetUser(ctx, acctB, "bob"); return err },
			apierr.NoSuchEntity, "cannot be found"},
		{"first key", func() error { _, err := svc.CreateAccessKey(ctx, acctA, "bob"); return err }, "", ""},
		{"second key", func() error { _, err := svc.CreateAccessKey(ctx, acctA, "bob"); return err }, "", ""},
		{"third key", func() error { _, err := svc.CreateAccessKey(ctx, acctA, "bob"); return err },
			apierr.IAMLimitExceeded, "Cannot exceed quota for AccessKeysPerUser: 2"},
		{"delete with keys", func() error { return svc.DeleteUser(ctx, acctA, "bob") },
			apierr.DeleteConflict, "Cannot delete entity, must delete access keys first."},
		{"delete unknown key", func() error { return svc.DeleteAccessKey(ctx, acctA, "bob", "AKIANOPE") },
			apierr.NoSuchEntity, "The Access Key with id AKIANOPE cannot be found."},
		{"bad key status", func() error { return svc.UpdateAccessKey(ctx, acctA, "bob", "AKIANOPE", "Off") },
			apierr.ValidationError, "Active, Inactive"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			err := s.do()
			if got := iamsvctest.Code(err); got != s.code {
				t.Fatalf("code = %q (%v), want %q", got, err, s.code)
			}
			if s.contains != "" && !strings.Contains(err.Error(), s.contains) {
				t.Fatalf("error %q does not contain %q", err, s.contains)
			}
		})
	}
	u, err := svc.GetUser(ctx, acctA, "bob")
	if err != nil || u.ARN != "arn:aws:iam::111111111111:user/dev/bob" || !strings.HasPrefix(u.UserID, "AIDA") || len(u.UserID) != 21 {
		t.Fatalf("GetUser = %+v, %v", u, err)
	}
	keys, _, err := svc.ListAccessKeys(ctx, acctA, "bob", "", 0)
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys = %v, %v", keys, err)
	}
	for _, k := range keys {
		if len(k.AccessKeyID) != 20 || !strings.HasPrefix(k.AccessKeyID, "AKIA") || k.SecretAccessKey != "" {
			t.Fatalf("listed key %+v", k)
		}
		if err := svc.DeleteAccessKey(ctx, acctA, "bob", k.AccessKeyID); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.AttachPolicy(ctx, acctA, iamsvc.UserEntity, "bob", readOnly); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteUser(ctx, acctA, "bob"); !apierr.HasCode(err, apierr.DeleteConflict) || !strings.Contains(err.Error(), "detach all policies") {
		t.Fatalf("delete with policy: %v", err)
	}
	if err := svc.DetachPolicy(ctx, acctA, iamsvc.UserEntity, "bob", readOnly); err != nil {
		t.Fatal(err)
	}
	if err := svc.DetachPolicy(ctx, acctA, iamsvc.UserEntity, "bob", readOnly); !apierr.HasCode(err, apierr.NoSuchEntity) {
		t.Fatalf("double detach: %v", err)
	}
	if err := svc.DeleteUser(ctx, acctA, "bob"); err != nil {
		t.Fatal(err)
	}
}

func TestListUsersPagination(t *testing.T) {
	ctx := context.Background()
	e := iamsvctest.New(t, "", nil)
	e.Account(t, acctA)
	for _, n := range []string{"carol", "alice", "dave", "bob", "eve"} {
		path := "/"
		if n == "eve" {
			path = "/ops/"
		}
		if _, err := e.Svc.CreateUser(ctx, acctA, iamsvc.CreateUserInput{UserName: n, Path: path}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	marker := ""
	pages := 0
	for {
		users, next, err := e.Svc.ListUsers(ctx, acctA, "", marker, 2)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range users {
			got = append(got, u.UserName)
		}
		if next == "" {
			break
		}
		marker = next
	}
	if strings.Join(got, ",") != "alice,bob,carol,dave,eve" || pages != 3 {
		t.Fatalf("got %v in %d pages", got, pages)
	}
	ops, _, _ := e.Svc.ListUsers(ctx, acctA, "/ops/", "", 0)
	if len(ops) != 1 || ops[0].UserName != "eve" {
		t.Fatalf("path prefix: %v", ops)
	}
}

func TestManagedPolicies(t *testing.T) {
	ctx := context.Background()
	e := iamsvctest.New(t, "", nil)
	e.Account(t, acctA)
	svc := e.Svc

	for _, name := range []string{"AmazonEC2ContainerRegistryReadOnly", "AmazonEC2ContainerRegistryPowerUser", "AmazonEC2ContainerRegistryFullAccess", "AmazonEC2ContainerRegistryPullOnly"} {
		a := "arn:aws:iam::aws:policy/" + name
		p, err := svc.GetPolicy(ctx, acctA, a)
		if err != nil || !p.AWSManaged || p.DefaultVersionID == "" {
			t.Fatalf("%s: %+v %v", name, p, err)
		}
		v, err := svc.GetPolicyVersion(ctx, acctA, a, p.DefaultVersionID)
		if err != nil || !strings.Contains(v.Document, "ecr:") || !v.IsDefaultVersion {
			t.Fatalf("%s version: %+v %v", name, v, err)
		}
		if _, err := svc.CreatePolicyVersion(ctx, acctA, a, allowAll, true); err == nil {
			t.Fatalf("%s: AWS-managed policy accepted a new version", name)
		}
	}

	if _, err := svc.CreatePolicy(ctx, acctA, iamsvc.CreatePolicyInput{PolicyName: "bad", PolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`}); !apierr.HasCode(err, apierr.MalformedPolicyDocument) {
		t.Fatalf("malformed: %v", err)
	}
	if _, err := svc.CreatePolicy(ctx, acctA, iamsvc.CreatePolicyInput{PolicyName: "bad", PolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`}); !apierr.HasCode(err, apierr.MalformedPolicyDocument) {
		t.Fatalf("principal in identity policy: %v", err)
	}
	p, err := svc.CreatePolicy(ctx, acctA, iamsvc.CreatePolicyInput{PolicyName: "pull", Path: "/team/", PolicyDocument: allowAll})
	if err != nil || p.ARN != "arn:aws:iam::111111111111:policy/team/pull" || p.DefaultVersionID != "v1" {
		t.Fatalf("CreatePolicy = %+v, %v", p, err)
	}
	if _, err := svc.CreatePolicy(ctx, acctA, iamsvc.CreatePolicyInput{PolicyName: "PULL", PolicyDocument: allowAll}); !apierr.HasCode(err, apierr.EntityAlreadyExists) ||
		!strings.Contains(err.Error(), "A policy called PULL already exists. Duplicate names are not allowed.") {
		t.Fatalf("duplicate policy: %v", err)
	}
	for i := 2; i <= 5; i++ {
		if _, err := svc.CreatePolicyVersion(ctx, acctA, p.ARN, allowAll, i == 3); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.CreatePolicyVersion(ctx, acctA, p.ARN, allowAll, false); !apierr.HasCode(err, apierr.IAMLimitExceeded) {
		t.Fatalf("sixth version: %v", err)
	}
	got, _ := svc.GetPolicy(ctx, acctA, p.ARN)
	if got.DefaultVersionID != "v3" {
		t.Fatalf("default = %s", got.DefaultVersionID)
	}
	if err := svc.DeletePolicyVersion(ctx, acctA, p.ARN, "v3"); !apierr.HasCode(err, apierr.DeleteConflict) {
		t.Fatalf("delete default version: %v", err)
	}
	if err := svc.DeletePolicy(ctx, acctA, p.ARN); !apierr.HasCode(err, apierr.DeleteConflict) {
		t.Fatalf("delete with versions: %v", err)
	}

	// Attachment limit: 10 per user.
	if _, err := svc.CreateUser(ctx, acctA, iamsvc.CreateUserInput{UserName: "u"}); err != nil {
		t.Fatal(err)
	}
	var arns []string
	for i := 0; i < 11; i++ {
		mp, err := svc.CreatePolicy(ctx, acctA, iamsvc.CreatePolicyInput{PolicyName: "p" + string(rune('a'+i)), PolicyDocument: allowAll})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, mp.ARN)
	}
	for i, a := range arns {
		err := svc.AttachPolicy(ctx, acctA, iamsvc.UserEntity, "u", a)
		if i < 10 && err != nil {
			t.Fatal(err)
		}
		if i == 10 && (!apierr.HasCode(err, apierr.IAMLimitExceeded) || !strings.Contains(err.Error(), "Cannot exceed quota for PoliciesPerUser: 10")) {
			t.Fatalf("11th attachment: %v", err)
		}
	}
	if err := svc.DeletePolicy(ctx, acctA, arns[0]); !apierr.HasCode(err, apierr.DeleteConflict) || !strings.Contains(err.Error(), "attached to entities") {
		t.Fatalf("delete attached: %v", err)
	}
	if err := svc.AttachPolicy(ctx, acctA, iamsvc.UserEntity, "u", "arn:aws:iam::111111111111:policy/nope"); !apierr.HasCode(err, apierr.NoSuchEntity) {
		t.Fatalf("attach missing: %v", err)
	}
	attached, _, _ := svc.ListAttachedPolicies(ctx, acctA, iamsvc.UserEntity, "u", "", "", 0)
	if len(attached) != 10 {
		t.Fatalf("attached %d", len(attached))
	}
}

func TestInlineGroupsRoles(t *testing.T) {
	ctx := context.Background()
	e := iamsvctest.New(t, "", nil)
	e.Account(t, acctA)
	svc := e.Svc
	if _, err := svc.CreateUser(ctx, acctA, iamsvc.CreateUserInput{UserName: "ci"}); err != nil {
		t.Fatal(err)
	}
	if err := svc.PutInlinePolicy(ctx, acctA, iamsvc.UserEntity, "ci", "p", allowAll); err != nil {
		t.Fatal(err)
	}
	if doc, err := svc.GetInlinePolicy(ctx, acctA, iamsvc.UserEntity, "ci", "p"); err != nil || doc != allowAll {
		t.Fatalf("inline = %q, %v", doc, err)
	}
	if _, err := svc.GetInlinePolicy(ctx, acctA, iamsvc.UserEntity, "ci", "q"); !apierr.HasCode(err, apierr.NoSuchEntity) || !strings.Contains(err.Error(), "The user policy with name q cannot be found.") {
		t.Fatalf("missing inline: %v", err)
	}
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:` + strings.Repeat("x", 2100) + `","Resource":"*"}]}`
	if err := svc.PutInlinePolicy(ctx, acctA, iamsvc.UserEntity, "ci", "big", big); !apierr.HasCode(err, apierr.IAMLimitExceeded) {
		t.Fatalf("oversized inline: %v", err)
	}
	if _, err := svc.CreateGroup(ctx, acctA, "devs", ""); err != nil {
		t.Fatal(err)
	}
	if err := svc.AddUserToGroup(ctx, acctA, "devs", "ci"); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteGroup(ctx, acctA, "devs"); !apierr.HasCode(err, apierr.DeleteConflict) {
		t.Fatalf("delete non-empty group: %v", err)
	}
	groups, _, _ := svc.ListGroupsForUser(ctx, acctA, "ci", "", 0)
	if len(groups) != 1 || groups[0].ARN != "arn:aws:iam::111111111111:group/devs" {
		t.Fatalf("groups = %+v", groups)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := svc.CreateRole(ctx, acctA, iamsvc.CreateRoleInput{RoleName: "r", AssumeRolePolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]}`}); !apierr.HasCode(err, apierr.MalformedPolicyDocument) {
		t.Fatalf("trust with Resource: %v", err)
	}
	if _, err := svc.CreateRole(ctx, acctA, iamsvc.CreateRoleInput{RoleName: "r", AssumeRolePolicyDocument: trust, MaxSessionDuration: 100}); !apierr.HasCode(err, apierr.ValidationError) {
		t.Fatalf("MaxSessionDuration 100: %v", err)
	}
	r, err := svc.CreateRole(ctx, acctA, iamsvc.CreateRoleInput{RoleName: "r", Path: "/svc/", AssumeRolePolicyDocument: trust})
	if err != nil || r.MaxSessionDuration != 3600 || r.ARN != "arn:aws:iam::111111111111:role/svc/r" || r.AssumeRolePolicyDocument != trust {
		t.Fatalf("CreateRole = %+v, %v", r, err)
	}
	if err := svc.PutInlinePolicy(ctx, acctA, iamsvc.RoleEntity, "r", "p", allowAll); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteRole(ctx, acctA, "r"); !apierr.HasCode(err, apierr.DeleteConflict) {
		t.Fatalf("delete role with policy: %v", err)
	}
}

func TestPersistenceAndEncryption(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	e := iamsvctest.New(t, dir, nil)
	e.Account(t, acctA)
	k := e.UserWithKey(t, acctA, "bob", []string{readOnly})
	// The secret must not be stored in clear.
	var n int
	if err := e.DB.QueryRow(`SELECT count(*) FROM iam_objects WHERE CAST(body AS TEXT) LIKE ?`, "%"+k.SecretAccessKey+"%").Scan(&n); err != nil || n != 0 {
		t.Fatalf("secret found in %d rows (%v)", n, err)
	}
	st, err := os.Stat(filepath.Join(e.KeysDir, "master.key"))
	if err != nil || st.Mode().Perm() != 0o600 || st.Size() != 32 {
		t.Fatalf("master key: %v %v", st, err)
	}
	e.DB.Close()

	e2 := iamsvctest.New(t, dir, nil)
	cred, err := e2.Svc.ResolveAccessKey(k.AccessKeyID)
	if err != nil || !cred.CheckSecret(k.SecretAccessKey) || cred.Principal().ARN != "arn:aws:iam::111111111111:user/bob" {
		t.Fatalf("after reopen: %v %v", cred, err)
	}
	ps, err := e2.Svc.PoliciesFor(cred.Principal())
	if err != nil || len(ps.Identity) != 1 {
		t.Fatalf("policies after reopen: %+v %v", ps, err)
	}
	if err := e2.Svc.UpdateAccessKey(ctx, acctA, "bob", k.AccessKeyID, iamsvc.StatusInactive); err != nil {
		t.Fatal(err)
	}
	if _, err := e2.Svc.ResolveAccessKey(k.AccessKeyID); !apierr.HasCode(err, apierr.InvalidCredentials) {
		t.Fatalf("inactive key: %v", err)
	}

	// A different master key cannot open the rows.
	other := t.TempDir()
	db := iamsvctest.OpenDB(t, filepath.Join(dir, "meta.db"))
	keys, _ := iamsvc.LoadOrCreateKeys(other)
	if _, err := iamsvc.Open(ctx, db, keys); err == nil {
		t.Fatal("opened secrets with the wrong master key")
	}
}

func TestAssumeRoleAndSessions(t *testing.T) {
	ctx := context.Background()
	clock := &iamsvctest.Clock{T: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := iamsvctest.New(t, "", clock)
	svc := e.Svc
	e.Account(t, acctA)
	e.Account(t, acctB)
	// deployer in A may assume roles; viewer has nothing.
	e.UserWithKey(t, acctA, "deployer", nil, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
	e.UserWithKey(t, acctA, "viewer", nil)
	e.UserWithKey(t, acctB, "local", nil)
	principal := func(account, user string) *auth.Principal {
		ks, _, _ := svc.ListAccessKeys(ctx, account, user, "", 0)
		c, err := svc.ResolveAccessKey(ks[0].AccessKeyID)
		if err != nil {
			t.Fatal(err)
		}
		return c.Principal()
	}
	trustAccountA := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x-1"}}}]}`
	trustLocalUser := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:user/local"},"Action":"sts:AssumeRole"}]}`
	if _, err := svc.CreateRole(ctx, acctB, iamsvc.CreateRoleInput{RoleName: "puller", AssumeRolePolicyDocument: trustAccountA, MaxSessionDuration: 7200}); err != nil {
		t.Fatal(err)
	}
	if err := svc.AttachPolicy(ctx, acctB, iamsvc.RoleEntity, "puller", readOnly); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateRole(ctx, acctB, iamsvc.CreateRoleInput{RoleName: "named", AssumeRolePolicyDocument: trustLocalUser}); err != nil {
		t.Fatal(err)
	}
	roleB := "arn:aws:iam::222222222222:role/puller"
	cases := []struct {
		name   string
		caller *auth.Principal
		in     iamsvc.AssumeRoleInput
		code   apierr.Code
		msg    string
	}{
		{"cross-account with identity allow and external id", principal(acctA, "deployer"),
			iamsvc.AssumeRoleInput{RoleArn: roleB, RoleSessionName: "s1", ExternalID: "x-1"}, "", ""},
		{"wrong external id", principal(acctA, "deployer"),
			iamsvc.AssumeRoleInput{RoleArn: roleB, RoleSessionName: "s1", ExternalID: "nope"}, apierr.AccessDenied,
			"User: arn:aws:iam::111111111111:user/deployer is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/puller"},
		{"cross-account without identity allow", principal(acctA, "viewer"),
			iamsvc.AssumeRoleInput{RoleArn: roleB, RoleSessionName: "s1", ExternalID: "x-1"}, apierr.AccessDenied, "no identity-based policy allows the sts:AssumeRole action"},
		{"same account, trust names the user directly", principal(acctB, "local"),
			iamsvc.AssumeRoleInput{RoleArn: "arn:aws:iam::222222222222:role/named", RoleSessionName: "s2"}, "", ""},
		{"duration above role max", principal(acctA, "deployer"),
			iamsvc.AssumeRoleInput{RoleArn: roleB, RoleSessionName: "s1", ExternalID: "x-1", DurationSeconds: 10800}, apierr.ValidationError, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
		{"missing role", principal(acctA, "deployer"),
			iamsvc.AssumeRoleInput{RoleArn: "arn:aws:iam::222222222222:role/ghost", RoleSessionName: "s1"}, apierr.AccessDenied, "sts:AssumeRole"},
		{"bad session name", principal(acctA, "deployer"),
			iamsvc.AssumeRoleInput{RoleArn: roleB, RoleSessionName: "a b"}, apierr.ValidationError, "roleSessionName"},
		{"malformed session policy", principal(acctA, "deployer"),
			iamsvc.AssumeRoleInput{RoleArn: roleB, RoleSessionName: "s1", ExternalID: "x-1", Policy: `{"Statement":[]}`}, apierr.MalformedPolicyDocument, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := svc.AssumeRole(ctx, c.caller, c.in, auth.RequestInfo{})
			if got := iamsvctest.Code(err); got != c.code {
				t.Fatalf("code %q (%v), want %q", got, err, c.code)
			}
			if c.msg != "" && !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("%q does not contain %q", err, c.msg)
			}
			if err != nil {
				return
			}
			cr := out.Credentials
			if !strings.HasPrefix(cr.AccessKeyID, "ASIA") || len(cr.AccessKeyID) != 20 || len(cr.SecretAccessKey) != 40 || len(cr.SessionToken) < 100 {
				t.Fatalf("credentials %+v", cr)
			}
			if !cr.Expiration.Equal(clock.T.Add(time.Hour)) {
				t.Fatalf("expiration %v", cr.Expiration)
			}
			cred, err := svc.ResolveAccessKey(cr.AccessKeyID)
			if err != nil || !cred.CheckSecret(cr.SecretAccessKey) || !cred.CheckSessionToken(cr.SessionToken) || cred.CheckSessionToken(cr.SessionToken+"x") {
				t.Fatalf("resolve session: %v", err)
			}
			p := cred.Principal()
			if p.Type != auth.AssumedRole || p.ARN != out.AssumedRoleUser.ARN || !strings.HasSuffix(p.UserID, ":"+c.in.RoleSessionName) {
				t.Fatalf("principal %+v", p)
			}
		})
	}

	out, err := svc.AssumeRole(ctx, principal(acctA, "deployer"), iamsvc.AssumeRoleInput{RoleArn: roleB, RoleSessionName: "limited", ExternalID: "x-1",
		Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}]}`}, auth.RequestInfo{})
	if err != nil {
		t.Fatal(err)
	}
	cred, _ := svc.ResolveAccessKey(out.Credentials.AccessKeyID)
	ps, err := svc.PoliciesFor(cred.Principal())
	if err != nil || len(ps.Identity) != 1 || len(ps.Session) != 1 {
		t.Fatalf("session policies %+v %v", ps, err)
	}

	// GetSessionToken: users and root, not sessions.
	st, err := svc.GetSessionToken(ctx, principal(acctA, "viewer"), 0)
	if err != nil || !st.Expiration.Equal(clock.T.Add(12*time.Hour)) {
		t.Fatalf("GetSessionToken %+v %v", st, err)
	}
	if _, err := svc.GetSessionToken(ctx, cred.Principal(), 0); !apierr.HasCode(err, apierr.AccessDenied) {
		t.Fatalf("GetSessionToken from a session: %v", err)
	}
	rootCred, _ := svc.ResolveAccessKey(func() string { ks, _, _ := svc.ListAccessKeys(ctx, acctA, "", "", 0); return ks[0].AccessKeyID }())
	if _, err := svc.GetSessionToken(ctx, rootCred.Principal(), 7200); !apierr.HasCode(err, apierr.ValidationError) {
		t.Fatalf("root 2h session: %v", err)
	}

	clock.T = clock.T.Add(2 * time.Hour)
	if _, err := svc.ResolveAccessKey(out.Credentials.AccessKeyID); !apierr.HasCode(err, apierr.ExpiredToken) {
		t.Fatalf("expired session: %v", err)
	}
	if c, err := svc.ResolveAccessKey(st.AccessKeyID); err != nil || c.Principal().ARN != "arn:aws:iam::111111111111:user/viewer" {
		t.Fatalf("user session still valid: %v", err)
	}
}

func TestAccountsAndRootKeys(t *testing.T) {
	ctx := context.Background()
	e := iamsvctest.New(t, "", nil)
	k, created, err := e.Svc.EnsureRootKey(ctx, "000000000000", "AKIAOPERATOR0000TEST", "operator-secret-0123456789")
	if err != nil || !created || k.AccessKeyID != "AKIAOPERATOR0000TEST" {
		t.Fatalf("EnsureRootKey: %+v %v %v", k, created, err)
	}
	if _, created, err := e.Svc.EnsureRootKey(ctx, "000000000000", "AKIAOPERATOR0000TEST", "operator-secret-0123456789"); err != nil || created {
		t.Fatalf("second EnsureRootKey: created=%v %v", created, err)
	}
	gen, created, err := e.Svc.EnsureRootKey(ctx, "333333333333", "", "")
	if err != nil || !created || len(gen.SecretAccessKey) != 40 {
		t.Fatalf("generated root key: %+v %v", gen, err)
	}
	cred, err := e.Svc.ResolveAccessKey(gen.AccessKeyID)
	if err != nil || cred.Principal().Type != auth.Root || cred.Principal().ARN != "arn:aws:iam::333333333333:root" {
		t.Fatalf("root principal: %v", err)
	}
	for _, c := range []struct {
		id   string
		code apierr.Code
	}{{"12345", apierr.ValidationError}, {"33333333333a", apierr.ValidationError}, {"333333333333", apierr.EntityAlreadyExists}, {"444444444444", ""}} {
		if _, err := e.Svc.CreateAccount(ctx, c.id); iamsvctest.Code(err) != c.code {
			t.Errorf("CreateAccount(%s) = %v, want %q", c.id, err, c.code)
		}
	}
	if _, err := e.Svc.CreateUser(ctx, "999999999999", iamsvc.CreateUserInput{UserName: "x"}); err == nil {
		t.Fatal("created a user in an unknown account")
	}
}

// A user's GetSessionToken sessions end with the user, and a new user of
// the same name neither revives them nor can be impersonated by a
// principal resolved for the old one.
func TestUserSessionsDieWithUser(t *testing.T) {
	ctx := context.Background()
	e := iamsvctest.New(t, "", nil)
	svc := e.Svc
	e.Account(t, acctA)
	k := e.UserWithKey(t, acctA, "bob", nil)
	cred, err := svc.ResolveAccessKey(k.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	oldBob := cred.Principal()
	sess, err := svc.GetSessionToken(ctx, oldBob, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteAccessKey(ctx, acctA, "bob", k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteUser(ctx, acctA, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ResolveAccessKey(sess.AccessKeyID); !apierr.HasCode(err, apierr.InvalidCredentials) {
		t.Fatalf("session of deleted user: %v", err)
	}
	e.UserWithKey(t, acctA, "bob", nil, allowAll)
	if c, err := svc.ResolveAccessKey(sess.AccessKeyID); !apierr.HasCode(err, apierr.InvalidCredentials) {
		t.Fatalf("session of deleted user after re-creating the name: %v %v", c, err)
	}
	if _, err := svc.GetSessionToken(ctx, oldBob, 0); !apierr.HasCode(err, apierr.InvalidCredentials) {
		t.Fatalf("GetSessionToken for the old bob minted a session of the new one: %v", err)
	}
}
