package ocireg

import (
	"context"
	"math/rand/v2"
	"net/http"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/audit"
	"github.com/berth-dev/berth/internal/httpx"
)

// Auditor receives one event per audited registry call.
type Auditor interface {
	Record(ctx context.Context, e audit.Event)
}

// eventName maps a route and method to the ECR operation CloudTrail names
// for the same registry call, so one query finds a pull whether it came
// through /v2/ or the ECR API.
func eventName(rt route, method string) string {
	get := method == http.MethodGet || method == http.MethodHead
	switch rt.kind {
	case routeBase:
		return "Ping"
	case routeCatalog:
		return "ListRepositories"
	case routeTags:
		return "ListImages"
	case routeReferrers:
		return "ListReferrers"
	case routeManifest:
		switch {
		case get:
			return "BatchGetImage"
		case method == http.MethodDelete:
			return "BatchDeleteImage"
		}
		return "PutImage"
	case routeBlob:
		switch {
		case method == http.MethodHead:
			return "BatchCheckLayerAvailability"
		case method == http.MethodDelete:
			return "DeleteLayer"
		}
		return "GetDownloadUrlForLayer"
	case routeUploadStart:
		return "InitiateLayerUpload"
	case routeUpload:
		switch method {
		case http.MethodPatch:
			return "UploadLayerPart"
		case http.MethodPut:
			return "CompleteLayerUpload"
		case http.MethodDelete:
			return "AbortLayerUpload"
		}
		return "GetLayerUploadStatus"
	}
	return "RegistryCall"
}

// audit records denied and failed calls, and successful pulls when the
// operator samples them. A 401 without credentials is the normal first step
// of every docker login and pull, not an event.
func (c *call) audit(err error) {
	if c.h.audit == nil {
		return
	}
	var status int
	var code, msg string
	if err != nil {
		status, code, msg, _ = apierr.OCI(err)
		if status == http.StatusUnauthorized && c.r.Header.Get("Authorization") == "" {
			return
		}
		if status >= 500 {
			msg = "internal error"
		}
	} else {
		if c.h.auditPulls <= 0 || c.rt.kind != routeManifest || c.r.Method != http.MethodGet || rand.Float64() >= c.h.auditPulls {
			return
		}
		status = http.StatusOK
	}
	name := eventName(c.rt, c.r.Method)
	params := map[string]any{"method": c.r.Method, "path": c.r.URL.Path}
	if c.rt.name != "" {
		params["repositoryName"] = c.rt.name
	}
	if c.rt.ref != "" {
		params["reference"] = c.rt.ref
	}
	cl := httpx.Client(c.r)
	c.h.audit.Record(c.ctx, audit.Event{
		EventTime:          c.h.now().UTC(),
		EventSource:        "ecr.amazonaws.com",
		EventName:          name,
		AWSRegion:          c.reg.Region,
		SourceIPAddress:    cl.SourceIP,
		UserAgent:          c.r.UserAgent(),
		UserIdentity:       audit.Identity(c.p),
		RequestParameters:  audit.Redact(params),
		ErrorCode:          code,
		ErrorMessage:       msg,
		RequestID:          c.info.RequestID,
		ReadOnly:           c.r.Method == http.MethodGet || c.r.Method == http.MethodHead,
		EventType:          audit.TypeRegistryCall,
		RecipientAccountID: c.reg.Account,
		HTTPStatus:         status,
	})
}
