package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// edit replaces data[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// source is a file being edited: the original bytes, the byte offset of
// each line, and the edits collected so far (applied at the end, back to
// front, so earlier offsets stay valid).
type source struct {
	name  string
	data  []byte
	lines []int // byte offset of each line's first byte; lines[0] is line 1
	edits []edit
}

func newSource(name string, data []byte) *source {
	s := &source{name: name, data: data, lines: []int{0}}
	for i, c := range data {
		if c == '\n' {
			s.lines = append(s.lines, i+1)
		}
	}
	return s
}

// offset converts yaml.v3's 1-based line and column (counted in
// characters) to a byte offset.
func (s *source) offset(line, col int) (int, bool) {
	if line < 1 || line > len(s.lines) || col < 1 {
		return 0, false
	}
	off := s.lines[line-1]
	for i := 1; i < col; i++ {
		if off >= len(s.data) || s.data[off] == '\n' {
			return 0, false
		}
		_, size := utf8.DecodeRune(s.data[off:])
		off += size
	}
	return off, true
}

// lineText is line n (1-based) without its newline.
func (s *source) lineText(n int) string {
	start := s.lines[n-1]
	end := len(s.data)
	if n < len(s.lines) {
		end = s.lines[n] - 1
	}
	return strings.TrimSuffix(string(s.data[start:end]), "\r")
}

func (s *source) newline() string {
	if bytes.Contains(s.data, []byte("\r\n")) {
		return "\r\n"
	}
	return "\n"
}

var errNotInPlace = errors.New("cannot be rewritten in place")

// replaceScalar swaps the text of scalar n for value, in n's own quoting
// style. Image references need no escaping in any style, which is checked,
// so the old token's extent is exactly its value plus its quotes.
func (s *source) replaceScalar(n *yaml.Node, value string) error {
	var old, repl string
	switch n.Style {
	case 0:
		old, repl = n.Value, value
	case yaml.DoubleQuotedStyle:
		old, repl = `"`+n.Value+`"`, `"`+value+`"`
		if strings.ContainsAny(n.Value, `"\`) {
			return errNotInPlace
		}
	case yaml.SingleQuotedStyle:
		old, repl = `'`+n.Value+`'`, `'`+value+`'`
		if strings.Contains(n.Value, `'`) {
			return errNotInPlace
		}
	default: // literal or folded block scalars: an image never needs one
		return errNotInPlace
	}
	off, ok := s.offset(n.Line, n.Column)
	if !ok || !bytes.HasPrefix(s.data[off:], []byte(old)) {
		return errNotInPlace
	}
	s.edits = append(s.edits, edit{off, off + len(old), repl})
	return nil
}

// insertLines inserts whole lines before line n.
func (s *source) insertLines(n int, lines ...string) {
	off := s.lines[n-1]
	nl := s.newline()
	s.edits = append(s.edits, edit{off, off, strings.Join(lines, nl) + nl})
}

// apply returns data with every edit made.
func (s *source) apply() ([]byte, error) {
	sort.Slice(s.edits, func(i, j int) bool { return s.edits[i].start > s.edits[j].start })
	out := append([]byte(nil), s.data...)
	prev := len(out) + 1
	for _, e := range s.edits {
		if e.end > prev {
			return nil, fmt.Errorf("%s: overlapping edits at byte %d", s.name, e.start)
		}
		out = append(out[:e.start], append([]byte(e.text), out[e.end:]...)...)
		prev = e.start
	}
	return out, nil
}

// imageSite is an image scalar a format walker found, with a description
// of where it is for the report.
type imageSite struct {
	node  *yaml.Node
	field string
}

// podSpec is a Kubernetes pod spec mapping that may receive imagePullSecrets.
type podSpec struct {
	node  *yaml.Node
	field string
}

// walker finds the image scalars (and pod specs) of one YAML document.
type walker func(doc *yaml.Node) ([]imageSite, []podSpec)

func rewriteYAML(name string, data []byte, o Options, walk walker) (*Result, error) {
	src := newSource(name, data)
	res := &Result{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: not valid YAML: %v", name, err)
		}
		sites, specs := walk(&doc)
		seen := map[*yaml.Node]bool{}
		for _, site := range sites {
			// An anchored image used by several services is one scalar.
			if seen[site.node] {
				continue
			}
			seen[site.node] = true
			res.Refs = append(res.Refs, src.rewriteSite(site, o))
		}
		if o.PullSecret != "" {
			for _, ps := range specs {
				added, err := src.addPullSecret(ps, o.PullSecret)
				if err != nil {
					return nil, err
				}
				if added {
					res.PullSecretAdded++
				}
			}
		}
	}
	out, err := src.apply()
	if err != nil {
		return nil, err
	}
	res.Output = out
	return res, nil
}

func (s *source) rewriteSite(site imageSite, o Options) Ref {
	n := site.node
	ref := Ref{File: s.name, Line: n.Line, Field: site.field, From: n.Value, To: n.Value}
	if n.Kind != yaml.ScalarNode || (n.Tag != "" && n.Tag != "!!str") {
		ref.Status, ref.Reason = Skipped, "not a string"
		return ref
	}
	to, st, reason := o.Map(n.Value)
	ref.Status, ref.Reason = st, reason
	if st != Rewritten {
		return ref
	}
	if err := s.replaceScalar(n, to); err != nil {
		ref.Status, ref.Reason = Skipped, fmt.Sprintf("written in a quoting style that %v", err)
		return ref
	}
	ref.To = to
	return ref
}

// addPullSecret adds {name: secret} to the pod spec's imagePullSecrets,
// creating the key when missing. It edits text, so it only handles block
// style (what kubectl, Helm and humans write); flow style is an error rather
// than a silent skip, because the user asked for the secret.
func (s *source) addPullSecret(ps podSpec, secret string) (bool, error) {
	spec := ps.node
	fail := func(why string) (bool, error) {
		return false, fmt.Errorf("%s:%d: %s: cannot add imagePullSecrets: %s", s.name, spec.Line, ps.field, why)
	}
	if spec.Kind != yaml.MappingNode || len(spec.Content) == 0 {
		return fail("not a mapping")
	}
	if spec.Style&yaml.FlowStyle != 0 {
		return fail("written in flow style {…}")
	}
	if ips := mapValue(spec, "imagePullSecrets"); ips != nil {
		if ips.Kind != yaml.SequenceNode {
			return fail("imagePullSecrets is not a list")
		}
		for _, item := range ips.Content {
			if n := mapValue(item, "name"); n != nil && n.Value == secret {
				return false, nil
			}
		}
		if len(ips.Content) == 0 || ips.Style&yaml.FlowStyle != 0 {
			return fail("imagePullSecrets is written in flow style […]")
		}
		first := ips.Content[0]
		line := s.lineText(first.Line)
		dash := strings.LastIndex(line[:min(len(line), first.Column-1)], "-")
		if dash < 0 || strings.TrimSpace(line[:dash]) != "" {
			return fail("unexpected layout of imagePullSecrets")
		}
		s.insertLines(first.Line, line[:dash]+"- name: "+secret)
		return true, nil
	}
	key := spec.Content[0]
	line := s.lineText(key.Line)
	indent := line[:min(len(line), key.Column-1)]
	if strings.TrimSpace(indent) != "" {
		return fail("the pod spec starts on a line shared with other syntax")
	}
	s.insertLines(key.Line, indent+"imagePullSecrets:", indent+"- name: "+secret)
	return true, nil
}

// mapValue returns the value of key in mapping m, or nil. Aliases are
// followed and merge keys (<<: *anchor) consulted, so an image written once
// under an anchor is found, and edited, where it is written.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	return lookup(m, key, 0)
}

func lookup(m *yaml.Node, key string, depth int) *yaml.Node {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode || depth > 8 {
		return nil
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		switch k := m.Content[i]; {
		case k.Value == key && k.Tag != "!!merge":
			return deref(m.Content[i+1])
		case k.Tag == "!!merge":
			merges = append(merges, m.Content[i+1])
		}
	}
	for _, mv := range merges {
		mv = deref(mv)
		if mv != nil && mv.Kind == yaml.SequenceNode {
			for _, e := range mv.Content {
				if v := lookup(e, key, depth+1); v != nil {
					return v
				}
			}
		} else if v := lookup(mv, key, depth+1); v != nil {
			return v
		}
	}
	return nil
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	return n
}

// docRoot unwraps a document node.
func docRoot(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0]
	}
	return doc
}

// kubeImages finds containers' images in every pod-bearing workload kind,
// recursing into List items.
func kubeImages(doc *yaml.Node) ([]imageSite, []podSpec) {
	var sites []imageSite
	var specs []podSpec
	var visit func(obj *yaml.Node, where string)
	visit = func(obj *yaml.Node, where string) {
		kindNode := mapValue(obj, "kind")
		if kindNode == nil {
			return
		}
		kind := kindNode.Value
		label := kind
		if md := mapValue(obj, "metadata"); md != nil {
			if n := mapValue(md, "name"); n != nil {
				label += "/" + n.Value
			}
		}
		if where != "" {
			label = where + " " + label
		}
		var path []string
		switch kind {
		case "List", "PodList", "DeploymentList", "StatefulSetList", "DaemonSetList", "ReplicaSetList", "JobList", "CronJobList":
			if items := mapValue(obj, "items"); items != nil && items.Kind == yaml.SequenceNode {
				for i, it := range items.Content {
					visit(it, fmt.Sprintf("%s items[%d]", label, i))
				}
			}
			return
		case "Pod":
			path = []string{"spec"}
		case "PodTemplate":
			path = []string{"template", "spec"}
		case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController":
			path = []string{"spec", "template", "spec"}
		case "CronJob":
			path = []string{"spec", "jobTemplate", "spec", "template", "spec"}
		default:
			return
		}
		spec := obj
		for _, k := range path {
			if spec = mapValue(spec, k); spec == nil {
				return
			}
		}
		field := strings.Join(path, ".")
		specs = append(specs, podSpec{spec, label + ": " + field})
		for _, list := range []string{"initContainers", "containers", "ephemeralContainers"} {
			cs := mapValue(spec, list)
			if cs == nil || cs.Kind != yaml.SequenceNode {
				continue
			}
			for i, c := range cs.Content {
				if img := mapValue(c, "image"); img != nil {
					sites = append(sites, imageSite{img, fmt.Sprintf("%s: %s.%s[%d].image", label, field, list, i)})
				}
			}
		}
	}
	visit(docRoot(doc), "")
	return sites, specs
}

// composeImages finds services.*.image.
func composeImages(doc *yaml.Node) ([]imageSite, []podSpec) {
	services := mapValue(docRoot(doc), "services")
	if services == nil || services.Kind != yaml.MappingNode {
		return nil, nil
	}
	var sites []imageSite
	for i := 0; i+1 < len(services.Content); i += 2 {
		if img := mapValue(services.Content[i+1], "image"); img != nil {
			sites = append(sites, imageSite{img, "services." + services.Content[i].Value + ".image"})
		}
	}
	return sites, nil
}

// looksLikeCompose: a single document with a services mapping and no kind.
func looksLikeCompose(data []byte) bool {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return false
	}
	root := docRoot(&doc)
	return mapValue(root, "kind") == nil && mapValue(root, "services") != nil
}
