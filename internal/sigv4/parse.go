package sigv4

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	hdrAuthorization = "Authorization"
	hdrAmzDate       = "X-Amz-Date"
	hdrDate          = "Date"
	hdrSecurityToken = "X-Amz-Security-Token"
	hdrContentSHA256 = "X-Amz-Content-Sha256"

	qAlgorithm     = "X-Amz-Algorithm"
	qCredential    = "X-Amz-Credential"
	qDate          = "X-Amz-Date"
	qExpires       = "X-Amz-Expires"
	qSignedHeaders = "X-Amz-SignedHeaders"
	qSignature     = "X-Amz-Signature"
	qSecurityToken = "X-Amz-Security-Token"
)

// Parse reads SigV4 parameters from the Authorization header (parts separated
// by ", " or ",") or, when that header is absent, from presigned query
// parameters. It checks syntax only; Verify checks time and signature.
func Parse(r *http.Request) (*Parsed, error) {
	if auth := r.Header.Get(hdrAuthorization); auth != "" {
		p, err := parseAuthorization(auth)
		if err != nil {
			return nil, err
		}
		if p.Date, err = headerDate(r.Header); err != nil {
			return nil, err
		}
		p.SecurityToken = r.Header.Get(hdrSecurityToken)
		return p, nil
	}
	if strings.Contains(r.URL.RawQuery, "X-Amz-") {
		q := r.URL.Query()
		if q.Has(qAlgorithm) || q.Has(qCredential) || q.Has(qSignature) {
			return parsePresigned(q)
		}
	}
	return nil, newErr(ErrMissingAuth, MsgMissingAuth)
}

func parseAuthorization(h string) (*Parsed, error) {
	h = strings.TrimSpace(h)
	rest, ok := strings.CutPrefix(h, algorithm)
	if !ok || (rest != "" && rest[0] != ' ') {
		scheme, _, _ := strings.Cut(h, " ")
		return nil, newErr(ErrIncompleteSignature, fmt.Sprintf("Unsupported AWS 'algorithm': '%s'", scheme))
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, found := strings.Cut(part, "=")
		if !found {
			return nil, newErr(ErrIncompleteSignature, fmt.Sprintf("Authorization header requires each component to be of the form key=value, got '%s'.", k))
		}
		var dst *string
		var seen *bool
		switch k {
		case "Credential":
			dst, seen = &cred, &haveCred
		case "SignedHeaders":
			dst, seen = &signed, &haveSigned
		case "Signature":
			dst, seen = &sig, &haveSig
		default:
			return nil, newErr(ErrIncompleteSignature, fmt.Sprintf("Authorization header has an unexpected component '%s'.", k))
		}
		if *seen {
			return nil, newErr(ErrIncompleteSignature, fmt.Sprintf("Authorization header has a duplicate '%s' component.", k))
		}
		*dst, *seen = v, true
	}
	var missing []string
	if !haveCred {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !haveSig {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !haveSigned {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if len(missing) > 0 {
		return nil, newErr(ErrIncompleteSignature, strings.Join(missing, " "))
	}
	p := &Parsed{}
	if err := p.setCredential(cred); err != nil {
		return nil, err
	}
	if err := p.setSignedHeaders(signed); err != nil {
		return nil, err
	}
	if err := p.setSignature(sig); err != nil {
		return nil, err
	}
	return p, nil
}

func parsePresigned(q map[string][]string) (*Parsed, error) {
	get := func(k string) (string, bool) {
		v, ok := q[k]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[0], true
	}
	alg, ok1 := get(qAlgorithm)
	cred, ok2 := get(qCredential)
	sig, ok3 := get(qSignature)
	date, ok4 := get(qDate)
	signed, ok5 := get(qSignedHeaders)
	exp, ok6 := get(qExpires)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return nil, newErr(ErrIncompleteSignature, "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', and 'X-Amz-Expires'. Re-examine the query-string parameters.")
	}
	if alg != algorithm {
		return nil, newErr(ErrIncompleteSignature, "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
	}
	p := &Parsed{Presigned: true}
	if err := p.setCredential(cred); err != nil {
		return nil, err
	}
	if err := p.setSignedHeaders(signed); err != nil {
		return nil, err
	}
	if err := p.setSignature(sig); err != nil {
		return nil, err
	}
	var err error
	if p.Date, err = parseAmzDate(date); err != nil {
		return nil, err
	}
	secs, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return nil, newErr(ErrIncompleteSignature, "X-Amz-Expires should be a number")
	}
	if secs < 0 {
		return nil, newErr(ErrIncompleteSignature, "X-Amz-Expires must be non-negative")
	}
	if secs > int64(MaxPresignExpiry/time.Second) {
		return nil, newErr(ErrIncompleteSignature, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	p.Expires = time.Duration(secs) * time.Second
	p.SecurityToken, _ = get(qSecurityToken)
	return p, nil
}

// setCredential parses <akid>/<yyyymmdd>/<region>/<service>/aws4_request.
func (p *Parsed) setCredential(c string) error {
	parts := strings.Split(c, "/")
	if len(parts) != 5 {
		return newErr(ErrIncompleteSignature, fmt.Sprintf("Credential should be of the form <access key>/<yyyymmdd>/<region>/<service>/aws4_request, not '%s'.", c))
	}
	akid, date, region, service, term := parts[0], parts[1], parts[2], parts[3], parts[4]
	if akid == "" {
		return newErr(ErrIncompleteSignature, "Credential should contain an access key ID.")
	}
	if t, err := time.Parse(scopeDateLayout, date); err != nil || t.Format(scopeDateLayout) != date {
		return newErr(ErrIncompleteSignature, fmt.Sprintf("Credential should be scoped to a valid date in yyyymmdd format, not '%s'.", date))
	}
	if region == "" {
		return newErr(ErrIncompleteSignature, "Credential should be scoped to a valid region, not ''.")
	}
	if service == "" {
		return newErr(ErrIncompleteSignature, "Credential should be scoped to a valid service, not ''.")
	}
	if term != terminator {
		return newErr(ErrIncompleteSignature, fmt.Sprintf("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", term))
	}
	p.AccessKeyID, p.Region, p.Service = akid, region, service
	p.Scope = c[len(akid)+1:]
	return nil
}

func (p *Parsed) setSignedHeaders(s string) error {
	if s == "" {
		return newErr(ErrIncompleteSignature, "Authorization header requires 'SignedHeaders' parameter.")
	}
	names := strings.Split(s, ";")
	hasHost := false
	for _, n := range names {
		if n == "" || n != strings.ToLower(n) || strings.ContainsAny(n, " \t:") {
			return newErr(ErrIncompleteSignature, fmt.Sprintf("SignedHeaders must be lower-case header names separated by ';', not '%s'.", s))
		}
		hasHost = hasHost || n == "host"
	}
	if !hasHost {
		return newErr(ErrIncompleteSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	p.SignedHeaders = names
	return nil
}

func (p *Parsed) setSignature(s string) error {
	if len(s) != 64 || !isLowerHex(s) {
		return newErr(ErrIncompleteSignature, "Signature must be 64 lower-case hexadecimal characters.")
	}
	p.Signature = s
	return nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func headerDate(h http.Header) (time.Time, error) {
	if v := h.Get(hdrAmzDate); v != "" {
		return parseAmzDate(v)
	}
	if v := h.Get(hdrDate); v != "" {
		t, err := http.ParseTime(v)
		if err != nil {
			return time.Time{}, newErr(ErrIncompleteSignature, fmt.Sprintf("Date must be in RFC 1123 format. Got '%s'.", v))
		}
		return t.UTC(), nil
	}
	return time.Time{}, newErr(ErrIncompleteSignature, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
}

func parseAmzDate(v string) (time.Time, error) {
	t, err := time.Parse(amzDateLayout, v)
	// time.Parse accepts one-digit hours; only the exact form round-trips into the string to sign.
	if err != nil || t.Format(amzDateLayout) != v {
		return time.Time{}, newErr(ErrIncompleteSignature, fmt.Sprintf("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", v))
	}
	return t, nil
}

// CheckService reports, with AWS's message, whether the credential scope
// names the service the endpoint serves.
func (p *Parsed) CheckService(want string) error {
	if p.Service != want {
		return newErr(ErrSignatureMismatch, fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", want))
	}
	return nil
}
