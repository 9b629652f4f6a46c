package awsapi

import (
	"context"
	"net/http"

	"github.com/berth-dev/berth/internal/audit"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
)

// Auditor receives one event per AWS API call, whatever its outcome.
type Auditor interface {
	Record(ctx context.Context, e audit.Event)
}

// SetAuditor makes every call, including rejected and unauthenticated ones,
// produce one audit event.
func (rt *Router) SetAuditor(a Auditor) { rt.audit = a }

// pendingEvent collects what a call revealed about itself on its way
// through the router; finishEvent turns it into one audit event.
type pendingEvent struct {
	reqID    string
	op       string
	service  string // signing name: ecr, iam, sts, ssm, secretsmanager
	res      *auth.SigV4Result
	jsonBody []byte
	form     protocol.Values
	out      any
	status   int
	code     string
	msg      string
}

func (rt *Router) startEvent(r *http.Request, reqID string) *pendingEvent {
	return &pendingEvent{reqID: reqID, service: signingService(r), status: http.StatusOK}
}

func (e *pendingEvent) fail(status int, code, msg string) {
	e.status, e.code, e.msg = status, code, msg
}

func (rt *Router) finishEvent(r *http.Request, e *pendingEvent) {
	if rt.audit == nil {
		return
	}
	ev := audit.Event{
		EventTime:       rt.now().UTC(),
		EventSource:     eventSource(e.service),
		EventName:       e.op,
		SourceIPAddress: RequestInfo(r, rt.now()).SourceIP,
		UserAgent:       r.UserAgent(),
		ErrorCode:       e.code,
		ErrorMessage:    e.msg,
		RequestID:       e.reqID,
		ReadOnly:        audit.IsReadOnly(e.op),
		EventType:       audit.TypeAPICall,
		HTTPStatus:      e.status,
	}
	var p *auth.Principal
	if e.res != nil {
		p = e.res.Principal
		ev.AWSRegion = e.res.Region
	}
	ev.UserIdentity = audit.Identity(p)
	if p != nil {
		ev.RecipientAccountID = p.Account
	}
	if e.jsonBody != nil {
		ev.RequestParameters = audit.FromJSON(e.jsonBody)
	} else if all := e.form.All(); all != nil {
		ev.RequestParameters = audit.FromForm(all)
	}
	// As CloudTrail: what a read returned is data, not an event; what a
	// change returned (new ARNs, ids) identifies what it changed.
	if e.code == "" && !ev.ReadOnly && e.out != nil {
		if e.jsonBody != nil {
			ev.ResponseElements = audit.FromValue(e.out)
		} else {
			ev.ResponseElements = audit.FromXMLValue(e.out)
		}
	}
	rt.audit.Record(r.Context(), ev)
}

func eventSource(service string) string {
	if service == "" {
		return "unknown"
	}
	return service + ".amazonaws.com"
}
