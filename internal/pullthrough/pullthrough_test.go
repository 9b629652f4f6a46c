package pullthrough

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

func TestMatch(t *testing.T) {
	rules := []Rule{
		{ECRRepositoryPrefix: "hub", UpstreamRegistryURL: "registry-1.docker.io"},
		{ECRRepositoryPrefix: "hub/special", UpstreamRegistryURL: "https://special.example", UpstreamRepositoryPrefix: "mirror"},
		{ECRRepositoryPrefix: "quay", UpstreamRegistryURL: "quay.io", UpstreamRepositoryPrefix: "ROOT"},
		{ECRRepositoryPrefix: "ROOT", UpstreamRegistryURL: "https://fallback.example"},
	}
	tests := []struct {
		name, prefix, upstream string
	}{
		{"hub/nginx", "hub", "library/nginx"},
		{"hub/bitnami/redis", "hub", "bitnami/redis"},
		{"hub/special/x", "hub/special", "mirror/x"},
		{"hub/specialist/x", "hub", "specialist/x"},
		{"quay/coreos/etcd", "quay", "coreos/etcd"},
		{"team/app", "ROOT", "team/app"},
		{"hub", "ROOT", "hub"},
	}
	for _, tc := range tests {
		r, up, ok := Match(rules, tc.name)
		if !ok || r.ECRRepositoryPrefix != tc.prefix || up != tc.upstream {
			t.Errorf("Match(%q) = %q %q %v, want %q %q", tc.name, r.ECRRepositoryPrefix, up, ok, tc.prefix, tc.upstream)
		}
	}
	if _, _, ok := Match(rules[:3], "team/app"); ok {
		t.Error("a name under no prefix matched without ROOT")
	}
	if _, _, ok := Match(rules[:1], "hub"); ok {
		t.Error("the bare prefix is not a repository under it")
	}
}

func TestBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"registry-1.docker.io":    "https://registry-1.docker.io",
		"http://127.0.0.1:5000/":  "http://127.0.0.1:5000",
		"https://ghcr.io":         "https://ghcr.io",
		"ftp://x":                 "",
		"https://user:pw@host":    "",
		"https://host/path":       "",
		"https://host?x=1":        "",
		"":                        "",
		"https://[::1]:5000":      "https://[::1]:5000",
		"https://registry.k8s.io": "https://registry.k8s.io",
	} {
		u, err := BaseURL(in)
		got := ""
		if err == nil {
			got = u.String()
		}
		if got != want {
			t.Errorf("BaseURL(%q) = %q (%v), want %q", in, got, err, want)
		}
	}
}

func TestGuard(t *testing.T) {
	none, _ := NewGuard(nil)
	loop, _ := NewGuard([]string{"loopback"})
	cidr, _ := NewGuard([]string{"10.1.0.0/16,192.168.7.7"})
	tests := []struct {
		addr string
		g    *Guard
		ok   bool
	}{
		{"8.8.8.8", none, true},
		{"2606:4700::1111", none, true},
		{"127.0.0.1", none, false},
		{"127.8.9.10", none, false},
		{"::1", none, false},
		{"::ffff:127.0.0.1", none, false},
		{"169.254.169.254", none, false},
		{"fd00:ec2::254", none, false},
		{"fe80::1", none, false},
		{"10.0.0.1", none, false},
		{"172.16.5.4", none, false},
		{"192.168.1.1", none, false},
		{"100.64.0.1", none, false},
		{"0.0.0.0", none, false},
		{"::", none, false},
		{"224.0.0.1", none, false},
		{"255.255.255.255", none, false},
		{"127.0.0.1", loop, true},
		{"::1", loop, true},
		{"169.254.169.254", loop, false},
		{"10.0.0.1", loop, false},
		{"10.1.2.3", cidr, true},
		{"10.2.0.1", cidr, false},
		{"192.168.7.7", cidr, true},
		{"192.168.7.8", cidr, false},
	}
	for _, tc := range tests {
		err := tc.g.Check(netip.MustParseAddr(tc.addr))
		if (err == nil) != tc.ok {
			t.Errorf("Check(%s) with %v = %v, want ok=%v", tc.addr, tc.g.allow, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("Check(%s): %v does not wrap ErrForbiddenAddress", tc.addr, err)
		}
	}
	if _, err := NewGuard([]string{"not-an-ip"}); err == nil {
		t.Error("a bad --allow-upstream entry was accepted")
	}
}

// TestGuardDialAndRedirect: the guard applies to the address dialled, so
// a name resolving to loopback and a redirect to the metadata address
// are both refused.
func TestGuardDialAndRedirect(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "secret") }))
	defer target.Close()
	g, _ := NewGuard(nil)
	c := &http.Client{Transport: g.Transport(), CheckRedirect: checkRedirect}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(target.URL, "http://"))
	for _, u := range []string{target.URL, "http://localhost:" + port + "/"} {
		_, err := c.Get(u)
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("GET %s: %v, want the guard's refusal", u, err)
		}
	}
	// An allowed upstream that redirects to a refused address.
	allowOne, _ := NewGuard([]string{"127.0.0.1"})
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	c = &http.Client{Transport: allowOne.Transport(), CheckRedirect: checkRedirect}
	if _, err := c.Get(redirector.URL); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("redirect to the metadata address: %v", err)
	}
}

func TestParseChallenge(t *testing.T) {
	s, p := parseChallenge(`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"`)
	if s != "bearer" || p["realm"] != "https://auth.docker.io/token" || p["service"] != "registry.docker.io" || p["scope"] != "repository:library/nginx:pull" {
		t.Fatalf("%s %v", s, p)
	}
	s, p = parseChallenge(`Basic realm="Registry Realm"`)
	if s != "basic" || p["realm"] != "Registry Realm" {
		t.Fatalf("%s %v", s, p)
	}
	s, p = parseChallenge(`Bearer realm=https://x/t, service=svc`)
	if s != "bearer" || p["realm"] != "https://x/t" || p["service"] != "svc" {
		t.Fatalf("%s %v", s, p)
	}
	s, p = parseChallenge(`Bearer realm="a\"b"`)
	if p["realm"] != `a"b` {
		t.Fatalf("%s %v", s, p)
	}
}

func FuzzParseChallenge(f *testing.F) {
	f.Add(`Bearer realm="https://auth.docker.io/token",service="registry.docker.io"`)
	f.Add(`Basic realm="x"`)
	f.Add(`Bearer realm="\`)
	f.Fuzz(func(t *testing.T, h string) { parseChallenge(h) })
}

// tokenRegistry speaks the distribution token flow: /v2/ wants a Bearer
// token that /token issues for Basic user:pass, per scope.
type tokenRegistry struct {
	mu     sync.Mutex
	issued int
	srv    *httptest.Server
}

func newTokenRegistry(t *testing.T) *tokenRegistry {
	tr := &tokenRegistry{}
	blob := []byte("layer bytes")
	sum := sha256.Sum256(blob)
	dg := "sha256:" + hex.EncodeToString(sum[:])
	tr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/token":
			u, p, ok := r.BasicAuth()
			if !ok || u != "alice" || p != "tok" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			tr.mu.Lock()
			tr.issued++
			tr.mu.Unlock()
			fmt.Fprintf(w, `{"token":"T-%s","expires_in":300}`, r.URL.Query().Get("scope"))
		case r.Header.Get("Authorization") == "Bearer T-repository:lib/app:pull" && r.URL.Path == "/v2/lib/app/blobs/"+dg:
			_, _ = w.Write(blob)
		default:
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+tr.srv.URL+`/token",service="test",scope="repository:lib/app:pull"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(tr.srv.Close)
	return tr
}

func TestUpstreamBearerFlow(t *testing.T) {
	tr := newTokenRegistry(t)
	base, _ := url.Parse(tr.srv.URL)
	allow, _ := NewGuard([]string{"loopback"})
	creds := func(context.Context) (*Credentials, error) {
		return &Credentials{Username: "alice", Password: "tok"}, nil
	}
	u := NewUpstream(base, allow.Transport(), creds)
	sum := sha256.Sum256([]byte("layer bytes"))
	dg := digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(sum[:]))
	for range 3 {
		body, _, err := u.GetBlob(context.Background(), "lib/app", dg)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(body)
		body.Close()
		if string(b) != "layer bytes" {
			t.Fatalf("%q", b)
		}
	}
	if tr.issued != 1 {
		t.Fatalf("token issued %d times, want 1 (cached per scope)", tr.issued)
	}
	bad := NewUpstream(base, allow.Transport(), func(context.Context) (*Credentials, error) {
		return &Credentials{Username: "alice", Password: "wrong"}, nil
	})
	_, _, err := bad.GetBlob(context.Background(), "lib/app", dg)
	var ue *UpstreamError
	if !errors.As(err, &ue) || !ue.AuthFailed() {
		t.Fatalf("wrong token credentials: %v", err)
	}
}

func TestFlightReaders(t *testing.T) {
	data := strings.Repeat("0123456789", 10000)
	dg := digest.FromString(data)
	f, err := newFlight(t.TempDir(), dg, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	early := f.reader(ctx)
	gone, cancel := context.WithCancel(ctx)
	leaver := f.reader(gone)
	var wg sync.WaitGroup
	results := make([]string, 2)
	wg.Add(1)
	go func() {
		defer wg.Done()
		b, err := io.ReadAll(early)
		if err != nil {
			results[0] = err.Error()
			return
		}
		results[0] = string(b)
	}()
	v := newVerifier(dg, int64(len(data)))
	w := io.MultiWriter(f, v)
	_, _ = io.WriteString(w, data[:5000])
	cancel() // a reader whose client went away
	if _, err := io.ReadAll(leaver); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled reader: %v", err)
	}
	leaver.Close()
	late := f.reader(ctx)
	_, _ = io.WriteString(w, data[5000:])
	if err := v.check(); err != nil {
		t.Fatal(err)
	}
	f.finish(nil)
	b, err := io.ReadAll(late)
	if err != nil || string(b) != data {
		t.Fatalf("late reader: %v (%d bytes)", err, len(b))
	}
	wg.Wait()
	if results[0] != data {
		t.Fatalf("early reader got %d bytes", len(results[0]))
	}
	early.Close()
	late.Close()
	if f.reader(ctx) != nil {
		t.Fatal("a reader after the spool was released")
	}

	// A failed fetch ends readers with the error, never a clean EOF.
	f2, _ := newFlight(t.TempDir(), dg, int64(len(data)))
	r := f2.reader(ctx)
	_, _ = f2.Write([]byte(data[:10]))
	f2.finish(errors.New("upstream hung up"))
	if _, err := io.ReadAll(r); err == nil || !strings.Contains(err.Error(), "hung up") {
		t.Fatalf("reader of a failed fetch: %v", err)
	}
	r.Close()
	v2 := newVerifier(dg, int64(len(data)))
	_, _ = io.WriteString(v2, data[:10]+strings.Repeat("x", len(data)-10))
	if v2.check() == nil {
		t.Fatal("corrupt content verified")
	}
}

// TestECRTokenRefresh: a minted registry token is reused until
// tokenRefreshMargin before its expiry, then minted again; other keys
// mint their own.
func TestECRTokenRefresh(t *testing.T) {
	var mints int
	now := time.Unix(1_800_000_000, 0)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken" || !strings.Contains(r.Header.Get("Authorization"), "Credential=AKIAAAAAAAAAAAAAAAAA/") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mints++
		tok := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("AWS:token-%d", mints)))
		fmt.Fprintf(w, `{"authorizationData":[{"authorizationToken":%q,"expiresAt":%d,"proxyEndpoint":"x"}]}`, tok, now.Add(12*time.Hour).Unix())
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	g, _ := NewGuard([]string{"loopback"})
	u := NewUpstream(base, g.Transport(), nil)
	clock := now
	u.now = func() time.Time { return clock }
	keys := &Credentials{Username: "AKIAAAAAAAAAAAAAAAAA", Password: "s"}
	get := func() string {
		c, err := u.ecrCredentials(context.Background(), keys)
		if err != nil {
			t.Fatal(err)
		}
		return c.Username + ":" + c.Password
	}
	if got := get(); got != "AWS:token-1" {
		t.Fatal(got)
	}
	clock = now.Add(11 * time.Hour)
	if got := get(); got != "AWS:token-1" || mints != 1 {
		t.Fatalf("%s after 11 h (%d mints)", got, mints)
	}
	clock = now.Add(11*time.Hour + 31*time.Minute)
	if got := get(); got != "AWS:token-2" {
		t.Fatalf("%s 29 min before expiry, want a fresh token", got)
	}
	keys = &Credentials{Username: "AKIABBBBBBBBBBBBBBBB", Password: "s"}
	if _, err := u.ecrCredentials(context.Background(), keys); err == nil {
		t.Fatal("other keys reused the token")
	}
	var ue *UpstreamError
	if _, err := u.ecrCredentials(context.Background(), keys); !errors.As(err, &ue) || !ue.AuthFailed() {
		t.Fatalf("refused keys: %v", err)
	}
}
