package iam

import (
	"encoding/json"
	"io"
	"sort"
	"strings"

	"github.com/berth-dev/berth/internal/arn"
)

// AWS's MalformedPolicyDocument texts (§6.6).
const (
	msgSyntax           = "Syntax errors in policy."
	msgLegacy           = "The policy failed legacy parsing"
	msgVersionVars      = "Policy document must be version 2012-10-17 or greater."
	msgNoActions        = "Policy statement must contain actions."
	msgNoResources      = "Policy statement must contain resources."
	msgVendor           = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgSidUnique        = "Statement IDs (SID) in a single policy must be unique."
	msgSidAlnum         = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
	msgInvalidPrincipal = "Invalid principal in policy"
	msgProhibitedRes    = "Has prohibited field Resource."
	msgNoPrincipalHere  = "Policy document should not specify a principal."
	msgMissingPrincipal = "Missing required field Principal"
	msgMissingEffect    = "Missing required field Effect"
	msgTrustAction      = "Trust policy may only contain sts actions such as sts:AssumeRole."
)

type rawPrincipal struct {
	star bool                // "Principal": "*"
	m    map[string][]string // AWS / Service / Federated / CanonicalUser
}

type rawCondition struct {
	op     string // as written, e.g. "ForAnyValue:StringLike"
	key    string // as written
	values []string
}

type rawStatement struct {
	index        int
	sid          string
	deny         bool
	principal    *rawPrincipal
	notPrincipal bool
	actions      []string
	notAction    bool
	resources    []string // nil when neither Resource nor NotResource is present
	notResource  bool
	conditions   []rawCondition // sorted by operator, then key
}

type rawPolicy struct {
	version    string
	id         string
	statements []rawStatement
}

func syntaxErr(stmt, field string) error {
	return &ValidationError{Statement: stmt, Field: field, Message: msgSyntax}
}

func parseDocument(doc string, kind PolicyKind) (*rawPolicy, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil || top == nil {
		return nil, syntaxErr("", "")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, syntaxErr("", "")
	}
	rp := &rawPolicy{version: Version2008}
	for k := range top {
		switch k {
		case "Version", "Id", "Statement":
		default:
			return nil, syntaxErr("", k)
		}
	}
	if v, ok := top["Version"]; ok {
		s, ok := v.(string)
		if !ok {
			return nil, syntaxErr("", "Version")
		}
		if s != Version2012 && s != Version2008 {
			return nil, &ValidationError{Field: "Version", Message: msgLegacy}
		}
		rp.version = s
	}
	if v, ok := top["Id"]; ok {
		s, ok := v.(string)
		if !ok {
			return nil, syntaxErr("", "Id")
		}
		rp.id = s
	}
	var list []any
	switch st := top["Statement"].(type) {
	case map[string]any:
		list = []any{st}
	case []any:
		list = st
	}
	if len(list) == 0 {
		return nil, syntaxErr("", "Statement")
	}
	sids := make(map[string]bool, len(list))
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, syntaxErr(statementLabel("", i), "")
		}
		s, err := parseStatement(m, i, kind, rp.version)
		if err != nil {
			return nil, err
		}
		if s.sid != "" {
			if sids[s.sid] {
				return nil, &ValidationError{Statement: statementLabel(s.sid, i), Field: "Sid", Message: msgSidUnique}
			}
			sids[s.sid] = true
		}
		rp.statements = append(rp.statements, s)
	}
	return rp, nil
}

func parseStatement(m map[string]any, index int, kind PolicyKind, version string) (rawStatement, error) {
	s := rawStatement{index: index}
	label := statementLabel("", index)
	if v, ok := m["Sid"]; ok {
		sid, ok := v.(string)
		if !ok {
			return s, syntaxErr(label, "Sid")
		}
		s.sid = sid
		label = statementLabel(sid, index)
		if kind != ResourcePolicy && !isAlnum(sid) {
			return s, &ValidationError{Statement: label, Field: "Sid", Message: msgSidAlnum}
		}
	}
	for k := range m {
		switch k {
		case "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition":
		default:
			return s, syntaxErr(label, k)
		}
	}

	switch m["Effect"] {
	case "Allow":
	case "Deny":
		s.deny = true
	case nil:
		return s, &ValidationError{Statement: label, Field: "Effect", Message: msgMissingEffect}
	default:
		return s, syntaxErr(label, "Effect")
	}

	if err := parseStatementPrincipal(&s, m, kind, label); err != nil {
		return s, err
	}
	if err := parseStatementActions(&s, m, kind, label); err != nil {
		return s, err
	}
	if err := parseStatementResources(&s, m, kind, label); err != nil {
		return s, err
	}
	if c, ok := m["Condition"]; ok {
		conds, err := parseConditionBlock(c, label)
		if err != nil {
			return s, err
		}
		s.conditions = conds
	}
	if kind != ResourcePolicy && version != Version2012 && s.usesVariables() {
		// IAM refuses variables in old documents rather than silently
		// treating them as text; ECR keeps them literal.
		return s, &ValidationError{Statement: label, Field: "Version", Message: msgVersionVars}
	}
	return s, nil
}

func parseStatementPrincipal(s *rawStatement, m map[string]any, kind PolicyKind, label string) error {
	pv, hasP := m["Principal"]
	npv, hasNP := m["NotPrincipal"]
	field := "Principal"
	if hasNP {
		field = "NotPrincipal"
	}
	switch {
	case kind == IdentityPolicy && (hasP || hasNP):
		return &ValidationError{Statement: label, Field: field, Message: msgNoPrincipalHere}
	case kind == IdentityPolicy:
		return nil
	case hasP && hasNP:
		return syntaxErr(label, "NotPrincipal")
	case !hasP && !hasNP:
		return &ValidationError{Statement: label, Field: "Principal", Message: msgMissingPrincipal}
	}
	if hasNP {
		pv = npv
		s.notPrincipal = true
	}
	p, err := parsePrincipal(pv)
	if err != nil {
		return &ValidationError{Statement: label, Field: field, Message: msgInvalidPrincipal}
	}
	s.principal = p
	return nil
}

func parsePrincipal(v any) (*rawPrincipal, error) {
	switch t := v.(type) {
	case string:
		if t != "*" {
			return nil, ErrMalformedPolicy
		}
		return &rawPrincipal{star: true}, nil
	case map[string]any:
		if len(t) == 0 {
			return nil, ErrMalformedPolicy
		}
		p := &rawPrincipal{m: make(map[string][]string, len(t))}
		for k, val := range t {
			vals, ok := stringList(val)
			if !ok || len(vals) == 0 {
				return nil, ErrMalformedPolicy
			}
			for _, one := range vals {
				if !validPrincipalValue(k, one) {
					return nil, ErrMalformedPolicy
				}
			}
			p.m[k] = vals
		}
		return p, nil
	}
	return nil, ErrMalformedPolicy
}

func validPrincipalValue(typ, v string) bool {
	switch typ {
	case "AWS":
		if v == "*" || arn.IsAccountID(v) || isUniqueID(v) {
			return true
		}
		if strings.ContainsAny(v, "*?") {
			return false
		}
		a, err := arn.Parse(v)
		return err == nil && (a.Service == "iam" || a.Service == "sts") && arn.IsAccountID(a.AccountID)
	case "Service":
		return strings.Contains(v, ".") && !strings.ContainsAny(v, "*? ")
	case "Federated", "CanonicalUser":
		return v != "" && !strings.ContainsAny(v, "*?")
	}
	return false
}

// isUniqueID recognises AIDA…/AROA… ids, which AWS leaves in policies when
// the named principal has been deleted.
func isUniqueID(v string) bool {
	if len(v) != 21 || v[0] != 'A' {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func parseStatementActions(s *rawStatement, m map[string]any, kind PolicyKind, label string) error {
	av, hasA := m["Action"]
	nav, hasNA := m["NotAction"]
	field := "Action"
	switch {
	case hasA && hasNA:
		return syntaxErr(label, "NotAction")
	case !hasA && !hasNA:
		return &ValidationError{Statement: label, Field: "Action", Message: msgNoActions}
	case hasNA:
		av, field, s.notAction = nav, "NotAction", true
	}
	actions, ok := stringList(av)
	if !ok {
		return syntaxErr(label, field)
	}
	if len(actions) == 0 {
		return &ValidationError{Statement: label, Field: field, Message: msgNoActions}
	}
	for _, a := range actions {
		if a == "*" {
			if kind == TrustPolicy {
				return &ValidationError{Statement: label, Field: field, Message: msgTrustAction}
			}
			continue
		}
		vendor, ok := hasVendorPrefix(a)
		if !ok {
			return &ValidationError{Statement: label, Field: field, Message: msgVendor}
		}
		for i := 0; i < len(vendor); i++ {
			if !isVendorChar(vendor[i]) {
				return &ValidationError{Statement: label, Field: field, Message: "Vendor " + vendor + " is not valid"}
			}
		}
		if kind == TrustPolicy && !strings.EqualFold(vendor, "sts") {
			return &ValidationError{Statement: label, Field: field, Message: msgTrustAction}
		}
	}
	s.actions = actions
	return nil
}

func parseStatementResources(s *rawStatement, m map[string]any, kind PolicyKind, label string) error {
	rv, hasR := m["Resource"]
	nrv, hasNR := m["NotResource"]
	field := "Resource"
	if hasNR {
		field = "NotResource"
	}
	switch {
	case kind == TrustPolicy && (hasR || hasNR):
		return &ValidationError{Statement: label, Field: field, Message: msgProhibitedRes}
	case hasR && hasNR:
		return syntaxErr(label, "NotResource")
	case !hasR && !hasNR:
		if kind == IdentityPolicy {
			return &ValidationError{Statement: label, Field: "Resource", Message: msgNoResources}
		}
		return nil
	case hasNR:
		rv, s.notResource = nrv, true
	}
	res, ok := stringList(rv)
	if !ok {
		return syntaxErr(label, field)
	}
	if len(res) == 0 {
		return &ValidationError{Statement: label, Field: field, Message: msgNoResources}
	}
	for _, r := range res {
		if r != "*" && !strings.HasPrefix(r, "arn:") {
			return &ValidationError{Statement: label, Field: field, Message: "Resource " + r + " must be in ARN format or \"*\"."}
		}
	}
	s.resources = res
	return nil
}

func parseConditionBlock(v any, label string) ([]rawCondition, error) {
	block, ok := v.(map[string]any)
	if !ok {
		return nil, syntaxErr(label, "Condition")
	}
	var out []rawCondition
	for op, kv := range block {
		field := "Condition." + op
		if _, ok := lookupOperator(op); !ok {
			return nil, &ValidationError{Statement: label, Field: field, Message: "Invalid Condition type : " + op}
		}
		keys, ok := kv.(map[string]any)
		if !ok {
			return nil, syntaxErr(label, field)
		}
		for key, raw := range keys {
			if _, ok := hasVendorPrefix(key); !ok {
				return nil, &ValidationError{Statement: label, Field: field, Message: msgVendor}
			}
			vals, ok := conditionValues(raw)
			if !ok || len(vals) == 0 {
				return nil, syntaxErr(label, field+"."+key)
			}
			out = append(out, rawCondition{op: op, key: key, values: vals})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].op != out[j].op {
			return out[i].op < out[j].op
		}
		return out[i].key < out[j].key
	})
	return out, nil
}

// stringList accepts a string or an array of strings.
func stringList(v any) ([]string, bool) {
	switch t := v.(type) {
	case string:
		return []string{t}, true
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// conditionValues accepts scalars (string, number, bool) or arrays of them,
// all kept as text: operators parse what they need at compile time.
func conditionValues(v any) ([]string, bool) {
	scalar := func(e any) (string, bool) {
		switch t := e.(type) {
		case string:
			return t, true
		case json.Number:
			return t.String(), true
		case bool:
			if t {
				return "true", true
			}
			return "false", true
		}
		return "", false
	}
	if arr, ok := v.([]any); ok {
		out := make([]string, 0, len(arr))
		for _, e := range arr {
			s, ok := scalar(e)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	s, ok := scalar(v)
	if !ok {
		return nil, false
	}
	return []string{s}, true
}

func (s *rawStatement) usesVariables() bool {
	for _, r := range s.resources {
		if strings.Contains(r, "${") {
			return true
		}
	}
	for _, c := range s.conditions {
		for _, v := range c.values {
			if strings.Contains(v, "${") {
				return true
			}
		}
	}
	return false
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
