package iam

import (
	"errors"
	"strings"
	"testing"
)

func TestParseValidation(t *testing.T) {
	tests := []struct {
		name      string
		kind      PolicyKind
		doc       string
		wantMsg   string // "" = valid
		wantStmt  string
		wantField string
	}{
		{name: "valid identity", kind: IdentityPolicy, doc: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*"}}`},
		{name: "valid legacy version", kind: IdentityPolicy, doc: `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":["ecr:*"],"Resource":["*"]}]}`},
		{name: "missing version is legacy", kind: IdentityPolicy, doc: `{"Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}`},
		{name: "not json", kind: IdentityPolicy, doc: `{"Version":`, wantMsg: msgSyntax},
		{name: "trailing data", kind: IdentityPolicy, doc: `{"Statement":[]} {}`, wantMsg: msgSyntax},
		{name: "array document", kind: IdentityPolicy, doc: `[]`, wantMsg: msgSyntax},
		{name: "unknown top field", kind: IdentityPolicy, doc: `{"Version":"2012-10-17","Stmt":[]}`, wantMsg: msgSyntax, wantField: "Stmt"},
		{name: "bad version", kind: IdentityPolicy, doc: `{"Version":"2012-10-18","Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*"}}`, wantMsg: msgLegacy, wantField: "Version"},
		{name: "no statement", kind: IdentityPolicy, doc: `{"Version":"2012-10-17"}`, wantMsg: msgSyntax, wantField: "Statement"},
		{name: "empty statements", kind: IdentityPolicy, doc: `{"Version":"2012-10-17","Statement":[]}`, wantMsg: msgSyntax, wantField: "Statement"},
		{name: "statement not object", kind: IdentityPolicy, doc: `{"Version":"2012-10-17","Statement":["x"]}`, wantMsg: msgSyntax, wantStmt: "Statement[0]"},
		{name: "no actions", kind: IdentityPolicy, doc: `{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Resource":"*"}]}`, wantMsg: msgNoActions, wantStmt: `"pull"`, wantField: "Action"},
		{name: "empty action list", kind: IdentityPolicy, doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}`, wantMsg: msgNoActions, wantStmt: "Statement[0]", wantField: "Action"},
		{name: "action and notaction", kind: IdentityPolicy, doc: `{"Statement":[{"Effect":"Allow","Action":"a:b","NotAction":"a:c","Resource":"*"}]}`, wantMsg: msgSyntax, wantField: "NotAction"},
		{name: "no resources", kind: IdentityPolicy, doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*"},{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}`, wantMsg: msgNoResources, wantStmt: "Statement[0]", wantField: "Resource"},
		{name: "no vendor", kind: IdentityPolicy, doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"BatchGetImage","Resource":"*"}]}`, wantMsg: msgVendor, wantField: "Action"},
		{name: "bad vendor", kind: IdentityPolicy, doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"e c r:Get","Resource":"*"}]}`, wantMsg: "Vendor e c r is not valid", wantField: "Action"},
		{name: "condition key without vendor", kind: IdentityPolicy, doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"SourceIp":"x"}}}]}`, wantMsg: msgVendor, wantField: "Condition.StringEquals"},
		{name: "duplicate sid", kind: IdentityPolicy, doc: `{"Version":"2012-10-17","Statement":[{"Sid":"a","Effect":"Allow","Action":"ecr:*","Resource":"*"},{"Sid":"a","Effect":"Deny","Action":"ecr:*","Resource":"*"}]}`, wantMsg: msgSidUnique, wantStmt: `"a"`, wantField: "Sid"},
		{name: "sid not alnum in identity", kind: IdentityPolicy, doc: `{"Version":"2012-10-17","Statement":[{"Sid":"allow pull","Effect":"Allow","Action":"ecr:*","Resource":"*"}]}`, wantMsg: msgSidAlnum, wantField: "Sid"},
		{name: "sid with spaces ok in ECR", kind: ResourcePolicy, doc: `{"Version":"2012-10-17","Statement":[{"Sid":"allow pull","Effect":"Allow","Principal":"*","Action":"ecr:*"}]}`},
		{name: "bad effect", kind: IdentityPolicy, doc: `{"Statement":[{"Effect":"allow","Action":"ecr:*","Resource":"*"}]}`, wantMsg: msgSyntax, wantField: "Effect"},
		{name: "missing effect", kind: IdentityPolicy, doc: `{"Statement":[{"Action":"ecr:*","Resource":"*"}]}`, wantMsg: msgMissingEffect, wantField: "Effect"},
		{name: "unknown statement field", kind: IdentityPolicy, doc: `{"Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Extra":1}]}`, wantMsg: msgSyntax, wantField: "Extra"},
		{name: "principal in identity", kind: IdentityPolicy, doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"*"}]}`, wantMsg: msgNoPrincipalHere, wantField: "Principal"},
		{name: "notprincipal in identity", kind: IdentityPolicy, doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":"*","Action":"ecr:*","Resource":"*"}]}`, wantMsg: msgNoPrincipalHere, wantField: "NotPrincipal"},
		{name: "resource policy without principal", kind: ResourcePolicy, doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*"}]}`, wantMsg: msgMissingPrincipal, wantField: "Principal"},
		{name: "resource policy may omit resource", kind: ResourcePolicy, doc: `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"ecr:*"}]}`},
		{name: "principal wildcard in arn", kind: ResourcePolicy, doc: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/*"},"Action":"ecr:*"}]}`, wantMsg: msgInvalidPrincipal, wantField: "Principal"},
		{name: "principal string not star", kind: ResourcePolicy, doc: `{"Statement":[{"Effect":"Allow","Principal":"111111111111","Action":"ecr:*"}]}`, wantMsg: msgInvalidPrincipal},
		{name: "principal unknown type", kind: ResourcePolicy, doc: `{"Statement":[{"Effect":"Allow","Principal":{"Users":"x"},"Action":"ecr:*"}]}`, wantMsg: msgInvalidPrincipal},
		{name: "principal short account", kind: ResourcePolicy, doc: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"12345"},"Action":"ecr:*"}]}`, wantMsg: msgInvalidPrincipal},
		{name: "principal ecr arn", kind: ResourcePolicy, doc: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:ecr:eu-west-2:111111111111:repository/x"},"Action":"ecr:*"}]}`, wantMsg: msgInvalidPrincipal},
		{name: "principal forms", kind: ResourcePolicy, doc: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["*","111111111111","arn:aws:iam::111111111111:root","arn:aws:iam::111111111111:role/a/b","arn:aws:sts::111111111111:assumed-role/b/s","AIDAAAAAAAAAAAAAAAAAA"],"Service":"lambda.amazonaws.com"},"Action":"ecr:*"}]}`},
		{name: "both principal and notprincipal", kind: ResourcePolicy, doc: `{"Statement":[{"Effect":"Deny","Principal":"*","NotPrincipal":"*","Action":"ecr:*"}]}`, wantMsg: msgSyntax, wantField: "NotPrincipal"},
		{name: "trust with resource", kind: TrustPolicy, doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole","Resource":"*"}]}`, wantMsg: msgProhibitedRes, wantField: "Resource"},
		{name: "trust with other action", kind: TrustPolicy, doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"ecr:GetAuthorizationToken"}]}`, wantMsg: msgTrustAction, wantField: "Action"},
		{name: "trust ok", kind: TrustPolicy, doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`},
		{name: "trust without principal", kind: TrustPolicy, doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`, wantMsg: msgMissingPrincipal},
		{name: "resource not arn", kind: IdentityPolicy, doc: `{"Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"repository/app"}]}`, wantMsg: `Resource repository/app must be in ARN format or "*".`, wantField: "Resource"},
		{name: "unknown operator", kind: IdentityPolicy, doc: `{"Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"x"}}}]}`, wantMsg: "Invalid Condition type : StringEqualz", wantField: "Condition.StringEqualz"},
		{name: "null with ifexists", kind: IdentityPolicy, doc: `{"Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"NullIfExists":{"aws:username":"true"}}}]}`, wantMsg: "Invalid Condition type : NullIfExists"},
		{name: "bad cidr", kind: IdentityPolicy, doc: `{"Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}]}`, wantMsg: `invalid value "10.0.0.0/33" for condition operator IpAddress`, wantField: "Condition.IpAddress.aws:SourceIp"},
		{name: "bad number", kind: IdentityPolicy, doc: `{"Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}}]}`, wantMsg: `invalid value "ten" for condition operator NumericLessThan`},
		{name: "bad date", kind: IdentityPolicy, doc: `{"Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"yesterday"}}}]}`, wantMsg: `invalid value "yesterday" for condition operator DateLessThan`},
		{name: "bad bool", kind: IdentityPolicy, doc: `{"Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}]}`, wantMsg: `invalid value "yes" for condition operator Bool`},
		{name: "condition value object", kind: IdentityPolicy, doc: `{"Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"aws:username":{"a":1}}}}]}`, wantMsg: msgSyntax},
		{name: "condition typed values", kind: IdentityPolicy, doc: `{"Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"x:n":[1,2.5]}}}]}`},
		{name: "variables need 2012 in identity", kind: IdentityPolicy, doc: `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/${aws:username}/*"}]}`, wantMsg: msgVersionVars, wantField: "Version"},
		{name: "variables literal in legacy ECR policy", kind: ResourcePolicy, doc: `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:username":"${aws:username}"}}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy(tt.doc, tt.kind)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if p.Document() != tt.doc {
					t.Errorf("Document() = %q", p.Document())
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want %q", tt.wantMsg)
			}
			if !errors.Is(err, ErrMalformedPolicy) {
				t.Fatalf("error %v does not match ErrMalformedPolicy", err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T is not *ValidationError", err)
			}
			if ve.Message != tt.wantMsg {
				t.Errorf("Message = %q, want %q", ve.Message, tt.wantMsg)
			}
			if tt.wantStmt != "" && ve.Statement != tt.wantStmt {
				t.Errorf("Statement = %q, want %q", ve.Statement, tt.wantStmt)
			}
			if tt.wantField != "" && ve.Field != tt.wantField {
				t.Errorf("Field = %q, want %q", ve.Field, tt.wantField)
			}
			if !strings.HasPrefix(err.Error(), tt.wantMsg) {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

func TestValidationErrorText(t *testing.T) {
	_, err := ParsePolicy(`{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Resource":"*"}]}`, IdentityPolicy)
	want := `Policy statement must contain actions. (statement "pull", field Action)`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestPolicySizeLimits(t *testing.T) {
	stmt := `{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"arn:aws:ecr:eu-west-2:111111111111:repository/some-repository-name"}`
	build := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = stmt
		}
		return `{"Version":"2012-10-17","Statement":[` + strings.Join(parts, ",") + `]}`
	}
	tests := []struct {
		kind  PolicyKind
		n     int
		limit int
	}{
		{IdentityPolicy, 120, MaxInlineRolePolicySize},
		{ResourcePolicy, 120, MaxResourcePolicySize},
		{TrustPolicy, 0, MaxTrustPolicySize},
	}
	for _, tt := range tests {
		doc := build(tt.n)
		if tt.kind == TrustPolicy {
			doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:x":"` + strings.Repeat("x", 2100) + `"}}}]}`
		}
		_, err := ParsePolicy(doc, tt.kind)
		var se *SizeError
		if !errors.Is(err, ErrPolicyTooLarge) || !errors.As(err, &se) || se.Limit != tt.limit {
			t.Errorf("%v: err = %v, want size error with limit %d", tt.kind, err, tt.limit)
		}
	}
	// Whitespace does not count.
	doc := build(40)
	padded := strings.ReplaceAll(doc, ",", ",\n      ")
	if PolicySize(padded) != PolicySize(doc) {
		t.Errorf("whitespace counted: %d vs %d", PolicySize(padded), PolicySize(doc))
	}
	if err := CheckPolicySize(doc, MaxIdentityPolicySize); err != nil {
		t.Errorf("40 statements (%d chars) rejected: %v", PolicySize(doc), err)
	}
	if err := CheckPolicySize(build(60), MaxIdentityPolicySize); !errors.Is(err, ErrPolicyTooLarge) || err.Error() != "Cannot exceed quota for PolicySize: 6144" {
		t.Errorf("60 statements: %v", err)
	}
}

func TestCanonicalRoundTrip(t *testing.T) {
	doc := `{"Id":"x","Version":"2012-10-17","Statement":{"Sid":"a","Effect":"Deny","NotPrincipal":{"AWS":"111111111111"},"NotAction":"ecr:Get*","NotResource":"arn:aws:ecr:*:*:repository/${aws:username}",
		"Condition":{"Bool":{"aws:SecureTransport":false},"ForAnyValue:StringLike":{"aws:TagKeys":["a*","b"]}}}}`
	p := mustParse(t, doc, ResourcePolicy)
	c := p.Canonical()
	want := `{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"a","Effect":"Deny","NotPrincipal":{"AWS":["111111111111"]},"NotAction":["ecr:Get*"],"NotResource":["arn:aws:ecr:*:*:repository/${aws:username}"],"Condition":{"Bool":{"aws:SecureTransport":["false"]},"ForAnyValue:StringLike":{"aws:TagKeys":["a*","b"]}}}]}`
	if c != want {
		t.Fatalf("Canonical:\n got %s\nwant %s", c, want)
	}
	if again := mustParse(t, c, ResourcePolicy).Canonical(); again != c {
		t.Fatalf("not stable:\n%s\n%s", c, again)
	}
}
