package iam

import (
	"errors"
	"strings"
	"testing"
)

func FuzzParsePolicy(f *testing.F) {
	for _, mp := range AWSManagedPolicies() {
		f.Add(mp.Document, uint8(IdentityPolicy))
	}
	seeds := []struct {
		doc  string
		kind PolicyKind
	}{
		{`{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222233334444:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}`, ResourcePolicy},
		{`{"Version":"2008-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["111111111111","arn:aws:sts::111111111111:assumed-role/r/s"]},"NotAction":"ecr:Get*"}}`, ResourcePolicy},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111111111111"}}}]}`, TrustPolicy},
		{`{"Version":"2012-10-17","Id":"x","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:${aws:PrincipalAccount}:repository/${aws:username}/*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["a*"]},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"NumericLessThanEquals":{"x:n":3},"Bool":{"aws:SecureTransport":true},"Null":{"aws:PrincipalTag/team":"false"}}}]}`, IdentityPolicy},
		{`{"Statement":[{"Effect":"Allow","NotAction":"iam:*","NotResource":["arn:aws:ecr:eu-west-2:111111111111:repository/${*}"]}]}`, IdentityPolicy},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEqualz":{}}}]}`, IdentityPolicy},
		{`[1,2,3]`, IdentityPolicy},
	}
	for _, s := range seeds {
		f.Add(s.doc, uint8(s.kind))
	}
	f.Fuzz(func(t *testing.T, doc string, k uint8) {
		kind := PolicyKind(k % 3)
		p, err := parsePolicy(doc, kind)
		if err != nil {
			if !errors.Is(err, ErrMalformedPolicy) {
				t.Fatalf("error %v is not ErrMalformedPolicy", err)
			}
			return
		}
		if p.Document() != doc {
			t.Fatal("Document() changed")
		}
		canon := p.Canonical()
		p2, err := parsePolicy(canon, kind)
		if err != nil {
			t.Fatalf("canonical form rejected: %v\noriginal:  %s\ncanonical: %s", err, doc, canon)
		}
		if again := p2.Canonical(); again != canon {
			t.Fatalf("canonical form not stable:\n%s\n%s", canon, again)
		}
		// Equivalent policies decide alike.
		for _, req := range probeRequests(kind) {
			slot := func(pol *Policy) *Request {
				r := *req
				if kind == IdentityPolicy {
					r.IdentityPolicies = []*Policy{pol}
				} else {
					r.ResourcePolicy = pol
				}
				return &r
			}
			d1, d2 := Evaluate(slot(p)), Evaluate(slot(p2))
			if d1.Allowed != d2.Allowed || d1.Denial != d2.Denial {
				t.Fatalf("decisions differ for %s: %+v vs %+v\n%s\n%s", req.Action, d1, d2, doc, canon)
			}
		}
	})
}

func probeRequests(kind PolicyKind) []*Request {
	alice := Principal{Type: PrincipalUser, Account: acctA, ARN: userA, Username: "release", UserID: "AIDAX", Tags: map[string]string{"team": "web"}}
	ctx := map[string][]string{"aws:SourceIp": {"10.1.2.3"}, "aws:CurrentTime": {"2024-05-01T12:00:00Z"}, "aws:TagKeys": {"a1", "b"}, "aws:SecureTransport": {"true"}}
	action := "ecr:BatchGetImage"
	if kind == TrustPolicy {
		action = "sts:AssumeRole"
	}
	return []*Request{
		{Principal: alice, Action: action, Resource: "arn:aws:ecr:eu-west-2:111111111111:repository/release/app", Context: ctx},
		{Principal: alice, Action: "ecr:PutImage", Resource: "*", Context: ctx},
		{Principal: Principal{Type: PrincipalAssumedRole, Account: acctA, ARN: "arn:aws:sts::111111111111:assumed-role/r/s", RoleARN: "arn:aws:iam::111111111111:role/r"},
			Action: action, Resource: repoB, ResourceAccount: acctB},
	}
}

func FuzzEvaluate(f *testing.F) {
	f.Add(`{"Effect":"Allow","Action":"ecr:*","Resource":"*"}`, `{"Effect":"Allow","Principal":"*","Action":"ecr:*"}`, "ecr:BatchGetImage", repoB, uint8(0), false, "10.0.0.1")
	f.Add(`{"Effect":"Allow","NotAction":"iam:*","Resource":"arn:aws:ecr:*:*:repository/${aws:username}*"}`, `{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"ecr:Batch*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`, "ECR:batchgetimage", "arn:aws:ecr:eu-west-2:222222222222:repository/release", uint8(1), false, "10.9.9.9")
	f.Add(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":"x"}}}`, `{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111111111111:user/release"},"Action":"*"}`, "ecr:PutImage", "*", uint8(2), true, "::1")
	f.Add(`{"Effect":"Allow","Action":"sts:*","Resource":"*"}`, `{"Effect":"Allow","Principal":{"Service":"replication.ecr.amazonaws.com"},"Action":"*"}`, "ecr:ReplicateImage", "*", uint8(4), true, "")
	f.Fuzz(func(t *testing.T, idStmts, resStmts, action, resource string, ptype uint8, same bool, ip string) {
		if strings.EqualFold(action, "sts:GetCallerIdentity") {
			return
		}
		idPol, err1 := parsePolicy(`{"Version":"2012-10-17","Statement":[`+idStmts+`]}`, IdentityPolicy)
		resPol, err2 := parsePolicy(`{"Version":"2012-10-17","Statement":[`+resStmts+`]}`, ResourcePolicy)
		idDeny, err3 := parsePolicy(`{"Version":"2012-10-17","Statement":[`+idStmts+`,{"Effect":"Deny","Action":"*","Resource":"*"}]}`, IdentityPolicy)
		resDeny, err4 := parsePolicy(`{"Version":"2012-10-17","Statement":[`+resStmts+`,{"Effect":"Deny","Principal":"*","Action":"*"}]}`, ResourcePolicy)
		var p Principal
		switch ptype % 5 {
		case 0:
			p = Principal{Type: PrincipalUser, Account: acctA, ARN: userA, Username: "release", UserID: "AIDAX"}
		case 1:
			p = Principal{Type: PrincipalAssumedRole, Account: acctA, ARN: "arn:aws:sts::111111111111:assumed-role/r/s", RoleARN: "arn:aws:iam::111111111111:role/r"}
		case 2:
			p = Principal{Type: PrincipalRoot, Account: acctA}
		case 3:
			p = Principal{Type: PrincipalAnonymous}
		case 4:
			p = Principal{Type: PrincipalService, ARN: "replication.ecr.amazonaws.com"}
		}
		owner := acctB
		if same {
			owner = acctA
		}
		req := Request{Principal: p, Action: action, Resource: resource, ResourceAccount: owner,
			Context: map[string][]string{"aws:SourceIp": {ip}, "aws:TagKeys": {ip, "x"}}}
		if err1 == nil {
			req.IdentityPolicies = []*Policy{idPol}
			req.Boundary = idPol
			req.SessionPolicies = []*Policy{idPol}
		}
		if err2 == nil {
			req.ResourcePolicy = resPol
		}
		d := Evaluate(&req)
		if d.Allowed != (d.Effect == Allow) || d.Allowed == (d.Denial != NotDenied) {
			t.Fatalf("inconsistent decision %+v", d)
		}
		_ = d.Message(&req)
		if err4 == nil {
			r := req
			r.ResourcePolicy = resDeny
			if d := Evaluate(&r); d.Allowed {
				t.Fatalf("resource deny-all did not deny: %+v", d)
			}
		}
		hasIdentity := p.Type == PrincipalUser || p.Type == PrincipalAssumedRole
		if err3 == nil && hasIdentity {
			r := req
			r.IdentityPolicies = append([]*Policy{idDeny}, r.IdentityPolicies...)
			if d := Evaluate(&r); d.Allowed || d.Effect != ExplicitDeny {
				t.Fatalf("identity deny-all did not deny: %+v", d)
			}
		}
	})
}
