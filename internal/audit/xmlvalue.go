package audit

import (
	"bytes"
	"encoding/xml"
	"strings"
)

// FromXMLValue is FromValue for Query-protocol (IAM, STS) results: v is
// encoded with its XML names, the wire form clients see, and read back as
// a document — lists are the <member> children AWS writes.
func FromXMLValue(v any) map[string]any {
	if v == nil {
		return nil
	}
	b, err := xml.Marshal(struct {
		XMLName xml.Name `xml:"Result"`
		V       any
	}{V: v})
	if err != nil {
		return nil
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	if _, err := d.Token(); err != nil { // <Result>
		return nil
	}
	tok, err := d.Token() // <V> wrapper, or the value's own element name
	start, ok := tok.(xml.StartElement)
	if err != nil || !ok {
		return nil
	}
	m, _ := xmlNode(d, start, 0).(map[string]any)
	if m == nil {
		return nil
	}
	return Redact(lowerCamelKeys(m).(map[string]any))
}

// xmlNode reads the element whose start was just consumed: text for a
// leaf, a list for <member> children, a map otherwise.
func xmlNode(d *xml.Decoder, start xml.StartElement, depth int) any {
	var text strings.Builder
	var kids map[string]any
	var list []any
	for {
		tok, err := d.Token()
		if err != nil {
			return nil
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth > maxDepth*2 {
				_ = d.Skip()
				continue
			}
			child := xmlNode(d, t, depth+1)
			if t.Name.Local == "member" {
				list = append(list, child)
				continue
			}
			if kids == nil {
				kids = map[string]any{}
			}
			kids[t.Name.Local] = child
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			switch {
			case list != nil:
				return list
			case kids != nil:
				return kids
			}
			return text.String()
		}
	}
}
