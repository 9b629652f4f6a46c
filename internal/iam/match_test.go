package iam

import "testing"

func TestActionMatching(t *testing.T) {
	tests := []struct {
		pattern, action string
		want            bool
	}{
		{"ecr:BatchGetImage", "ecr:BatchGetImage", true},
		{"ECR:batchgetimage", "ecr:BatchGetImage", true},
		{"ecr:*", "ecr:PutImage", true},
		{"ecr:*", "ecrx:PutImage", false},
		{"ecr:Describe*", "ecr:DescribeRepositories", true},
		{"ecr:describe*", "ecr:DescribeImages", true},
		{"ecr:Describe*", "ecr:ListImages", false},
		{"ecr:Get?uthorizationToken", "ecr:GetAuthorizationToken", true},
		{"ecr:Get?uthorizationToken", "ecr:GetXXuthorizationToken", false},
		{"*", "sts:AssumeRole", true},
		{"ecr:*Image", "ecr:BatchGetImage", true},
		{"ecr:*Image", "ecr:BatchGetImages", false},
		{"ecr:*Layer*", "ecr:GetDownloadUrlForLayer", true},
		{"ecr:Batch*Image", "ecr:BatchDeleteImage", true},
		{"e*:*Get*", "ecr:BatchGetImage", true},
		{"ecr:BatchGetImage", "ecr:BatchGetImag", false},
	}
	for _, tt := range tests {
		g := compileGlob(tt.pattern, true, false)
		if got := g.match(tt.action, true, nil); got != tt.want {
			t.Errorf("action %q ~ %q = %v, want %v", tt.pattern, tt.action, got, tt.want)
		}
	}
}

func TestResourceMatching(t *testing.T) {
	p := user(acctA, "alice")
	p.Tags = map[string]string{"team": "web"}
	ec := &evalCtx{req: &Request{Principal: p, Context: map[string][]string{"aws:SourceIp": {"10.0.0.1"}}}}
	tests := []struct {
		pattern, resource string
		want              bool
	}{
		{"*", "*", true},
		{"*", repoA, true},
		{repoA, repoA, true},
		{repoA, "*", false},
		{"arn:aws:ecr:*:*:repository/*", "*", false},
		{"arn:aws:ecr:eu-west-2:111111111111:repository/APP", repoA, false}, // case-sensitive
		{"arn:aws:ecr:*:111111111111:repository/*", repoA, true},
		{"arn:aws:ecr:*:111111111111:repository/*", repoB, false},
		{"arn:aws:ecr:eu-west-?:*:repository/app", repoA, true},
		{"arn:aws:ecr:*:*:*", "arn:aws:ecr:eu-west-2:1:repository/a/b:c", true}, // last field spans ':' and '/'
		{"arn:aws:*:eu-west-2:111111111111:*", "arn:aws:ecr:eu-west-2:111111111111:repository/x", true},
		{"arn:aws:e*2:111111111111:repository/x", "arn:aws:ecr:eu-west-2:111111111111:repository/x", false}, // * stays inside a field
		{"arn:aws:ecr:*", repoA, true},                                                                      // short pattern: last field spans the rest
		{"arn:aws:ecr:eu-west-2:111111111111:repository/team-*", "arn:aws:ecr:eu-west-2:111111111111:repository/team-a/nested", true},
		{"arn:aws:ecr:*:*:repository/${aws:username}/*", "arn:aws:ecr:eu-west-2:1:repository/alice/app", true},
		{"arn:aws:ecr:*:*:repository/${aws:username}/*", "arn:aws:ecr:eu-west-2:1:repository/bob/app", false},
		{"arn:aws:ecr:*:${aws:PrincipalAccount}:repository/*", repoA, true},
		{"arn:aws:ecr:*:${aws:PrincipalAccount}:repository/*", repoB, false},
		{"arn:aws:ecr:*:*:repository/${aws:PrincipalTag/team}-*", "arn:aws:ecr:r:1:repository/web-app", true},
		{"arn:aws:ecr:*:*:repository/${aws:PrincipalTag/missing}", "arn:aws:ecr:r:1:repository/", false},
		{"arn:aws:ecr:*:*:repository/${aws:PrincipalTag/missing, 'shared'}", "arn:aws:ecr:r:1:repository/shared", true},
		{"arn:aws:ecr:*:*:repository/${*}", "arn:aws:ecr:r:1:repository/*", true},
		{"arn:aws:ecr:*:*:repository/${*}", "arn:aws:ecr:r:1:repository/x", false}, // ${*} is a literal star
		{"arn:aws:ecr:*:*:repository/a${?}${$}", "arn:aws:ecr:r:1:repository/a?$", true},
		{"arn:aws:ecr:*:*:repository/${aws:SourceIp}", "arn:aws:ecr:r:1:repository/10.0.0.1", true},
	}
	for _, tt := range tests {
		pat := compileARNPattern(tt.pattern, true)
		if got := pat.match(tt.resource, ec); got != tt.want {
			t.Errorf("resource %q ~ %q = %v, want %v", tt.pattern, tt.resource, got, tt.want)
		}
	}
}

func TestVariablesLiteralInLegacyVersion(t *testing.T) {
	pol := mustParse(t, `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/${aws:username}"}]}`, ResourcePolicy)
	for _, tt := range []struct {
		res  string
		want bool
	}{
		{"arn:aws:ecr:r:111111111111:repository/${aws:username}", true},
		{"arn:aws:ecr:r:111111111111:repository/release", false},
	} {
		req := &Request{Principal: user(acctB, "release"), Action: "ecr:BatchGetImage", Resource: tt.res, ResourceAccount: acctA,
			IdentityPolicies: []*Policy{identity(t, "Allow", "ecr:*", "*")}, ResourcePolicy: pol}
		if got := Evaluate(req).Allowed; got != tt.want {
			t.Errorf("%s: allowed = %v, want %v", tt.res, got, tt.want)
		}
	}
}
