package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/ecrhost"
)

// signedIn runs page for a live session, as the principal its access key
// resolves to now; without one it sends the browser to sign in and back.
func (h *Handler) signedIn(page func(http.ResponseWriter, *http.Request, *view)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var id string
		if ck, err := r.Cookie(sessionCookie); err == nil {
			id = ck.Value
		}
		s := h.sessions.get(id, h.d.Now())
		var p *auth.Principal
		if s != nil {
			var err error
			if p, err = h.d.Principals.PrincipalForCredential(s.accessKeyID); err != nil {
				h.sessions.delete(id) // key deleted, user gone or STS session expired
				s = nil
			} else {
				p.AccessKeyID = s.accessKeyID
			}
		}
		if s == nil {
			if r.Method != http.MethodGet {
				h.renderError(w, r, h.view(r, nil, nil), http.StatusForbidden, "error.signedout", nil)
				return
			}
			http.Redirect(w, r, PathPrefix+"/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		v := h.view(r, s, p)
		v.sessionID = id
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				h.renderError(w, r, v, http.StatusRequestEntityTooLarge, "error.form", nil)
				return
			}
			if !tokensEqual(r.PostForm.Get("csrf"), s.csrf) {
				h.renderError(w, r, v, http.StatusForbidden, "error.csrf", nil)
				return
			}
		}
		page(w, r, v)
	}
}

// localNext accepts only a console path as the place to return to, so
// the sign-in page cannot be made to redirect elsewhere.
func localNext(next string) string {
	if localPath(next) && !strings.HasPrefix(next, PathPrefix+"/signin") {
		return next
	}
	return PathPrefix + "/repositories"
}

// localPath: a path of this console, which no browser reads as another host.
func localPath(p string) bool {
	return strings.HasPrefix(p, PathPrefix+"/") && !strings.ContainsAny(p, "\\\r\n\t") && !strings.Contains(p, "/../")
}

func (h *Handler) cookie(v *view, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: PathPrefix + "/", MaxAge: maxAge,
		HttpOnly: true, Secure: v.cookieSecure, SameSite: http.SameSiteStrictMode}
}

type signinPage struct {
	Next, AccessKeyID string
}

func (h *Handler) signinForm(w http.ResponseWriter, r *http.Request) {
	v := h.view(r, nil, nil)
	h.showSignin(w, v, http.StatusOK, r.URL.Query().Get("next"), "", "")
}

// showSignin renders the form with a fresh login-CSRF token, kept in a
// cookie of its own until a session exists.
func (h *Handler) showSignin(w http.ResponseWriter, v *view, status int, next, keyID, msgID string) {
	v.CSRF = randomToken()
	http.SetCookie(w, h.cookie(v, signinCookie, v.CSRF, 600))
	v.Alert = msgID
	v.Page = signinPage{Next: localNext(next), AccessKeyID: keyID}
	h.render(w, v, status, "signin")
}

func (h *Handler) signin(w http.ResponseWriter, r *http.Request) {
	v := h.view(r, nil, nil)
	if err := r.ParseForm(); err != nil {
		h.renderError(w, r, v, http.StatusRequestEntityTooLarge, "error.form", nil)
		return
	}
	f := r.PostForm
	ck, _ := r.Cookie(signinCookie)
	if ck == nil || !tokensEqual(f.Get("csrf"), ck.Value) {
		h.renderError(w, r, v, http.StatusForbidden, "error.csrf", nil)
		return
	}
	keyID := strings.TrimSpace(f.Get("access_key_id"))
	secret := f.Get("secret_access_key")
	token := strings.TrimSpace(f.Get("session_token"))
	next := f.Get("next")
	// The console takes access keys only: "AWS" + an ECR token would make
	// a 12-hour registry password a console login.
	if keyID == "" || secret == "" || keyID == auth.TokenUser || len(keyID) > 128 {
		h.record(r, nil, "signin.amazonaws.com", "ConsoleLogin", nil, nil, apierr.New(apierr.InvalidCredentials, "Failed authentication"))
		h.showSignin(w, v, http.StatusUnauthorized, next, "", "signin.failed")
		return
	}
	password := secret
	if token != "" {
		password = auth.SessionPassword(secret, token)
	}
	p, err := h.d.Authenticator.AuthenticateBasic(r.Context(), keyID, password, ecrhost.Registry{Region: h.d.Region})
	if err != nil {
		h.record(r, nil, "signin.amazonaws.com", "ConsoleLogin", nil, nil, apierr.New(apierr.InvalidCredentials, "Failed authentication"))
		msg := "signin.failed"
		if apierr.HasCode(err, apierr.ExpiredToken) {
			msg = "signin.expired"
		}
		h.showSignin(w, v, http.StatusUnauthorized, next, keyID, msg)
		return
	}
	id, _ := h.sessions.create(keyID, p.ARN, h.d.Now(), p.Expires)
	pp := *p
	pp.AccessKeyID = keyID
	h.record(r, &pp, "signin.amazonaws.com", "ConsoleLogin", nil, nil, nil)
	http.SetCookie(w, h.cookie(v, signinCookie, "", -1))
	http.SetCookie(w, h.cookie(v, sessionCookie, id, 0))
	http.Redirect(w, r, localNext(next), http.StatusSeeOther)
}

func (h *Handler) signout(w http.ResponseWriter, r *http.Request, v *view) {
	h.sessions.delete(v.sessionID)
	h.record(r, v.principal, "signin.amazonaws.com", "ConsoleLogout", nil, nil, nil)
	http.SetCookie(w, h.cookie(v, sessionCookie, "", -1))
	http.Redirect(w, r, PathPrefix+"/signin", http.StatusSeeOther)
}

// switchLanguage remembers the choice for a year and goes back to the
// page the link was on.
func (h *Handler) switchLanguage(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	if !supported(lang) {
		h.renderError(w, r, h.view(r, nil, nil), http.StatusNotFound, "error.notfound", nil)
		return
	}
	v := h.view(r, nil, nil)
	http.SetCookie(w, h.cookie(v, langCookie, lang, int((365*24*time.Hour).Seconds())))
	back := r.URL.Query().Get("back")
	if !localPath(back) {
		back = PathPrefix + "/repositories"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
