package resolve

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		in      string
		want    Ref
		wantErr string
	}{
		{in: "{{resolve:ssm:USER}}", want: Ref{Service: "ssm", Name: "USER"}},
		{in: "{{resolve:ssm:USER:1}}", want: Ref{Service: "ssm", Name: "USER", Version: "1"}},
		{in: "{{resolve:ssm:/app/prod/db.user:12}}", want: Ref{Service: "ssm", Name: "/app/prod/db.user", Version: "12"}},
		{in: "{{resolve:ssm-secure:PASSWD:3}}", want: Ref{Service: "ssm-secure", Name: "PASSWD", Version: "3"}},
		{in: "{{resolve:ssm:arn:aws:ssm:us-east-1:123456789012:parameter/shared/x:2}}", want: Ref{Service: "ssm", Name: "arn:aws:ssm:us-east-1:123456789012:parameter/shared/x", Version: "2"}},
		{in: "{{resolve:ssm:arn:aws:ssm:us-east-1:123456789012:parameter/shared/x}}", want: Ref{Service: "ssm", Name: "arn:aws:ssm:us-east-1:123456789012:parameter/shared/x"}},
		{in: "{{resolve:secretsmanager:MySecret}}", want: Ref{Service: "secretsmanager", SecretID: "MySecret"}},
		{in: "{{resolve:secretsmanager:MySecret:SecretString:password}}", want: Ref{Service: "secretsmanager", SecretID: "MySecret", Segments: []string{"SecretString", "password"}}},
		{in: "{{resolve:secretsmanager:MySecret::password::v-1}}", want: Ref{Service: "secretsmanager", SecretID: "MySecret", Segments: []string{"", "password", "", "v-1"}}},
		{in: "{{resolve:secretsmanager:arn:aws:secretsmanager:us-east-1:123456789012:secret:MySecret-a1b2c3:SecretString:user:AWSPREVIOUS}}",
			want: Ref{Service: "secretsmanager", SecretID: "arn:aws:secretsmanager:us-east-1:123456789012:secret:MySecret-a1b2c3", Segments: []string{"SecretString", "user", "AWSPREVIOUS"}}},
		{in: "{{resolve:ssm:USER:0}}", wantErr: "positive integer"},
		{in: "{{resolve:ssm:USER:01}}", wantErr: "positive integer"},
		{in: "{{resolve:ssm:USER:-1}}", wantErr: "positive integer"},
		{in: "{{resolve:ssm:USER:latest}}", wantErr: "positive integer"},
		{in: "{{resolve:ssm:USER:1:2}}", wantErr: "positive integer"},
		{in: "{{resolve:ssm:USER:}}", wantErr: "empty version"},
		{in: "{{resolve:ssm:}}", wantErr: "empty parameter name"},
		{in: "{{resolve:ssm}}", wantErr: "missing"},
		{in: "{{resolve:ssm:a/b}}", wantErr: "must start with '/'"},
		{in: "{{resolve:ssm:US ER}}", wantErr: "whitespace"},
		{in: "{{resolve:ssm:USER$}}", wantErr: "contains"},
		{in: `{{resolve:ssm:USER\}}`, wantErr: "backslash"},
		{in: "{{resolve:s3:bucket}}", wantErr: "unknown service"},
		{in: "{{resolve:SSM:USER}}", wantErr: "unknown service"},
		{in: "{{resolve:ssm:{{resolve:ssm:A}}}}", wantErr: "nested"},
		{in: "{{resolve:secretsmanager:}}", wantErr: "empty secret id"},
		{in: "{{resolve:secretsmanager:S:SecretBinary}}", wantErr: "SecretString"},
		{in: "{{resolve:secretsmanager:S:SecretString:k:AWSCURRENT:id}}", wantErr: "mutually exclusive"},
		{in: "{{resolve:secretsmanager:S:SecretString:k:::x}}", wantErr: "too many"},
		{in: "{{resolve:secretsmanager:arn:aws:secretsmanager:us-east-1:1:secret}}", wantErr: "not a Secrets Manager secret ARN"},
		{in: "{{resolve:ssm:arn:aws:s3:::b}}", wantErr: "not an SSM parameter ARN"},
		{in: "resolve:ssm:USER", wantErr: "not of the form"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRef(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrSyntax) {
					t.Fatalf("err = %v, want ErrSyntax containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tc.in {
				t.Errorf("String() = %q, want %q", got.String(), tc.in)
			}
			if got.Service != tc.want.Service || got.Name != tc.want.Name || got.Version != tc.want.Version ||
				got.SecretID != tc.want.SecretID || strings.Join(got.Segments, "|") != strings.Join(tc.want.Segments, "|") {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestFind(t *testing.T) {
	tests := []struct {
		name string
		in   string
		refs []string // "" entries mark an expected error at that position
		errs []string
	}{
		{"none", "plain {{ text }} and {{other}}", nil, nil},
		{"adjacent", "{{resolve:ssm:A}}{{resolve:ssm:B:2}}", []string{"{{resolve:ssm:A}}", "{{resolve:ssm:B:2}}"}, nil},
		{"embedded", "user={{resolve:ssm:A}};pass={{resolve:ssm-secure:B}}", []string{"{{resolve:ssm:A}}", "{{resolve:ssm-secure:B}}"}, nil},
		{"braces around", "{{{resolve:ssm:A}}}", []string{"{{resolve:ssm:A}}"}, nil},
		{"nested", "x{{resolve:ssm:{{resolve:ssm:A}}}}y{{resolve:ssm:B}}", []string{"", "{{resolve:ssm:B}}"}, []string{"nested"}},
		{"unterminated", "a {{resolve:ssm:A", []string{""}, []string{"no closing"}},
		{"multi-line positions", "a\nb {{resolve:ssm:A}}\n\nc {{resolve:ssm:B}}", []string{"{{resolve:ssm:A}}", "{{resolve:ssm:B}}"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			occ := Find(tc.in)
			if len(occ) != len(tc.refs) {
				t.Fatalf("found %d, want %d: %+v", len(occ), len(tc.refs), occ)
			}
			ei := 0
			for i, o := range occ {
				if tc.refs[i] == "" {
					if o.Err == nil || !strings.Contains(o.Err.Error(), tc.errs[ei]) {
						t.Errorf("occurrence %d: err %v, want %q", i, o.Err, tc.errs[ei])
					}
					ei++
					continue
				}
				if o.Err != nil {
					t.Fatalf("occurrence %d: %v", i, o.Err)
				}
				if tc.in[o.Start:o.End] != tc.refs[i] || o.Ref.String() != tc.refs[i] {
					t.Errorf("occurrence %d = %q, want %q", i, tc.in[o.Start:o.End], tc.refs[i])
				}
				if want := 1 + strings.Count(tc.in[:o.Start], "\n"); o.Line != want {
					t.Errorf("line %d, want %d", o.Line, want)
				}
			}
		})
	}
}

// FuzzParseDynamicRef: a reference that parses re-renders to the same text;
// Find never reports overlapping or out-of-order spans, and every span it
// accepts is itself a parseable reference.
func FuzzParseDynamicRef(f *testing.F) {
	for _, s := range []string{
		"{{resolve:ssm:USER:1}}", "{{resolve:ssm-secure:/a/b}}", "{{resolve:secretsmanager:s::k::id}}",
		"{{resolve:ssm:arn:aws:ssm:us-east-1:123456789012:parameter/x:3}}", "{{resolve:ssm:{{resolve:ssm:a}}}}",
		"x{{resolve:ssm:A}}{{resolve:ssm:B}}y", "{{resolve:ssm:A", `{{resolve:ssm:a\}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r, err := ParseRef(s); err == nil {
			if r.String() != s {
				t.Fatalf("ParseRef(%q).String() = %q", s, r.String())
			}
			again, err := ParseRef(r.String())
			if err != nil || again.String() != s {
				t.Fatalf("re-parse of %q: %v", s, err)
			}
		}
		prev := 0
		for _, o := range Find(s) {
			if o.Start < prev || o.End > len(s) || o.Start >= o.End {
				t.Fatalf("bad span %d..%d (prev end %d) in %q", o.Start, o.End, prev, s)
			}
			prev = o.End
			if o.Err == nil {
				if o.Ref.String() != s[o.Start:o.End] {
					t.Fatalf("span %q re-renders as %q", s[o.Start:o.End], o.Ref.String())
				}
			}
		}
	})
}
