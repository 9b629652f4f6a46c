package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/audit"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/httpx"
	"github.com/berth-dev/berth/internal/iamsvc"
)

// AdminPathPrefix is where operator-only calls live. They are SigV4-signed
// (service name AdminSigningName) with the root credentials of the default
// account, the operator's; nobody else may call them.
const (
	AdminPathPrefix  = "/_berth/admin/"
	AdminSigningName = "berth"
	maxAdminBody     = 64 << 10
)

// CreateAccountRequest / CreateAccountResponse are the JSON bodies of
// POST /_berth/admin/CreateAccount.
type CreateAccountRequest struct {
	AccountId string
}

type CreateAccountResponse struct {
	AccountId       string
	AccessKeyId     string
	SecretAccessKey string
}

type adminHandler struct {
	authn    *auth.Authenticator
	ids      *iamsvc.Service
	operator string // default account
	region   string
	audit    interface {
		Record(ctx context.Context, e audit.Event)
	}
}

func (h *adminHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.URL.Path, AdminPathPrefix)
	var caller *auth.Principal
	var params []byte
	out, err := h.handle(r, op, &caller, &params)
	status, code, msg := http.StatusOK, "", ""
	if err != nil {
		status, code, msg = writeAdminError(w, err)
	} else {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	}
	if h.audit == nil {
		return
	}
	ev := audit.Event{
		EventTime: time.Now().UTC(), EventSource: "berth.admin", EventName: op, AWSRegion: h.region,
		SourceIPAddress: httpx.Client(r).SourceIP, UserAgent: r.UserAgent(), UserIdentity: audit.Identity(caller),
		RequestParameters: audit.FromJSON(params), ErrorCode: code, ErrorMessage: msg,
		RequestID: httpx.RequestID(r.Context()), EventType: audit.TypeAdminCall, HTTPStatus: status,
		RecipientAccountID: h.operator,
	}
	if err == nil {
		ev.ResponseElements = audit.FromValue(out)
	}
	h.audit.Record(r.Context(), ev)
}

// handle authenticates the operator and runs op; caller and body are
// reported back for the audit event even when the call fails.
func (h *adminHandler) handle(r *http.Request, op string, caller **auth.Principal, params *[]byte) (any, error) {
	if r.Method != http.MethodPost {
		return nil, apierr.New(apierr.MethodNotAllowed, "admin calls are POST")
	}
	// Nothing of the body is read for callers that are not even signed with a known key.
	if err := h.authn.PrecheckSigV4(r); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody+1))
	if err != nil {
		return nil, apierr.Wrap(apierr.InvalidParameter, err, "could not read the request body")
	}
	if len(body) > maxAdminBody {
		return nil, apierr.New(apierr.PayloadTooLarge, "request body too large")
	}
	res, err := h.authn.VerifySigV4(r.Context(), r, body)
	if err != nil {
		return nil, err
	}
	*caller, *params = res.Principal, body
	if err := res.Parsed.CheckService(AdminSigningName); err != nil {
		return nil, apierr.New(apierr.SignatureMismatch, "%s", err.Error())
	}
	// A presigned URL is a bearer capability that travels through logs,
	// shells and Referer headers; operator calls must be signed in the
	// Authorization header by whoever holds the key.
	if res.Parsed.Presigned {
		return nil, apierr.New(apierr.AccessDenied, "admin calls must be signed in the Authorization header; presigned URLs are not accepted")
	}
	p := res.Principal
	if p.Type != auth.Root || p.Account != h.operator || p.SessionID != "" {
		return nil, apierr.New(apierr.AccessDenied, "User: %s is not authorized to perform: berth:%s: only the operator (root user of account %s) may", p.ARN, op, h.operator)
	}
	switch op {
	case "CreateAccount":
		var in CreateAccountRequest
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, apierr.New(apierr.SerializationException, "body must be JSON {\"AccountId\":\"<12 digits>\"}")
		}
		acct, err := h.ids.CreateAccount(r.Context(), in.AccountId)
		if err != nil {
			return nil, err
		}
		key, err := h.ids.CreateAccessKey(r.Context(), acct.ID, "")
		if err != nil {
			return nil, err
		}
		return CreateAccountResponse{AccountId: acct.ID, AccessKeyId: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey}, nil
	}
	return nil, apierr.New(apierr.InvalidAction, "unknown admin operation %q", op)
}

func writeAdminError(w http.ResponseWriter, err error) (status int, typ, msg string) {
	status, typ, msg = apierr.JSON(err)
	if e, ok := apierr.As(err); ok {
		// IAM-only codes have no JSON name; use the short code as the type.
		if typ == "ServerException" && e.Code != apierr.Internal {
			status, typ = http.StatusBadRequest, string(e.Code)
			if errors.Is(err, apierr.New(apierr.EntityAlreadyExists, "")) {
				status = http.StatusConflict
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
	return status, typ, msg
}
