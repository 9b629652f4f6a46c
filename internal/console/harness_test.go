package console_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/server"
	"github.com/berth-dev/berth/internal/storage"
)

// Seed 004's accounts: the repository lives in owner; puller (Release's
// account in the seed) gets pull access through the repository policy.
const (
	owner      = "222222222222"
	puller     = "111111111111"
	region     = "eu-west-2"
	rootKey    = "AKIACONSOLETESTROOT1"
	rootSecret = "consoleTestRootSecretAccessKey0000000000"
)

type env struct {
	t     *testing.T
	srv   *server.Server
	http  *httptest.Server
	url   string
	audit string
}

func newEnv(t *testing.T) *env {
	return newEnvWith(t, httptest.NewServer)
}

func newEnvWith(t *testing.T, start func(http.Handler) *httptest.Server) *env {
	t.Helper()
	dir := t.TempDir()
	s, err := server.New(t.Context(), server.Config{DataDir: dir, AccountID: owner, Region: region,
		RootAccessKeyID: rootKey, RootSecretKey: rootSecret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hs := start(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		s.Close()
	})
	return &env{t: t, srv: s, http: hs, url: hs.URL, audit: s.AuditFile()}
}

// user creates an IAM user with AWS managed policies and returns its key.
func (e *env) user(acct, name string, managed ...string) *iamsvc.AccessKey {
	e.t.Helper()
	ctx := context.Background()
	ids := e.srv.Identity()
	if err := ids.EnsureAccount(ctx, acct); err != nil {
		e.t.Fatal(err)
	}
	if _, err := ids.CreateUser(ctx, acct, iamsvc.CreateUserInput{UserName: name}); err != nil {
		e.t.Fatal(err)
	}
	for _, m := range managed {
		if err := ids.AttachPolicy(ctx, acct, iamsvc.UserEntity, name, "arn:aws:iam::aws:policy/"+m); err != nil {
			e.t.Fatal(err)
		}
	}
	k, err := ids.CreateAccessKey(ctx, acct, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return k
}

func (e *env) createRepo(name string) {
	e.t.Helper()
	if err := e.srv.Images().CreateRepository(context.Background(), storage.RepoKey{Account: owner, Region: region, Name: name}); err != nil {
		e.t.Fatal(err)
	}
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// push uploads a one-layer OCI image through /v2/ as the root user and
// tags it; it returns the manifest digest.
func (e *env) push(repo, tag string, layer []byte) string {
	e.t.Helper()
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["` + digestOf(layer) + `"]}}`)
	for _, b := range [][]byte{cfg, layer} {
		resp := e.v2(http.MethodPost, "/v2/"+repo+"/blobs/uploads/?digest="+digestOf(b), rootKey, rootSecret, "application/octet-stream", b)
		if resp.StatusCode != http.StatusCreated {
			e.t.Fatalf("blob upload: %d %s", resp.StatusCode, readAll(resp))
		}
		resp.Body.Close()
	}
	m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%d}]}`,
		digestOf(cfg), len(cfg), digestOf(layer), len(layer))
	resp := e.v2(http.MethodPut, "/v2/"+repo+"/manifests/"+tag, rootKey, rootSecret, "application/vnd.oci.image.manifest.v1+json", []byte(m))
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("manifest put: %d %s", resp.StatusCode, readAll(resp))
	}
	resp.Body.Close()
	return digestOf([]byte(m))
}

func (e *env) v2(method, path, user, pass, contentType string, body []byte) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.SetBasicAuth(user, pass)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
	resp, err := e.http.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// browser is a cookie-keeping client that does not follow redirects, so
// tests see each 303 and its Location.
type browser struct {
	e    *env
	c    *http.Client
	lang string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := e.http.Client()
	cc := *c
	cc.Jar = jar
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{e: e, c: &cc}
}

type page struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (b *browser) do(method, path string, form url.Values, hdr map[string]string) page {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.url+path, body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return page{status: resp.StatusCode, body: readAll(resp), location: resp.Header.Get("Location"), header: resp.Header}
}

func (b *browser) get(path string) page { return b.do(http.MethodGet, path, nil, nil) }

func (b *browser) post(path string, form url.Values) page {
	return b.do(http.MethodPost, path, form, nil)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the token of the first form on p.
func (b *browser) csrf(p page) string {
	b.e.t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		b.e.t.Fatalf("no CSRF token in page:\n%s", p.body)
	}
	return html.UnescapeString(m[1])
}

// signIn signs in through the form and checks the redirect.
func (b *browser) signIn(id, secret string) {
	b.e.t.Helper()
	form := b.get("/console/signin")
	p := b.post("/console/signin", url.Values{"csrf": {b.csrf(form)}, "access_key_id": {id}, "secret_access_key": {secret}, "next": {"/console/repositories"}})
	if p.status != http.StatusSeeOther || p.location != "/console/repositories" {
		b.e.t.Fatalf("sign-in: %d → %q\n%s", p.status, p.location, p.body)
	}
}

func mustContain(t *testing.T, p page, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(p.body, s) {
			t.Fatalf("page (status %d) lacks %q:\n%s", p.status, s, p.body)
		}
	}
}

func mustNotContain(t *testing.T, p page, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(p.body, s) {
			t.Fatalf("page (status %d) contains %q:\n%s", p.status, s, p.body)
		}
	}
}

// auditEvents reads the audit log.
func (e *env) auditEvents() []map[string]any {
	e.t.Helper()
	var out []map[string]any
	b, err := os.ReadFile(e.audit)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal(line, &ev); err != nil {
			e.t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, ev)
	}
	return out
}

func htmlUnescape(s string) string { return html.UnescapeString(s) }

var textareaRe = regexp.MustCompile(`(?s)<textarea id="policy" name="policy"[^>]*>(.*?)</textarea>`)

// textarea is the policy editor's text as the browser shows it.
func textarea(t *testing.T, p page) string {
	t.Helper()
	m := textareaRe.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no policy editor in page:\n%s", p.body)
	}
	return html.UnescapeString(m[1])
}

func readAuditRaw(e *env) (string, error) {
	b, err := os.ReadFile(e.audit)
	return string(b), err
}
