package protocol

import (
	"encoding/xml"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrMalformedQuery marks a Query request whose parameters cannot be decoded.
var ErrMalformedQuery = errors.New("protocol: malformed query parameters")

// Values are the parameters of an AWS Query request (IAM, STS), from a
// form-encoded POST body or the URL query of a GET.
type Values struct{ v url.Values }

// NewValues wraps already-decoded parameters (handy in tests and for STS presigned GETs).
func NewValues(v url.Values) Values { return Values{v: v} }

// ParseQuery decodes the form body (body already read and capped by the
// caller) merged with the URL query; a parameter in both takes the body's value.
func ParseQuery(r *http.Request, body []byte) (Values, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && len(body) > 0 {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return Values{}, fmt.Errorf("%w: content type %q is not application/x-www-form-urlencoded", ErrMalformedQuery, ct)
		}
	}
	out, err := url.ParseQuery(string(body))
	if err != nil {
		return Values{}, fmt.Errorf("%w: %v", ErrMalformedQuery, err)
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return Values{}, fmt.Errorf("%w: %v", ErrMalformedQuery, err)
	}
	for k, vs := range q {
		if _, ok := out[k]; !ok {
			out[k] = vs
		}
	}
	return Values{v: out}, nil
}

// Get returns the first value of key, or "".
func (v Values) Get(key string) string { return v.v.Get(key) }

// All returns every parameter (read-only), e.g. for the audit log.
func (v Values) All() map[string][]string { return v.v }

// Has reports whether key was sent, even with an empty value.
func (v Values) Has(key string) bool { return v.v.Has(key) }

// Bool returns key as a boolean; ok is false when it is absent or not
// true/false (so Has(key) && !ok is a validation error).
func (v Values) Bool(key string) (value, ok bool) {
	switch s := v.v.Get(key); {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// Int returns key as an integer; present is false when key was not sent, and
// err is set when it was sent but is not an integer.
func (v Values) Int(key string) (value int, present bool, err error) {
	if !v.Has(key) {
		return 0, false, nil
	}
	s := v.v.Get(key)
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, true, fmt.Errorf("%w: %s=%q is not an integer", ErrMalformedQuery, key, s)
	}
	return n, true, nil
}

// listIndex parses the N of "prefix.N[.rest]"; only canonical positive
// decimals count, so "01" and "+1" cannot alias member 1.
func listIndex(key, prefix string) (idx int, rest string, ok bool) {
	tail, found := strings.CutPrefix(key, prefix+".")
	if !found {
		return 0, "", false
	}
	num, rest, dotted := strings.Cut(tail, ".")
	if num == "" || (dotted && rest == "") || num[0] == '0' || len(num) > 9 {
		return 0, "", false
	}
	for i := 0; i < len(num); i++ {
		if num[i] < '0' || num[i] > '9' {
			return 0, "", false
		}
	}
	n, _ := strconv.Atoi(num)
	return n, rest, true
}

// List returns the values of prefix.1, prefix.2, … ("PolicyArns.member")
// ordered by numeric index (member.10 after member.9); gaps are skipped.
func (v Values) List(prefix string) []string {
	type item struct {
		idx int
		val string
	}
	var items []item
	for k, vs := range v.v {
		if idx, rest, ok := listIndex(k, prefix); ok && rest == "" && len(vs) > 0 {
			items = append(items, item{idx, vs[0]})
		}
	}
	slices.SortFunc(items, func(a, b item) int { return a.idx - b.idx })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.val
	}
	return out
}

// Structs returns prefix.N.Field parameters ("Tags.member" → [{Key:…,Value:…}])
// as one map per index, ordered by index. Deeper names keep their dots
// ("prefix.1.A.B" → key "A.B").
func (v Values) Structs(prefix string) []map[string]string {
	byIdx := map[int]map[string]string{}
	for k, vs := range v.v {
		idx, rest, ok := listIndex(k, prefix)
		if !ok || rest == "" || len(vs) == 0 {
			continue
		}
		m := byIdx[idx]
		if m == nil {
			m = map[string]string{}
			byIdx[idx] = m
		}
		m[rest] = vs[0]
	}
	idxs := make([]int, 0, len(byIdx))
	for i := range byIdx {
		idxs = append(idxs, i)
	}
	slices.Sort(idxs)
	out := make([]map[string]string, len(idxs))
	for i, idx := range idxs {
		out[i] = byIdx[idx]
	}
	return out
}

// WriteQuery writes <ActionResponse xmlns=ns><ActionResult>result</ActionResult>
// <ResponseMetadata><RequestId>id</RequestId></ResponseMetadata></ActionResponse>.
// result's fields become the children of ActionResult; nil omits the Result
// element, as AWS does for operations without output.
func WriteQuery(w http.ResponseWriter, action, namespace, requestID string, result any) {
	var b strings.Builder
	enc := xml.NewEncoder(&b)
	root := xml.StartElement{Name: xml.Name{Local: action + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: namespace}}}
	err := enc.EncodeToken(root)
	if err == nil && result != nil {
		err = enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}})
	}
	if err == nil {
		err = enc.EncodeElement(responseMetadata{RequestID: requestID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	}
	if err == nil {
		err = enc.EncodeToken(root.End())
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		WriteQueryError(w, namespace, requestID, http.StatusInternalServerError, "ServiceFailure", "The request processing has failed because of an unknown error.")
		return
	}
	writeXML(w, requestID, http.StatusOK, b.String())
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

// WriteQueryError writes the IAM/STS ErrorResponse; Type is Sender for 4xx and Receiver for 5xx.
func WriteQueryError(w http.ResponseWriter, namespace, requestID string, status int, code, message string) {
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	doc := errorResponse{Xmlns: namespace, RequestID: requestID}
	doc.Error.Type, doc.Error.Code, doc.Error.Message = typ, code, message
	b, err := xml.Marshal(doc)
	if err != nil {
		b = nil // unreachable: every field is a string
	}
	writeXML(w, requestID, status, string(b))
}

type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func writeXML(w http.ResponseWriter, requestID string, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Amzn-RequestId", requestID)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// ISOTime is a Query/XML timestamp, written as ISO 8601 UTC seconds
// (2024-05-01T12:00:00Z). A zero ISOTime writes no element at all.
type ISOTime time.Time

// Time returns the underlying time.
func (t ISOTime) Time() time.Time { return time.Time(t) }

// IsZero reports whether the time is unset.
func (t ISOTime) IsZero() bool { return time.Time(t).IsZero() }

const isoLayout = "2006-01-02T15:04:05Z"

// MarshalXML writes the element, or nothing for a zero time.
func (t ISOTime) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if t.IsZero() {
		return nil
	}
	return e.EncodeElement(time.Time(t).UTC().Format(isoLayout), start)
}

// UnmarshalXML accepts RFC 3339 with or without fractional seconds.
func (t *ISOTime) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var s string
	if err := d.DecodeElement(&s, &start); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return err
	}
	*t = ISOTime(v.UTC())
	return nil
}

// Members is a Query list: it writes <Field><member>…</member>…</Field>,
// including an empty <Field></Field>, which the `xml:"Field>member"` tag
// form cannot do.
type Members[T any] []T

// MarshalXML writes each item as a <member> child of start.
func (m Members[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	member := xml.StartElement{Name: xml.Name{Local: "member"}}
	for _, it := range m {
		if err := e.EncodeElement(it, member); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// UnmarshalXML reads <member> children.
func (m *Members[T]) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var wrapper struct {
		Items []T `xml:"member"`
	}
	if err := d.DecodeElement(&wrapper, &start); err != nil {
		return err
	}
	*m = wrapper.Items
	return nil
}
