package iam

import (
	"strings"
	"unicode/utf8"
)

type tokenKind uint8

const (
	tokLiteral tokenKind = iota
	tokStar              // '*': any run of characters
	tokOne               // '?': exactly one character
	tokVar               // ${key} or ${key, 'default'}: replaced by a literal at match time
)

type token struct {
	kind tokenKind
	lit  string
	v    *varRef
}

type varRef struct {
	key    keyRef
	def    string
	hasDef bool
}

// glob is a compiled pattern. The common shapes (plain text, "*",
// "prefix*") are recognised at compile time and never touch tokens.
type glob struct {
	plain  bool // exact holds the whole pattern
	any    bool // "*"
	prefix bool // exact holds the text before a single trailing "*"
	exact  string
	toks   []token
}

// compileGlob compiles s. wildcards makes * and ? special (StringLike, Arn*,
// Action, Resource); vars expands ${…} (only Version 2012-10-17).
func compileGlob(s string, wildcards, vars bool) glob {
	if !(wildcards && strings.ContainsAny(s, "*?")) && !(vars && strings.Contains(s, "${")) {
		return glob{plain: true, exact: s}
	}
	var toks []token
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, token{kind: tokLiteral, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		if vars && c == '$' && strings.HasPrefix(s[i:], "${") {
			if end := strings.IndexByte(s[i:], '}'); end > 0 {
				body := strings.TrimSpace(s[i+2 : i+end])
				switch body {
				case "*", "?", "$":
					lit.WriteString(body)
				default:
					flush()
					toks = append(toks, token{kind: tokVar, v: parseVarRef(body)})
				}
				i += end + 1
				continue
			}
		}
		if wildcards && (c == '*' || c == '?') {
			flush()
			if c == '*' {
				if n := len(toks); n == 0 || toks[n-1].kind != tokStar {
					toks = append(toks, token{kind: tokStar})
				}
			} else {
				toks = append(toks, token{kind: tokOne})
			}
			i++
			continue
		}
		lit.WriteByte(c)
		i++
	}
	flush()
	switch {
	case len(toks) == 1 && toks[0].kind == tokStar:
		return glob{any: true}
	case len(toks) == 2 && toks[0].kind == tokLiteral && toks[1].kind == tokStar:
		return glob{prefix: true, exact: toks[0].lit}
	}
	return glob{toks: toks}
}

// parseVarRef reads "key" or "key, 'default'".
func parseVarRef(body string) *varRef {
	v := &varRef{}
	if comma := strings.IndexByte(body, ','); comma >= 0 {
		def := strings.TrimSpace(body[comma+1:])
		if len(def) >= 2 && def[0] == '\'' && def[len(def)-1] == '\'' {
			v.def, v.hasDef = def[1:len(def)-1], true
			body = strings.TrimSpace(body[:comma])
		}
	}
	v.key = compileKey(body)
	return v
}

func (g *glob) hasVars() bool {
	for _, t := range g.toks {
		if t.kind == tokVar {
			return true
		}
	}
	return false
}

// match reports whether s matches. A variable whose key is missing (and has
// no default) makes the pattern fail, as in AWS.
func (g *glob) match(s string, fold bool, ec *evalCtx) bool {
	switch {
	case g.plain:
		if fold {
			return strings.EqualFold(s, g.exact)
		}
		return s == g.exact
	case g.any:
		return true
	case g.prefix:
		return hasPrefix(s, g.exact, fold)
	}
	return g.matchTokens(s, fold, ec)
}

func (g *glob) matchTokens(s string, fold bool, ec *evalCtx) bool {
	toks := g.toks
	ti, si := 0, 0
	starTi, starSi := -1, 0
	for {
		if ti < len(toks) {
			t := &toks[ti]
			switch t.kind {
			case tokStar:
				if ti == len(toks)-1 {
					return true
				}
				starTi, starSi = ti, si
				ti++
				continue
			case tokOne:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			default:
				lit := t.lit
				if t.kind == tokVar {
					v, ok := ec.resolveVar(t.v)
					if !ok {
						return false
					}
					lit = v
				}
				if hasPrefix(s[si:], lit, fold) {
					si += len(lit)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starTi < 0 || starSi >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starSi:])
		starSi += n
		ti, si = starTi+1, starSi
	}
}

func hasPrefix(s, prefix string, fold bool) bool {
	if len(s) < len(prefix) {
		return false
	}
	if fold {
		return strings.EqualFold(s[:len(prefix)], prefix)
	}
	return s[:len(prefix)] == prefix
}

// arnPattern matches ARNs field by field: wildcards in the first five
// fields stay inside their field; the last field spans the rest (so "*" in
// the resource part crosses '/' and ':').
type arnPattern struct {
	any    bool
	fields []glob
}

func compileARNPattern(s string, vars bool) arnPattern {
	if s == "*" {
		return arnPattern{any: true}
	}
	parts := splitARNFields(s, vars)
	p := arnPattern{fields: make([]glob, len(parts))}
	for i, part := range parts {
		p.fields[i] = compileGlob(part, true, vars)
	}
	return p
}

// splitARNFields splits on the first five ':' that are not inside ${…}.
func splitARNFields(s string, vars bool) []string {
	parts := make([]string, 0, 6)
	start, depth := 0, 0
	for i := 0; i < len(s) && len(parts) < 5; i++ {
		switch {
		case vars && s[i] == '$' && i+1 < len(s) && s[i+1] == '{':
			depth++
		case depth > 0 && s[i] == '}':
			depth--
		case depth == 0 && s[i] == ':':
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func (p *arnPattern) match(s string, ec *evalCtx) bool {
	if p.any {
		return true
	}
	rest := s
	last := len(p.fields) - 1
	for i := range p.fields {
		part := rest
		if i < last {
			c := strings.IndexByte(rest, ':')
			if c < 0 {
				return false
			}
			part, rest = rest[:c], rest[c+1:]
		}
		if !p.fields[i].match(part, false, ec) {
			return false
		}
	}
	return true
}
