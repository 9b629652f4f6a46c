package dockercfg

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func addSeeds(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/*.input")
	for _, in := range inputs {
		if data, err := os.ReadFile(in); err == nil {
			f.Add(data)
		}
	}
}

// FuzzParse: whatever Parse accepts, Marshal→Parse reproduces the same
// credentials, helpers and store (the save path never loses or invents a secret).
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		out, err := c.Marshal()
		if err != nil {
			t.Fatalf("Marshal after successful Parse: %v", err)
		}
		c2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-Parse of own output: %v\n%s", err, out)
		}
		if c2.CredsStore != c.CredsStore || len(c2.CredHelpers) != len(c.CredHelpers) || len(c2.Auths) != len(c.Auths) {
			t.Fatalf("round trip changed shape: %+v vs %+v", c, c2)
		}
		for k, e := range c.Auths {
			u1, p1, err1 := e.Credentials()
			u2, p2, err2 := c2.Auths[k].Credentials()
			if err1 == nil && (err2 != nil || u1 != u2 || p1 != p2) {
				t.Fatalf("key %q: %q/%q became %q/%q (%v)", k, u1, p1, u2, p2, err2)
			}
		}
	})
}

// FuzzParseLegacy: accepted legacy data survives MarshalLegacy→ParseLegacy,
// and nothing with a top-level "auths" key is ever accepted.
func FuzzParseLegacy(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		auths, err := ParseLegacy(data)
		if err != nil {
			return
		}
		if _, ok := auths["auths"]; ok {
			t.Fatal(`"auths" accepted as a registry name`)
		}
		out, err := MarshalLegacy(auths, "")
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseLegacy(out)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		for k, e := range auths {
			u1, p1, err1 := e.Credentials()
			u2, p2, _ := back[k].Credentials()
			if err1 == nil && !strings.HasPrefix(u1, "<") && (u1 != u2 || p1 != p2) {
				t.Fatalf("key %q changed: %q/%q → %q/%q", k, u1, p1, u2, p2)
			}
		}
	})
}

// FuzzAuth: EncodeAuth/DecodeAuth round-trip for every user without ':'.
func FuzzAuth(f *testing.F) {
	f.Add("AWS", "pa:ss")
	f.Add("u", "")
	f.Fuzz(func(t *testing.T, user, pass string) {
		u, p, err := DecodeAuth(EncodeAuth(user, pass))
		if user == "" || strings.Contains(user, ":") {
			if err == nil && u == user {
				t.Fatalf("ambiguous user %q decoded as itself", user)
			}
			return
		}
		if err != nil || u != user || p != strings.TrimRight(pass, "\x00") {
			t.Fatalf("%q/%q → %q/%q %v", user, pass, u, p, err)
		}
	})
}
