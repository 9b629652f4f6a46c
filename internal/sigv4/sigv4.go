// Package sigv4 verifies AWS Signature Version 4 requests on the server side
// and presigns URLs that berth hands out to itself. It depends only on the
// standard library so every protocol front end can use it.
package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// Sentinels let internal/apierr map failures to each protocol's exception
// name; the wrapping *Error carries the AWS message text.
var (
	ErrMissingAuth           = errors.New("sigv4: missing authentication")
	ErrIncompleteSignature   = errors.New("sigv4: incomplete signature")
	ErrSignatureMismatch     = errors.New("sigv4: signature does not match")
	ErrRequestExpired        = errors.New("sigv4: request time outside the allowed skew")
	ErrPresignExpired        = errors.New("sigv4: presigned request expired")
	ErrContentSHA256Mismatch = errors.New("sigv4: x-amz-content-sha256 does not match the body")
)

// Message texts as AWS sends them, so clients print familiar errors.
const (
	MsgMissingAuth       = "Missing Authentication Token"
	MsgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	MsgPresignExpired    = "Request has expired"
	MsgContentSHA256     = "The provided 'x-amz-content-sha256' header does not match what was computed."
)

const (
	algorithm       = "AWS4-HMAC-SHA256"
	terminator      = "aws4_request"
	amzDateLayout   = "20060102T150405Z"
	scopeDateLayout = "20060102"
	// UnsignedPayload is the payload hash clients send when they do not hash the body.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// EmptyPayloadHash is the hex SHA-256 of zero bytes.
	EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	// MaxPresignExpiry is AWS's limit on X-Amz-Expires (one week).
	MaxPresignExpiry = 7 * 24 * time.Hour
)

// Error is a verification failure: Error() is the exact AWS message and
// Unwrap returns one of the package sentinels.
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Kind }

func newErr(kind error, msg string) error { return &Error{Kind: kind, Message: msg} }

// Parsed is what Parse extracts from a request; Verify checks it.
type Parsed struct {
	AccessKeyID, Region, Service string
	Date                         time.Time // from X-Amz-Date (or Date header / X-Amz-Date query for presigned)
	Scope                        string    // yyyymmdd/region/service/aws4_request
	SignedHeaders                []string
	Signature                    string
	SecurityToken                string // X-Amz-Security-Token header or query
	Presigned                    bool
	Expires                      time.Duration // presigned only
}

// HashHex returns the lower-case hex SHA-256 of b, the form SigV4 uses for payload hashes.
func HashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
