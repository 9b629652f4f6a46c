package iamsvc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/awstags"
	"github.com/berth-dev/berth/internal/iam"
)

// ValidationErr is AWS's model-validation failure for one member, in the
// validator's words ("1 validation error detected: Value 'v' at 'field'
// failed to satisfy constraint: ...").
func ValidationErr(value, field, constraint string) error {
	return validationErr(value, field, constraint)
}

func validationErr(value, field, constraint string) error {
	return apierr.New(apierr.ValidationError,
		"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, field, constraint)
}

// isNameChar: IAM names are [\w+=,.@-]+.
func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '-'
}

func validName(field, name string, maxLen int) error {
	if name == "" {
		return validationErr(name, field, "Member must have length greater than or equal to 1")
	}
	if len(name) > maxLen {
		return validationErr(name, field, fmt.Sprintf("Member must have length less than or equal to %d", maxLen))
	}
	for i := 0; i < len(name); i++ {
		if !isNameChar(name[i]) {
			return validationErr(name, field, `Member must satisfy regular expression pattern: [\w+=,.@-]+`)
		}
	}
	return nil
}

// normPath defaults to "/" and checks IAM's path rule: /, or /…/ of printable ASCII.
func normPath(path string) (string, error) {
	if path == "" {
		return "/", nil
	}
	ok := len(path) <= 512 && path[0] == '/' && path[len(path)-1] == '/'
	for i := 0; ok && i < len(path); i++ {
		ok = path[i] >= 0x21 && path[i] <= 0x7e
	}
	if !ok {
		return "", validationErr(path, "path", `Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007F]+\u002F)`)
	}
	return path, nil
}

func validPathPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if prefix[0] != '/' || len(prefix) > 512 {
		return validationErr(prefix, "pathPrefix", `Member must satisfy regular expression pattern: \u002F[\u0021-\u007F]*`)
	}
	return nil
}

// parsePolicyDoc validates doc with the engine and maps its failures to IAM's
// errors: MalformedPolicyDocument with the engine's message naming the
// statement and field, or LimitExceeded for size.
func parsePolicyDoc(doc string, kind iam.PolicyKind, sizeLimit int) (*iam.Policy, error) {
	if doc == "" {
		return nil, validationErr("", "policyDocument", "Member must have length greater than or equal to 1")
	}
	if sizeLimit > 0 {
		if err := iam.CheckPolicySize(doc, sizeLimit); err != nil {
			return nil, apierr.New(apierr.IAMLimitExceeded, "%s", err.Error())
		}
	}
	pol, err := iam.ParsePolicy(doc, kind)
	if err != nil {
		if errors.Is(err, iam.ErrPolicyTooLarge) {
			return nil, apierr.New(apierr.IAMLimitExceeded, "%s", err.Error())
		}
		return nil, apierr.New(apierr.MalformedPolicyDocument, "%s", err.Error())
	}
	return pol, nil
}

// validTags checks tags against AWS's Tag type. IAM keys are unique
// case-insensitively.
func validTags(tags []Tag) error {
	conv := make([]awstags.Tag, len(tags))
	for i, t := range tags {
		conv[i] = awstags.Tag{Key: t.Key, Value: t.Value}
	}
	v := awstags.Check(conv, true)
	if v == nil {
		return nil
	}
	switch v.Problem {
	case awstags.Duplicate:
		return apierr.New(apierr.InvalidInput, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
	case awstags.TooMany:
		return validationErr("["+strings.Join(awstags.Keys(conv), ", ")+"]", "tags", v.Constraint())
	}
	return validationErr(v.Value(), v.Member("tags"), v.Constraint())
}

// tagQuota is LimitExceeded for a tag set that would grow past 50.
func tagQuota(resource string) error {
	return apierr.New(apierr.IAMLimitExceeded, "Cannot exceed quota for TagsPer%s: %d", resource, awstags.MaxTags)
}

// ValidTagKeys checks an untag request's keys.
func ValidTagKeys(keys []string) error {
	v := awstags.CheckKeys(keys)
	if v == nil {
		return nil
	}
	if v.Problem == awstags.TooMany {
		return validationErr("["+strings.Join(keys, ", ")+"]", "tagKeys", v.Constraint())
	}
	return validationErr(v.Value(), "tagKeys."+strconv.Itoa(v.Index)+".member", v.Constraint())
}

func noSuchUser(name string) error {
	return apierr.New(apierr.NoSuchEntity, "The user with name %s cannot be found.", name)
}
func noSuchGroup(name string) error {
	return apierr.New(apierr.NoSuchEntity, "The group with name %s cannot be found.", name)
}
func noSuchRole(name string) error {
	return apierr.New(apierr.NoSuchEntity, "The role with name %s cannot be found.", name)
}
func noSuchPolicy(policyARN string) error {
	return apierr.New(apierr.NoSuchEntity, "Policy %s was not found.", policyARN)
}
func notAttachable(policyARN string) error {
	return apierr.New(apierr.NoSuchEntity, "Policy %s does not exist or is not attachable.", policyARN)
}

// lengthErr names the bound a value broke, as AWS's validator does.
func lengthErr(value, field string, min, max int) error {
	if len(value) < min {
		return validationErr(value, field, fmt.Sprintf("Member must have length greater than or equal to %d", min))
	}
	return validationErr(value, field, fmt.Sprintf("Member must have length less than or equal to %d", max))
}

// RangeErr names the bound a number broke, as AWS's validator does; nil
// when lo <= n <= hi.
func RangeErr(n int, field string, lo, hi int) error {
	switch {
	case n < lo:
		return validationErr(itoa(n), field, fmt.Sprintf("Member must have value greater than or equal to %d", lo))
	case n > hi:
		return validationErr(itoa(n), field, fmt.Sprintf("Member must have value less than or equal to %d", hi))
	}
	return nil
}
