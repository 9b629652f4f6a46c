package ecrclient

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/berth-dev/berth/internal/client/endpoint"
)

// fakeAWS imitates ECR GetAuthorizationToken (JSON 1.1) and STS
// GetCallerIdentity (Query/XML) well enough for the real SDK clients.
type fakeAWS struct {
	mu       sync.Mutex
	calls    int
	scopes   []string
	deny     bool
	password string
	expires  time.Time
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	authz := r.Header.Get("Authorization")
	if i := strings.Index(authz, "Credential="); i >= 0 {
		f.scopes = append(f.scopes, strings.SplitN(authz[i+len("Credential="):], ",", 2)[0])
	}
	if strings.Contains(string(body), "Action=GetCallerIdentity") {
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
			`<Arn>arn:aws:iam::111111111111:user/puller</Arn><UserId>AIDAEXAMPLE00000000A</UserId><Account>111111111111</Account>`+
			`</GetCallerIdentityResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
		return
	}
	if r.Header.Get("X-Amz-Target") != "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken" {
		http.Error(w, "unexpected target "+r.Header.Get("X-Amz-Target"), 400)
		return
	}
	f.calls++
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if f.deny {
		w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
		w.WriteHeader(400)
		fmt.Fprint(w, `{"__type":"AccessDeniedException","message":"User: arn:aws:iam::111111111111:user/puller is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action"}`)
		return
	}
	pw := fmt.Sprintf("%s-%d", f.password, f.calls)
	json.NewEncoder(w).Encode(map[string]any{"authorizationData": []map[string]any{{
		"authorizationToken": EncodeToken(pw),
		"expiresAt":          float64(f.expires.Unix()),
		"proxyEndpoint":      "https://" + r.Host,
	}}})
}

func staticLoader(region string) ConfigLoader {
	return func(_ context.Context, r, _ string) (aws.Config, error) {
		if r == "" {
			r = region
		}
		return aws.Config{Region: r, Credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLE000000001", "secret", ""),
			RetryMaxAttempts: 1}, nil
	}
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func setup(t *testing.T) (*fakeAWS, endpoint.Target, *clock, *Client, string) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}
	f := &fakeAWS{password: "pw", expires: clk.t.Add(12 * time.Hour)}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cachePath := filepath.Join(t.TempDir(), "cache", CacheFileName)
	c, err := New(Options{Cache: Cache{Path: cachePath}, Now: clk.now, LoadConfig: staticLoader("us-east-1")})
	if err != nil {
		t.Fatal(err)
	}
	target := endpoint.Target{Host: "222222222222.dkr.ecr.eu-west-2.localhost", Kind: endpoint.KindBerth,
		Account: "222222222222", Region: "eu-west-2", APIEndpoint: srv.URL}
	return f, target, clk, c, cachePath
}

func TestTokenCacheAndRefresh(t *testing.T) {
	f, target, clk, c, cachePath := setup(t)
	ctx := context.Background()

	tok, err := c.Token(ctx, target, GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Username != "AWS" || tok.Password != "pw-1" || tok.FromCache || tok.Region != "eu-west-2" {
		t.Fatalf("first token %+v", tok)
	}
	if !strings.Contains(f.scopes[0], "/eu-west-2/ecr/aws4_request") {
		t.Fatalf("signed for %q, want the host's region", f.scopes[0])
	}

	clk.t = clk.t.Add(5 * time.Hour) // < half of 12 h
	tok, err = c.Token(ctx, target, GetOptions{})
	if err != nil || !tok.FromCache || tok.Password != "pw-1" || f.calls != 1 {
		t.Fatalf("want cached token, got %+v %v (calls %d)", tok, err, f.calls)
	}

	clk.t = clk.t.Add(90 * time.Minute) // 6 h 30 m: past half-life
	f.expires = clk.t.Add(12 * time.Hour)
	tok, err = c.Token(ctx, target, GetOptions{})
	if err != nil || tok.FromCache || tok.Password != "pw-2" {
		t.Fatalf("want refreshed token, got %+v %v", tok, err)
	}

	tok, err = c.Token(ctx, target, GetOptions{Refresh: true})
	if err != nil || tok.FromCache || tok.Password != "pw-3" {
		t.Fatalf("--refresh ignored: %+v %v", tok, err)
	}

	st, err := os.Stat(cachePath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("cache mode %v", st.Mode().Perm())
	}
	raw, _ := os.ReadFile(cachePath)
	if strings.Contains(string(raw), "AKIAEXAMPLE000000001") {
		t.Error("access key id stored in the cache file")
	}
}

func TestStaleTokenUsedWhenAPIFailsButStillValid(t *testing.T) {
	f, target, clk, c, _ := setup(t)
	ctx := context.Background()
	if _, err := c.Token(ctx, target, GetOptions{}); err != nil {
		t.Fatal(err)
	}
	f.deny = true
	clk.t = clk.t.Add(8 * time.Hour)
	tok, err := c.Token(ctx, target, GetOptions{})
	if err != nil || !tok.FromCache || !strings.Contains(tok.Warning, "AccessDeniedException") {
		t.Fatalf("want stale cached token with warning, got %+v %v", tok, err)
	}
	clk.t = clk.t.Add(5 * time.Hour) // expired
	_, err = c.Token(ctx, target, GetOptions{})
	if KindOf(err) != KindAuth {
		t.Fatalf("want auth error after expiry, got %v (%s)", err, KindOf(err))
	}
	for _, want := range []string{"GetAuthorizationToken", target.APIEndpoint, "eu-west-2", "no identity-based policy"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestRegionFallbacks(t *testing.T) {
	_, target, _, c, _ := setup(t)
	target.Region = ""
	r, _, err := c.Region(context.Background(), target)
	if err != nil || r != "us-east-1" {
		t.Fatalf("region %q %v", r, err)
	}
	c.opts.Region = "ap-south-1"
	if r, _, _ := c.Region(context.Background(), target); r != "ap-south-1" {
		t.Fatalf("--region ignored: %q", r)
	}
	c.opts.LoadConfig = func(context.Context, string, string) (aws.Config, error) { return aws.Config{}, nil }
	if r, _, _ := c.Region(context.Background(), target); r != DefaultRegion {
		t.Fatalf("default region %q", r)
	}
}

func TestDefaultChainNoCredentials(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "creds"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "",
	} {
		t.Setenv(k, v)
	}
	c, _ := New(Options{})
	_, err := c.Token(context.Background(), endpoint.Target{Kind: endpoint.KindBerth, Host: "h", Region: "us-east-1", APIEndpoint: "http://127.0.0.1:1"}, GetOptions{})
	if KindOf(err) != KindNoCredentials || !strings.Contains(err.Error(), "no AWS credentials") {
		t.Fatalf("got %v (%s)", err, KindOf(err))
	}
}

func TestDefaultChainFromEnvAndProfile(t *testing.T) {
	f, target, _, _, _ := setup(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config"), []byte("[profile puller]\nregion = ap-south-1\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "creds"), []byte("[puller]\naws_access_key_id = AKIAPROFILE000000001\naws_secret_access_key = s\n"), 0o600)
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "creds"),
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	c, _ := New(Options{Profile: "puller"})
	target.Region = ""
	tok, err := c.Token(context.Background(), target, GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Region != "ap-south-1" || !strings.HasPrefix(f.scopes[len(f.scopes)-1], "AKIAPROFILE000000001/") {
		t.Fatalf("profile not used: region %s scope %s", tok.Region, f.scopes)
	}
}

func TestCallerIdentity(t *testing.T) {
	_, target, _, c, _ := setup(t)
	id, region, err := c.CallerIdentity(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	if id.Account != "111111111111" || id.Arn != "arn:aws:iam::111111111111:user/puller" || region != "eu-west-2" {
		t.Fatalf("identity %+v region %s", id, region)
	}
}

func TestUnsupportedHost(t *testing.T) {
	_, _, _, c, _ := setup(t)
	_, err := c.Token(context.Background(), endpoint.Target{Host: "public.ecr.aws", Kind: endpoint.KindECRPublic}, GetOptions{})
	if KindOf(err) != KindUnsupported {
		t.Fatalf("got %v", err)
	}
}

func TestDecodeToken(t *testing.T) {
	if u, p, err := DecodeToken(EncodeToken("abc")); err != nil || u != "AWS" || p != "abc" {
		t.Fatal(u, p, err)
	}
	for _, bad := range []string{"", "!!", EncodeToken(""), "QVdT"} {
		if _, _, err := DecodeToken(bad); err == nil {
			t.Errorf("DecodeToken(%q) accepted", bad)
		}
	}
}

func TestFreshUntilIsHalfLife(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := CacheEntry{RequestedAt: t0, ExpiresAt: t0.Add(12 * time.Hour)}
	if got := e.FreshUntil(); !got.Equal(t0.Add(6 * time.Hour)) {
		t.Fatal(got)
	}
}

func TestCorruptCacheIsNamedAndRecovered(t *testing.T) {
	_, target, _, c, path := setup(t)
	os.MkdirAll(filepath.Dir(path), 0o700)
	os.WriteFile(path, []byte("{"), 0o600)
	if _, err := c.opts.Cache.Load(); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("corrupt cache not reported with path: %v", err)
	}
	if _, err := c.Token(context.Background(), target, GetOptions{}); err != nil {
		t.Fatalf("corrupt cache must not fail the pull: %v", err)
	}
	if _, err := c.opts.Cache.Load(); err != nil {
		t.Fatalf("cache not rewritten: %v", err)
	}
}

func TestDecodeBerthToken(t *testing.T) {
	issued := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	p := []byte{1, 'k'}
	p = binary.BigEndian.AppendUint64(p, uint64(issued.Unix()))
	p = binary.BigEndian.AppendUint64(p, uint64(issued.Add(12*time.Hour).Unix()))
	for _, s := range []string{"AKIAEXAMPLE000000001", "222222222222", "eu-west-2"} {
		p = append(p, byte(len(s)))
		p = append(p, s...)
	}
	p = append(p, make([]byte, 32)...)
	c, ok := DecodeBerthToken(base64.RawURLEncoding.EncodeToString(p))
	if !ok || !c.Issued.Equal(issued) || !c.Expires.Equal(issued.Add(12*time.Hour)) || c.Account != "222222222222" || c.Region != "eu-west-2" {
		t.Fatalf("%+v %v", c, ok)
	}
	for _, bad := range []string{"", "not-a-token", base64.RawURLEncoding.EncodeToString(p[:40]), base64.RawURLEncoding.EncodeToString(append([]byte{2}, p[1:]...))} {
		if _, ok := DecodeBerthToken(bad); ok {
			t.Errorf("accepted %q", bad)
		}
	}
}
