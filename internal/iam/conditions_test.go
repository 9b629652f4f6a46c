package iam

import "testing"

// condAllowed evaluates an identity allow guarded by one condition block.
func condAllowed(t *testing.T, cond string, ctx map[string][]string, p Principal) bool {
	t.Helper()
	pol := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":`+cond+`}]}`, IdentityPolicy)
	return Evaluate(&Request{Principal: p, Action: "ecr:BatchGetImage", Resource: repoA, IdentityPolicies: []*Policy{pol}, Context: ctx}).Allowed
}

func TestConditionOperators(t *testing.T) {
	alice := user(acctA, "alice")
	alice.Tags = map[string]string{"Team": "web"}
	ctx := func(kv ...string) map[string][]string {
		m := map[string][]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = append(m[kv[i]], kv[i+1])
		}
		return m
	}
	tests := []struct {
		name string
		cond string
		ctx  map[string][]string
		want bool
	}{
		{"StringEquals hit", `{"StringEquals":{"aws:username":"alice"}}`, nil, true},
		{"StringEquals case", `{"StringEquals":{"aws:username":"Alice"}}`, nil, false},
		{"StringEquals values ORed", `{"StringEquals":{"aws:username":["bob","alice"]}}`, nil, true},
		{"StringEquals no wildcard", `{"StringEquals":{"aws:username":"a*"}}`, nil, false},
		{"StringEquals key case-insensitive", `{"StringEquals":{"AWS:USERNAME":"alice"}}`, nil, true},
		{"StringNotEquals hit", `{"StringNotEquals":{"aws:username":"alice"}}`, nil, false},
		{"StringNotEquals miss", `{"StringNotEquals":{"aws:username":["bob","carol"]}}`, nil, true},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"aws:username":"ALICE"}}`, nil, true},
		{"StringNotEqualsIgnoreCase", `{"StringNotEqualsIgnoreCase":{"aws:username":"ALICE"}}`, nil, false},
		{"StringLike", `{"StringLike":{"aws:username":"al*"}}`, nil, true},
		{"StringLike ?", `{"StringLike":{"aws:username":"al?ce"}}`, nil, true},
		{"StringLike miss", `{"StringLike":{"aws:username":"bo*"}}`, nil, false},
		{"StringNotLike", `{"StringNotLike":{"aws:username":"bo*"}}`, nil, true},
		{"operators ANDed", `{"StringEquals":{"aws:username":"alice"},"Bool":{"aws:SecureTransport":"true"}}`, ctx("aws:SecureTransport", "false"), false},
		{"keys ANDed", `{"StringEquals":{"aws:username":"alice","aws:PrincipalAccount":"999999999999"}}`, nil, false},
		{"PrincipalAccount", `{"StringEquals":{"aws:PrincipalAccount":"111111111111"}}`, nil, true},
		{"PrincipalArn", `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111111111111:user/alice"}}`, nil, true},
		{"PrincipalType", `{"StringEquals":{"aws:PrincipalType":"User"}}`, nil, true},
		{"userid", `{"StringLike":{"aws:userid":"AIDA*"}}`, nil, true},
		{"PrincipalTag", `{"StringEquals":{"aws:PrincipalTag/team":"web"}}`, nil, true},
		{"PrincipalTag missing", `{"StringEquals":{"aws:PrincipalTag/cost":"x"}}`, nil, false},
		{"variable in value", `{"StringEquals":{"ecr:ResourceTag/owner":"${aws:username}"}}`, ctx("ecr:ResourceTag/owner", "alice"), true},
		{"variable in value miss", `{"StringEquals":{"ecr:ResourceTag/owner":"${aws:username}"}}`, ctx("ecr:ResourceTag/owner", "bob"), false},
		{"resource tag alias aws->ecr", `{"StringEquals":{"aws:ResourceTag/env":"prod"}}`, ctx("ecr:ResourceTag/env", "prod"), true},
		{"resource tag alias ecr->aws", `{"StringEquals":{"ecr:ResourceTag/env":"prod"}}`, ctx("aws:ResourceTag/env", "prod"), true},
		{"context key case-insensitive", `{"StringEquals":{"aws:sourcevpc":"vpc-1"}}`, ctx("aws:SourceVpc", "vpc-1"), true},
		{"missing key positive", `{"StringEquals":{"aws:SourceVpc":"vpc-1"}}`, nil, false},
		{"missing key negated", `{"StringNotEquals":{"aws:SourceVpc":"vpc-1"}}`, nil, true},
		{"missing key NotIpAddress", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, nil, true},
		{"IfExists missing", `{"StringEqualsIfExists":{"aws:SourceVpc":"vpc-1"}}`, nil, true},
		{"IfExists present miss", `{"StringEqualsIfExists":{"aws:SourceVpc":"vpc-1"}}`, ctx("aws:SourceVpc", "vpc-2"), false},
		{"IfExists present hit", `{"StringLikeIfExists":{"aws:SourceVpc":"vpc-*"}}`, ctx("aws:SourceVpc", "vpc-2"), true},
		{"NumericLessThan", `{"NumericLessThan":{"x:n":"10"}}`, ctx("x:n", "9.5"), true},
		{"NumericLessThan eq", `{"NumericLessThan":{"x:n":10}}`, ctx("x:n", "10"), false},
		{"NumericLessThanEquals", `{"NumericLessThanEquals":{"x:n":10}}`, ctx("x:n", "10"), true},
		{"NumericGreaterThan", `{"NumericGreaterThan":{"x:n":10}}`, ctx("x:n", "11"), true},
		{"NumericGreaterThanEquals", `{"NumericGreaterThanEquals":{"x:n":10}}`, ctx("x:n", "9"), false},
		{"NumericEquals", `{"NumericEquals":{"x:n":"1e1"}}`, ctx("x:n", "10"), true},
		{"NumericNotEquals", `{"NumericNotEquals":{"x:n":10}}`, ctx("x:n", "10"), false},
		{"Numeric bad request value", `{"NumericEquals":{"x:n":10}}`, ctx("x:n", "ten"), false},
		{"DateLessThan ISO", `{"DateLessThan":{"aws:CurrentTime":"2025-01-01T00:00:00Z"}}`, ctx("aws:CurrentTime", "2024-06-01T12:00:00Z"), true},
		{"DateLessThan expired", `{"DateLessThan":{"aws:CurrentTime":"2024-01-01T00:00:00Z"}}`, ctx("aws:CurrentTime", "2024-06-01T12:00:00Z"), false},
		{"DateGreaterThan epoch policy", `{"DateGreaterThan":{"aws:CurrentTime":"1700000000"}}`, ctx("aws:CurrentTime", "2024-06-01T12:00:00Z"), true},
		{"DateEquals epoch vs ISO", `{"DateEquals":{"aws:EpochTime":"2023-11-14T22:13:20Z"}}`, ctx("aws:EpochTime", "1700000000"), true},
		{"DateNotEquals", `{"DateNotEquals":{"aws:CurrentTime":"2024-06-01"}}`, ctx("aws:CurrentTime", "2024-06-01T00:00:00Z"), false},
		{"DateGreaterThanEquals offset", `{"DateGreaterThanEquals":{"aws:CurrentTime":"2024-06-01T14:00:00+02:00"}}`, ctx("aws:CurrentTime", "2024-06-01T12:00:00Z"), true},
		{"DateLessThanEquals", `{"DateLessThanEquals":{"aws:CurrentTime":"2024-06-01T11:59:59Z"}}`, ctx("aws:CurrentTime", "2024-06-01T12:00:00Z"), false},
		{"Bool true", `{"Bool":{"aws:SecureTransport":"true"}}`, ctx("aws:SecureTransport", "true"), true},
		{"Bool JSON bool", `{"Bool":{"aws:SecureTransport":true}}`, ctx("aws:SecureTransport", "TRUE"), true},
		{"Bool false vs true", `{"Bool":{"aws:SecureTransport":"false"}}`, ctx("aws:SecureTransport", "true"), false},
		{"Bool missing", `{"Bool":{"aws:SecureTransport":"false"}}`, nil, false},
		{"BinaryEquals", `{"BinaryEquals":{"x:b":"QmluYXJ5"}}`, ctx("x:b", "QmluYXJ5"), true},
		{"IpAddress v4", `{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]}}`, ctx("aws:SourceIp", "203.0.113.9"), true},
		{"IpAddress v4 miss", `{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`, ctx("aws:SourceIp", "192.0.3.1"), false},
		{"IpAddress single host", `{"IpAddress":{"aws:SourceIp":"192.0.2.7"}}`, ctx("aws:SourceIp", "192.0.2.7"), true},
		{"IpAddress v6", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, ctx("aws:SourceIp", "2001:db8:1::5"), true},
		{"IpAddress v6 miss", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, ctx("aws:SourceIp", "2001:db9::5"), false},
		{"IpAddress v4-mapped", `{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}`, ctx("aws:SourceIp", "::ffff:127.0.0.1"), true},
		{"IpAddress v4 vs v6 range", `{"IpAddress":{"aws:SourceIp":"::/0"}}`, ctx("aws:SourceIp", "10.0.0.1"), false},
		{"IpAddress garbage", `{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`, ctx("aws:SourceIp", "nope"), false},
		{"NotIpAddress inside", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx("aws:SourceIp", "10.1.2.3"), false},
		{"NotIpAddress outside", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctx("aws:SourceIp", "11.1.2.3"), true},
		{"ArnLike", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecr:*:111111111111:repository/*"}}`, ctx("aws:SourceArn", repoA), true},
		{"ArnLike field bound", `{"ArnLike":{"aws:SourceArn":"arn:aws:ecr:*1111:repository/*"}}`, ctx("aws:SourceArn", repoA), false},
		{"ArnNotLike", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:ecr:*:111111111111:repository/*"}}`, ctx("aws:SourceArn", repoB), true},
		{"ArnEquals", `{"ArnEquals":{"aws:SourceArn":"` + repoA + `"}}`, ctx("aws:SourceArn", repoA), true},
		{"ArnNotEquals", `{"ArnNotEquals":{"aws:SourceArn":"` + repoA + `"}}`, ctx("aws:SourceArn", repoA), false},
		{"Null true absent", `{"Null":{"aws:SourceVpc":"true"}}`, nil, true},
		{"Null true present", `{"Null":{"aws:SourceVpc":"true"}}`, ctx("aws:SourceVpc", "v"), false},
		{"Null false present", `{"Null":{"aws:SourceVpc":"false"}}`, ctx("aws:SourceVpc", "v"), true},
		{"Null false absent", `{"Null":{"aws:SourceVpc":false}}`, nil, false},
		{"Null principal tag", `{"Null":{"aws:PrincipalTag/Team":"false"}}`, nil, true},
		{"ForAnyValue hit", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctx("aws:TagKeys", "z", "aws:TagKeys", "b"), true},
		{"ForAnyValue miss", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctx("aws:TagKeys", "z"), false},
		{"ForAnyValue empty set", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["a"]}}`, nil, false},
		{"ForAnyValue empty list", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["a"]}}`, map[string][]string{"aws:TagKeys": {}}, false},
		{"ForAnyValue IfExists empty", `{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":["a"]}}`, nil, true},
		{"ForAnyValue negated", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["a"]}}`, ctx("aws:TagKeys", "a", "aws:TagKeys", "z"), true},
		{"ForAnyValue negated all listed", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["a","z"]}}`, ctx("aws:TagKeys", "a", "aws:TagKeys", "z"), false},
		{"ForAllValues subset", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b","c"]}}`, ctx("aws:TagKeys", "a", "aws:TagKeys", "c"), true},
		{"ForAllValues not subset", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctx("aws:TagKeys", "a", "aws:TagKeys", "z"), false},
		{"ForAllValues empty set is true", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}`, nil, true},
		{"ForAllValues empty list is true", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}`, map[string][]string{"aws:TagKeys": {}}, true},
		{"ForAllValues negated", `{"ForAllValues:StringNotLike":{"aws:TagKeys":["sys*"]}}`, ctx("aws:TagKeys", "a", "aws:TagKeys", "b"), true},
		{"ForAllValues negated hit", `{"ForAllValues:StringNotLike":{"aws:TagKeys":["sys*"]}}`, ctx("aws:TagKeys", "a", "aws:TagKeys", "system"), false},
		{"multi-valued without qualifier", `{"StringEquals":{"aws:TagKeys":"b"}}`, ctx("aws:TagKeys", "a", "aws:TagKeys", "b"), true},
		{"operator name case-insensitive", `{"stringequals":{"aws:username":"alice"}}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := condAllowed(t, tt.cond, tt.ctx, alice); got != tt.want {
				t.Errorf("allowed = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPrincipalDerivedKeys(t *testing.T) {
	tests := []struct {
		name string
		p    Principal
		cond string
		want bool
	}{
		{"root type is Account", root(acctA), `{"StringEquals":{"aws:PrincipalType":"Account"}}`, true},
		{"session PrincipalArn is the role", session(acctA, "deploy", "s1"), `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/*/deploy"}}`, true},
		{"session type", session(acctA, "deploy", "s1"), `{"StringEquals":{"aws:PrincipalType":"AssumedRole"}}`, true},
		{"session has no username", session(acctA, "deploy", "s1"), `{"Null":{"aws:username":"true"}}`, true},
		{"session userid", session(acctA, "deploy", "s1"), `{"StringLike":{"aws:userid":"*:s1"}}`, true},
		{"callers cannot forge principal keys", user(acctA, "bob"), `{"StringEquals":{"aws:username":"alice"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forged := map[string][]string{"aws:username": {"alice"}}
			got := condAllowed(t, tt.cond, forged, tt.p)
			if tt.p.Type == PrincipalRoot {
				// Root ignores identity policies: test through a resource policy instead.
				pol := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":`+tt.cond+`}]}`, ResourcePolicy)
				got = Evaluate(&Request{Principal: tt.p, Action: "ecr:BatchGetImage", Resource: repoB, ResourceAccount: acctB, ResourcePolicy: pol}).Allowed
			}
			if got != tt.want {
				t.Errorf("allowed = %v, want %v", got, tt.want)
			}
		})
	}
}
