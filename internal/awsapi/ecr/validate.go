package ecr

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/berth-dev/berth/internal/apierr"
)

// invalidParam is ECR's generic validation failure.
func invalidParam(field, constraint string, args ...any) error {
	if len(args) > 0 {
		constraint = fmt.Sprintf(constraint, args...)
	}
	return apierr.New(apierr.InvalidParameter, "Invalid parameter at '%s' failed to satisfy constraint: '%s'", field, constraint)
}

func invalidPattern(field, pattern string) error {
	return invalidParam(field, "must satisfy regular expression '%s'", pattern)
}

func missing(field string) error {
	return invalidParam(field, "Member must not be null")
}

// checkLen enforces a model min/max length in characters.
func checkLen(field, v string, lo, hi int) error {
	n := utf8.RuneCountInString(v)
	if n < lo || (hi > 0 && n > hi) {
		if hi > 0 {
			return invalidParam(field, "Member must have length between %d and %d", lo, hi)
		}
		return invalidParam(field, "Member must have length greater than or equal to %d", lo)
	}
	return nil
}

func (a *API) checkRepoName(field, name string) error {
	if name == "" {
		return missing(field)
	}
	if err := checkLen(field, name, 2, 256); err != nil {
		return err
	}
	if !a.re.repoName.MatchString(name) {
		return invalidPattern(field, patRepoName)
	}
	return nil
}

func checkEnum(field, v string, allowed ...string) error {
	for _, x := range allowed {
		if v == x {
			return nil
		}
	}
	return invalidParam(field, "Member must satisfy enum value set: [%s]", strings.Join(allowed, ", "))
}

func checkListLen(field string, n, lo, hi int) error {
	if n < lo || n > hi {
		return invalidParam(field, "Member must have length between %d and %d", lo, hi)
	}
	return nil
}

// pageSize validates maxResults (nil: the default page of 100).
func pageSize(field string, v *int, hi int) (int, error) {
	if v == nil {
		return min(100, hi), nil
	}
	if *v < 1 || *v > hi {
		return 0, invalidParam(field, "Member must have value between 1 and %d", hi)
	}
	return *v, nil
}

// pageToken is the decoded form of an opaque nextToken. Op binds a token to
// the operation (and repository and filter) that issued it; After is the
// last key returned and Skip how many entries of the next key were.
type pageToken struct {
	Op    string
	After string
	Skip  int
}

// wireToken is pageToken as encoded: After travels as bytes (base64 in
// JSON) so that any key round-trips exactly.
type wireToken struct {
	Op    string `json:"o"`
	After []byte `json:"a,omitempty"`
	Skip  int    `json:"n,omitempty"`
}

func encodeToken(t pageToken) *string {
	b, _ := json.Marshal(wireToken{Op: t.Op, After: []byte(t.After), Skip: t.Skip})
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}

func decodeToken(raw, op string) (pageToken, error) {
	if raw == "" {
		return pageToken{}, nil
	}
	var w wireToken
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err == nil {
		err = json.Unmarshal(b, &w)
	}
	if err != nil || w.Op != op || w.Skip < 0 {
		return pageToken{}, invalidParam("nextToken", "must be a nextToken returned by a previous %s call with the same parameters", strings.SplitN(op, "\x00", 2)[0])
	}
	return pageToken{Op: w.Op, After: string(w.After), Skip: w.Skip}, nil
}
