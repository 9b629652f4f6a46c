package iam

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

type opBase uint8

const (
	opStringEquals opBase = iota
	opStringEqualsIgnoreCase
	opStringLike
	opNumericEquals
	opNumericLessThan
	opNumericLessThanEquals
	opNumericGreaterThan
	opNumericGreaterThanEquals
	opDateEquals
	opDateLessThan
	opDateLessThanEquals
	opDateGreaterThan
	opDateGreaterThanEquals
	opBool
	opBinaryEquals
	opIPAddress
	opArnLike // ArnEquals behaves the same: both are ARN-aware globs
	opNull
)

type setModifier uint8

const (
	setNone setModifier = iota
	setAnyValue
	setAllValues
)

type opSpec struct {
	base     opBase
	negated  bool // true only if no value matches
	ifExists bool
	set      setModifier
}

// baseOperators maps lower-cased operator names (without qualifiers).
func baseOperator(lower string) (opBase, bool, bool) {
	switch lower {
	case "stringequals":
		return opStringEquals, false, true
	case "stringnotequals":
		return opStringEquals, true, true
	case "stringequalsignorecase":
		return opStringEqualsIgnoreCase, false, true
	case "stringnotequalsignorecase":
		return opStringEqualsIgnoreCase, true, true
	case "stringlike":
		return opStringLike, false, true
	case "stringnotlike":
		return opStringLike, true, true
	case "numericequals":
		return opNumericEquals, false, true
	case "numericnotequals":
		return opNumericEquals, true, true
	case "numericlessthan":
		return opNumericLessThan, false, true
	case "numericlessthanequals":
		return opNumericLessThanEquals, false, true
	case "numericgreaterthan":
		return opNumericGreaterThan, false, true
	case "numericgreaterthanequals":
		return opNumericGreaterThanEquals, false, true
	case "dateequals":
		return opDateEquals, false, true
	case "datenotequals":
		return opDateEquals, true, true
	case "datelessthan":
		return opDateLessThan, false, true
	case "datelessthanequals":
		return opDateLessThanEquals, false, true
	case "dategreaterthan":
		return opDateGreaterThan, false, true
	case "dategreaterthanequals":
		return opDateGreaterThanEquals, false, true
	case "bool":
		return opBool, false, true
	case "binaryequals":
		return opBinaryEquals, false, true
	case "ipaddress":
		return opIPAddress, false, true
	case "notipaddress":
		return opIPAddress, true, true
	case "arnequals", "arnlike":
		return opArnLike, false, true
	case "arnnotequals", "arnnotlike":
		return opArnLike, true, true
	case "null":
		return opNull, false, true
	}
	return 0, false, false
}

// lookupOperator parses "[ForAnyValue:|ForAllValues:]Operator[IfExists]".
func lookupOperator(name string) (opSpec, bool) {
	lower := strings.ToLower(name)
	var spec opSpec
	switch {
	case strings.HasPrefix(lower, "foranyvalue:"):
		spec.set, lower = setAnyValue, lower[len("foranyvalue:"):]
	case strings.HasPrefix(lower, "forallvalues:"):
		spec.set, lower = setAllValues, lower[len("forallvalues:"):]
	}
	if l, ok := strings.CutSuffix(lower, "ifexists"); ok {
		spec.ifExists, lower = true, l
	}
	base, negated, ok := baseOperator(lower)
	if !ok || (base == opNull && (spec.ifExists || spec.set != setNone)) {
		return opSpec{}, false
	}
	spec.base, spec.negated = base, negated
	return spec, true
}

type condValue struct {
	g   glob       // string operators, BinaryEquals
	arn arnPattern // Arn operators
	num float64
	t   time.Time
	pfx netip.Prefix
	b   bool // Bool value; for Null: true = key must be absent
}

type condition struct {
	spec opSpec
	key  keyRef
	vals []condValue
}

func compileCondition(rc *rawCondition, vars bool) (condition, error) {
	spec, _ := lookupOperator(rc.op) // validated by the parser
	c := condition{spec: spec, key: compileKey(rc.key), vals: make([]condValue, len(rc.values))}
	for i, v := range rc.values {
		cv := &c.vals[i]
		ok := true
		switch spec.base {
		case opStringEquals, opStringEqualsIgnoreCase:
			cv.g = compileGlob(v, false, vars)
		case opStringLike:
			cv.g = compileGlob(v, true, vars)
		case opBinaryEquals:
			cv.g = glob{plain: true, exact: v}
		case opArnLike:
			cv.arn = compileARNPattern(v, vars)
		case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
			cv.num, ok = parseNumber(v)
		case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
			cv.t, ok = parseDate(v)
		case opBool, opNull:
			cv.b, ok = parseBool(v)
		case opIPAddress:
			cv.pfx, ok = parseCIDR(v)
		}
		if !ok {
			return c, fmt.Errorf("invalid value %q for condition operator %s", v, rc.op)
		}
	}
	return c, nil
}

func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}

func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// parseDate accepts ISO 8601 (date, date-time with or without zone and
// fractions) or epoch seconds.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if c := s[0]; c >= '0' && c <= '9' && !strings.ContainsAny(s, "-:T") {
		f, ok := parseNumber(s)
		if !ok || f > 1e13 {
			return time.Time{}, false
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
	}
	for _, layout := range [...]string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05Z0700",
		"2006-01-02T15:04:05",
		"2006-01-02T15:04Z07:00",
		"2006-01-02T15:04",
		"2006-01-02",
		"20060102T150405Z",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func parseCIDR(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a := p.Addr()
	if a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked(), true
	}
	return p.Masked(), true
}

// eval applies the operator to the request's values for the key.
func (c *condition) eval(ec *evalCtx) bool {
	vals, present := ec.values(&c.key)
	if c.spec.base == opNull {
		absent := !present || len(vals) == 0
		for i := range c.vals {
			if c.vals[i].b == absent {
				return true
			}
		}
		return false
	}
	if !present || len(vals) == 0 {
		switch {
		case c.spec.ifExists:
			return true
		case c.spec.set == setAllValues:
			return true // vacuous truth: the classic ForAllValues pitfall
		case c.spec.set == setAnyValue:
			return false
		}
		// Negated operators hold when the key is missing (nothing matches).
		return c.spec.negated
	}
	switch c.spec.set {
	case setAllValues:
		for _, v := range vals {
			if c.matchValue(v, ec) == c.spec.negated {
				return false
			}
		}
		return true
	case setAnyValue:
		for _, v := range vals {
			if c.matchValue(v, ec) != c.spec.negated {
				return true
			}
		}
		return false
	}
	for _, v := range vals {
		if c.matchValue(v, ec) {
			return !c.spec.negated
		}
	}
	return c.spec.negated
}

// matchValue reports whether one request value matches any policy value.
func (c *condition) matchValue(v string, ec *evalCtx) bool {
	switch c.spec.base {
	case opStringEquals, opStringLike, opBinaryEquals:
		for i := range c.vals {
			if c.vals[i].g.match(v, false, ec) {
				return true
			}
		}
	case opStringEqualsIgnoreCase:
		for i := range c.vals {
			if c.vals[i].g.match(v, true, ec) {
				return true
			}
		}
	case opArnLike:
		for i := range c.vals {
			if c.vals[i].arn.match(v, ec) {
				return true
			}
		}
	case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
		n, ok := parseNumber(v)
		if !ok {
			return false
		}
		for i := range c.vals {
			if compareOrdered(c.spec.base, cmpFloat(n, c.vals[i].num)) {
				return true
			}
		}
	case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
		t, ok := ec.parseTime(v)
		if !ok {
			return false
		}
		for i := range c.vals {
			if compareOrdered(c.spec.base, t.Compare(c.vals[i].t)) {
				return true
			}
		}
	case opBool:
		b, ok := parseBool(v)
		if !ok {
			return false
		}
		for i := range c.vals {
			if c.vals[i].b == b {
				return true
			}
		}
	case opIPAddress:
		a, ok := ec.parseIP(v)
		if !ok {
			return false
		}
		for i := range c.vals {
			if c.vals[i].pfx.Contains(a) {
				return true
			}
		}
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareOrdered turns a three-way comparison (request vs policy value)
// into the operator's verdict.
func compareOrdered(base opBase, cmp int) bool {
	switch base {
	case opNumericEquals, opDateEquals:
		return cmp == 0
	case opNumericLessThan, opDateLessThan:
		return cmp < 0
	case opNumericLessThanEquals, opDateLessThanEquals:
		return cmp <= 0
	case opNumericGreaterThan, opDateGreaterThan:
		return cmp > 0
	case opNumericGreaterThanEquals, opDateGreaterThanEquals:
		return cmp >= 0
	}
	return false
}
