package console_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/storage"
)

// seedPolicy is seed 004's recommended policy: account puller may pull
// from the repository.
const seedPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AllowPull",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
      "Action": [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:DescribeImages",
        "ecr:DescribeRepositories",
        "ecr:GetAuthorizationToken",
        "ecr:GetDownloadUrlForLayer",
        "ecr:GetRepositoryPolicy",
        "ecr:ListImages"
      ]
    }
  ]
}`

func randomLayer(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSignInRedirectsAndSetsSafeCookie(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	p := b.get("/console/repositories?q=app")
	if p.status != http.StatusSeeOther || p.location != "/console/signin?next="+url.QueryEscape("/console/repositories?q=app") {
		t.Fatalf("signed-out page: %d → %q", p.status, p.location)
	}
	form := b.get("/console/signin")
	mustContain(t, form, `name="access_key_id"`, `type="password"`, "Sign in")
	if csp := form.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("CSP %q", csp)
	}
	p = b.post("/console/signin", url.Values{"csrf": {b.csrf(form)}, "access_key_id": {rootKey}, "secret_access_key": {rootSecret}, "next": {"/console/repositories?q=app"}})
	if p.status != http.StatusSeeOther || p.location != "/console/repositories?q=app" {
		t.Fatalf("sign-in: %d → %q", p.status, p.location)
	}
	var session *http.Cookie
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "berth_console" && c.Value != "" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Secure || session.Path != "/console/" || len(session.Value) < 43 {
		t.Fatalf("session cookie %+v", session)
	}
	home := b.get("/console/repositories")
	mustContain(t, home, "arn:aws:iam::"+owner+":root", "Private repositories")
}

func TestSessionCookieIsSecureUnderTLS(t *testing.T) {
	e := newEnvWith(t, httptest.NewTLSServer)
	b := e.browser()
	form := b.get("/console/signin")
	p := b.post("/console/signin", url.Values{"csrf": {b.csrf(form)}, "access_key_id": {rootKey}, "secret_access_key": {rootSecret}})
	found := false
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "berth_console" {
			found = true
			if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				t.Fatalf("cookie under TLS %+v", c)
			}
		}
	}
	if !found {
		t.Fatalf("no session cookie: %d %s", p.status, p.body)
	}
}

func TestSignInRefusesWrongCredentialsAndTokens(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for _, c := range []struct{ id, secret string }{
		{rootKey, rootSecret + "x"},
		{"AKIANOSUCHKEY0000000", rootSecret},
		{"AWS", "an-ecr-token"}, // a registry password is not a console login
		{"", ""},
	} {
		form := b.get("/console/signin")
		p := b.post("/console/signin", url.Values{"csrf": {b.csrf(form)}, "access_key_id": {c.id}, "secret_access_key": {c.secret}})
		if p.status != http.StatusUnauthorized {
			t.Fatalf("%q: status %d", c.id, p.status)
		}
		mustContain(t, p, "Sign-in failed")
		if c.secret != "" {
			mustNotContain(t, p, c.secret) // the secret is never echoed
		}
		if strings.Contains(p.header.Get("Set-Cookie"), "berth_console=") {
			t.Fatalf("%q got a session cookie", c.id)
		}
	}
	if got := b.get("/console/repositories"); got.status != http.StatusSeeOther {
		t.Fatalf("still signed out expected, got %d", got.status)
	}
}

func TestSignInFormNeedsItsCSRFToken(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.get("/console/signin") // sets the login-CSRF cookie
	p := b.post("/console/signin", url.Values{"access_key_id": {rootKey}, "secret_access_key": {rootSecret}})
	if p.status != http.StatusForbidden {
		t.Fatalf("sign-in without token: %d", p.status)
	}
	mustContain(t, p, "security token")
	// A token from another browser (the attacker's own sign-in page) does not match this browser's cookie.
	other := e.browser()
	p = b.post("/console/signin", url.Values{"csrf": {other.csrf(other.get("/console/signin"))}, "access_key_id": {rootKey}, "secret_access_key": {rootSecret}})
	if p.status != http.StatusForbidden {
		t.Fatalf("sign-in with a foreign token: %d", p.status)
	}
}

func TestSignOutEndsTheSessionServerSide(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(rootKey, rootSecret)
	u, _ := url.Parse(e.url + "/console/")
	var old string
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "berth_console" {
			old = c.Value
		}
	}
	home := b.get("/console/repositories")
	if p := b.post("/console/signout", url.Values{}); p.status != http.StatusForbidden {
		t.Fatalf("sign-out without CSRF token: %d", p.status)
	}
	p := b.post("/console/signout", url.Values{"csrf": {b.csrf(home)}})
	if p.status != http.StatusSeeOther || p.location != "/console/signin" {
		t.Fatalf("sign-out: %d %q", p.status, p.location)
	}
	// Replaying the old cookie value: the server forgot the session.
	replay := e.browser()
	replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: "berth_console", Value: old, Path: "/console/"}})
	if p := replay.get("/console/repositories"); p.status != http.StatusSeeOther {
		t.Fatalf("replayed cookie after sign-out: %d", p.status)
	}
}

func TestDeletedAccessKeyEndsTheSession(t *testing.T) {
	e := newEnv(t)
	k := e.user(owner, "dev", "AmazonEC2ContainerRegistryReadOnly")
	b := e.browser()
	b.signIn(k.AccessKeyID, k.SecretAccessKey)
	if p := b.get("/console/repositories"); p.status != http.StatusOK {
		t.Fatalf("signed in: %d", p.status)
	}
	if err := e.srv.Identity().DeleteAccessKey(context.Background(), owner, "dev", k.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/console/repositories"); p.status != http.StatusSeeOther {
		t.Fatalf("after the key was deleted: %d", p.status)
	}
}

func TestRepositoriesSearchAndPagination(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 120; i++ {
		e.createRepo("team/app-" + string(rune('a'+i/26)) + string(rune('a'+i%26)))
	}
	e.createRepo("other/needle")
	b := e.browser()
	b.signIn(rootKey, rootSecret)
	p := b.get("/console/repositories")
	if n := strings.Count(p.body, `class="repo"`); n != 50 {
		t.Fatalf("first page shows %d repositories, want 50", n)
	}
	mustContain(t, p, "team/app-aa", `id="next-page"`)
	seen := strings.Count(p.body, `class="repo"`)
	for pages := 1; strings.Contains(p.body, `id="next-page"`); pages++ {
		next := p.body[strings.Index(p.body, `id="next-page" href="`)+len(`id="next-page" href="`):]
		next = htmlUnescape(next[:strings.Index(next, `"`)])
		p = b.get(next)
		if p.status != http.StatusOK || pages > 5 {
			t.Fatalf("page %d: %d", pages, p.status)
		}
		seen += strings.Count(p.body, `class="repo"`)
	}
	if seen != 121 {
		t.Fatalf("paging showed %d repositories, want 121", seen)
	}
	p = b.get("/console/repositories?q=needle")
	if n := strings.Count(p.body, `class="repo"`); n != 1 {
		t.Fatalf("search shows %d, want 1:\n%s", n, p.body)
	}
	mustContain(t, p, `href="/console/repositories/other/needle"`, "Searched 121 repositories.")
	p = b.get("/console/repositories?q=nothing-like-this")
	mustContain(t, p, `id="empty"`)
}

func TestRepositoriesListOnlyWhatThePrincipalMayDescribe(t *testing.T) {
	e := newEnv(t)
	e.createRepo("visible")
	k := e.user(owner, "nobody") // no policies at all
	b := e.browser()
	b.signIn(k.AccessKeyID, k.SecretAccessKey)
	p := b.get("/console/repositories")
	if p.status != http.StatusForbidden {
		t.Fatalf("status %d\n%s", p.status, p.body)
	}
	mustContain(t, p, "AccessDeniedException", "is not authorized to perform: ecr:DescribeRepositories")
	mustNotContain(t, p, "visible")
}

func TestRepositoryPageShowsImagesAndPullCommands(t *testing.T) {
	e := newEnv(t)
	e.createRepo("team/web")
	dg := e.push("team/web", "v1.2.3", randomLayer(t, 3000))
	e.push("team/web", "latest", randomLayer(t, 10))
	b := e.browser()
	b.signIn(rootKey, rootSecret)
	p := b.get("/console/repositories/team/web")
	if p.status != http.StatusOK {
		t.Fatalf("status %d\n%s", p.status, p.body)
	}
	host := strings.TrimPrefix(e.url, "http://")
	mustContain(t, p, `<span class="tag">v1.2.3</span>`, dg, "2.9 KiB", "application/vnd.oci.image.manifest.v1&#43;json",
		`value="docker pull `+host+`/team/web:v1.2.3"`, `value="docker pull `+host+`/team/web:latest"`, `id="tab-permissions"`)
	if n := strings.Count(p.body, `class="image"`); n != 2 {
		t.Fatalf("%d images shown, want 2", n)
	}
	if p := b.get("/console/repositories/team/missing"); p.status != http.StatusBadRequest && p.status != http.StatusNotFound {
		t.Fatalf("missing repository: %d", p.status)
	} else {
		mustContain(t, p, "RepositoryNotFoundException")
	}
}

// TestSeed004PolicyFlow is seed 004 in the console: the owner account opens
// the repository, Permissions, Edit policy JSON, saves a policy with a
// mistake (sees why next to the JSON, which is kept), fixes it, saves, and
// the other account's pull then works.
func TestSeed004PolicyFlow(t *testing.T) {
	e := newEnv(t)
	e.createRepo("release/app")
	e.push("release/app", "v1", randomLayer(t, 100))
	pull := e.user(puller, "release", "AmazonEC2ContainerRegistryReadOnly")
	if resp := e.v2(http.MethodGet, "/v2/release/app/manifests/v1", pull.AccessKeyID, pull.SecretAccessKey, "", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-account pull before the policy: %d", resp.StatusCode)
	}
	admin := e.user(owner, "admin", "AmazonEC2ContainerRegistryFullAccess")
	b := e.browser()
	b.signIn(admin.AccessKeyID, admin.SecretAccessKey)
	repo := b.get("/console/repositories/release/app")
	mustContain(t, repo, `href="/console/permissions/release/app"`)
	perm := b.get("/console/permissions/release/app")
	mustContain(t, perm, `id="no-policy"`, `href="/console/edit-policy/release/app"`)
	edit := b.get("/console/edit-policy/release/app")
	mustContain(t, edit, `<textarea id="policy" name="policy"`)
	token := b.csrf(edit)

	mistakes := []struct{ text, want string }{
		{strings.Replace(seedPolicy, `"ecr:ListImages"`, `"ecr:ListImages",`, 1), "Invalid repository policy provided"},
		{strings.Replace(seedPolicy, "111111111111", "11111111111", 1), "Invalid repository policy provided"},
		{strings.Replace(seedPolicy, `"Allow"`, `"Permit"`, 1), "Invalid repository policy provided"},
	}
	for _, m := range mistakes {
		p := b.post("/console/edit-policy/release/app", url.Values{"csrf": {token}, "policy": {m.text}})
		if p.status != http.StatusBadRequest {
			t.Fatalf("mistake saved? status %d", p.status)
		}
		mustContain(t, p, `id="policy-error"`, "InvalidParameterException", m.want, "The policy was not saved.")
		if got := textarea(t, p); got != m.text { // what the user typed is kept
			t.Fatalf("editor holds %q, want %q", got, m.text)
		}
	}
	if got := e.storedPolicy("release/app"); got != "" {
		t.Fatalf("a refused policy was stored: %q", got)
	}
	// As a browser sends a textarea: CRLF line breaks, stored as LF.
	p := b.post("/console/edit-policy/release/app", url.Values{"csrf": {token}, "policy": {strings.ReplaceAll(seedPolicy, "\n", "\r\n")}})
	if p.status != http.StatusSeeOther || p.location != "/console/permissions/release/app?saved=1" {
		t.Fatalf("save: %d %q\n%s", p.status, p.location, p.body)
	}
	saved := b.get(p.location)
	mustContain(t, saved, "The repository policy was validated and saved.", `id="policy-json"`, "arn:aws:iam::111111111111:root")
	if got := e.storedPolicy("release/app"); got != seedPolicy {
		t.Fatalf("stored policy %q", got)
	}
	if resp := e.v2(http.MethodGet, "/v2/release/app/manifests/v1", pull.AccessKeyID, pull.SecretAccessKey, "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("cross-account pull after the policy: %d %s", resp.StatusCode, readAll(resp))
	}

	// Console actions are in the audit log as such, without the secret.
	var login, set, failedSets int
	for _, ev := range e.auditEvents() {
		if ev["eventType"] != "AwsConsoleAction" {
			continue
		}
		switch ev["eventName"] {
		case "ConsoleLogin":
			login++
		case "SetRepositoryPolicy":
			if ev["errorCode"] == nil {
				set++
				if ev["userIdentity"].(map[string]any)["arn"] != "arn:aws:iam::"+owner+":user/admin" {
					t.Fatalf("audit identity %v", ev["userIdentity"])
				}
			} else {
				failedSets++
			}
		}
	}
	if login != 1 || set != 1 || failedSets != len(mistakes) {
		t.Fatalf("audit: %d ConsoleLogin, %d SetRepositoryPolicy, %d failed; want 1, 1, %d", login, set, failedSets, len(mistakes))
	}
	raw, _ := readAuditRaw(e)
	if strings.Contains(raw, admin.SecretAccessKey) {
		t.Fatal("the secret access key is in the audit log")
	}
}

func (e *env) storedPolicy(name string) string {
	e.t.Helper()
	r, err := e.srv.Images().Repository(context.Background(), storage.RepoKey{Account: owner, Region: region, Name: name})
	if err != nil {
		e.t.Fatal(err)
	}
	return r.Policy
}

func TestReadOnlyUserSeesButCannotSavePolicy(t *testing.T) {
	e := newEnv(t)
	e.createRepo("release/app")
	reader := e.user(owner, "reader", "AmazonEC2ContainerRegistryReadOnly")
	b := e.browser()
	b.signIn(reader.AccessKeyID, reader.SecretAccessKey)
	if p := b.get("/console/repositories/release/app"); p.status != http.StatusOK {
		t.Fatalf("reader cannot see the repository: %d", p.status)
	}
	edit := b.get("/console/edit-policy/release/app")
	if edit.status != http.StatusOK {
		t.Fatalf("edit page: %d\n%s", edit.status, edit.body)
	}
	p := b.post("/console/edit-policy/release/app", url.Values{"csrf": {b.csrf(edit)}, "policy": {seedPolicy}})
	if p.status != http.StatusForbidden {
		t.Fatalf("reader saved a policy: %d\n%s", p.status, p.body)
	}
	mustContain(t, p, "AccessDeniedException", "arn:aws:iam::"+owner+":user/reader", "is not authorized to perform: ecr:SetRepositoryPolicy")
	if got := textarea(t, p); got != seedPolicy {
		t.Fatalf("editor holds %q", got)
	}
	if got := e.storedPolicy("release/app"); got != "" {
		t.Fatalf("policy stored by a read-only user: %q", got)
	}
}

func TestFormsRefuseMissingOrWrongCSRFToken(t *testing.T) {
	e := newEnv(t)
	e.createRepo("release/app")
	b := e.browser()
	b.signIn(rootKey, rootSecret)
	edit := b.get("/console/edit-policy/release/app")
	for name, c := range map[string]struct {
		form url.Values
		hdr  map[string]string
	}{
		"missing":      {url.Values{"policy": {seedPolicy}}, nil},
		"wrong":        {url.Values{"policy": {seedPolicy}, "csrf": {"x" + b.csrf(edit)}}, nil},
		"other site":   {url.Values{"policy": {seedPolicy}, "csrf": {b.csrf(edit)}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		"other origin": {url.Values{"policy": {seedPolicy}, "csrf": {b.csrf(edit)}}, map[string]string{"Origin": "http://evil.example"}},
	} {
		p := b.do(http.MethodPost, "/console/edit-policy/release/app", c.form, c.hdr)
		if p.status != http.StatusForbidden {
			t.Fatalf("%s token: %d", name, p.status)
		}
		mustContain(t, p, "security token")
	}
	if got := e.storedPolicy("release/app"); got != "" {
		t.Fatalf("policy stored without a valid token: %q", got)
	}
	// A signed-out POST is refused too (no redirect that could replay it).
	if p := e.browser().post("/console/edit-policy/release/app", url.Values{"policy": {seedPolicy}}); p.status != http.StatusForbidden {
		t.Fatalf("signed-out POST: %d", p.status)
	}
}

func TestHostileInputIsEscaped(t *testing.T) {
	e := newEnv(t)
	e.createRepo("release/app")
	b := e.browser()
	b.signIn(rootKey, rootSecret)
	const xss = `<script>alert(1)</script><img src=x onerror=alert(2)>"'`
	p := b.get("/console/repositories?q=" + url.QueryEscape(xss))
	mustNotContain(t, p, "<script>alert", "<img src=x")
	mustContain(t, p, `value="&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&#34;&#39;"`, "&lt;script&gt;alert(1)&lt;/script&gt;")
	// As a repository name the API refuses it (it is no valid name); the
	// page says why and echoes nothing raw, also in the language link.
	for _, path := range []string{
		"/console/repositories/" + url.PathEscape(xss),
		"/console/permissions/" + url.PathEscape(xss),
		"/console/edit-policy/" + url.PathEscape(xss),
		"/console/nowhere/" + url.PathEscape(xss),
	} {
		p := b.get(path)
		mustNotContain(t, p, "<script>alert", "<img src=x", `"'`)
		if !strings.Contains(path, "nowhere") {
			mustContain(t, p, "InvalidParameterException")
		}
	}
	// A valid policy can carry any string in a condition value: shown escaped after saving.
	policy := strings.Replace(seedPolicy, `"ecr:ListImages"
      ]`, `"ecr:ListImages"
      ],
      "Condition": {"StringEquals": {"aws:UserAgent": "</textarea></pre><script>alert(3)</script>"}}`, 1)
	edit := b.get("/console/edit-policy/release/app")
	p = b.post("/console/edit-policy/release/app", url.Values{"csrf": {b.csrf(edit)}, "policy": {policy}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("save: %d\n%s", p.status, p.body)
	}
	for _, path := range []string{"/console/permissions/release/app", "/console/edit-policy/release/app"} {
		p := b.get(path)
		mustNotContain(t, p, "<script>alert(3)", "</textarea></pre><script>")
		mustContain(t, p, "&lt;/textarea&gt;&lt;/pre&gt;&lt;script&gt;alert(3)&lt;/script&gt;")
	}
	// Hostile text in a refused policy is escaped inside the editor and the error.
	p = b.post("/console/edit-policy/release/app", url.Values{"csrf": {b.csrf(edit)}, "policy": {`</textarea><script>alert(4)</script>`}})
	mustNotContain(t, p, "<script>alert(4)")
	mustContain(t, p, `id="policy-error"`)
	if got := textarea(t, p); got != `</textarea><script>alert(4)</script>` {
		t.Fatalf("editor holds %q", got)
	}
	// Redirect targets are confined to the console.
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example", "/console/../x"} {
		form := b.get("/console/signin")
		p := b.post("/console/signin", url.Values{"csrf": {b.csrf(form)}, "access_key_id": {rootKey}, "secret_access_key": {rootSecret}, "next": {next}})
		if p.location != "/console/repositories" {
			t.Fatalf("next %q → %q", next, p.location)
		}
		if p := b.get("/console/lang/en?back=" + url.QueryEscape(next)); p.location != "/console/repositories" {
			t.Fatalf("back %q → %q", next, p.location)
		}
	}
}

func TestLanguageFromHeaderSwitchAndCookie(t *testing.T) {
	e := newEnv(t)
	e.createRepo("release/app")
	b := e.browser()
	b.lang = "ja-JP,ja;q=0.9,en;q=0.8"
	p := b.get("/console/signin")
	mustContain(t, p, `<html lang="ja">`, "サインイン", "アクセスキー ID", `href="/console/lang/en?back=%2fconsole%2fsignin"`)
	b.signIn(rootKey, rootSecret)
	p = b.get("/console/repositories")
	mustContain(t, p, "プライベートリポジトリ", "リポジトリ名", "サインアウト")
	mustNotContain(t, p, "Private repositories")
	// The switch link remembers English, whatever the header says.
	sw := b.get("/console/lang/en?back=" + url.QueryEscape("/console/repositories/release/app"))
	if sw.status != http.StatusSeeOther || sw.location != "/console/repositories/release/app" {
		t.Fatalf("switch: %d %q", sw.status, sw.location)
	}
	p = b.get("/console/repositories/release/app")
	mustContain(t, p, `<html lang="en">`, "Images", "Permissions", "日本語")
	b.get("/console/lang/ja?back=%2Fconsole%2Frepositories")
	b.lang = "en"
	p = b.get("/console/permissions/release/app")
	mustContain(t, p, "アクセス許可", "ポリシー JSON の編集")
	if p := b.get("/console/lang/fr"); p.status != http.StatusNotFound {
		t.Fatalf("unknown language: %d", p.status)
	}
}

func TestStaticAssetsAreEmbedded(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for path, ctype := range map[string]string{"/console/static/console.css": "text/css", "/console/static/console.js": "text/javascript"} {
		p := b.get(path)
		if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), ctype) || len(p.body) < 100 {
			t.Fatalf("%s: %d %q %d bytes", path, p.status, p.header.Get("Content-Type"), len(p.body))
		}
	}
	// No page loads anything from another origin.
	p := b.get("/console/signin")
	mustNotContain(t, p, "http://", "https://")
}

var _ = iamsvc.UserEntity
