// Package console is berth's web console at /console: server-rendered
// pages (html/template, embedded assets, no CDN, one small script for the
// copy buttons) over the same ECR operations the API serves. Every page
// runs its ECR call in-process as the signed-in principal through
// ecr.API.Invoke, so authorization, validation and listing visibility are
// the API's own, and a denied action shows the API's explained denial.
//
// Sign-in takes an access key id and secret (or STS credentials); the
// session lives in memory (random id, HttpOnly SameSite=Strict cookie,
// Secure under TLS, idle timeout), every form carries a CSRF token, and
// cross-origin POSTs are refused before that. Every string a user reads
// comes from the message catalogs in messages/ (English and Japanese).
package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/audit"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/httpx"
)

// PathPrefix is where the console is served.
const PathPrefix = "/console"

// Authenticator verifies sign-in credentials (auth.Authenticator).
type Authenticator interface {
	AuthenticateBasic(ctx context.Context, user, password string, reg ecrhost.Registry) (*auth.Principal, error)
}

// Principals re-resolves a session's access key on every request
// (iamsvc.Service), so revoking the key or the user ends the session.
type Principals interface {
	PrincipalForCredential(id string) (*auth.Principal, error)
}

// ECR runs an ECR operation as a principal (ecr.API).
type ECR interface {
	Invoke(ctx context.Context, c *awsapi.Call) (any, error)
}

// Auditor records console actions (audit.Log); optional.
type Auditor interface {
	Record(ctx context.Context, e audit.Event)
}

// Deps are the console's collaborators.
type Deps struct {
	Authenticator Authenticator
	Principals    Principals
	ECR           ECR
	Audit         Auditor // nil: not audited
	Region        string  // the region the console works in
	Log           *slog.Logger
	Now           func() time.Time
	// IdleTimeout ends a session nobody used for that long (default 30 min);
	// MaxLifetime ends any session (default 12 h).
	IdleTimeout, MaxLifetime time.Duration
	MaxSessions              int // default 10000
}

// Handler serves /console.
type Handler struct {
	d        Deps
	sessions *sessionStore
	catalogs map[string]catalog
	pages    map[string]map[string]*template.Template // lang → page → template
	mux      *http.ServeMux
	static   http.Handler
	origins  *http.CrossOriginProtection
}

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/*
var staticFiles embed.FS

const (
	sessionCookie = "berth_console"
	signinCookie  = "berth_console_signin" // login-CSRF token before a session exists
	maxFormBytes  = 64 << 10               // the policy limit is 10 240 characters; 64 KiB holds it in any script
)

// New builds the console handler.
func New(d Deps) (*Handler, error) {
	if d.Authenticator == nil || d.Principals == nil || d.ECR == nil || d.Region == "" {
		return nil, errors.New("console: authenticator, principals, ECR and region are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.IdleTimeout <= 0 {
		d.IdleTimeout = 30 * time.Minute
	}
	if d.MaxLifetime <= 0 {
		d.MaxLifetime = 12 * time.Hour
	}
	if d.MaxSessions <= 0 {
		d.MaxSessions = 10000
	}
	cats, err := loadCatalogs()
	if err != nil {
		return nil, err
	}
	h := &Handler{d: d, sessions: newSessionStore(d.IdleTimeout, d.MaxLifetime, d.MaxSessions), catalogs: cats,
		origins: http.NewCrossOriginProtection()}
	if h.pages, err = parsePages(cats); err != nil {
		return nil, err
	}
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	h.static = http.StripPrefix(PathPrefix+"/static/", http.FileServerFS(sub))
	h.routes()
	return h, nil
}

// Handles reports whether path belongs to the console.
func Handles(path string) bool {
	return path == PathPrefix || strings.HasPrefix(path, PathPrefix+"/")
}

var pageNames = []string{"signin", "repositories", "repository", "permissions", "editpolicy", "error"}

func parsePages(cats map[string]catalog) (map[string]map[string]*template.Template, error) {
	out := map[string]map[string]*template.Template{}
	for lang, c := range cats {
		out[lang] = map[string]*template.Template{}
		funcs := template.FuncMap{
			"t":        func(id string, args ...any) string { return c.text(id, args...) },
			"datetime": c.datetime,
			"bytes":    c.bytes,
			"number":   c.number,
		}
		for _, p := range pageNames {
			t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/"+p+".html")
			if err != nil {
				return nil, err
			}
			out[lang][p] = t
		}
	}
	return out, nil
}

func (h *Handler) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, PathPrefix+"/repositories", http.StatusSeeOther)
	})
	m.HandleFunc("GET /console/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, PathPrefix+"/repositories", http.StatusSeeOther)
	})
	m.Handle("GET /console/static/", h.static)
	m.HandleFunc("GET /console/lang/{lang}", h.switchLanguage)
	m.HandleFunc("GET /console/signin", h.signinForm)
	m.HandleFunc("POST /console/signin", h.signin)
	m.HandleFunc("POST /console/signout", h.signedIn(h.signout))
	m.HandleFunc("GET /console/repositories", h.signedIn(h.repositories))
	m.HandleFunc("GET /console/repositories/{name...}", h.signedIn(h.repository))
	m.HandleFunc("GET /console/permissions/{name...}", h.signedIn(h.permissions))
	m.HandleFunc("GET /console/edit-policy/{name...}", h.signedIn(h.editPolicyForm))
	m.HandleFunc("POST /console/edit-policy/{name...}", h.signedIn(h.savePolicy))
	m.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		v := h.view(r, nil, nil)
		h.renderError(w, r, v, http.StatusNotFound, "error.notfound", nil)
	})
	h.mux = m
}

// ServeHTTP adds the console's security headers, refuses cross-origin
// writes and routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, PathPrefix+"/static/") {
		hd.Set("Cache-Control", "no-store")
	}
	httpx.InfoFrom(r.Context()).Route = "console"
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		// The browser's own word (Sec-Fetch-Site, else Origin against
		// Host) that a POST comes from another site; the CSRF token is
		// checked as well, by each form.
		if h.origins.Check(r) != nil {
			h.renderError(w, r, h.view(r, nil, nil), http.StatusForbidden, "error.csrf", nil)
			return
		}
	}
	h.mux.ServeHTTP(w, r)
}

// view is what every page template gets.
type view struct {
	Lang, Other  string // current and the other language
	Path         string // current path + query, for the language switch
	CSRF         string
	User         string // signed-in ARN, "" on the sign-in page
	Account      string
	Region       string
	Error        *shownError
	Notice       string // message id of a success notice
	Alert        string // message id of an error notice
	Page         any
	sess         *session
	sessionID    string
	principal    *auth.Principal
	cat          catalog
	cookieSecure bool
}

// shownError is an API error as the console shows it: the AWS error name
// and berth's explanation (for AccessDenied: who, what, and why not).
type shownError struct {
	Code, Message string
}

func (h *Handler) view(r *http.Request, s *session, p *auth.Principal) *view {
	lang := pickLanguage(r)
	other := languages[0]
	if lang == languages[0] {
		other = languages[1]
	}
	v := &view{Lang: lang, Other: other, Path: r.URL.RequestURI(), Region: h.d.Region, sess: s, principal: p,
		cat: h.catalogs[lang], cookieSecure: r.TLS != nil}
	if s != nil {
		v.CSRF, v.User = s.csrf, s.arn
	}
	if p != nil {
		v.Account = p.Account
	}
	return v
}

func apiError(err error) *shownError {
	_, code, msg := apierr.JSON(err)
	return &shownError{Code: code, Message: msg}
}

func (h *Handler) render(w http.ResponseWriter, v *view, status int, page string) {
	t := h.pages[v.Lang][page]
	var buf strings.Builder
	if err := t.Execute(&buf, v); err != nil {
		h.d.Log.Error("console template", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

// renderError shows a page-level error: a catalog message, and the API's
// error under it when there is one.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, v *view, status int, msgID string, err error) {
	v.Alert = msgID
	if err != nil {
		v.Error = apiError(err)
	}
	h.render(w, v, status, "error")
}

// statusOf maps an API error to the page's HTTP status: AWS JSON's,
// except that a denial is 403 and a missing resource 404 (AWS answers 400
// for both; a browser and a crawler understand these better).
func statusOf(err error) int {
	status, code, _ := apierr.JSON(err)
	switch {
	case apierr.HasCode(err, apierr.AccessDenied):
		return http.StatusForbidden
	case strings.HasSuffix(code, "NotFoundException"):
		return http.StatusNotFound
	case status == 0:
		return http.StatusInternalServerError
	}
	return status
}

// call runs one ECR operation as the signed-in principal, records it in
// the audit log as a console action, and decodes its result into out.
func (h *Handler) call(r *http.Request, v *view, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	info := awsapi.RequestInfo(r, h.d.Now())
	info.Region = h.d.Region
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	c := &awsapi.Call{RequestID: httpx.RequestID(r.Context()), Principal: v.principal, Region: h.d.Region,
		Service: "ecr", Operation: op, Body: body, Info: info, Host: r.Host, Scheme: scheme}
	res, err := h.d.ECR.Invoke(auth.WithPrincipal(r.Context(), v.principal), c)
	h.record(r, v.principal, "ecr.amazonaws.com", op, body, res, err)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// record writes one audit event for a console action.
func (h *Handler) record(r *http.Request, p *auth.Principal, source, op string, body []byte, res any, err error) {
	if h.d.Audit == nil {
		return
	}
	info := awsapi.RequestInfo(r, h.d.Now())
	ev := audit.Event{
		EventTime: h.d.Now().UTC(), EventSource: source, EventName: op, AWSRegion: h.d.Region,
		SourceIPAddress: info.SourceIP, UserAgent: r.UserAgent(),
		UserIdentity: audit.Identity(p), RequestID: httpx.RequestID(r.Context()),
		ReadOnly: audit.IsReadOnly(op), EventType: audit.TypeConsole, HTTPStatus: http.StatusOK,
	}
	if p != nil {
		ev.RecipientAccountID = p.Account
	}
	if body != nil {
		ev.RequestParameters = audit.FromJSON(body)
	}
	if err != nil {
		_, code, msg := apierr.JSON(err)
		ev.ErrorCode, ev.ErrorMessage, ev.HTTPStatus = code, msg, statusOf(err)
	} else if !ev.ReadOnly && res != nil {
		ev.ResponseElements = audit.FromValue(res)
	}
	h.d.Audit.Record(r.Context(), ev)
}
