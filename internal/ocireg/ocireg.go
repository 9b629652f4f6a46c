// Package ocireg is the OCI distribution API (/v2/) over images.Service:
// a hand-written router, authentication and per-route authorization in one
// place, the spec's headers, Range, and resumable upload sessions. Every
// handler returns an error; ServeHTTP is the only place that renders one
// (through apierr.OCI) so no handler picks a status code for a failure.
package ocireg

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/httpx"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/storage"
)

// Authenticator turns registry Basic credentials into a principal: root or
// IAM access keys, ECR authorization tokens (user "AWS"), STS credentials.
// reg is the registry the request addresses (host routing), so tokens can
// be bound to a region. Errors should be apierr values: InvalidCredentials
// (401) or ExpiredToken (403); anything else is a 500.
type Authenticator interface {
	AuthenticateBasic(ctx context.Context, user, password string, reg ecrhost.Registry) (*auth.Principal, error)
}

// Authorizer decides whether p may perform action (an ECR IAM action) on
// repository k. nil means allowed; otherwise an apierr error, normally
// AccessDenied carrying AWS's explanation, which becomes 403 DENIED.
type Authorizer interface {
	AuthorizeRepo(ctx context.Context, p *auth.Principal, action string, k storage.RepoKey, info auth.RequestInfo) error
	// InvalidateRepository drops what is cached about k: a push that
	// creates k may give it a policy and tags (creation templates) after
	// the create check cached k as absent.
	InvalidateRepository(k storage.RepoKey)
}

// ECR actions the registry API maps its routes to (see the route table in
// dispatch and aws-api.md §5.2).
const (
	ActionBatchGetImage               = "ecr:BatchGetImage"
	ActionGetDownloadURLForLayer      = "ecr:GetDownloadUrlForLayer"
	ActionBatchCheckLayerAvailability = "ecr:BatchCheckLayerAvailability"
	ActionInitiateLayerUpload         = "ecr:InitiateLayerUpload"
	ActionUploadLayerPart             = "ecr:UploadLayerPart"
	ActionCompleteLayerUpload         = "ecr:CompleteLayerUpload"
	ActionPutImage                    = "ecr:PutImage"
	ActionBatchDeleteImage            = "ecr:BatchDeleteImage"
	ActionListImages                  = "ecr:ListImages"
	ActionDescribeRepositories        = "ecr:DescribeRepositories"
	ActionCreateRepository            = "ecr:CreateRepository"
)

// Deps are the collaborators of Handler.
type Deps struct {
	Images        *images.Service
	Authenticator Authenticator
	Authorizer    Authorizer
	// Default is the registry for hosts that are not ACCOUNT.dkr.ecr.REGION.*.
	Default ecrhost.Registry
	// Now is the clock for authorization context (aws:CurrentTime); default time.Now.
	Now func() time.Time
	// Audit, when set, receives denied and failed calls, and successful
	// manifest pulls at the AuditPulls sampling rate (0..1).
	Audit      Auditor
	AuditPulls float64
	// PullThrough serves repositories covered by pull-through cache rules (optional).
	PullThrough PullThrough
}

// Handler serves /v2/.
type Handler struct {
	img   *images.Service
	authn Authenticator
	authz Authorizer
	def   ecrhost.Registry
	now   func() time.Time

	audit      Auditor
	auditPulls float64
	ptc        PullThrough
}

// New builds a Handler.
func New(d Deps) (*Handler, error) {
	if d.Images == nil || d.Authenticator == nil || d.Authorizer == nil {
		return nil, errors.New("ocireg: images, authenticator and authorizer are required")
	}
	if !ecrhost.IsAccountID(d.Default.Account) || d.Default.Region == "" {
		return nil, errors.New("ocireg: default registry needs a 12-digit account and a region")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Handler{img: d.Images, authn: d.Authenticator, authz: d.Authorizer, def: d.Default, now: d.Now,
		audit: d.Audit, auditPulls: d.AuditPulls, ptc: d.PullThrough}, nil
}

// Header values shared by every response; slices assigned directly into the
// header map are never mutated by net/http, so sharing them saves an
// allocation per request.
var (
	hvAPIVersion = []string{"registry/2.0"}
	hvJSON       = []string{"application/json"}
	hvOctet      = []string{"application/octet-stream"}
	hvZero       = []string{"0"}
	hvBytes      = []string{"bytes"}
)

// call is one request's state, passed to route handlers.
type call struct {
	h    *Handler
	w    http.ResponseWriter
	r    *http.Request
	ctx  context.Context
	p    *auth.Principal
	reg  ecrhost.Registry
	rt   route
	info *httpx.Info
}

func (c *call) key(name string) storage.RepoKey {
	return storage.RepoKey{Account: c.reg.Account, Region: c.reg.Region, Name: name}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr["Docker-Distribution-Api-Version"] = hvAPIVersion
	c := &call{h: h, w: w, r: r, ctx: r.Context(), reg: h.registry(r.Host), info: httpx.InfoFrom(r.Context())}
	err := c.serve()
	if err != nil {
		c.writeError(err)
	}
	c.audit(err)
}

func (c *call) serve() error {
	rt, ok := parseRoute(c.r.URL.Path)
	c.rt = rt             // audited even when authentication fails
	c.info.Repo = rt.name // logged even when authentication fails
	p, err := c.authenticate()
	if err != nil {
		return err
	}
	c.p = p
	// Downstream decisions (e.g. whether a not-found error may name the
	// regions where the repository does exist) are made for this caller.
	c.ctx = auth.WithPrincipal(c.ctx, p)
	c.info.Principal = p.ARN
	if !ok {
		c.info.Route = "unknown"
		return apierr.New(apierr.NameUnknown, "unknown registry API path %q", c.r.URL.Path)
	}
	return c.dispatch()
}

// registry picks the account and region from the Host header.
func (h *Handler) registry(host string) ecrhost.Registry {
	if strings.Contains(host, ".dkr.ecr.") {
		if reg, ok := ecrhost.Parse(host); ok {
			return reg
		}
	}
	return h.def
}

func (c *call) authenticate() (*auth.Principal, error) {
	user, pass, ok := c.r.BasicAuth()
	if !ok {
		return nil, apierr.New(apierr.Unauthenticated, "authentication required")
	}
	p, err := c.h.authn.AuthenticateBasic(c.ctx, user, pass, c.reg)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, errors.New("ocireg: authenticator returned no principal and no error")
	}
	return p, nil
}

func (c *call) authorize(action string, k storage.RepoKey) error {
	cl := httpx.Client(c.r)
	return c.h.authz.AuthorizeRepo(c.ctx, c.p, action, k, auth.RequestInfo{SourceIP: cl.SourceIP, Secure: cl.Secure, Now: c.h.now(),
		Region: k.Region, UserAgent: c.r.UserAgent(), Referer: c.r.Referer()})
}

// ensureRepository makes pushes to a new name create the repository, as
// ECR does when the caller may ecr:CreateRepository; otherwise the push
// fails with NAME_UNKNOWN.
func (c *call) ensureRepository(k storage.RepoKey) error {
	err := c.h.img.CheckRepository(c.ctx, k)
	if !apierr.HasCode(err, apierr.NameUnknown) {
		return err
	}
	if c.authorize(ActionCreateRepository, k) != nil {
		return err
	}
	if err := c.h.img.CreateRepository(c.ctx, k); err != nil {
		return err
	}
	c.h.authz.InvalidateRepository(k)
	return nil
}

type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

type errorEntry struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

func (c *call) writeError(err error) {
	status, code, msg, detail := apierr.OCI(err)
	if status >= 500 {
		c.info.Err = err
		if _, ok := apierr.As(err); !ok {
			msg = "internal error (request id " + c.info.RequestID + ")"
		}
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		status, code, msg, detail = http.StatusRequestEntityTooLarge, "SIZE_INVALID", "request body too large", nil
	}
	hdr := c.w.Header()
	if status == http.StatusUnauthorized {
		hdr.Set("WWW-Authenticate", `Basic realm="https://`+c.r.Host+`/",service="ecr.amazonaws.com"`)
	}
	body, merr := json.Marshal(errorBody{Errors: []errorEntry{{Code: code, Message: msg, Detail: detail}}})
	if merr != nil {
		body = []byte(`{"errors":[{"code":"UNKNOWN","message":"internal error"}]}`)
	}
	hdr["Content-Type"] = hvJSON
	hdr.Del("Content-Range")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	c.w.WriteHeader(status)
	if c.r.Method != http.MethodHead {
		_, _ = c.w.Write(body)
	}
}

// writeJSON sends a 200 JSON body with an explicit length.
func (c *call) writeJSON(contentType string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	hdr := c.w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	c.w.WriteHeader(http.StatusOK)
	if c.r.Method != http.MethodHead {
		_, err = c.w.Write(body)
	}
	return err
}

func methodNotAllowed(method string) error {
	return apierr.New(apierr.MethodNotAllowed, "method %s not allowed on this endpoint", method)
}
