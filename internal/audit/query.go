package audit

import (
	"strings"
	"time"
)

// Filter selects events for `berth audit`. Zero fields match everything.
type Filter struct {
	Since, Until time.Time
	// Principal matches the caller's ARN exactly, or its user/role name, or
	// its access key id.
	Principal  string
	EventName  string // exact operation name, e.g. PutImage
	Source     string // eventSource, e.g. iam.amazonaws.com, or its first label, iam
	ErrorsOnly bool
}

// Match reports whether e passes f.
func (f Filter) Match(e Event) bool {
	if !f.Since.IsZero() && e.EventTime.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !e.EventTime.Before(f.Until) {
		return false
	}
	if f.EventName != "" && e.EventName != f.EventName {
		return false
	}
	if f.Source != "" && e.EventSource != f.Source && !strings.HasPrefix(e.EventSource, f.Source+".") {
		return false
	}
	if f.ErrorsOnly && e.ErrorCode == "" {
		return false
	}
	if f.Principal != "" {
		u := e.UserIdentity
		if u.ARN != f.Principal && u.AccessKeyID != f.Principal && u.UserName != f.Principal && !strings.HasSuffix(u.ARN, "/"+f.Principal) {
			return false
		}
	}
	return true
}
