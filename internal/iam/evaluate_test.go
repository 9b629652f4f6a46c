package iam

import (
	"fmt"
	"testing"
)

// TestCrossAccountMatrix walks same/cross account × identity side × resource
// policy × principal type. Codes: A allowed, I explicit deny (identity),
// X explicit deny (resource), N no identity-based policy allows,
// R no resource-based policy allows.
func TestCrossAccountMatrix(t *testing.T) {
	resources := []string{"arn", "account", "star", "deny", "none"}
	want := map[string]string{ // key: principal/scope/identity → codes in resources order
		"user/same/allow":     "AAAXA",
		"user/same/deny":      "IIIII",
		"user/same/none":      "ANNXN",
		"user/cross/allow":    "AAAXR",
		"user/cross/deny":     "IIIII",
		"user/cross/none":     "NNNXN",
		"session/same/allow":  "AAAXA",
		"session/same/deny":   "IIIII",
		"session/same/none":   "ANNXN",
		"session/cross/allow": "AAAXR",
		"session/cross/deny":  "IIIII",
		"session/cross/none":  "NNNXN",
		// Root has no identity policies: whatever is passed is ignored.
		"root/same/allow":  "AAAXA",
		"root/same/deny":   "AAAXA",
		"root/same/none":   "AAAXA",
		"root/cross/allow": "AAAXR",
		"root/cross/deny":  "AAAXR",
		"root/cross/none":  "AAAXR",
	}
	codeOf := func(d Decision) string {
		switch {
		case d.Allowed:
			return "A"
		case d.Denial == ExplicitDenyIdentity:
			return "I"
		case d.Denial == ExplicitDenyResource:
			return "X"
		case d.Denial == NoIdentityAllow:
			return "N"
		case d.Denial == NoResourceAllow:
			return "R"
		}
		return "?"
	}
	for _, who := range []string{"user", "session", "root"} {
		for _, scope := range []string{"same", "cross"} {
			owner := acctB
			if scope == "same" {
				owner = acctA
			}
			var p Principal
			var directARN string
			switch who {
			case "user":
				p, directARN = user(acctA, "release"), user(acctA, "release").ARN
			case "session":
				p = session(acctA, "deploy", "s1")
				directARN = p.RoleARN
			case "root":
				p, directARN = root(acctA), root(acctA).ARN
			}
			for _, idSide := range []string{"allow", "deny", "none"} {
				key := who + "/" + scope + "/" + idSide
				for i, res := range resources {
					req := &Request{
						Principal:       p,
						Action:          "ecr:BatchGetImage",
						Resource:        "arn:aws:ecr:eu-west-2:" + owner + ":repository/app",
						ResourceAccount: owner,
					}
					switch idSide {
					case "allow":
						req.IdentityPolicies = []*Policy{identity(t, "Allow", "ecr:BatchGetImage", "*")}
					case "deny":
						req.IdentityPolicies = []*Policy{identity(t, "Allow", "ecr:*", "*"), identity(t, "Deny", "ecr:BatchGetImage", "*")}
					}
					switch res {
					case "arn":
						req.ResourcePolicy = resourcePolicy(t, "Allow", `{"AWS":"`+directARN+`"}`, "ecr:BatchGetImage")
					case "account":
						req.ResourcePolicy = resourcePolicy(t, "Allow", `{"AWS":"`+acctA+`"}`, "ecr:BatchGetImage")
					case "star":
						req.ResourcePolicy = resourcePolicy(t, "Allow", `"*"`, "ecr:BatchGetImage")
					case "deny":
						req.ResourcePolicy = mustParse(t, `{"Version":"2012-10-17","Statement":[
							{"Sid":"R","Effect":"Allow","Principal":{"AWS":"`+directARN+`"},"Action":"ecr:*"},
							{"Sid":"D","Effect":"Deny","Principal":"*","Action":"ecr:BatchGetImage"}]}`, ResourcePolicy)
					}
					d := Evaluate(req)
					if got, exp := codeOf(d), string(want[key][i]); got != exp {
						t.Errorf("%s resource=%s: got %s (%s), want %s", key, res, got, d.Reason, exp)
					}
					if d.Allowed != (d.Effect == Allow) || d.Allowed != (d.Denial == NotDenied) {
						t.Errorf("%s resource=%s: inconsistent decision %+v", key, res, d)
					}
				}
			}
		}
	}
}

func TestEvaluationRules(t *testing.T) {
	alice := user(acctA, "alice")
	sess := session(acctA, "deploy", "s1")
	svc := Principal{Type: PrincipalService, ARN: "replication.ecr.amazonaws.com"}
	allowAll := identity(t, "Allow", "ecr:*", "*")
	tests := []struct {
		name       string
		req        Request
		wantAllow  bool
		wantDenial DenialKind
		wantRefs   int
	}{
		{
			name:       "no policies at all",
			req:        Request{Principal: alice, Action: "ecr:BatchGetImage", Resource: repoA},
			wantDenial: NoIdentityAllow,
		},
		{
			name:      "identity allow",
			req:       Request{Principal: alice, Action: "ecr:BatchGetImage", Resource: repoA, IdentityPolicies: []*Policy{allowAll}},
			wantAllow: true, wantRefs: 1,
		},
		{
			name:       "identity allow on another repository",
			req:        Request{Principal: alice, Action: "ecr:BatchGetImage", Resource: repoA, IdentityPolicies: []*Policy{identity(t, "Allow", "ecr:*", "arn:aws:ecr:eu-west-2:111111111111:repository/other")}},
			wantDenial: NoIdentityAllow,
		},
		{
			name:       "registry action needs *",
			req:        Request{Principal: alice, Action: "ecr:GetAuthorizationToken", Resource: "*", IdentityPolicies: []*Policy{identity(t, "Allow", "ecr:*", "arn:aws:ecr:*:*:repository/*")}},
			wantDenial: NoIdentityAllow,
		},
		{
			name:      "empty resource means *",
			req:       Request{Principal: alice, Action: "ecr:GetAuthorizationToken", IdentityPolicies: []*Policy{allowAll}},
			wantAllow: true, wantRefs: 1,
		},
		{
			name: "explicit deny beats allow in same policy",
			req: Request{Principal: alice, Action: "ecr:PutImage", Resource: repoA, IdentityPolicies: []*Policy{mustParse(t, `{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":"ecr:*","Resource":"*"},{"Sid":"NoPush","Effect":"Deny","Action":"ecr:PutImage","Resource":"*"}]}`, IdentityPolicy)}},
			wantDenial: ExplicitDenyIdentity, wantRefs: 1,
		},
		{
			name: "NotAction allow",
			req: Request{Principal: alice, Action: "ecr:BatchGetImage", Resource: repoA, IdentityPolicies: []*Policy{mustParse(t,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"ecr:Delete*","Resource":"*"}]}`, IdentityPolicy)}},
			wantAllow: true, wantRefs: 1,
		},
		{
			name: "NotAction excludes",
			req: Request{Principal: alice, Action: "ecr:DeleteRepository", Resource: repoA, IdentityPolicies: []*Policy{mustParse(t,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"ecr:Delete*","Resource":"*"}]}`, IdentityPolicy)}},
			wantDenial: NoIdentityAllow,
		},
		{
			name: "NotResource deny spares the listed repo",
			req: Request{Principal: alice, Action: "ecr:BatchGetImage", Resource: repoA, IdentityPolicies: []*Policy{allowAll, mustParse(t,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:*","NotResource":"`+repoA+`"}]}`, IdentityPolicy)}},
			wantAllow: true, wantRefs: 1,
		},
		{
			name: "NotResource deny hits others",
			req: Request{Principal: alice, Action: "ecr:BatchGetImage", Resource: "arn:aws:ecr:eu-west-2:111111111111:repository/x", IdentityPolicies: []*Policy{allowAll, mustParse(t,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ecr:*","NotResource":"`+repoA+`"}]}`, IdentityPolicy)}},
			wantDenial: ExplicitDenyIdentity, wantRefs: 1,
		},
		{
			name: "NotPrincipal deny spares the listed user with its account",
			req: Request{Principal: alice, Action: "ecr:BatchGetImage", Resource: repoA, IdentityPolicies: []*Policy{allowAll}, ResourcePolicy: mustParse(t,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["`+alice.ARN+`","`+acctA+`"]},"Action":"ecr:*"}]}`, ResourcePolicy)},
			wantAllow: true, wantRefs: 1,
		},
		{
			// AWS checks the account first: without it the user is not spared.
			name: "NotPrincipal deny naming the user without its account hits it",
			req: Request{Principal: alice, Action: "ecr:BatchGetImage", Resource: repoA, IdentityPolicies: []*Policy{allowAll}, ResourcePolicy: mustParse(t,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"`+alice.ARN+`"},"Action":"ecr:*"}]}`, ResourcePolicy)},
			wantDenial: ExplicitDenyResource, wantRefs: 1,
		},
		{
			name: "NotPrincipal deny never spares a principal with a permissions boundary",
			req: Request{Principal: alice, Action: "ecr:BatchGetImage", Resource: repoA, IdentityPolicies: []*Policy{allowAll}, Boundary: allowAll, ResourcePolicy: mustParse(t,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["`+alice.ARN+`","`+acctA+`"]},"Action":"ecr:*"}]}`, ResourcePolicy)},
			wantDenial: ExplicitDenyResource, wantRefs: 1,
		},
		{
			name: "NotPrincipal deny hits everyone else",
			req: Request{Principal: user(acctA, "bob"), Action: "ecr:BatchGetImage", Resource: repoA, IdentityPolicies: []*Policy{allowAll}, ResourcePolicy: mustParse(t,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"`+alice.ARN+`"},"Action":"ecr:*"}]}`, ResourcePolicy)},
			wantDenial: ExplicitDenyResource, wantRefs: 1,
		},
		{
			name: "NotPrincipal deny naming only the account still hits its users",
			req: Request{Principal: user(acctB, "bob"), Action: "ecr:BatchGetImage", Resource: repoA, ResourceAccount: acctA, IdentityPolicies: []*Policy{allowAll}, ResourcePolicy: mustParse(t,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"`+acctB+`"},"Action":"ecr:*"},{"Effect":"Allow","Principal":{"AWS":"`+acctB+`"},"Action":"ecr:*"}]}`, ResourcePolicy)},
			wantDenial: ExplicitDenyResource, wantRefs: 1,
		},
		{
			name: "NotPrincipal deny by account spares its root",
			req: Request{Principal: Principal{Type: PrincipalRoot, Account: acctB}, Action: "ecr:BatchGetImage", Resource: repoA, ResourceAccount: acctA, ResourcePolicy: mustParse(t,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"`+acctB+`"},"Action":"ecr:*"},{"Effect":"Allow","Principal":{"AWS":"`+acctB+`"},"Action":"ecr:*"}]}`, ResourcePolicy)},
			wantAllow: true, wantRefs: 1,
		},
		{
			name: "NotPrincipal deny spares a session only with account, role and session listed",
			req: Request{Principal: Principal{Type: PrincipalAssumedRole, Account: acctB, ARN: "arn:aws:sts::" + acctB + ":assumed-role/ci/s1", RoleARN: "arn:aws:iam::" + acctB + ":role/ci"},
				Action: "ecr:BatchGetImage", Resource: repoA, ResourceAccount: acctA, IdentityPolicies: []*Policy{allowAll}, ResourcePolicy: mustParse(t,
					`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["`+acctB+`","arn:aws:iam::`+acctB+`:role/ci"]},"Action":"ecr:*"},{"Effect":"Allow","Principal":{"AWS":"`+acctB+`"},"Action":"ecr:*"}]}`, ResourcePolicy)},
			wantDenial: ExplicitDenyResource, wantRefs: 1,
		},
		{
			name:       "explicit deny in repository policy beats the account's admin",
			req:        Request{Principal: alice, Action: "ecr:BatchGetImage", Resource: repoA, IdentityPolicies: []*Policy{identity(t, "Allow", "*", "*")}, ResourcePolicy: resourcePolicy(t, "Deny", `"*"`, "ecr:*")},
			wantDenial: ExplicitDenyResource, wantRefs: 1,
		},
		{
			name:       "explicit deny in repository policy applies to root",
			req:        Request{Principal: root(acctA), Action: "ecr:BatchGetImage", Resource: repoA, ResourcePolicy: resourcePolicy(t, "Deny", `"*"`, "ecr:*")},
			wantDenial: ExplicitDenyResource, wantRefs: 1,
		},
		{
			name:      "root allowed in own account without policies",
			req:       Request{Principal: root(acctA), Action: "ecr:DeleteRepository", Resource: repoA},
			wantAllow: true,
		},
		{
			name:       "cross-account root needs the resource policy",
			req:        Request{Principal: root(acctA), Action: "ecr:BatchGetImage", Resource: repoB, ResourceAccount: acctB},
			wantDenial: NoResourceAllow,
		},
		{
			name:      "cross-account root with resource policy naming its account",
			req:       Request{Principal: root(acctA), Action: "ecr:BatchGetImage", Resource: repoB, ResourceAccount: acctB, ResourcePolicy: resourcePolicy(t, "Allow", `{"AWS":"arn:aws:iam::111111111111:root"}`, "ecr:BatchGetImage")},
			wantAllow: true, wantRefs: 1,
		},
		{
			name:       "cross-account: resource allows another account only",
			req:        Request{Principal: alice, Action: "ecr:BatchGetImage", Resource: repoB, ResourceAccount: acctB, IdentityPolicies: []*Policy{allowAll}, ResourcePolicy: resourcePolicy(t, "Allow", `{"AWS":"333333333333"}`, "ecr:BatchGetImage")},
			wantDenial: NoResourceAllow,
		},
		{
			name:       "cross-account: resource allows other action only",
			req:        Request{Principal: alice, Action: "ecr:PutImage", Resource: repoB, ResourceAccount: acctB, IdentityPolicies: []*Policy{allowAll}, ResourcePolicy: resourcePolicy(t, "Allow", `{"AWS":"111111111111"}`, "ecr:BatchGetImage")},
			wantDenial: NoResourceAllow,
		},
		{
			name:      "cross-account: resource names the session ARN",
			req:       Request{Principal: sess, Action: "ecr:BatchGetImage", Resource: repoB, ResourceAccount: acctB, IdentityPolicies: []*Policy{allowAll}, ResourcePolicy: resourcePolicy(t, "Allow", `{"AWS":"`+sess.ARN+`"}`, "ecr:*")},
			wantAllow: true, wantRefs: 2,
		},
		{
			name:       "same account session: resource naming another session",
			req:        Request{Principal: sess, Action: "ecr:BatchGetImage", Resource: repoA, ResourcePolicy: resourcePolicy(t, "Allow", `{"AWS":"arn:aws:sts::111111111111:assumed-role/deploy/other"}`, "ecr:*")},
			wantDenial: NoIdentityAllow,
		},
		{
			name:       "boundary caps identity allow",
			req:        Request{Principal: alice, Action: "ecr:PutImage", Resource: repoA, IdentityPolicies: []*Policy{allowAll}, Boundary: identity(t, "Allow", "ecr:BatchGetImage", "*")},
			wantDenial: NoBoundaryAllow,
		},
		{
			name:      "boundary and identity both allow",
			req:       Request{Principal: alice, Action: "ecr:BatchGetImage", Resource: repoA, IdentityPolicies: []*Policy{allowAll}, Boundary: identity(t, "Allow", "ecr:BatchGetImage", "*")},
			wantAllow: true, wantRefs: 1,
		},
		{
			name:       "boundary alone grants nothing",
			req:        Request{Principal: alice, Action: "ecr:BatchGetImage", Resource: repoA, Boundary: allowAll},
			wantDenial: NoIdentityAllow,
		},
		{
			name:       "boundary explicit deny",
			req:        Request{Principal: alice, Action: "ecr:BatchGetImage", Resource: repoA, IdentityPolicies: []*Policy{allowAll}, Boundary: identity(t, "Deny", "ecr:*", "*")},
			wantDenial: ExplicitDenyBoundary, wantRefs: 1,
		},
		{
			name:      "resource grant to user ARN is not limited by boundary",
			req:       Request{Principal: alice, Action: "ecr:PutImage", Resource: repoA, Boundary: identity(t, "Allow", "ecr:BatchGetImage", "*"), ResourcePolicy: resourcePolicy(t, "Allow", `{"AWS":"`+alice.ARN+`"}`, "ecr:PutImage")},
			wantAllow: true, wantRefs: 1,
		},
		{
			name:       "cross-account boundary caps identity side",
			req:        Request{Principal: alice, Action: "ecr:PutImage", Resource: repoB, ResourceAccount: acctB, IdentityPolicies: []*Policy{allowAll}, Boundary: identity(t, "Allow", "ecr:BatchGetImage", "*"), ResourcePolicy: resourcePolicy(t, "Allow", `"*"`, "ecr:*")},
			wantDenial: NoBoundaryAllow,
		},
		{
			name:       "session policy caps role permissions",
			req:        Request{Principal: sess, Action: "ecr:PutImage", Resource: repoA, IdentityPolicies: []*Policy{allowAll}, SessionPolicies: []*Policy{identity(t, "Allow", "ecr:BatchGetImage", "*")}},
			wantDenial: NoSessionAllow,
		},
		{
			name:      "session policies are a union",
			req:       Request{Principal: sess, Action: "ecr:PutImage", Resource: repoA, IdentityPolicies: []*Policy{allowAll}, SessionPolicies: []*Policy{identity(t, "Allow", "ecr:BatchGetImage", "*"), identity(t, "Allow", "ecr:PutImage", "*")}},
			wantAllow: true, wantRefs: 1,
		},
		{
			name:       "session policy explicit deny",
			req:        Request{Principal: sess, Action: "ecr:PutImage", Resource: repoA, IdentityPolicies: []*Policy{allowAll}, SessionPolicies: []*Policy{identity(t, "Deny", "ecr:PutImage", "*")}},
			wantDenial: ExplicitDenySession, wantRefs: 1,
		},
		{
			name:      "same account: resource grant to role ARN reaches its sessions",
			req:       Request{Principal: sess, Action: "ecr:PutImage", Resource: repoA, ResourcePolicy: resourcePolicy(t, "Allow", `{"AWS":"`+sess.RoleARN+`"}`, "ecr:*")},
			wantAllow: true, wantRefs: 1,
		},
		{
			name:       "same account: role-ARN grant stays under the session policy",
			req:        Request{Principal: sess, Action: "ecr:PutImage", Resource: repoA, SessionPolicies: []*Policy{identity(t, "Allow", "ecr:BatchGetImage", "*")}, ResourcePolicy: resourcePolicy(t, "Allow", `{"AWS":"`+sess.RoleARN+`"}`, "ecr:*")},
			wantDenial: NoSessionAllow,
		},
		{
			name:      "same account: session-ARN grant is not limited by the session policy",
			req:       Request{Principal: sess, Action: "ecr:PutImage", Resource: repoA, SessionPolicies: []*Policy{identity(t, "Allow", "ecr:BatchGetImage", "*")}, ResourcePolicy: resourcePolicy(t, "Allow", `{"AWS":"`+sess.ARN+`"}`, "ecr:*")},
			wantAllow: true, wantRefs: 1,
		},
		{
			name:      "service principal allowed by resource policy",
			req:       Request{Principal: svc, Action: "ecr:ReplicateImage", Resource: "*", ResourcePolicy: resourcePolicy(t, "Allow", `{"Service":"replication.ecr.amazonaws.com"}`, "ecr:*")},
			wantAllow: true, wantRefs: 1,
		},
		{
			name:       "service principal not named",
			req:        Request{Principal: svc, Action: "ecr:ReplicateImage", Resource: "*", ResourcePolicy: resourcePolicy(t, "Allow", `{"AWS":"111111111111"}`, "ecr:*")},
			wantDenial: NoResourceAllow,
		},
		{
			name:       "anonymous never matches *",
			req:        Request{Principal: Principal{Type: PrincipalAnonymous}, Action: "ecr:BatchGetImage", Resource: repoA, ResourceAccount: acctA, ResourcePolicy: resourcePolicy(t, "Allow", `"*"`, "ecr:*")},
			wantDenial: NoResourceAllow,
		},
		{
			name:      "GetCallerIdentity always allowed",
			req:       Request{Principal: alice, Action: "sts:GetCallerIdentity", Resource: "*", IdentityPolicies: []*Policy{identity(t, "Deny", "*", "*")}},
			wantAllow: true,
		},
		{
			name: "trust policy naming the user grants AssumeRole alone",
			req: Request{Principal: alice, Action: "sts:AssumeRole", Resource: sess.RoleARN, ResourceAccount: acctA, ResourcePolicy: mustParse(t,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+alice.ARN+`"},"Action":"sts:AssumeRole"}]}`, TrustPolicy)},
			wantAllow: true, wantRefs: 1,
		},
		{
			name: "trust policy naming the account needs identity allow",
			req: Request{Principal: alice, Action: "sts:AssumeRole", Resource: sess.RoleARN, ResourceAccount: acctA, ResourcePolicy: mustParse(t,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole"}]}`, TrustPolicy)},
			wantDenial: NoIdentityAllow,
		},
		{
			name: "trust policy naming the account plus identity allow",
			req: Request{Principal: alice, Action: "sts:AssumeRole", Resource: sess.RoleARN, ResourceAccount: acctA, IdentityPolicies: []*Policy{identity(t, "Allow", "sts:AssumeRole", "*")}, ResourcePolicy: mustParse(t,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole"}]}`, TrustPolicy)},
			wantAllow: true, wantRefs: 1,
		},
		{
			name: "same account: an identity allow does not replace a trust policy naming someone else",
			req: Request{Principal: alice, Action: "sts:AssumeRole", Resource: sess.RoleARN, ResourceAccount: acctA, IdentityPolicies: []*Policy{identity(t, "Allow", "*", "*")}, ResourcePolicy: mustParse(t,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/ci"},"Action":"sts:AssumeRole"}]}`, TrustPolicy)},
			wantDenial: NoResourceAllow,
		},
		{
			name: "same account root: a trust policy naming someone else keeps it out",
			req: Request{Principal: root(acctA), Action: "sts:AssumeRole", Resource: sess.RoleARN, ResourceAccount: acctA, ResourcePolicy: mustParse(t,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, TrustPolicy)},
			wantDenial: NoResourceAllow,
		},
		{
			name: "same account root: a trust policy naming the account lets it in",
			req: Request{Principal: root(acctA), Action: "sts:AssumeRole", Resource: sess.RoleARN, ResourceAccount: acctA, ResourcePolicy: mustParse(t,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole"}]}`, TrustPolicy)},
			wantAllow: true,
		},
		{
			name: "resource policy statement with Resource limits it",
			req: Request{Principal: alice, Action: "ecr:BatchGetImage", Resource: repoA, ResourcePolicy: mustParse(t,
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+alice.ARN+`"},"Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/other"}]}`, ResourcePolicy)},
			wantDenial: NoIdentityAllow,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Evaluate(&tt.req)
			if d.Allowed != tt.wantAllow || d.Denial != tt.wantDenial {
				t.Fatalf("got allowed=%v denial=%v (%s), want allowed=%v denial=%v", d.Allowed, d.Denial, d.Reason, tt.wantAllow, tt.wantDenial)
			}
			if len(d.Matched) != tt.wantRefs {
				t.Errorf("Matched = %+v, want %d refs", d.Matched, tt.wantRefs)
			}
			wantEffect := map[bool]Effect{true: Allow, false: ImplicitDeny}[d.Allowed]
			if d.Denial >= ExplicitDenyIdentity {
				wantEffect = ExplicitDeny
			}
			if d.Effect != wantEffect || d.Reason == "" {
				t.Errorf("Effect = %v Reason = %q", d.Effect, d.Reason)
			}
		})
	}
}

func TestDecisionReasonNamesStatement(t *testing.T) {
	pol := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Sid":"DenyAll","Effect":"Deny","Principal":"*","Action":"ecr:*"}]}`, ResourcePolicy)
	pol.Name = "repository policy"
	d := Evaluate(&Request{Principal: user(acctA, "a"), Action: "ecr:BatchGetImage", Resource: repoA, ResourcePolicy: pol})
	want := `explicit deny in a resource-based policy "repository policy" (statement "DenyAll")`
	if d.Reason != want {
		t.Errorf("Reason = %q, want %q", d.Reason, want)
	}
	ref := d.Matched[0]
	if ref != (StatementRef{Kind: ResourcePolicy, Source: SourceResource, PolicyName: "repository policy", Sid: "DenyAll", Index: 0}) {
		t.Errorf("Matched = %+v", ref)
	}
	ro := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:Get*","Resource":"*"},{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}]}`, IdentityPolicy)
	ro.Name = "ReadOnly"
	d = Evaluate(&Request{Principal: user(acctA, "a"), Action: "ecr:BatchGetImage", Resource: repoA, IdentityPolicies: []*Policy{ro}})
	if want := `allowed by an identity-based policy "ReadOnly" (Statement[1])`; d.Reason != want {
		t.Errorf("Reason = %q, want %q", d.Reason, want)
	}
}

func ExampleDecision_Message() {
	ro := AWSManagedPolicies()[0]
	pol, _ := ParsePolicy(ro.Document, IdentityPolicy)
	req := &Request{
		Principal:        Principal{Type: PrincipalUser, Account: "111111111111", ARN: "arn:aws:iam::111111111111:user/release", Username: "release"},
		Action:           "ecr:BatchGetImage",
		Resource:         "arn:aws:ecr:eu-west-2:222222222222:repository/app",
		ResourceAccount:  "222222222222",
		IdentityPolicies: []*Policy{pol},
	}
	fmt.Println(Evaluate(req).Message(req))
	// Output: User: arn:aws:iam::111111111111:user/release is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:eu-west-2:222222222222:repository/app because no resource-based policy allows the ecr:BatchGetImage action
}
