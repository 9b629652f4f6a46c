package rewrite

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// rewriteDockerrun edits Image.Name (v1) and containerDefinitions[].image
// (v2) of a Dockerrun.aws.json. v3 files name no images (they are in
// docker-compose.yml next to it), so they come back unchanged with no refs.
//
// The JSON is walked token by token to find each value's byte range, and
// only those bytes change; key order, spacing and the rest stay as written.
func rewriteDockerrun(name string, data []byte, o Options) (*Result, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("%s: not valid JSON: %v", name, err)
	}
	src := newSource(name, data)
	res := &Result{}
	dec := json.NewDecoder(bytes.NewReader(data))
	// One frame per open object or array; a value's path is each frame's
	// current key or index.
	type frame struct {
		array   bool
		index   int
		key     string
		haveKey bool
	}
	var stack []frame
	path := func() []string {
		p := make([]string, len(stack))
		for i, f := range stack {
			if f.array {
				p[i] = "[" + strconv.Itoa(f.index) + "]"
			} else {
				p[i] = f.key
			}
		}
		return p
	}
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		if f := &stack[len(stack)-1]; f.array {
			f.index++
		} else {
			f.haveKey = false
		}
	}
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: not valid JSON: %v", name, err)
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			stack = append(stack, frame{array: tok == json.Delim('[')})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
			continue
		}
		if f := &stack[len(stack)-1]; !f.array && !f.haveKey {
			f.key, f.haveKey = tok.(string), true
			continue
		}
		if str, ok := tok.(string); ok && isDockerrunImage(path()) {
			end := int(dec.InputOffset())
			start := bytes.IndexByte(data[before:end], '"')
			if start < 0 {
				return nil, fmt.Errorf("%s: lost track of the JSON at byte %d", name, before)
			}
			start += int(before)
			line := bytes.Count(data[:start], []byte("\n")) + 1
			ref := Ref{File: name, Line: line, Field: strings.ReplaceAll(strings.Join(path(), "."), ".[", "["), From: str, To: str}
			to, st, reason := o.Map(str)
			ref.Status, ref.Reason = st, reason
			if st == Rewritten {
				ref.To = to
				src.edits = append(src.edits, edit{start, end, jsonString(to)})
			}
			res.Refs = append(res.Refs, ref)
		}
		valueDone()
	}
	out, err := src.apply()
	if err != nil {
		return nil, err
	}
	res.Output = out
	return res, nil
}

// isDockerrunImage matches the image fields Elastic Beanstalk reads; keys
// are compared case-insensitively, as the platform's parser does.
func isDockerrunImage(path []string) bool {
	switch len(path) {
	case 2:
		return strings.EqualFold(path[0], "Image") && strings.EqualFold(path[1], "Name")
	case 3:
		return strings.EqualFold(path[0], "containerDefinitions") && strings.HasPrefix(path[1], "[") && strings.EqualFold(path[2], "image")
	}
	return false
}

func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
