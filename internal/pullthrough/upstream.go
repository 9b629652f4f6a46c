package pullthrough

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
)

// Credentials are what an upstream accepts as Basic credentials (directly
// or at its token endpoint): ECR's secret keys username and accessToken.
type Credentials struct {
	Username, Password string
}

// CredentialFunc returns the credentials for one request (nil: anonymous).
// It is called per request so rotated secrets and minted tokens apply
// without a restart.
type CredentialFunc func(ctx context.Context) (*Credentials, error)

// manifestAccept is every manifest type berth stores, so an upstream never
// down-converts a manifest list or OCI index.
var manifestAccept = strings.Join([]string{
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
}, ", ")

// Upstream is a client of one OCI distribution registry: the Bearer token
// flow (WWW-Authenticate realm/service/scope, as Docker Hub, GHCR, Quay and
// distribution's token server speak it) and Basic auth (htpasswd, ECR and
// berth), tokens cached per scope until shortly before they expire.
type Upstream struct {
	base   *url.URL
	client *http.Client
	creds  CredentialFunc
	now    func() time.Time

	mu     sync.Mutex
	tokens map[string]bearer // by scope
	basic  bool              // the registry asked for Basic once: send it up front
	// ecr: the Basic challenge named ECR's service, so access keys are
	// exchanged for a registry token (ecrtoken.go).
	ecr       bool
	minted    *mintedToken
	mintedFor string
	mints     int
}

type bearer struct {
	token   string
	expires time.Time
}

// NewUpstream builds a client for base (scheme://host[:port]) whose
// connections go through t.
func NewUpstream(base *url.URL, t http.RoundTripper, creds CredentialFunc) *Upstream {
	return &Upstream{
		base:   base,
		client: &http.Client{Transport: t, CheckRedirect: checkRedirect},
		creds:  creds,
		now:    time.Now,
		tokens: map[string]bearer{},
	}
}

// UpstreamError is a failed upstream exchange. Status is the HTTP status
// (0 when no answer arrived: refused, timed out, DNS failure, guard).
type UpstreamError struct {
	Op     string
	Status int
	Detail string
	Err    error
}

func (e *UpstreamError) Error() string {
	var b strings.Builder
	b.WriteString("upstream ")
	b.WriteString(e.Op)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *UpstreamError) Unwrap() error { return e.Err }

// NotFound: the upstream answered that the repository or reference does not exist.
func (e *UpstreamError) NotFound() bool { return e.Status == http.StatusNotFound }

// AuthFailed: the upstream refused our credentials (or wanted some and we had none).
func (e *UpstreamError) AuthFailed() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

// Forbidden: the guard refused the upstream's address.
func (e *UpstreamError) Forbidden() bool { return errors.Is(e.Err, ErrForbiddenAddress) }

// scope is the token scope for pulling repo.
func scope(repo string) string { return "repository:" + repo + ":pull" }

// do sends method path with the credentials the registry wants, answering
// one 401 challenge (Bearer or Basic) and retrying once.
func (u *Upstream) do(ctx context.Context, op, method, path, scope string, hdr http.Header) (*http.Response, error) {
	ref := *u.base
	ref.Path = path
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, ref.String(), nil)
		if err != nil {
			return nil, &UpstreamError{Op: op, Err: err}
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		req.Header.Set("User-Agent", "berth-pull-through")
		if err := u.authorize(ctx, req, scope); err != nil {
			return nil, err
		}
		resp, err := u.client.Do(req)
		if err != nil {
			return nil, &UpstreamError{Op: op, Err: err}
		}
		if resp.StatusCode != http.StatusUnauthorized || attempt > 0 {
			return resp, nil
		}
		challenge := resp.Header.Get("Www-Authenticate")
		drain(resp)
		if err := u.answer(ctx, op, challenge, scope); err != nil {
			return nil, err
		}
	}
}

// authorize sets what a previous challenge said the registry wants.
func (u *Upstream) authorize(ctx context.Context, req *http.Request, scope string) error {
	u.mu.Lock()
	tok, haveTok := u.tokens[scope]
	basic := u.basic
	u.mu.Unlock()
	if haveTok && u.now().Before(tok.expires) {
		req.Header.Set("Authorization", "Bearer "+tok.token)
		return nil
	}
	if !basic {
		return nil
	}
	c, err := u.basicCredentials(ctx)
	if err != nil || c == nil {
		return err
	}
	req.SetBasicAuth(c.Username, c.Password)
	return nil
}

// basicCredentials are the rule's credentials, or a registry token minted
// with them when they are access keys for an ECR-style registry.
func (u *Upstream) basicCredentials(ctx context.Context) (*Credentials, error) {
	c, err := u.credentials(ctx)
	if err != nil || c == nil {
		return c, err
	}
	u.mu.Lock()
	ecr := u.ecr
	u.mu.Unlock()
	if ecr && usesAccessKeys(c) {
		return u.ecrCredentials(ctx, c)
	}
	return c, nil
}

func (u *Upstream) credentials(ctx context.Context) (*Credentials, error) {
	if u.creds == nil {
		return nil, nil
	}
	return u.creds(ctx)
}

// answer handles a 401 challenge: Basic is remembered (sent up front from
// now on), Bearer fetches a token for scope from the realm.
func (u *Upstream) answer(ctx context.Context, op, challenge, scope string) error {
	scheme, params := parseChallenge(challenge)
	switch scheme {
	case "basic":
		c, err := u.credentials(ctx)
		if err != nil {
			return err
		}
		if c == nil {
			return &UpstreamError{Op: op, Status: http.StatusUnauthorized, Detail: "the upstream requires credentials and the rule has none"}
		}
		u.mu.Lock()
		u.basic = true
		u.ecr = params["service"] == ecrService
		// A refused token (expired early, keys rotated) is minted again.
		u.minted = nil
		u.mu.Unlock()
		return nil
	case "bearer":
		return u.fetchToken(ctx, op, params, scope)
	}
	return &UpstreamError{Op: op, Status: http.StatusUnauthorized, Detail: fmt.Sprintf("unsupported authentication challenge %q", challenge)}
}

// fetchToken runs the distribution token flow: GET realm?service=&scope=
// with Basic credentials when there are any.
func (u *Upstream) fetchToken(ctx context.Context, op string, params map[string]string, scope string) error {
	realm, err := url.Parse(params["realm"])
	if err != nil || params["realm"] == "" || (realm.Scheme != "https" && realm.Scheme != "http") {
		return &UpstreamError{Op: op, Status: http.StatusUnauthorized, Detail: fmt.Sprintf("bearer challenge without a usable realm %q", params["realm"])}
	}
	q := realm.Query()
	if s := params["service"]; s != "" {
		q.Set("service", s)
	}
	if scope != "" {
		q.Set("scope", scope)
	}
	realm.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, realm.String(), nil)
	if err != nil {
		return &UpstreamError{Op: op, Err: err}
	}
	req.Header.Set("User-Agent", "berth-pull-through")
	c, err := u.credentials(ctx)
	if err != nil {
		return err
	}
	if c != nil {
		req.SetBasicAuth(c.Username, c.Password)
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return &UpstreamError{Op: op + " (token)", Err: err}
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return &UpstreamError{Op: op + " (token)", Status: resp.StatusCode, Detail: errorDetail(resp)}
	}
	var body struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return &UpstreamError{Op: op + " (token)", Status: resp.StatusCode, Detail: "token response is not JSON", Err: err}
	}
	tok := body.Token
	if tok == "" {
		tok = body.AccessToken
	}
	if tok == "" {
		return &UpstreamError{Op: op + " (token)", Status: resp.StatusCode, Detail: "token response has no token"}
	}
	life := time.Duration(body.ExpiresIn) * time.Second
	if life <= 0 {
		life = 60 * time.Second // the token spec's default
	}
	// Renew early so a token never expires between check and use.
	u.mu.Lock()
	u.tokens[scope] = bearer{token: tok, expires: u.now().Add(life * 9 / 10)}
	u.mu.Unlock()
	return nil
}

// parseChallenge splits `Bearer realm="…",service="…"` into a lower-case
// scheme and its parameters.
func parseChallenge(h string) (string, map[string]string) {
	h = strings.TrimSpace(h)
	scheme, rest, _ := strings.Cut(h, " ")
	params := map[string]string{}
	for rest = strings.TrimSpace(rest); rest != ""; {
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimLeft(v, " ")
		if strings.HasPrefix(v, `"`) {
			end := 1
			var val strings.Builder
			for ; end < len(v) && v[end] != '"'; end++ {
				if v[end] == '\\' && end+1 < len(v) {
					end++
				}
				val.WriteByte(v[end])
			}
			params[k] = val.String()
			if end < len(v) {
				end++
			}
			rest = v[end:]
		} else {
			val, after, _ := strings.Cut(v, ",")
			params[k] = strings.TrimSpace(val)
			rest = "," + after
		}
		rest = strings.TrimLeft(rest, ", ")
	}
	return strings.ToLower(scheme), params
}

// Ping checks that the upstream answers /v2/ and accepts the credentials.
func (u *Upstream) Ping(ctx context.Context) error {
	resp, err := u.do(ctx, "ping", http.MethodGet, "/v2/", "", nil)
	if err != nil {
		return err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return &UpstreamError{Op: "ping", Status: resp.StatusCode, Detail: errorDetail(resp)}
	}
	return nil
}

// UpstreamManifest is a manifest as the upstream served it.
type UpstreamManifest struct {
	MediaType string
	Digest    digest.Digest
	Payload   []byte // nil for HeadManifest
}

// HeadManifest resolves ref (tag or digest) to a digest without the body
// (Docker Hub does not count HEAD requests against its pull limit).
func (u *Upstream) HeadManifest(ctx context.Context, repo, ref string) (*UpstreamManifest, error) {
	resp, err := u.do(ctx, "manifest "+repo+":"+ref, http.MethodHead, "/v2/"+repo+"/manifests/"+ref, scope(repo), http.Header{"Accept": {manifestAccept}})
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return nil, &UpstreamError{Op: "manifest " + repo + ":" + ref, Status: resp.StatusCode, Detail: errorDetail(resp)}
	}
	dg, err := digest.Parse(resp.Header.Get("Docker-Content-Digest"))
	if err != nil {
		// Without the header only a GET can tell; callers fall back to it.
		return nil, nil
	}
	return &UpstreamManifest{MediaType: resp.Header.Get("Content-Type"), Digest: dg}, nil
}

// GetManifest fetches ref. The digest is computed from the bytes (with the
// algorithm of ref when ref is a digest) and must match both ref and the
// upstream's Docker-Content-Digest.
func (u *Upstream) GetManifest(ctx context.Context, repo, ref string, maxBytes int64) (*UpstreamManifest, error) {
	op := "manifest " + repo + ":" + ref
	resp, err := u.do(ctx, op, http.MethodGet, "/v2/"+repo+"/manifests/"+ref, scope(repo), http.Header{"Accept": {manifestAccept}})
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return nil, &UpstreamError{Op: op, Status: resp.StatusCode, Detail: errorDetail(resp)}
	}
	if resp.ContentLength > maxBytes {
		return nil, &UpstreamError{Op: op, Status: resp.StatusCode, Detail: fmt.Sprintf("manifest is %d bytes, over the %d byte limit", resp.ContentLength, maxBytes)}
	}
	payload, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, &UpstreamError{Op: op, Err: err}
	}
	if int64(len(payload)) > maxBytes {
		return nil, &UpstreamError{Op: op, Status: resp.StatusCode, Detail: fmt.Sprintf("manifest is over the %d byte limit", maxBytes)}
	}
	alg := digest.SHA256
	if want, err := digest.Parse(ref); err == nil {
		alg = want.Algorithm()
	}
	dg := alg.FromBytes(payload)
	if want, err := digest.Parse(ref); err == nil && want != dg {
		return nil, &UpstreamError{Op: op, Status: resp.StatusCode, Detail: fmt.Sprintf("served content with digest %s", dg)}
	}
	if h, err := digest.Parse(resp.Header.Get("Docker-Content-Digest")); err == nil && h.Algorithm() == alg && h != dg {
		return nil, &UpstreamError{Op: op, Status: resp.StatusCode, Detail: fmt.Sprintf("Docker-Content-Digest %s does not match the content (%s)", h, dg)}
	}
	mt, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	return &UpstreamManifest{MediaType: strings.TrimSpace(mt), Digest: dg, Payload: payload}, nil
}

// GetBlob opens blob dg of repo; the caller verifies the digest while
// reading and closes the body. size is -1 when the upstream did not say.
func (u *Upstream) GetBlob(ctx context.Context, repo string, dg digest.Digest) (io.ReadCloser, int64, error) {
	op := "blob " + repo + "@" + string(dg)
	resp, err := u.do(ctx, op, http.MethodGet, "/v2/"+repo+"/blobs/"+string(dg), scope(repo), nil)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		defer drain(resp)
		return nil, 0, &UpstreamError{Op: op, Status: resp.StatusCode, Detail: errorDetail(resp)}
	}
	return resp.Body, resp.ContentLength, nil
}

// errorDetail is the first OCI error message of a failed response, or its
// Retry-After for a 429, bounded and without credentials.
func errorDetail(resp *http.Response) string {
	var body struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	detail := ""
	if resp.Request != nil && resp.Request.Method != http.MethodHead {
		if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body) == nil && len(body.Errors) > 0 {
			detail = body.Errors[0].Code + ": " + body.Errors[0].Message
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			if _, err := strconv.Atoi(ra); err == nil {
				detail = strings.TrimPrefix(detail+"; retry after "+ra+" s", "; ")
			}
		}
	}
	if len(detail) > 300 {
		detail = detail[:300]
	}
	return detail
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}
