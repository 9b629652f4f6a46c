package iam

import "testing"

// A guardrail Deny on a key the request does not carry behaves as on AWS:
// a condition on a missing key is false (the Deny does not apply) — except
// that negated operators, ...IfExists, Null:true and ForAllValues hold on a
// missing key, so those Denies DO apply. Each row is the Deny's condition,
// with the key absent and then present.
func TestDenyOnMissingKey(t *testing.T) {
	allow := `{"Effect":"Allow","Action":"*","Resource":"*"}`
	alice := user(acctA, "alice")
	tests := []struct {
		cond            string
		key, val        string // the request value when present
		deniedMissing   bool
		deniedPresentOK bool // the present value satisfies the Deny's condition
	}{
		{`{"StringEquals":{"iam:PolicyARN":"arn:aws:iam::aws:policy/AdministratorAccess"}}`, "iam:PolicyARN", "arn:aws:iam::aws:policy/AdministratorAccess", false, true},
		{`{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}`, "aws:RequestedRegion", "eu-west-1", true, true},
		{`{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}`, "aws:RequestedRegion", "us-east-1", true, false},
		{`{"StringNotEqualsIfExists":{"aws:RequestedRegion":"us-east-1"}}`, "aws:RequestedRegion", "us-east-1", true, false},
		{`{"StringEqualsIfExists":{"aws:RequestedRegion":"eu-west-1"}}`, "aws:RequestedRegion", "eu-west-1", true, true},
		{`{"StringLike":{"aws:RequestTag/team":"*"}}`, "aws:RequestTag/team", "x", false, true},
		{`{"StringNotLike":{"aws:RequestTag/team":"blue*"}}`, "aws:RequestTag/team", "red", true, true},
		{`{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/admin"}}`, "", "", true, true}, // a principal key is always present: alice is not the admin role
		{`{"Null":{"aws:RequestTag/team":"true"}}`, "aws:RequestTag/team", "x", true, false},
		{`{"Null":{"aws:RequestTag/team":"false"}}`, "aws:RequestTag/team", "x", false, true},
		{`{"Bool":{"aws:MultiFactorAuthPresent":"false"}}`, "aws:MultiFactorAuthPresent", "false", false, true},
		{`{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, "aws:MultiFactorAuthPresent", "true", true, false},
		{`{"NumericGreaterThan":{"secretsmanager:RecoveryWindowInDays":"7"}}`, "secretsmanager:RecoveryWindowInDays", "30", false, true},
		{`{"NumericNotEquals":{"secretsmanager:RecoveryWindowInDays":"7"}}`, "secretsmanager:RecoveryWindowInDays", "7", true, false},
		{`{"DateGreaterThan":{"aws:TokenIssueTime":"2020-01-01T00:00:00Z"}}`, "aws:TokenIssueTime", "2026-01-01T00:00:00Z", false, true},
		{`{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, "aws:SourceIp", "10.1.1.1", false, true},
		{`{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, "aws:SourceIp", "10.1.1.1", true, false},
		{`{"ForAnyValue:StringEquals":{"aws:TagKeys":"locked"}}`, "aws:TagKeys", "locked", false, true},
		{`{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"team"}}`, "aws:TagKeys", "team", false, false},
		{`{"ForAllValues:StringEquals":{"aws:TagKeys":"team"}}`, "aws:TagKeys", "other", true, false},
		{`{"ForAllValues:StringNotEquals":{"aws:TagKeys":"team"}}`, "aws:TagKeys", "other", true, true},
		{`{"ArnEquals":{"iam:PermissionsBoundary":"arn:aws:iam::111111111111:policy/b"}}`, "iam:PermissionsBoundary", "arn:aws:iam::111111111111:policy/b", false, true},
		{`{"ArnNotEquals":{"iam:PermissionsBoundary":"arn:aws:iam::111111111111:policy/b"}}`, "iam:PermissionsBoundary", "arn:aws:iam::111111111111:policy/b", true, false},
	}
	for _, tc := range tests {
		pol := mustParse(t, `{"Version":"2012-10-17","Statement":[`+allow+`,{"Effect":"Deny","Action":"*","Resource":"*","Condition":`+tc.cond+`}]}`, IdentityPolicy)
		eval := func(ctx map[string][]string) Decision {
			return Evaluate(&Request{Principal: alice, Action: "iam:AttachUserPolicy", Resource: "*", IdentityPolicies: []*Policy{pol}, Context: ctx})
		}
		if d := eval(nil); (d.Effect == ExplicitDeny) != tc.deniedMissing {
			t.Errorf("%s, key missing: %v, want denied=%v", tc.cond, d.Effect, tc.deniedMissing)
		}
		if tc.key == "" {
			continue
		}
		if d := eval(map[string][]string{tc.key: {tc.val}}); (d.Effect == ExplicitDeny) != tc.deniedPresentOK {
			t.Errorf("%s, %s=%s: %v, want denied=%v", tc.cond, tc.key, tc.val, d.Effect, tc.deniedPresentOK)
		}
	}
}
