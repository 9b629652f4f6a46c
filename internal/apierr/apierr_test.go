package apierr

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"testing"
)

// TestEveryCodeHasOneRow parses this package's source so that a Code added
// without a table row (or with two rows) fails here rather than in production
// as a 500.
func TestEveryCodeHasOneRow(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, f := range pkgs["apierr"].Files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Code" {
					for _, n := range vs.Names {
						codes = append(codes, n.Name)
					}
				}
			}
		}
	}
	if len(codes) < 50 {
		t.Fatalf("found only %d codes; the parser walk is broken", len(codes))
	}
	rows := map[Code]int{}
	for _, r := range table {
		rows[r.code]++
		if r.oci == "" && r.json == "" && r.query == "" {
			t.Errorf("%s renders in no protocol", r.code)
		}
		if (r.oci == "") != (r.ociStatus == 0) || (r.json == "") != (r.jsonStatus == 0) || (r.query == "") != (r.queryStatus == 0) {
			t.Errorf("%s: a name without a status or a status without a name", r.code)
		}
	}
	if len(rows) != len(codes) {
		t.Errorf("%d codes but %d distinct rows", len(codes), len(rows))
	}
	for c, n := range rows {
		if n != 1 {
			t.Errorf("%s has %d rows", c, n)
		}
	}
}

func TestRendering(t *testing.T) {
	notFound := New(NameUnknown, "The repository with name '%s' does not exist in the registry with id '%s'", "app", "222222222222")
	wrapped := fmt.Errorf("resolving: %w", notFound)
	for _, tc := range []struct {
		name                  string
		err                   error
		ociStatus             int
		oci                   string
		jsonStatus            int
		json                  string
		queryStatus           int
		query, wantMsgContain string
	}{
		{"wrapped repository not found", wrapped, 404, "NAME_UNKNOWN", 400, "RepositoryNotFoundException", 500, "ServiceFailure", "does not exist"},
		{"denied", New(AccessDenied, "User: x is not authorized"), 403, "DENIED", 400, "AccessDeniedException", 403, "AccessDenied", "not authorized"},
		{"bad signature", New(SignatureMismatch, "sig"), 401, "UNAUTHORIZED", 400, "InvalidSignatureException", 403, "SignatureDoesNotMatch", "sig"},
		{"iam entity", New(NoSuchEntity, "The user with name bob cannot be found."), 500, "UNKNOWN", 500, "ServerException", 404, "NoSuchEntity", "bob"},
		{"plain error hides its text", errors.New("disk /secret/path broke"), 500, "UNKNOWN", 500, "ServerException", 500, "ServiceFailure", "internal error"},
		{"storage full", Wrap(StorageFull, errors.New("write /data/x: no space left on device"), "the registry is out of storage space"), 507, "UNKNOWN", 500, "ServerException", 500, "ServiceFailure", "out of storage space"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c, m, _ := OCI(tc.err)
			if s != tc.ociStatus || c != tc.oci {
				t.Errorf("OCI = %d %s", s, c)
			}
			if s, c, m2 := JSON(tc.err); s != tc.jsonStatus || c != tc.json {
				t.Errorf("JSON = %d %s %s", s, c, m2)
			}
			if s, c, _ := Query(tc.err); s != tc.queryStatus || c != tc.query {
				t.Errorf("Query = %d %s", s, c)
			}
			if tc.ociStatus != 500 && m == "" {
				t.Error("empty message")
			}
			if _, isAPI := As(tc.err); !isAPI && m != tc.wantMsgContain {
				t.Errorf("internal error text leaked: %q", m)
			}
		})
	}
}

func TestIsMatchesCode(t *testing.T) {
	err := fmt.Errorf("x: %w", Wrap(BlobUnknown, errors.New("cause"), "blob unknown to registry"))
	if !errors.Is(err, New(BlobUnknown, "")) || errors.Is(err, New(ManifestUnknown, "")) {
		t.Fatal("errors.Is should match on the code only")
	}
	if !HasCode(err, BlobUnknown) {
		t.Fatal("HasCode")
	}
	if s, _, _, _ := OCI(err); s != http.StatusNotFound {
		t.Fatalf("status %d", s)
	}
	e, _ := As(err)
	if e.WithDetail(map[string]string{"digest": "x"}).Detail == nil || e.Detail != nil {
		t.Fatal("WithDetail must copy")
	}
}
