// Package apierr is the one place that decides how an internal failure looks on
// the wire. Domain code returns *Error values carrying a Code; the /v2/ adapter,
// the AWS JSON 1.1 adapter and the AWS Query adapter each render the same Code
// through the table in table.go, so a "repository not found" is NAME_UNKNOWN on
// /v2/ and RepositoryNotFoundException on ECR without any handler choosing.
package apierr

import (
	"errors"
	"fmt"
	"net/http"
)

// Code names a failure independently of the protocol that reports it.
type Code string

// Error is a failure with a Code and a message safe to show to the caller.
type Error struct {
	Code    Code
	Message string
	// Detail is protocol-neutral extra data; /v2/ puts it into the "detail" member.
	Detail any
	cause  error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return string(e.Code) + ": " + e.Message + ": " + e.cause.Error()
	}
	return string(e.Code) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.cause }

// Is makes errors.Is(err, apierr.New(code, "")) match on the code alone.
func (e *Error) Is(target error) bool {
	var t *Error
	if errors.As(target, &t) {
		return t.Code == e.Code
	}
	return false
}

// New builds an *Error; format and args build the caller-visible message.
func New(code Code, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Code: code, Message: msg}
}

// Wrap attaches a cause that is logged but never shown to the caller.
func Wrap(code Code, cause error, format string, args ...any) *Error {
	e := New(code, format, args...)
	e.cause = cause
	return e
}

// WithDetail returns a copy carrying detail.
func (e *Error) WithDetail(d any) *Error {
	c := *e
	c.Detail = d
	return &c
}

// As extracts the *Error in err's chain. Anything else is an internal error
// whose text must not reach the caller.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// HasCode reports whether err carries code.
func HasCode(err error, code Code) bool {
	e, ok := As(err)
	return ok && e.Code == code
}

// OCI renders err for the /v2/ API: HTTP status, OCI error code and message.
// Unknown errors become 500 UNKNOWN with a generic message.
func OCI(err error) (status int, code, message string, detail any) {
	e, ok := As(err)
	if !ok {
		return http.StatusInternalServerError, "UNKNOWN", "internal error", nil
	}
	r := lookup(e.Code)
	if r.oci == "" {
		return http.StatusInternalServerError, "UNKNOWN", e.Message, e.Detail
	}
	return r.ociStatus, r.oci, e.Message, e.Detail
}

// JSON renders err for AWS JSON 1.1 services (ECR, SSM, Secrets Manager).
func JSON(err error) (status int, awsType, message string) {
	e, ok := As(err)
	if !ok {
		return http.StatusInternalServerError, "ServerException", "internal error"
	}
	r := lookup(e.Code)
	if r.json == "" {
		return http.StatusInternalServerError, "ServerException", e.Message
	}
	return r.jsonStatus, r.json, e.Message
}

// Query renders err for AWS Query services (IAM, STS).
func Query(err error) (status int, code, message string) {
	e, ok := As(err)
	if !ok {
		return http.StatusInternalServerError, "ServiceFailure", "internal error"
	}
	r := lookup(e.Code)
	if r.query == "" {
		return http.StatusInternalServerError, "ServiceFailure", e.Message
	}
	return r.queryStatus, r.query, e.Message
}

func lookup(c Code) row {
	for i := range table {
		if table[i].code == c {
			return table[i]
		}
	}
	return row{}
}
