// Package protocol holds the wire codecs for the AWS JSON 1.1 (ECR, SSM,
// Secrets Manager) and AWS Query (IAM, STS) protocols. It knows envelopes,
// not services: handlers decide what goes inside them.
package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxJSONBody caps JSON 1.1 request bodies; PutImage manifests reach 4 MiB.
const MaxJSONBody = 8 << 20

// ContentTypeJSON11 is the media type of JSON 1.1 requests and responses.
const ContentTypeJSON11 = "application/x-amz-json-1.1"

// ErrSerialization marks a body that is not valid JSON for the input shape
// (AWS: SerializationException); ErrBodyTooLarge marks one over MaxJSONBody.
var (
	ErrSerialization = errors.New("protocol: request body could not be deserialized")
	ErrBodyTooLarge  = errors.New("protocol: request body too large")
)

// ParseTarget splits X-Amz-Target "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"
// into its service prefix and operation name.
func ParseTarget(h string) (prefix, op string, ok bool) {
	prefix, op, found := strings.Cut(strings.TrimSpace(h), ".")
	if !found || prefix == "" || op == "" || strings.ContainsAny(op, ". ") || strings.Contains(prefix, " ") {
		return "", "", false
	}
	return prefix, op, true
}

// DecodeJSON decodes a JSON 1.1 request body into v. An empty body is treated
// as {} and unknown members are ignored, as AWS does. Errors wrap
// ErrSerialization (malformed JSON, wrong member types, trailing data) or
// ErrBodyTooLarge; the message names the offending member when known.
func DecodeJSON(body []byte, v any) error {
	if len(body) > MaxJSONBody {
		return fmt.Errorf("%w: %d bytes exceeds %d", ErrBodyTooLarge, len(body), MaxJSONBody)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fmt.Errorf("%w: %s value can not be converted for member '%s'", ErrSerialization, jsonKind(te.Value), te.Field)
		}
		return fmt.Errorf("%w: %v", ErrSerialization, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: unexpected data after the JSON object", ErrSerialization)
	}
	return nil
}

func jsonKind(v string) string {
	switch v {
	case "string":
		return "STRING_VALUE"
	case "number":
		return "NUMBER_VALUE"
	case "bool":
		return "BOOLEAN_VALUE"
	case "array":
		return "START_ARRAY"
	case "object":
		return "START_OBJECT"
	}
	return strings.ToUpper(v)
}

// WriteJSON writes a 200 JSON 1.1 response. A nil v is sent as {} because
// SDKs expect an object even for operations without output members.
func WriteJSON(w http.ResponseWriter, requestID string, v any) {
	body := []byte("{}")
	if v != nil {
		b, err := marshalJSON(v)
		if err != nil {
			// A response type that cannot marshal is a server bug; say so the AWS way.
			WriteJSONError(w, requestID, http.StatusInternalServerError, "InternalFailure", "The request processing has failed because of an unknown error.")
			return
		}
		body = b
	}
	writeJSONBody(w, requestID, http.StatusOK, body)
}

// WriteJSONError writes {"__type":T,"message":M} with X-Amzn-ErrorType, which
// aws-sdk-go-v2 reads first, and __type, which botocore reads.
func WriteJSONError(w http.ResponseWriter, requestID string, status int, awsType, message string) {
	body, _ := marshalJSON(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{awsType, message})
	w.Header().Set("X-Amzn-ErrorType", awsType)
	writeJSONBody(w, requestID, status, body)
}

func writeJSONBody(w http.ResponseWriter, requestID string, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", ContentTypeJSON11)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Amzn-RequestId", requestID)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// marshalJSON keeps <, > and & literal (policy documents read better) and drops the encoder's newline.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// EpochTime is a JSON 1.1 timestamp: epoch seconds as a JSON number, with
// millisecond fractions (aws-sdk-go-v2 rejects strings). Use it with
// `json:",omitzero"` or as a pointer with omitempty so unset times are left out.
type EpochTime time.Time

// Time returns the underlying time.
func (t EpochTime) Time() time.Time { return time.Time(t) }

// IsZero lets omitzero leave unset timestamps out.
func (t EpochTime) IsZero() bool { return time.Time(t).IsZero() }

// MarshalJSON writes seconds with up to three fractional digits, e.g. 1718000000.123.
func (t EpochTime) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	var b []byte
	if ms < 0 {
		b, ms = append(b, '-'), -ms
	}
	sec, frac := ms/1000, ms%1000
	b = strconv.AppendInt(b, sec, 10)
	if frac != 0 {
		f := strings.TrimRight(fmt.Sprintf("%03d", frac), "0")
		b = append(append(b, '.'), f...)
	}
	return b, nil
}

// UnmarshalJSON accepts a JSON number of epoch seconds; null leaves t unchanged.
func (t *EpochTime) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Errorf("timestamp must be a number of epoch seconds, got %s", s)
	}
	sec, frac := math.Modf(f)
	*t = EpochTime(time.Unix(int64(sec), int64(math.Round(frac*1000))*int64(time.Millisecond)).UTC())
	return nil
}
