package ociref

import (
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"library/ubuntu", true},
		{"a/b/c/d", true},
		{"foo.bar", true},
		{"foo_bar", true},
		{"foo__bar", true},
		{"foo---bar", true},
		{"team-a/app.v2/x_y", true},
		{"manifests/blobs", true},
		{strings.Repeat("a", MaxNameLength), true},
		{strings.Repeat("a", MaxNameLength+1), false},
		{"", false},
		{"A", false},
		{"foo/", false},
		{"/foo", false},
		{"foo//bar", false},
		{"foo___bar", false},
		{"foo._bar", false},
		{"-foo", false},
		{"foo-", false},
		{"foo.", false},
		{"foo:bar", false},
		{"foo@bar", false},
		{"foo bar", false},
		{"ünicode", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateName(tc.name)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidateName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
			}
		})
	}
}

func TestParseReference(t *testing.T) {
	sha256 := "sha256:" + strings.Repeat("a", 64)
	sha512 := "sha512:" + strings.Repeat("0", 128)
	tests := []struct {
		in      string
		tag     string
		digest  string
		wantErr error
	}{
		{in: "latest", tag: "latest"},
		{in: "v1.2.3-rc_1", tag: "v1.2.3-rc_1"},
		{in: "_x", tag: "_x"},
		{in: strings.Repeat("t", 128), tag: strings.Repeat("t", 128)},
		{in: strings.Repeat("t", 129), wantErr: ErrInvalidTag},
		{in: ".x", wantErr: ErrInvalidTag},
		{in: "-x", wantErr: ErrInvalidTag},
		{in: "", wantErr: ErrInvalidTag},
		{in: "a/b", wantErr: ErrInvalidTag},
		{in: sha256, digest: sha256},
		{in: sha512, digest: sha512},
		{in: "sha256:baddigeststring", wantErr: ErrInvalidDigest},
		{in: "sha256:" + strings.Repeat("A", 64), wantErr: ErrInvalidDigest},
		{in: "sha256:" + strings.Repeat("a", 63), wantErr: ErrInvalidDigest},
		{in: "sha512:" + strings.Repeat("a", 64), wantErr: ErrInvalidDigest},
		{in: "blake3:" + strings.Repeat("a", 64), wantErr: ErrUnsupportedDigest},
		{in: "sha256:", wantErr: ErrInvalidDigest},
		{in: ":abc", wantErr: ErrInvalidDigest},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			r, err := ParseReference(tc.in)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Tag != tc.tag || string(r.Digest) != tc.digest || r.String() != tc.in {
				t.Fatalf("got %+v", r)
			}
		})
	}
}

func TestParseRef(t *testing.T) {
	dg := "sha256:" + strings.Repeat("b", 64)
	tests := []struct {
		in   string
		want Ref
		ok   bool
	}{
		{"app", Ref{Name: "app"}, true},
		{"team/app:v1", Ref{Name: "team/app", Tag: "v1"}, true},
		{"team/app@" + dg, Ref{Name: "team/app", Digest: digest.Digest(dg)}, true},
		{"app:v1@" + dg, Ref{Name: "app", Tag: "v1", Digest: digest.Digest(dg)}, true},
		{"App:v1", Ref{}, false},
		{"app:", Ref{}, false},
		{"app@sha256:x", Ref{}, false},
		{"app:v1:v2", Ref{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			r, err := ParseRef(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && (r != tc.want || r.String() != tc.in) {
				t.Fatalf("got %+v (%s), want %+v", r, r, tc.want)
			}
		})
	}
}

// FuzzParseReference: whatever the parsers accept must print back to the
// input and re-parse to the same value; whatever they reject must be
// rejected without panicking, and accepted names must obey the grammar's
// invariants.
func FuzzParseReference(f *testing.F) {
	for _, s := range []string{
		"app", "team/app:v1", "a/b/c@sha256:" + strings.Repeat("a", 64),
		"x:y@sha512:" + strings.Repeat("f", 128), "foo__bar--baz.q", "latest",
		"sha256:" + strings.Repeat("0", 64), "a//b", "A:b", "a:b:c", "-", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r, err := ParseRef(s); err == nil {
			if r.String() != s {
				t.Fatalf("ParseRef(%q).String() = %q", s, r.String())
			}
			again, err := ParseRef(r.String())
			if err != nil || again != r {
				t.Fatalf("re-parse of %q: %+v, %v", s, again, err)
			}
			if len(r.Name) > MaxNameLength || strings.ToLower(r.Name) != r.Name || strings.Contains(r.Name, "//") {
				t.Fatalf("accepted bad name %q", r.Name)
			}
		}
		if r, err := ParseReference(s); err == nil {
			if r.String() != s {
				t.Fatalf("ParseReference(%q).String() = %q", s, r.String())
			}
			if (r.Tag == "") == (r.Digest == "") {
				t.Fatalf("exactly one of tag and digest must be set: %+v", r)
			}
			if r.Digest != "" {
				if err := r.Digest.Validate(); err != nil {
					t.Fatalf("accepted digest %q that go-digest rejects: %v", r.Digest, err)
				}
			}
		}
		if err := ValidateName(s); err == nil {
			if _, err := ParseRef(s); err != nil {
				t.Fatalf("valid name %q is not a valid Ref: %v", s, err)
			}
		}
	})
}
