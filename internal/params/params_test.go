package params

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/berth-dev/berth/internal/iamsvc"
)

func newService(tb testing.TB) *Service {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(tb.TempDir(), "p.db")+"?_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	tb.Cleanup(func() { db.Close() })
	keys, err := iamsvc.NewKeys(make([]byte, 32))
	if err != nil {
		tb.Fatal(err)
	}
	sealer, err := keys.Sealer("ssm parameters")
	if err != nil {
		tb.Fatal(err)
	}
	s, err := Open(context.Background(), db, sealer)
	if err != nil {
		tb.Fatal(err)
	}
	// Opening twice must be a no-op for the migrations.
	if _, err := Open(context.Background(), db, sealer); err != nil {
		tb.Fatal(err)
	}
	return s
}

// FuzzParseRef: whatever parses names a valid parameter, and the ARN form of
// the parsed name (with the same selector) parses back to the same Ref.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"USER", "USER:1", "/a/b", "/a/b:prod", "arn:aws:ssm:eu-west-1:111111111111:parameter/a/b:3",
		"arn:aws:ssm:r:a:parameter/plain", "a/b", "/a//b", "x:0", "x:", "/aws/reference/secretsmanager/s", strings.Repeat("/a", 16)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			return
		}
		if err := ValidateName(r.Name); err != nil {
			t.Fatalf("ParseRef(%q) accepted invalid name %q: %v", s, r.Name, err)
		}
		if r.Version < 0 || (r.Version > 0 && r.Label != "") {
			t.Fatalf("ParseRef(%q) = %+v", s, r)
		}
		arn := ARN("eu-west-1", "111111111111", r.Name) + r.Selector()
		back, err := ParseRef(arn)
		if err != nil {
			t.Fatalf("ARN %q of %q does not parse: %v", arn, s, err)
		}
		// parameter/x names both "x" and the single-level "/x" (the ARN drops
		// the slash); ParseRef reads it as the root-level "x".
		wantName := r.Name
		if !strings.Contains(strings.TrimPrefix(wantName, "/"), "/") {
			wantName = strings.TrimPrefix(wantName, "/")
		}
		if back.Name != wantName || back.Version != r.Version || back.Label != r.Label || back.Account != "111111111111" {
			t.Fatalf("round trip %q → %+v → %q → %+v", s, r, arn, back)
		}
	})
}

func TestUnderPath(t *testing.T) {
	cases := []struct {
		name, path string
		recursive  bool
		want       bool
	}{
		{"/a/b", "/a", false, true},
		{"/a/b/c", "/a", false, false},
		{"/a/b/c", "/a", true, true},
		{"/ab", "/a", true, false},
		{"/a", "/a", true, false},
		{"plain", "/", false, true},
		{"/x", "/", false, true},
		{"/x/y", "/", false, false},
		{"/x/y", "/", true, true},
	}
	for _, c := range cases {
		if got := underPath(c.name, c.path, c.recursive); got != c.want {
			t.Errorf("underPath(%q, %q, %v) = %v", c.name, c.path, c.recursive, got)
		}
	}
}

func TestSealedValueBoundToRow(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	sc := Scope{Account: "111111111111", Region: "eu-west-1"}
	for _, n := range []string{"/a", "/b"} {
		if _, _, err := s.Put(ctx, sc, PutInput{Name: n, Value: "secret-" + n, Type: TypeSecureString}); err != nil {
			t.Fatal(err)
		}
	}
	// Copy /a's ciphertext onto /b: it must not open as /b.
	if _, err := s.db.Exec(`UPDATE ssm_parameter_versions SET value = (SELECT value FROM ssm_parameter_versions WHERE name = '/a') WHERE name = '/b'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, sc, Ref{Name: "/b"}, true); err == nil {
		t.Fatal("a ciphertext moved to another row decrypted")
	}
	p, err := s.Get(ctx, sc, Ref{Name: "/a"}, true)
	if err != nil || p.Value != "secret-/a" {
		t.Fatalf("/a = %v, %v", p, err)
	}
}

func BenchmarkGetSecureString(b *testing.B) {
	s := newService(b)
	ctx := context.Background()
	sc := Scope{Account: "111111111111", Region: "eu-west-1"}
	for i := range 100 {
		if _, _, err := s.Put(ctx, sc, PutInput{Name: fmt.Sprintf("/app/p%03d", i), Value: "v", Type: TypeSecureString}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Get(ctx, sc, Ref{Name: fmt.Sprintf("/app/p%03d", i%100)}, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkByPath(b *testing.B) {
	s := newService(b)
	ctx := context.Background()
	sc := Scope{Account: "111111111111", Region: "eu-west-1"}
	for i := range 1000 {
		if _, _, err := s.Put(ctx, sc, PutInput{Name: fmt.Sprintf("/svc%d/p%03d", i%10, i), Value: "v", Type: TypeString}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := s.ByPath(ctx, sc, ByPathInput{Path: "/svc3", Recursive: true}); err != nil {
			b.Fatal(err)
		}
	}
}
