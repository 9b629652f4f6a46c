package iamapi

import (
	"github.com/berth-dev/berth/internal/awsapi/protocol"

	"net/url"
	"strings"
	"testing"
)

// pctDecode is Python's urllib.parse.unquote for ASCII-safe input: '%XX'
// only, '+' stays '+'. botocore decodes policy documents with it.
func pctDecode(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		v, err := url.PathUnescape(s[i : i+3])
		if err != nil {
			return "", false
		}
		b.WriteString(v)
		i += 2
	}
	return b.String(), true
}

func TestEncodeDocument(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a": "b+c"}`, "%7B%22a%22%3A%20%22b%2Bc%22%7D"},
		{"arn:aws:s3:::x/*", "arn%3Aaws%3As3%3A%3A%3Ax%2F%2A"},
		{"a-b_c.d~e", "a-b_c.d~e"},
		{"é", "%C3%A9"},
	}
	for _, tt := range tests {
		if got := encodeDocument(tt.in); got != tt.want {
			t.Errorf("encodeDocument(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzEncodeDocument: both decoders clients use (Go's QueryUnescape, which
// maps '+' to ' ', and Python's unquote, which does not) give back the
// document exactly, and the encoding is pure ASCII without XML specials.
func FuzzEncodeDocument(f *testing.F) {
	for _, s := range []string{"", `{"Version":"2012-10-17"}`, "a b+c%20d", "\n\t\x00", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		enc := encodeDocument(doc)
		if strings.ContainsAny(enc, "<>&\"' +") {
			t.Fatalf("encoding %q keeps a special character", enc)
		}
		if dec, err := url.QueryUnescape(enc); err != nil || dec != doc {
			t.Fatalf("QueryUnescape(%q) = %q, %v; want %q", enc, dec, err, doc)
		}
		if dec, ok := pctDecode(enc); !ok || dec != doc {
			t.Fatalf("unquote(%q) = %q; want %q", enc, dec, doc)
		}
	})
}

// FuzzMarker: a marker berth issued decodes to its key; anything else is
// either rejected or decodes to a key that was really encoded in it.
func FuzzMarker(f *testing.F) {
	f.Add("alice", "")
	f.Add("", "YmVydGgxOmJvYg")
	f.Add("x", "not base64!")
	f.Fuzz(func(t *testing.T, key, foreign string) {
		if key != "" {
			p, err := pageParams(valuesOf("Marker", encodeMarker(key)))
			if err != nil || p.marker != key {
				t.Fatalf("round trip of %q: %q, %v", key, p.marker, err)
			}
		}
		p, err := pageParams(valuesOf("Marker", foreign))
		if err == nil && foreign != "" && encodeMarker(p.marker) != foreign {
			t.Fatalf("foreign marker %q accepted as %q", foreign, p.marker)
		}
	})
}

func valuesOf(kv ...string) protocol.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return protocol.NewValues(v)
}
