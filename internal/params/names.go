package params

import (
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/apierr"
)

// Limits from the SSM documentation ("Requirements and constraints for
// parameter names") and the 2014-11-06 model.
const (
	maxNameInput  = 2048 // PSParameterName, ARN form included
	maxNameLength = 1011 // the name itself
	maxLevels     = 15
	maxVersions   = 100
	maxStandard   = 4096
	maxAdvanced   = 8192
	maxLabels     = 10
	maxLabelLen   = 100
)

// Ref is a parameter named by a request: a bare name or an ARN, optionally
// followed by a ":VERSION" or ":LABEL" selector.
type Ref struct {
	Account, Region string // set when the request used an ARN
	Name            string
	Version         int64  // from a numeric selector, else 0
	Label           string // from a label selector
}

// Selector is the selector as SSM echoes it (":3", ":prod") or "".
func (r Ref) Selector() string {
	switch {
	case r.Version > 0:
		return ":" + strconv.FormatInt(r.Version, 10)
	case r.Label != "":
		return ":" + r.Label
	}
	return ""
}

// ParseRef splits a Name member into name, optional ARN scope and selector.
// It checks the syntax only; whether the name may be created is
// ValidateNewName's job.
func ParseRef(s string) (Ref, error) {
	if len(s) == 0 || len(s) > maxNameInput {
		return Ref{}, lengthError("name", s, maxNameInput)
	}
	var r Ref
	if strings.HasPrefix(s, "arn:") {
		// arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME[:SELECTOR]
		parts := strings.SplitN(s, ":", 6)
		if len(parts) != 6 || parts[2] != "ssm" || !strings.HasPrefix(parts[5], "parameter/") {
			return Ref{}, invalidName()
		}
		r.Region, r.Account = parts[3], parts[4]
		s = strings.TrimPrefix(parts[5], "parameter")
		// parameter/plain names the root-level "plain"; parameter/a/b names "/a/b".
		if !strings.Contains(s[1:], "/") {
			s = s[1:]
		}
	}
	name, sel, hasSel := strings.Cut(s, ":")
	if hasSel {
		if sel == "" || strings.Contains(sel, ":") {
			return Ref{}, invalidName()
		}
		if v, err := strconv.ParseInt(sel, 10, 64); err == nil {
			if v < 1 {
				return Ref{}, invalidName()
			}
			r.Version = v
		} else if err := validateLabel(sel); err != nil {
			return Ref{}, err
		} else {
			r.Label = sel
		}
	}
	if err := ValidateName(name); err != nil {
		return Ref{}, err
	}
	r.Name = name
	return r, nil
}

// ValidateName checks the characters and the hierarchy rules of a name.
func ValidateName(name string) error {
	if name == "" {
		return lengthError("name", name, maxNameInput)
	}
	if len(name) > maxNameLength {
		return apierr.New(apierr.ValidationException, "Parameter name must be less than or equal to %d characters.", maxNameLength)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' || c == '/') {
			return invalidName()
		}
	}
	if !strings.Contains(name, "/") {
		return nil
	}
	if name[0] != '/' {
		return apierr.New(apierr.ValidationException, "Parameter name must be a fully qualified name.")
	}
	segs := strings.Split(name[1:], "/")
	for _, s := range segs {
		if s == "" {
			return invalidName()
		}
	}
	if len(segs) > maxLevels {
		return apierr.New(apierr.HierarchyLevelLimitExceeded, "A hierarchy can have a maximum of %d levels.", maxLevels)
	}
	return nil
}

// ValidateNewName adds the rule that applies only to creating a parameter:
// the aws and ssm prefixes are reserved (reading /aws/service/… is fine).
func ValidateNewName(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	first := strings.ToLower(strings.TrimPrefix(name, "/"))
	if strings.HasPrefix(first, "aws") || strings.HasPrefix(first, "ssm") {
		return invalidName()
	}
	return nil
}

// ValidatePath checks a GetParametersByPath path: "/" or a hierarchy that
// starts with "/" (a trailing "/" is tolerated).
func ValidatePath(p string) (string, error) {
	if p == "/" {
		return p, nil
	}
	if !strings.HasPrefix(p, "/") {
		return "", apierr.New(apierr.ValidationException, "The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\".")
	}
	trimmed := strings.TrimSuffix(p, "/")
	if err := ValidateName(trimmed); err != nil {
		return "", err
	}
	return trimmed, nil
}

func validateLabel(l string) error {
	if len(l) == 0 || len(l) > maxLabelLen {
		return apierr.New(apierr.ValidationException, "Parameter label must be between 1 and %d characters.", maxLabelLen)
	}
	lower := strings.ToLower(l)
	if strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "ssm") || (l[0] >= '0' && l[0] <= '9') {
		return apierr.New(apierr.ValidationException, "Parameter label %s can't begin with a number, \"aws\" or \"ssm\" (case-insensitive).", l)
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return apierr.New(apierr.ValidationException, "Parameter label %s can only contain letters, numbers and the symbols .-_", l)
		}
	}
	return nil
}

// ARN is the parameter's ARN: the leading "/" of a hierarchical name is dropped.
func ARN(region, account, name string) string {
	return "arn:aws:ssm:" + region + ":" + account + ":parameter/" + strings.TrimPrefix(name, "/")
}

// invalidName is AWS's text for a name with forbidden characters or prefixes.
func invalidName() error {
	return apierr.New(apierr.ValidationException, `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_`)
}

// lengthError follows the generated model-validation message. Sensitive
// members (values) pass value "" so the text never echoes them.
func lengthError(member, value string, max int) error {
	if len(value) == 0 {
		return apierr.New(apierr.ValidationException, "1 validation error detected: Value '' at '%s' failed to satisfy constraint: Member must have length greater than or equal to 1", member)
	}
	return apierr.New(apierr.ValidationException, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", value, member, max)
}

// twin is the other spelling of a root-level name ("x" for "/x" and back):
// SSM keeps one parameter for both, with the ARN …:parameter/x. A
// hierarchical name has no twin ("a/b" is not a valid name).
func twin(name string) (string, bool) {
	if rest, ok := strings.CutPrefix(name, "/"); ok {
		return rest, rest != "" && !strings.Contains(rest, "/")
	}
	return "/" + name, !strings.Contains(name, "/")
}
