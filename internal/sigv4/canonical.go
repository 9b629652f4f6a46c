package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// appendCanonicalRequest writes the §2.2 canonical request: method, URI,
// query, headers, signed header list and payload hash, joined by '\n'.
func appendCanonicalRequest(b []byte, r *http.Request, p *Parsed, payloadHash string) []byte {
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = appendCanonicalURI(b, r.URL.EscapedPath(), p.Service)
	b = append(b, '\n')
	b = appendCanonicalQuery(b, r.URL.RawQuery, p.Presigned)
	b = append(b, '\n')
	for _, name := range p.SignedHeaders {
		b = append(b, name...)
		b = append(b, ':')
		b = appendHeaderValue(b, r, name)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	for i, name := range p.SignedHeaders {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, name...)
	}
	b = append(b, '\n')
	return append(b, payloadHash...)
}

// appendCanonicalURI encodes the already-escaped path once more for every
// service except S3, which signs the path exactly as sent.
func appendCanonicalURI(b []byte, escapedPath, service string) []byte {
	if escapedPath == "" {
		return append(b, '/')
	}
	if service == "s3" {
		return append(b, escapedPath...)
	}
	return appendURIEncode(b, escapedPath, false)
}

const upperHex = "0123456789ABCDEF"

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// appendURIEncode is RFC 3986 encoding as SigV4 wants it: everything but the
// unreserved set becomes %XX; '/' survives only when encodeSlash is false.
func appendURIEncode(b []byte, s string, encodeSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || (c == '/' && !encodeSlash) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', upperHex[c>>4], upperHex[c&15])
	}
	return b
}

type queryPair struct{ k, v string }

// appendCanonicalQuery decodes the raw query the way the Go SDK does ('+' is
// a space) and re-encodes it, sorted by encoded key then value.
func appendCanonicalQuery(b []byte, raw string, presigned bool) []byte {
	if raw == "" {
		return b
	}
	pairs := make([]queryPair, 0, strings.Count(raw, "&")+1)
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = unescapeOrRaw(k), unescapeOrRaw(v)
		if presigned && k == qSignature {
			continue
		}
		pairs = append(pairs, queryPair{
			k: string(appendURIEncode(nil, k, true)),
			v: string(appendURIEncode(nil, v, true)),
		})
	}
	slices.SortFunc(pairs, func(a, c queryPair) int {
		if n := strings.Compare(a.k, c.k); n != 0 {
			return n
		}
		return strings.Compare(a.v, c.v)
	})
	for i, kv := range pairs {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, kv.k...)
		b = append(b, '=')
		b = append(b, kv.v...)
	}
	return b
}

func unescapeOrRaw(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// appendHeaderValue restores headers that net/http moved out of r.Header
// (Host, Content-Length, Transfer-Encoding) and applies SigV4 trimming.
func appendHeaderValue(b []byte, r *http.Request, name string) []byte {
	switch name {
	case "host":
		host := r.Host
		if host == "" {
			host = r.URL.Host
		}
		return appendTrimmed(b, host)
	case "content-length":
		if vs := r.Header["Content-Length"]; len(vs) > 0 {
			return appendValues(b, vs)
		}
		if r.ContentLength >= 0 {
			return strconv.AppendInt(b, r.ContentLength, 10)
		}
		return b
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return appendValues(b, r.TransferEncoding)
		}
	}
	return appendValues(b, r.Header[textproto.CanonicalMIMEHeaderKey(name)])
}

func appendValues(b []byte, vs []string) []byte {
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTrimmed(b, v)
	}
	return b
}

// appendTrimmed trims surrounding whitespace and collapses runs of spaces,
// matching aws-sdk-go-v2 and AWS's "Trimall".
func appendTrimmed(b []byte, v string) []byte {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b = append(b, c)
	}
	return b
}

// appendStringToSign writes §2.3's string to sign for a canonical request hash.
func appendStringToSign(b []byte, amzDate, scope string, canonicalHash [sha256.Size]byte) []byte {
	b = append(b, algorithm...)
	b = append(b, '\n')
	b = append(b, amzDate...)
	b = append(b, '\n')
	b = append(b, scope...)
	b = append(b, '\n')
	return appendHex(b, canonicalHash[:])
}

func appendHex(b, src []byte) []byte {
	const lowerHex = "0123456789abcdef"
	for _, c := range src {
		b = append(b, lowerHex[c>>4], lowerHex[c&15])
	}
	return b
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// deriveKey computes kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
func deriveKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, terminator)
}
