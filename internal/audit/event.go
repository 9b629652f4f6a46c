// Package audit records who did what, as one JSON line per event with
// CloudTrail's field names, so tools written for CloudTrail's log format
// (jq filters, SIEM parsers) read berth's audit log unchanged.
//
// Every control-plane call (ECR, IAM, STS, SSM, Secrets Manager, admin,
// console) is recorded, successes and failures alike; on the data plane
// (/v2/) denied and failed calls are, and successful pulls only when the
// operator samples them. Events never carry a secret: request parameters
// pass a deny-list of secret-bearing names (replaced by CloudTrail's own
// marker) and response elements are kept only for calls that change
// something, through the same filter.
package audit

import (
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/uuid"
)

// EventVersion is CloudTrail's record version whose fields Event follows.
const EventVersion = "1.08"

// Event is one audit record. Field names are CloudTrail's.
type Event struct {
	EventVersion       string         `json:"eventVersion"`
	EventTime          time.Time      `json:"eventTime"`
	EventSource        string         `json:"eventSource"` // ecr.amazonaws.com, iam.amazonaws.com, …
	EventName          string         `json:"eventName"`   // the API operation, e.g. PutImage
	AWSRegion          string         `json:"awsRegion"`
	SourceIPAddress    string         `json:"sourceIPAddress"`
	UserAgent          string         `json:"userAgent,omitempty"`
	UserIdentity       UserIdentity   `json:"userIdentity"`
	RequestParameters  map[string]any `json:"requestParameters"`
	ResponseElements   map[string]any `json:"responseElements"`
	ErrorCode          string         `json:"errorCode,omitempty"`
	ErrorMessage       string         `json:"errorMessage,omitempty"`
	RequestID          string         `json:"requestID"`
	EventID            string         `json:"eventID"`
	ReadOnly           bool           `json:"readOnly"`
	EventType          string         `json:"eventType"` // AwsApiCall, AwsConsoleAction, BerthRegistryCall, BerthAdminCall
	RecipientAccountID string         `json:"recipientAccountId,omitempty"`
	// HTTPStatus is berth's addition: CloudTrail has no status, but an
	// operator filtering failures wants it.
	HTTPStatus int `json:"httpStatus,omitempty"`
}

// UserIdentity is CloudTrail's userIdentity element. Type is Root,
// IAMUser, AssumedRole or, for callers that never authenticated, Unknown.
type UserIdentity struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId,omitempty"`
	ARN         string `json:"arn,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	AccessKeyID string `json:"accessKeyId,omitempty"`
	UserName    string `json:"userName,omitempty"`
}

// Event types berth writes.
const (
	TypeAPICall      = "AwsApiCall"
	TypeConsole      = "AwsConsoleAction"
	TypeRegistryCall = "BerthRegistryCall"
	TypeAdminCall    = "BerthAdminCall"
)

// NewEventID returns a random UUID (version 4), CloudTrail's eventID shape.
func NewEventID() string { return uuid.New() }

// IsReadOnly reports whether an operation only reads, by AWS's naming
// conventions (CloudTrail's readOnly flag follows the same split).
func IsReadOnly(op string) bool {
	for _, p := range readOnlyPrefixes {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

var readOnlyPrefixes = []string{"Get", "List", "Describe", "BatchGet", "BatchCheck", "Simulate", "Validate"}
