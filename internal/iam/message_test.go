package iam

import "testing"

func TestDenialMessages(t *testing.T) {
	const prefix = "User: arn:aws:iam::111111111111:user/release is not authorized to perform: ecr:BatchGetImage on resource: "
	tests := []struct {
		kind     DenialKind
		resource string
		want     string
	}{
		{NoIdentityAllow, repoB, prefix + repoB + " because no identity-based policy allows the ecr:BatchGetImage action"},
		{NoResourceAllow, repoB, prefix + repoB + " because no resource-based policy allows the ecr:BatchGetImage action"},
		{NoBoundaryAllow, repoB, prefix + repoB + " because no permissions boundary allows the ecr:BatchGetImage action"},
		{NoSessionAllow, repoB, prefix + repoB + " because no session policy allows the ecr:BatchGetImage action"},
		{ExplicitDenyIdentity, repoB, prefix + repoB + " with an explicit deny in an identity-based policy"},
		{ExplicitDenyResource, repoB, prefix + repoB + " with an explicit deny in a resource-based policy"},
		{ExplicitDenyBoundary, repoB, prefix + repoB + " with an explicit deny in a permissions boundary"},
		{ExplicitDenySession, repoB, prefix + repoB + " with an explicit deny in a session policy"},
		{NoIdentityAllow, "", prefix + "* because no identity-based policy allows the ecr:BatchGetImage action"},
	}
	for _, tt := range tests {
		req := &Request{Principal: user(acctA, "release"), Action: "ecr:BatchGetImage", Resource: tt.resource}
		if got := (Decision{Denial: tt.kind}).Message(req); got != tt.want {
			t.Errorf("%v:\n got %s\nwant %s", tt.kind, got, tt.want)
		}
	}
}

// TestMessagesFromEvaluate checks that real decisions pick the right phrase
// and the caller's ARN (session and root forms included).
func TestMessagesFromEvaluate(t *testing.T) {
	allowAll := identity(t, "Allow", "ecr:*", "*")
	sess := session(acctA, "deploy", "s1")
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{
			name: "cross-account without repository policy",
			req:  Request{Principal: user(acctA, "release"), Action: "ecr:BatchGetImage", Resource: repoB, ResourceAccount: acctB, IdentityPolicies: []*Policy{allowAll}},
			want: "User: arn:aws:iam::111111111111:user/release is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:eu-west-2:222222222222:repository/app because no resource-based policy allows the ecr:BatchGetImage action",
		},
		{
			name: "session without identity allow",
			req:  Request{Principal: sess, Action: "ecr:GetAuthorizationToken", Resource: "*"},
			want: "User: arn:aws:sts::111111111111:assumed-role/deploy/s1 is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action",
		},
		{
			name: "root hits repository deny",
			req:  Request{Principal: Principal{Type: PrincipalRoot, Account: acctA}, Action: "ecr:PutImage", Resource: repoA, ResourcePolicy: resourcePolicy(t, "Deny", `"*"`, "ecr:PutImage")},
			want: "User: arn:aws:iam::111111111111:root is not authorized to perform: ecr:PutImage on resource: arn:aws:ecr:eu-west-2:111111111111:repository/app with an explicit deny in a resource-based policy",
		},
		{
			name: "allowed has no message",
			req:  Request{Principal: user(acctA, "release"), Action: "ecr:PutImage", Resource: repoA, IdentityPolicies: []*Policy{allowAll}},
			want: "",
		},
	}
	for _, tt := range tests {
		if got := Evaluate(&tt.req).Message(&tt.req); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}
