package iam

import (
	"fmt"
	"strings"
	"testing"
)

// benchRequest builds one cross-account pull evaluated against 100
// statements: three identity policies, a permissions boundary and the
// repository policy, 20 statements each, with the allowing statements last.
func benchRequest(b *testing.B) *Request {
	stmts := func(n int, gen func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = gen(i)
		}
		return `{"Version":"2012-10-17","Statement":[` + strings.Join(parts, ",") + `]}`
	}
	identityGen := func(set int) func(i int) string {
		return func(i int) string {
			switch i % 4 {
			case 0:
				return fmt.Sprintf(`{"Sid":"S%d%d","Effect":"Allow","Action":["ecr:Describe*","ecr:List*"],"Resource":"arn:aws:ecr:eu-west-2:222222222222:repository/team%d/*"}`, set, i, i)
			case 1:
				return fmt.Sprintf(`{"Sid":"S%d%d","Effect":"Deny","Action":"ecr:Delete*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalTag/role":"admin%d"}}}`, set, i, i)
			case 2:
				return fmt.Sprintf(`{"Sid":"S%d%d","Effect":"Allow","Action":["ecr:PutImage","ecr:InitiateLayerUpload","ecr:UploadLayerPart"],"Resource":"arn:aws:ecr:*:111111111111:repository/${aws:username}/svc%d"}`, set, i, i)
			default:
				return fmt.Sprintf(`{"Sid":"S%d%d","Effect":"Deny","Action":"ecr:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","192.0.2.%d/32","2001:db8::/32"]},"Bool":{"aws:ViaAWSService":"false"}}}`, set, i, i)
			}
		}
	}
	allowLast := func(gen func(int) string, allow string) func(int) string {
		return func(i int) string {
			if i == 19 {
				return allow
			}
			return gen(i)
		}
	}
	var ids []*Policy
	for set := 0; set < 3; set++ {
		gen := identityGen(set)
		if set == 2 {
			gen = allowLast(gen, `{"Sid":"Pull","Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"arn:aws:ecr:*:222222222222:repository/app","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`)
		}
		ids = append(ids, mustParse(b, stmts(20, gen), IdentityPolicy))
	}
	boundary := mustParse(b, stmts(20, allowLast(identityGen(9), `{"Sid":"Ceiling","Effect":"Allow","Action":"ecr:*","Resource":"*"}`)), IdentityPolicy)
	repo := mustParse(b, stmts(20, func(i int) string {
		switch {
		case i == 19:
			return `{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"],"Condition":{"StringEquals":{"aws:PrincipalAccount":"111111111111"},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}`
		case i%2 == 0:
			return fmt.Sprintf(`{"Sid":"r%d","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::3333333333%02d:root","arn:aws:iam::444444444444:role/ci%d"]},"Action":"ecr:*"}`, i, i, i)
		default:
			return fmt.Sprintf(`{"Sid":"r%d","Effect":"Deny","Principal":"*","Action":"ecr:PutImage","Condition":{"StringNotLike":{"aws:PrincipalArn":"arn:aws:iam::222222222222:role/pusher%d*"}}}`, i, i)
		}
	}), ResourcePolicy)
	return &Request{
		Principal: Principal{Type: PrincipalUser, Account: acctA, ARN: userA, Username: "release", UserID: "AIDAEXAMPLE",
			Tags: map[string]string{"role": "dev"}},
		Action:           "ecr:BatchGetImage",
		Resource:         repoB,
		ResourceAccount:  acctB,
		IdentityPolicies: ids,
		Boundary:         boundary,
		ResourcePolicy:   repo,
		Context: map[string][]string{
			"aws:SourceIp":        {"10.0.3.7"},
			"aws:CurrentTime":     {"2025-06-01T12:00:00Z"},
			"aws:SecureTransport": {"true"},
			"aws:ViaAWSService":   {"false"},
		},
	}
}

func BenchmarkEvaluate100Statements(b *testing.B) {
	req := benchRequest(b)
	n := 0
	for _, p := range append(append([]*Policy{}, req.IdentityPolicies...), req.Boundary, req.ResourcePolicy) {
		n += p.Statements()
	}
	if n != 100 {
		b.Fatalf("%d statements", n)
	}
	if d := Evaluate(req); !d.Allowed || len(d.Matched) != 2 {
		b.Fatalf("benchmark request not allowed: %+v", d)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Evaluate(req)
	}
}

func BenchmarkParsePolicy(b *testing.B) {
	doc := AWSManagedPolicies()[2].Document
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePolicy(doc, IdentityPolicy); err != nil {
			b.Fatal(err)
		}
	}
}
