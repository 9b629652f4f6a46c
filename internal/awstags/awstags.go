// Package awstags checks resource tags against AWS's Tag type, the one rule
// set IAM, ECR, SSM and Secrets Manager share: a key of 1–128 and a value of
// 0–256 characters drawn from letters, separators, numbers and _.:/=+-@, at
// most 50 tags per request. Each API renders a Violation in its own error
// format; this package only decides what is wrong.
package awstags

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of AWS's Tag type.
const (
	MaxKeyLen   = 128
	MaxValueLen = 256
	MaxTags     = 50
)

// KeyPattern and ValuePattern are the model's patterns, as AWS prints them
// in validation messages.
const (
	KeyPattern   = `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`
	ValuePattern = `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`
)

var charsRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// Tag is one key/value pair.
type Tag struct{ Key, Value string }

// Problem names what a Violation broke.
type Problem int

const (
	KeyTooShort Problem = iota + 1
	KeyTooLong
	KeyChars
	ValueTooLong
	ValueChars
	TooMany   // more than MaxTags in the request
	Duplicate // the same key twice (case-insensitively where keys fold)
)

// Violation is the first rule a request breaks. Index is 1-based (as AWS
// numbers list members) and 0 for whole-list problems.
type Violation struct {
	Problem Problem
	Index   int
	Tag     Tag
}

// Member names the request member at fault in AWS's dotted Query form
// (tags.3.member.key); prefix is the list's member name ("tags", "Tags").
func (v Violation) Member(prefix string) string {
	switch v.Problem {
	case KeyTooShort, KeyTooLong, KeyChars:
		return prefix + "." + strconv.Itoa(v.Index) + ".member.key"
	case ValueTooLong, ValueChars:
		return prefix + "." + strconv.Itoa(v.Index) + ".member.value"
	}
	return prefix
}

// Value is the offending value as AWS quotes it.
func (v Violation) Value() string {
	switch v.Problem {
	case ValueTooLong, ValueChars:
		return v.Tag.Value
	}
	return v.Tag.Key
}

// Constraint is AWS's validator wording for the broken rule.
func (v Violation) Constraint() string {
	switch v.Problem {
	case KeyTooShort:
		return "Member must have length greater than or equal to 1"
	case KeyTooLong:
		return "Member must have length less than or equal to 128"
	case KeyChars:
		return "Member must satisfy regular expression pattern: " + KeyPattern
	case ValueTooLong:
		return "Member must have length less than or equal to 256"
	case ValueChars:
		return "Member must satisfy regular expression pattern: " + ValuePattern
	case TooMany:
		return "Member must have length less than or equal to 50"
	}
	return ""
}

// Check returns the first violation in tags, or nil. foldKeys makes keys
// case-insensitively unique (IAM); otherwise only identical keys collide.
func Check(tags []Tag, foldKeys bool) *Violation {
	if len(tags) > MaxTags {
		return &Violation{Problem: TooMany}
	}
	seen := make(map[string]bool, len(tags))
	for i, t := range tags {
		if p := checkOne(t); p != 0 {
			return &Violation{Problem: p, Index: i + 1, Tag: t}
		}
		k := t.Key
		if foldKeys {
			k = strings.ToLower(k)
		}
		if seen[k] {
			return &Violation{Problem: Duplicate, Index: i + 1, Tag: t}
		}
		seen[k] = true
	}
	return nil
}

// CheckKeys checks the keys of an untag request (at most MaxTags, each a
// valid key).
func CheckKeys(keys []string) *Violation {
	if len(keys) > MaxTags {
		return &Violation{Problem: TooMany}
	}
	for i, k := range keys {
		if p := checkKey(k); p != 0 {
			return &Violation{Problem: p, Index: i + 1, Tag: Tag{Key: k}}
		}
	}
	return nil
}

func checkOne(t Tag) Problem {
	if p := checkKey(t.Key); p != 0 {
		return p
	}
	if utf8.RuneCountInString(t.Value) > MaxValueLen {
		return ValueTooLong
	}
	if !charsRE.MatchString(t.Value) {
		return ValueChars
	}
	return 0
}

func checkKey(k string) Problem {
	switch n := utf8.RuneCountInString(k); {
	case n < 1:
		return KeyTooShort
	case n > MaxKeyLen:
		return KeyTooLong
	case !charsRE.MatchString(k):
		return KeyChars
	}
	return 0
}

// Keys lists the keys, for messages quoting the whole list.
func Keys(tags []Tag) []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = t.Key
	}
	return out
}
