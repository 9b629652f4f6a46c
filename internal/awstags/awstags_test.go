package awstags

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	many := make([]Tag, 51)
	for i := range many {
		many[i] = Tag{Key: "k" + strings.Repeat("x", i)}
	}
	cases := []struct {
		name   string
		tags   []Tag
		fold   bool
		want   Problem
		index  int
		member string
	}{
		{"ok", []Tag{{"team", "platform"}, {"a b", ""}, {"ünï:/=+-@_.", "välue 1"}}, true, 0, 0, ""},
		{"empty key", []Tag{{"a", "b"}, {"", "v"}}, true, KeyTooShort, 2, "tags.2.member.key"},
		{"key 128 runes ok", []Tag{{strings.Repeat("é", 128), ""}}, true, 0, 0, ""},
		{"key 129", []Tag{{strings.Repeat("k", 129), ""}}, true, KeyTooLong, 1, "tags.1.member.key"},
		{"key chars", []Tag{{"NOWAY!", "v"}}, true, KeyChars, 1, "tags.1.member.key"},
		{"value 256 ok", []Tag{{"k", strings.Repeat("v", 256)}}, true, 0, 0, ""},
		{"value 257 is a value error", []Tag{{"k", strings.Repeat("v", 257)}}, true, ValueTooLong, 1, "tags.1.member.value"},
		{"value chars", []Tag{{"k", "a*b"}}, true, ValueChars, 1, "tags.1.member.value"},
		{"51 tags", many, true, TooMany, 0, "tags"},
		{"50 tags ok", many[:50], true, 0, 0, ""},
		{"a and A fold", []Tag{{"a", "1"}, {"A", "2"}}, true, Duplicate, 2, "tags"},
		{"a and A distinct", []Tag{{"a", "1"}, {"A", "2"}}, false, 0, 0, ""},
		{"exact duplicate", []Tag{{"a", "1"}, {"a", "2"}}, false, Duplicate, 2, "tags"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Check(c.tags, c.fold)
			if c.want == 0 {
				if v != nil {
					t.Fatalf("unexpected %+v", v)
				}
				return
			}
			if v == nil || v.Problem != c.want || v.Index != c.index || v.Member("tags") != c.member {
				t.Fatalf("got %+v (member %q), want problem %d at %d (%s)", v, memberOf(v), c.want, c.index, c.member)
			}
		})
	}
}

func memberOf(v *Violation) string {
	if v == nil {
		return ""
	}
	return v.Member("tags")
}

func TestConstraintTexts(t *testing.T) {
	want := map[Problem]string{
		KeyTooShort:  "Member must have length greater than or equal to 1",
		KeyTooLong:   "Member must have length less than or equal to 128",
		KeyChars:     `Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`,
		ValueTooLong: "Member must have length less than or equal to 256",
		ValueChars:   `Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*`,
		TooMany:      "Member must have length less than or equal to 50",
	}
	for p, w := range want {
		if got := (Violation{Problem: p}).Constraint(); got != w {
			t.Errorf("%d: %q, want %q", p, got, w)
		}
	}
	v := Violation{Problem: ValueTooLong, Index: 3, Tag: Tag{"k", "long"}}
	if v.Value() != "long" || v.Member("tags") != "tags.3.member.value" {
		t.Fatalf("%q %q", v.Value(), v.Member("tags"))
	}
}

func TestCheckKeys(t *testing.T) {
	if v := CheckKeys([]string{"ok", ""}); v == nil || v.Problem != KeyTooShort || v.Index != 2 {
		t.Fatalf("%+v", v)
	}
	if v := CheckKeys(make([]string, 51)); v == nil || v.Problem != TooMany {
		t.Fatalf("%+v", v)
	}
}
