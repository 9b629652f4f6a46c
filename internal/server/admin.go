package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/auth"
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
}

func (h *adminHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeAdminError(w, apierr.New(apierr.MethodNotAllowed, "admin calls are POST"))
		return
	}
	// Nothing of the body is read for callers that are not even signed with a known key.
	if err := h.authn.PrecheckSigV4(r); err != nil {
		writeAdminError(w, err)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody+1))
	if err != nil {
		writeAdminError(w, apierr.Wrap(apierr.InvalidParameter, err, "could not read the request body"))
		return
	}
	if len(body) > maxAdminBody {
		writeAdminError(w, apierr.New(apierr.PayloadTooLarge, "request body too large"))
		return
	}
	res, err := h.authn.VerifySigV4(r.Context(), r, body)
	if err != nil {
		writeAdminError(w, err)
		return
	}
	if err := res.Parsed.CheckService(AdminSigningName); err != nil {
		writeAdminError(w, apierr.New(apierr.SignatureMismatch, "%s", err.Error()))
		return
	}
	// A presigned URL is a bearer capability that travels through logs,
	// shells and Referer headers; operator calls must be signed in the
	// Authorization header by whoever holds the key.
	if res.Parsed.Presigned {
		writeAdminError(w, apierr.New(apierr.AccessDenied, "admin calls must be signed in the Authorization header; presigned URLs are not accepted"))
		return
	}
	p := res.Principal
	op := strings.TrimPrefix(r.URL.Path, AdminPathPrefix)
	if p.Type != auth.Root || p.Account != h.operator || p.SessionID != "" {
		writeAdminError(w, apierr.New(apierr.AccessDenied, "User: %s is not authorized to perform: berth:%s: only the operator (root user of account %s) may", p.ARN, op, h.operator))
		return
	}
	switch op {
	case "CreateAccount":
		var in CreateAccountRequest
		if err := json.Unmarshal(body, &in); err != nil {
			writeAdminError(w, apierr.New(apierr.SerializationException, "body must be JSON {\"AccountId\":\"<12 digits>\"}"))
			return
		}
		acct, err := h.ids.CreateAccount(r.Context(), in.AccountId)
		if err != nil {
			writeAdminError(w, err)
			return
		}
		key, err := h.ids.CreateAccessKey(r.Context(), acct.ID, "")
		if err != nil {
			writeAdminError(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(CreateAccountResponse{AccountId: acct.ID, AccessKeyId: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey})
	default:
		writeAdminError(w, apierr.New(apierr.InvalidAction, "unknown admin operation %q", op))
	}
}

func writeAdminError(w http.ResponseWriter, err error) {
	status, typ, msg := apierr.JSON(err)
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
}
