package resolve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// Occurrence is a reference found in a text, with its byte span and
// 1-based line, or the syntax error found there.
type Occurrence struct {
	Ref        Ref
	Start, End int // text[Start:End] is the reference
	Line       int
	Err        error
}

// Find returns every "{{resolve:" occurrence in text in order. Other
// "{{…}}" text is left alone, as CloudFormation does.
func Find(text string) []Occurrence {
	var out []Occurrence
	pos := 0
	for {
		i := strings.Index(text[pos:], openMarker)
		if i < 0 {
			return out
		}
		start := pos + i
		line := 1 + strings.Count(text[:start], "\n")
		j := strings.Index(text[start+len(openMarker):], closeMark)
		if j < 0 {
			out = append(out, Occurrence{Start: start, End: len(text), Line: line,
				Err: syntaxErr("%s…: no closing }}", truncate(text[start:], 40))})
			return out
		}
		end := start + len(openMarker) + j + len(closeMark)
		if k := strings.Index(text[start+len(openMarker):end], "{{"); k >= 0 {
			// Nested: extend to the closing marker that balances the outer one
			// so the message shows the whole construct.
			end = balancedEnd(text, start)
			out = append(out, Occurrence{Start: start, End: end, Line: line,
				Err: syntaxErr("%s: dynamic references cannot be nested", truncate(text[start:end], 80))})
			pos = end
			continue
		}
		r, err := ParseRef(text[start:end])
		out = append(out, Occurrence{Ref: r, Start: start, End: end, Line: line, Err: err})
		pos = end
	}
}

func balancedEnd(text string, start int) int {
	depth := 0
	for i := start; i+1 < len(text); i++ {
		switch text[i : i+2] {
		case "{{":
			depth++
			i++
		case "}}":
			depth--
			i++
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(text)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Resolver turns one reference into its value.
type Resolver interface {
	Resolve(ctx context.Context, r Ref) (string, error)
}

// LocError ties a failure to the reference and where it was written.
type LocError struct {
	File string
	Line int
	Ref  string
	Err  error
}

func (e *LocError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Ref == "" {
		return fmt.Sprintf("%s: %v", loc, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", loc, e.Ref, e.Err)
}

func (e *LocError) Unwrap() error { return e.Err }

// Expander resolves references with a per-run cache, so one value is
// fetched once however often it is referenced.
type Expander struct {
	res   Resolver
	cache map[string]string
}

// NewExpander returns an Expander over res.
func NewExpander(res Resolver) (*Expander, error) {
	if res == nil {
		return nil, errors.New("resolve: nil Resolver")
	}
	return &Expander{res: res, cache: map[string]string{}}, nil
}

func (x *Expander) value(ctx context.Context, r Ref) (string, error) {
	key := r.String()
	if v, ok := x.cache[key]; ok {
		return v, nil
	}
	v, err := x.res.Resolve(ctx, r)
	if err != nil {
		return "", err
	}
	x.cache[key] = v
	return v, nil
}

// Text expands every reference in text. escape, when non-nil, transforms a
// value before it is spliced in. firstLine is the line number of text's
// first line in file. All syntax errors are reported together, before any
// lookup happens.
func (x *Expander) Text(ctx context.Context, text, file string, firstLine int, escape func(string) string) (string, error) {
	occ := Find(text)
	var errs []error
	for _, o := range occ {
		if o.Err != nil {
			errs = append(errs, &LocError{File: file, Line: firstLine - 1 + o.Line, Err: o.Err})
		}
	}
	if len(errs) > 0 {
		return "", errors.Join(errs...)
	}
	var b strings.Builder
	last := 0
	for _, o := range occ {
		v, err := x.value(ctx, o.Ref)
		if err != nil {
			return "", &LocError{File: file, Line: firstLine - 1 + o.Line, Ref: o.Ref.String(), Err: err}
		}
		if escape != nil {
			v = escape(v)
		}
		b.WriteString(text[last:o.Start])
		b.WriteString(v)
		last = o.End
	}
	b.WriteString(text[last:])
	return b.String(), nil
}

// JSON expands references inside JSON string literals, escaping values so
// the document stays valid JSON.
func (x *Expander) JSON(ctx context.Context, data []byte, file string) ([]byte, error) {
	if !json.Valid(data) {
		return nil, &LocError{File: file, Err: errors.New("not valid JSON")}
	}
	out, err := x.Text(ctx, string(data), file, 1, jsonEscape)
	if err != nil {
		return nil, err
	}
	if !json.Valid([]byte(out)) {
		return nil, &LocError{File: file, Err: errors.New("a dynamic reference outside a JSON string; references must sit inside \"…\"")}
	}
	return []byte(out), nil
}

func jsonEscape(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	q := bytes.TrimRight(b.Bytes(), "\n")
	return string(q[1 : len(q)-1])
}

// YAML expands references in the scalar values of a YAML stream (for
// example an .ebextensions file's option_settings) and re-encodes it, so
// values containing quotes, colons, newlines or YAML keywords stay strings.
// Mapping keys are left as they are. A stream with no references is
// returned byte for byte.
func (x *Expander) YAML(ctx context.Context, data []byte, file string) ([]byte, error) {
	if len(Find(string(data))) == 0 {
		return data, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &LocError{File: file, Err: fmt.Errorf("not valid YAML: %w", err)}
		}
		docs = append(docs, &n)
	}
	for _, d := range docs {
		if err := x.walk(ctx, d, file); err != nil {
			return nil, err
		}
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, &LocError{File: file, Err: err}
		}
	}
	if err := enc.Close(); err != nil {
		return nil, &LocError{File: file, Err: err}
	}
	return b.Bytes(), nil
}

func (x *Expander) walk(ctx context.Context, n *yaml.Node, file string) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, openMarker) {
			return nil
		}
		v, err := x.Text(ctx, n.Value, file, n.Line, nil)
		if err != nil {
			return err
		}
		n.Value = v
		if n.Tag == "" || n.Tag == "!!str" {
			n.Tag = "!!str"
		}
		if strings.Contains(v, "\n") {
			n.Style = yaml.LiteralStyle
		} else if n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle {
			n.Style = yaml.DoubleQuotedStyle
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			if err := x.walk(ctx, n.Content[i], file); err != nil {
				return err
			}
		}
	default:
		for _, c := range n.Content {
			if err := x.walk(ctx, c, file); err != nil {
				return err
			}
		}
	}
	return nil
}
