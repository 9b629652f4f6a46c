package iam

import "testing"

const (
	acctA = "111111111111"
	acctB = "222222222222"
	repoB = "arn:aws:ecr:eu-west-2:222222222222:repository/app"
	repoA = "arn:aws:ecr:eu-west-2:111111111111:repository/app"
	userA = "arn:aws:iam::111111111111:user/release"
)

func mustParse(t testing.TB, doc string, kind PolicyKind) *Policy {
	t.Helper()
	p, err := ParsePolicy(doc, kind)
	if err != nil {
		t.Fatalf("ParsePolicy(%s): %v", doc, err)
	}
	return p
}

func user(account, name string) Principal {
	return Principal{Type: PrincipalUser, Account: account, ARN: "arn:aws:iam::" + account + ":user/" + name,
		Username: name, UserID: "AIDAEXAMPLE" + name}
}

func session(account, role, sess string) Principal {
	return Principal{Type: PrincipalAssumedRole, Account: account,
		ARN:     "arn:aws:sts::" + account + ":assumed-role/" + role + "/" + sess,
		RoleARN: "arn:aws:iam::" + account + ":role/ci/" + role, UserID: "AROAEXAMPLE:" + sess}
}

func root(account string) Principal {
	return Principal{Type: PrincipalRoot, Account: account, ARN: "arn:aws:iam::" + account + ":root"}
}

// identity builds a one-statement identity policy.
func identity(t testing.TB, effect, action, resource string) *Policy {
	return mustParse(t, `{"Version":"2012-10-17","Statement":[{"Sid":"S","Effect":"`+effect+`","Action":"`+action+`","Resource":"`+resource+`"}]}`, IdentityPolicy)
}

// resourcePolicy builds a one-statement repository policy; principal is raw JSON.
func resourcePolicy(t testing.TB, effect, principal, action string) *Policy {
	return mustParse(t, `{"Version":"2012-10-17","Statement":[{"Sid":"R","Effect":"`+effect+`","Principal":`+principal+`,"Action":"`+action+`"}]}`, ResourcePolicy)
}
