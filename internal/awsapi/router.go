// Package awsapi is the front door of the AWS-compatible APIs: it caps and
// reads the body, authenticates the SigV4 signature, and dispatches to the
// service handler by X-Amz-Target (JSON 1.1: ECR, SSM, Secrets Manager) or by
// Action= with the signing service (Query: IAM, STS). Handlers return values
// and errors; this package is the only place that writes AWS responses, so
// every error takes its protocol's shape through apierr.
package awsapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
	"github.com/berth-dev/berth/internal/httpx"
)

// Call is one authenticated AWS API request as handlers see it.
type Call struct {
	RequestID string
	Principal *auth.Principal
	Region    string // from the SigV4 credential scope
	Service   string // signing name from the credential scope (ecr, iam, sts, ssm, secretsmanager)
	Operation string
	Body      []byte          // JSON 1.1 body ({} when empty)
	Query     protocol.Values // Query protocol parameters
	Info      auth.RequestInfo
	Host      string // r.Host, for URLs berth hands back (proxyEndpoint, presigned links)
	Scheme    string // http or https
}

// Handler serves one operation. For JSON services the result is encoded as
// the JSON body; for Query services it becomes the <OpResult> element (nil
// means no Result element).
type Handler func(ctx context.Context, c *Call) (any, error)

// SigV4Authenticator verifies a signed request whose body has been read.
type SigV4Authenticator interface {
	VerifySigV4(ctx context.Context, r *http.Request, body []byte) (*auth.SigV4Result, error)
	// PrecheckSigV4 rejects what it can before the body is read.
	PrecheckSigV4(r *http.Request) error
}

type queryService struct {
	namespace string
	version   string
	actions   map[string]Handler
}

type jsonService struct {
	signingName string
	ops         map[string]Handler
}

// Router dispatches AWS API calls. Register everything before serving.
type Router struct {
	authn SigV4Authenticator
	log   *slog.Logger
	now   func() time.Time
	json  map[string]*jsonService  // target prefix → service
	query map[string]*queryService // signing name → service

	preAuth     *byteBudget
	bodyTimeout time.Duration
	audit       Auditor
}

// NewRouter builds an empty router.
func NewRouter(authn SigV4Authenticator, log *slog.Logger) *Router {
	return &Router{authn: authn, log: log, now: time.Now, json: map[string]*jsonService{}, query: map[string]*queryService{},
		preAuth: newByteBudget(DefaultPreAuthBudget), bodyTimeout: DefaultPreAuthReadTimeout}
}

// HandleJSON registers op under an X-Amz-Target prefix (e.g.
// "AmazonEC2ContainerRegistry_V20150921") whose calls are signed for signingName.
func (rt *Router) HandleJSON(targetPrefix, signingName, op string, h Handler) {
	s := rt.json[targetPrefix]
	if s == nil {
		s = &jsonService{signingName: signingName, ops: map[string]Handler{}}
		rt.json[targetPrefix] = s
	}
	s.ops[op] = h
}

// HandleQuery registers a Query action for the service signed as signingName
// (iam, sts), answering in namespace.
func (rt *Router) HandleQuery(signingName, namespace, version, action string, h Handler) {
	s := rt.query[signingName]
	if s == nil {
		s = &queryService{namespace: namespace, version: version, actions: map[string]Handler{}}
		rt.query[signingName] = s
	}
	s.actions[action] = h
}

// IsAWSRequest reports whether r is meant for the AWS APIs rather than /v2/.
func IsAWSRequest(r *http.Request) bool {
	if r.URL.Path != "/" {
		return false
	}
	if r.Header.Get("X-Amz-Target") != "" {
		return true
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return true
	}
	return r.Method == http.MethodGet && r.URL.Query().Get("Action") != ""
}

func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := protocol.NewRequestID()
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		rt.serveJSON(w, r, reqID, target)
		return
	}
	rt.serveQuery(w, r, reqID)
}

func (rt *Router) serveJSON(w http.ResponseWriter, r *http.Request, reqID, target string) {
	ev := rt.startEvent(r, reqID)
	defer rt.finishEvent(r, ev)
	_, ev.op, _ = protocol.ParseTarget(target)
	fail := func(err error) {
		status, typ, msg := apierr.JSON(err)
		rt.logFailure(r, reqID, err, status)
		ev.fail(status, typ, msg)
		protocol.WriteJSONError(w, reqID, status, typ, msg)
	}
	if r.Method != http.MethodPost {
		fail(apierr.New(apierr.InvalidAction, "AWS JSON 1.1 calls are POST /"))
		return
	}
	body, release, err := rt.readBody(w, r)
	if err != nil {
		fail(err)
		return
	}
	defer release()
	prefix, op, ok := protocol.ParseTarget(target)
	svc := rt.json[prefix]
	if !ok || svc == nil {
		fail(apierr.New(apierr.InvalidAction, "Unknown target %q", target))
		return
	}
	ev.service = svc.signingName
	res, err := rt.authn.VerifySigV4(r.Context(), r, body)
	release()
	if err != nil {
		fail(err)
		return
	}
	ev.res = res
	if err := res.Parsed.CheckService(svc.signingName); err != nil {
		fail(apierr.New(apierr.SignatureMismatch, "%s", err.Error()))
		return
	}
	// X-Amz-Target chooses the operation; unsigned, a captured or presigned
	// request could be replayed as any other one.
	if !slices.Contains(res.Parsed.SignedHeaders, "x-amz-target") {
		fail(apierr.New(apierr.SignatureMismatch, "'x-amz-target' must be a 'SignedHeader' in the AWS Authorization."))
		return
	}
	h := svc.ops[op]
	if h == nil {
		fail(apierr.New(apierr.InvalidAction, "Operation %s is not supported by berth", op))
		return
	}
	noteCall(r, svc.signingName, op, res)
	if len(body) == 0 {
		body = []byte("{}")
	}
	call := rt.newCall(r, reqID, res, op)
	call.Body = body
	ev.jsonBody = body
	out, err := h(auth.WithPrincipal(r.Context(), res.Principal), call)
	if err != nil {
		fail(err)
		return
	}
	if out == nil {
		out = struct{}{}
	}
	ev.out = out
	protocol.WriteJSON(w, reqID, out)
}

func (rt *Router) serveQuery(w http.ResponseWriter, r *http.Request, reqID string) {
	namespace := "https://iam.amazonaws.com/doc/2010-05-08/"
	ev := rt.startEvent(r, reqID)
	defer rt.finishEvent(r, ev)
	fail := func(err error) {
		status, code, msg := apierr.Query(err)
		rt.logFailure(r, reqID, err, status)
		ev.fail(status, code, msg)
		protocol.WriteQueryError(w, namespace, reqID, status, code, msg)
	}
	// The signing service picks the API: IAM and STS share the Query protocol
	// and berth serves both on "/". Fall back to the Version parameter when the
	// request is unsigned so the error at least has the right namespace.
	setNamespace := func(svcName, version string) {
		if svcName == "" && version == "2011-06-15" {
			svcName = "sts"
		}
		if svc := rt.query[svcName]; svc != nil {
			namespace = svc.namespace
		}
	}
	body, release, err := rt.readBody(w, r)
	if err != nil {
		setNamespace(signingService(r), rt.peekVersion(r))
		fail(err)
		return
	}
	defer release()
	values, err := protocol.ParseQuery(r, body)
	if err != nil {
		fail(apierr.New(apierr.SerializationException, "%s", err.Error()))
		return
	}
	setNamespace(signingService(r), values.Get("Version"))
	ev.op, ev.form = values.Get("Action"), values
	res, err := rt.authn.VerifySigV4(r.Context(), r, body)
	release()
	if err != nil {
		fail(err)
		return
	}
	ev.res, ev.service = res, res.Service
	svc := rt.query[res.Service]
	if svc == nil {
		fail(apierr.New(apierr.InvalidAction, "Credential should be scoped to a service berth serves with the Query protocol (iam, sts), not '%s'.", res.Service))
		return
	}
	action := values.Get("Action")
	h := svc.actions[action]
	if h == nil {
		fail(apierr.New(apierr.InvalidAction, "Could not find operation %s for version %s", action, values.Get("Version")))
		return
	}
	noteCall(r, res.Service, action, res)
	call := rt.newCall(r, reqID, res, action)
	call.Query = values
	out, err := h(auth.WithPrincipal(r.Context(), res.Principal), call)
	if err != nil {
		fail(err)
		return
	}
	ev.out = out
	protocol.WriteQuery(w, action, svc.namespace, reqID, out)
}

func (rt *Router) newCall(r *http.Request, reqID string, res *auth.SigV4Result, op string) *Call {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return &Call{
		RequestID: reqID,
		Principal: res.Principal,
		Region:    res.Region,
		Service:   res.Service,
		Operation: op,
		Info:      rt.requestInfo(r, res.Region),
		Host:      r.Host,
		Scheme:    scheme,
	}
}

// RequestInfo extracts what policy conditions may ask about r. X-Forwarded-For
// is deliberately ignored here: trusting it would let any client pick its
// aws:SourceIp. Only httpx.TrustProxies, for configured proxies, rewrites
// RemoteAddr before this sees it.
func RequestInfo(r *http.Request, now time.Time) auth.RequestInfo {
	ip := r.RemoteAddr
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	return auth.RequestInfo{SourceIP: ip, Secure: r.TLS != nil, Now: now, UserAgent: r.UserAgent(), Referer: r.Referer()}
}

// requestInfo is RequestInfo with the signing region as aws:RequestedRegion.
func (rt *Router) requestInfo(r *http.Request, region string) auth.RequestInfo {
	info := RequestInfo(r, rt.now())
	info.Region = region
	return info
}

func signingService(r *http.Request) string {
	h := r.Header.Get("Authorization")
	i := strings.Index(h, "Credential=")
	if i < 0 {
		h = r.URL.Query().Get("X-Amz-Credential")
	} else {
		h = h[i+len("Credential="):]
	}
	parts := strings.SplitN(h, "/", 5)
	if len(parts) < 4 {
		return ""
	}
	return parts[3]
}

// readBody reads the body of a request that passed PrecheckSigV4, under the
// pre-authentication budget and read deadline. release (idempotent) returns
// the budget; call it once the signature is verified.
func (rt *Router) readBody(w http.ResponseWriter, r *http.Request) ([]byte, func(), error) {
	noop := func() {}
	if err := rt.authn.PrecheckSigV4(r); err != nil {
		return nil, noop, err
	}
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil, noop, nil
	}
	if r.ContentLength > protocol.MaxJSONBody {
		return nil, noop, apierr.New(apierr.PayloadTooLarge, "Request body exceeds %d bytes", protocol.MaxJSONBody)
	}
	limit := r.ContentLength
	if limit < 0 {
		limit = maxUndeclaredBody
	}
	// Wait briefly for budget to smooth bursts, then throttle.
	wait, cancel := context.WithTimeout(r.Context(), min(rt.bodyTimeout, 2*time.Second))
	ok := rt.preAuth.acquire(wait, limit)
	cancel()
	if !ok {
		return nil, noop, apierr.New(apierr.TooManyRequests, "Rate exceeded: too many request bodies are waiting to be authenticated")
	}
	var once sync.Once
	release := func() { once.Do(func() { rt.preAuth.release(limit) }) }
	// Bound how long the body may take; the server-wide timeouts cannot,
	// because /v2/ blob uploads legitimately stream for a long time.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(rt.now().Add(rt.bodyTimeout))
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		// Keep the deadline: the server would otherwise wait to drain the
		// rest of a stalled body. The connection is not reused.
		w.Header().Set("Connection", "close")
		release()
		return nil, noop, apierr.Wrap(apierr.SerializationException, err, "could not read the request body")
	}
	_ = rc.SetReadDeadline(time.Time{})
	if int64(len(body)) > limit {
		release()
		if r.ContentLength < 0 {
			return nil, noop, apierr.New(apierr.PayloadTooLarge, "Request body without Content-Length exceeds %d bytes", maxUndeclaredBody)
		}
		return nil, noop, apierr.New(apierr.SerializationException, "Request body is longer than its Content-Length")
	}
	return body, release, nil
}

// peekVersion finds the Version of an unauthenticated Query call, for the
// namespace of its error only: from the URL, else from at most 4 KiB of body.
func (rt *Router) peekVersion(r *http.Request) string {
	if v := r.URL.Query().Get("Version"); v != "" {
		return v
	}
	if r.Body == nil || r.ContentLength > 4<<10 || r.ContentLength < 0 {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 4<<10))
	q, _ := url.ParseQuery(string(b))
	return q.Get("Version")
}

func (rt *Router) logFailure(r *http.Request, reqID string, err error, status int) {
	if rt.log == nil {
		return
	}
	level := slog.LevelInfo
	var e *apierr.Error
	if !errors.As(err, &e) || status >= 500 {
		level = slog.LevelError
	}
	rt.log.Log(r.Context(), level, "aws api error", "request_id", reqID, "target", r.Header.Get("X-Amz-Target"), "status", status, "err", err.Error())
}

// noteCall names the call in the access log and metrics once it is known to
// be a registered operation: route names stay a bounded set whatever a
// client sends.
func noteCall(r *http.Request, service, op string, res *auth.SigV4Result) {
	info := httpx.InfoFrom(r.Context())
	info.Route = service + "." + op
	if res.Principal != nil {
		info.Principal = res.Principal.ARN
	}
}
