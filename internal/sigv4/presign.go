package sigv4

import (
	"crypto/sha256"
	"net/url"
	"strconv"
	"time"
)

// Presign returns a GET URL for u signed in the query string (only host is a
// signed header; payload UNSIGNED-PAYLOAD), which Verify accepts until
// now+expires. expires is clamped to AWS's range of 1s to 7 days.
func Presign(u *url.URL, accessKeyID, secret, sessionToken, region, service string, now time.Time, expires time.Duration) string {
	expires = min(max(expires, time.Second), MaxPresignExpiry)
	now = now.UTC()
	amzDate := now.Format(amzDateLayout)
	scope := now.Format(scopeDateLayout) + "/" + region + "/" + service + "/" + terminator

	q := u.Query()
	q.Set(qAlgorithm, algorithm)
	q.Set(qCredential, accessKeyID+"/"+scope)
	q.Set(qDate, amzDate)
	q.Set(qExpires, strconv.FormatInt(int64(expires/time.Second), 10))
	q.Set(qSignedHeaders, "host")
	if sessionToken != "" {
		q.Set(qSecurityToken, sessionToken)
	}
	q.Del(qSignature)
	// Encoding with the canonical encoder makes the sent query its own canonical form.
	canonicalQuery := string(appendCanonicalQuery(nil, q.Encode(), true))

	b := []byte("GET\n")
	b = appendCanonicalURI(b, u.EscapedPath(), service)
	b = append(b, '\n')
	b = append(b, canonicalQuery...)
	b = append(b, "\nhost:"...)
	b = appendTrimmed(b, u.Host)
	b = append(b, "\n\nhost\n"...)
	b = append(b, UnsignedPayload...)

	sts := appendStringToSign(nil, amzDate, scope, sha256.Sum256(b))
	sig := hmacSHA256(deriveKey(secret, scope[:8], region, service), string(sts))

	out := *u
	out.RawQuery = canonicalQuery + "&" + qSignature + "=" + string(appendHex(nil, sig))
	return out.String()
}
