package audit

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Hidden replaces a secret value; it is the marker CloudTrail itself uses.
const Hidden = "HIDDEN_DUE_TO_SECURITY_REASONS"

// Bounds that keep one event a readable line: a 4 MiB manifest or a 10 000
// entry batch does not belong in an audit record.
const (
	maxString = 2048
	maxList   = 50
	maxDepth  = 6
)

// secretNames are parameter and response element names (compared without
// case) whose values are credentials or protected payloads in the APIs berth
// serves. A name is matched at any depth.
var secretNames = map[string]bool{
	"password": true, "oldpassword": true, "newpassword": true,
	"secretaccesskey": true, "sessiontoken": true, "authorizationtoken": true,
	"secretstring": true, "secretbinary": true, "privatekey": true,
	"token": true, "tokencode": true, "samlassertion": true, "webidentitytoken": true,
	"credentials":  true, // STS: AccessKeyId/SecretAccessKey/SessionToken together
	"clientsecret": true, "accesstoken": true,
}

// droppedNames carry bulk bytes, not information about the call.
var droppedNames = map[string]bool{"layerpartblob": true}

// topLevelSecrets are secret only at the top of a request: SSM's
// PutParameter Value (a tag's Value, deeper down, is not).
var topLevelSecrets = map[string]bool{"value": true}

// Redact returns a copy of a decoded JSON document (maps, slices, strings,
// numbers, bools) fit for the audit log: secret-named values replaced by
// Hidden, bulk values dropped, long strings and lists truncated.
func Redact(v map[string]any) map[string]any {
	if v == nil {
		return nil
	}
	out, _ := redact(v, 0).(map[string]any)
	return out
}

func redact(v any, depth int) any {
	switch t := v.(type) {
	case map[string]any:
		if depth >= maxDepth {
			return "…"
		}
		out := make(map[string]any, len(t))
		for k, x := range t {
			lk := strings.ToLower(k)
			switch {
			case droppedNames[lk]:
				continue
			case secretNames[lk], depth == 0 && topLevelSecrets[lk]:
				out[k] = Hidden
			default:
				out[k] = redact(x, depth+1)
			}
		}
		return out
	case []any:
		n := min(len(t), maxList)
		out := make([]any, 0, n+1)
		for _, x := range t[:n] {
			out = append(out, redact(x, depth+1))
		}
		if len(t) > n {
			out = append(out, "…")
		}
		return out
	case string:
		return truncate(t)
	}
	return v
}

func truncate(s string) string {
	if len(s) <= maxString {
		return s
	}
	cut := maxString
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// FromJSON decodes a JSON object body into redacted parameters; a body that
// is not an object yields nil (the call's own error says why).
func FromJSON(body []byte) map[string]any {
	if len(body) == 0 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	return Redact(lowerCamelKeys(m).(map[string]any))
}

// FromValue encodes a response value and decodes it again as a document so
// it passes the same filter as requests. Keys are lower-camel-cased, as
// CloudTrail writes them, so Query (XML) and JSON responses look alike.
func FromValue(v any) map[string]any {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return Redact(lowerCamelKeys(m).(map[string]any))
}

// FromForm turns Query-protocol parameters (Action=…&UserName=…&Tags.member.1.Key=…)
// into requestParameters with lower-camel names; Action and Version are the
// event's name and not parameters.
func FromForm(form map[string][]string) map[string]any {
	if len(form) == 0 {
		return nil
	}
	m := make(map[string]any, len(form))
	for k, vs := range form {
		if k == "Action" || k == "Version" || strings.HasPrefix(k, "X-Amz-") || len(vs) == 0 {
			continue
		}
		m[lowerFirst(k)] = vs[0]
	}
	return Redact(m)
}

func lowerCamelKeys(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[lowerFirst(k)] = lowerCamelKeys(x)
		}
		return out
	case []any:
		for i, x := range t {
			t[i] = lowerCamelKeys(x)
		}
		return t
	}
	return v
}

// lowerFirst lower-cases a leading run of capitals the way CloudTrail
// does: UserName → userName, ARN → arn, KMSKeyId → kmsKeyId (the last
// capital of a run starts the next word).
func lowerFirst(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	b := []byte(s)
	i := 0
	for i < len(b) && b[i] >= 'A' && b[i] <= 'Z' {
		i++
	}
	if i > 1 && i < len(b) && b[i] >= 'a' && b[i] <= 'z' {
		i-- // KMSKeyId → kmsKeyId
	}
	for j := 0; j < i; j++ {
		b[j] += 'a' - 'A'
	}
	return string(b)
}
