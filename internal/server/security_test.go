package server_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/server"
)

// lockedBuffer is the log sink; the server logs from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// recordingTransport remembers every credential-bearing header value the
// clients sent, so the test can look for each of them in the logs.
type recordingTransport struct {
	mu      sync.Mutex
	secrets []string
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	for _, h := range []string{"Authorization", "X-Amz-Security-Token"} {
		if v := r.Header.Get(h); v != "" {
			rt.secrets = append(rt.secrets, v)
			// The signature alone is secret-derived; look for it separately.
			if _, sig, ok := strings.Cut(v, "Signature="); ok {
				rt.secrets = append(rt.secrets, sig)
			}
		}
	}
	rt.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (rt *recordingTransport) values() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]string(nil), rt.secrets...)
}

type secureEnv struct {
	ts  *httptest.Server
	log *lockedBuffer
	rec *recordingTransport
	dir string
}

func (e *secureEnv) awsConfig(key, secret, session string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, session),
		BaseEndpoint: aws.String(e.ts.URL),
		HTTPClient:   &http.Client{Transport: e.rec},
	}
}

// v2 sends a /v2/ request with Basic credentials and records the header.
func (e *secureEnv) v2(t *testing.T, user, pass, method, path, ct, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := (&http.Client{Transport: e.rec}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// push uploads a one-layer image as user and pulls it back.
func (e *secureEnv) pushPull(t *testing.T, user, pass, repo string) {
	t.Helper()
	cfg, layer := "{}", "layer of "+repo
	for _, blob := range []string{cfg, layer} {
		if st, body := e.v2(t, user, pass, "POST", "/v2/"+repo+"/blobs/uploads/?digest="+string(digest.FromString(blob)), "", blob); st != 201 {
			t.Fatalf("push blob as %s: %d %s", user, st, body)
		}
	}
	m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}`,
		digest.FromString(cfg), digest.FromString(layer), len(layer))
	if st, body := e.v2(t, user, pass, "PUT", "/v2/"+repo+"/manifests/latest", "application/vnd.oci.image.manifest.v1+json", m); st != 201 {
		t.Fatalf("push manifest as %s: %d %s", user, st, body)
	}
	if st, body := e.v2(t, user, pass, "GET", "/v2/"+repo+"/manifests/latest", "", ""); st != 200 || body != m {
		t.Fatalf("pull as %s: %d %s", user, st, body)
	}
}

const (
	secRootKey    = "AKIABERTHSECURITY001"
	secRootSecret = "berthSecurityTestRootSecretKey0000000000"
)

func newSecureEnv(t *testing.T) *secureEnv {
	t.Helper()
	e := &secureEnv{log: &lockedBuffer{}, rec: &recordingTransport{}, dir: t.TempDir()}
	// Debug level: whatever any component logs, at any level, is checked.
	log := slog.New(slog.NewJSONHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := server.New(t.Context(), server.Config{DataDir: e.dir, AccountID: "111111111111",
		RootAccessKeyID: secRootKey, RootSecretKey: secRootSecret}, log)
	if err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		e.ts.Close()
		s.Close()
	})
	return e
}

// TestSecretsNeverLogged drives docker-like /v2/ traffic (root Basic auth,
// an ECR token, an IAM user's key, an STS session, and wrong passwords)
// and SigV4 AWS calls whose responses carry new secrets, then requires that
// no secret, password, token, Authorization value or signature appears in
// the JSON log, and that no plaintext secret access key is in the database.
func TestSecretsNeverLogged(t *testing.T) {
	ctx := t.Context()
	e := newSecureEnv(t)
	secrets := []string{secRootSecret}

	e.pushPull(t, secRootKey, secRootSecret, "sec/root")
	if st, _ := e.v2(t, secRootKey, secRootSecret+"x", "GET", "/v2/", "", ""); st != 401 {
		t.Fatalf("wrong root password: %d", st)
	}
	secrets = append(secrets, secRootSecret+"x")

	rootCfg := e.awsConfig(secRootKey, secRootSecret, "")
	if _, err := sts.NewFromConfig(rootCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	tok, err := ecr.NewFromConfig(rootCfg).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil || len(tok.AuthorizationData) == 0 {
		t.Fatalf("GetAuthorizationToken: %v", err)
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(tok.AuthorizationData[0].AuthorizationToken))
	if err != nil {
		t.Fatal(err)
	}
	user, password, _ := strings.Cut(string(raw), ":")
	secrets = append(secrets, aws.ToString(tok.AuthorizationData[0].AuthorizationToken), password)
	e.pushPull(t, user, password, "sec/token")
	if st, _ := e.v2(t, user, password[:len(password)-4]+"AAAA", "GET", "/v2/", "", ""); st != 401 {
		t.Fatalf("tampered token: %d", st)
	}

	iamc := iam.NewFromConfig(rootCfg)
	if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ci")}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ci"), PolicyName: aws.String("all"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:*","sts:*"],"Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	key, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ci")})
	if err != nil {
		t.Fatal(err)
	}
	ciKey, ciSecret := aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey)
	secrets = append(secrets, ciSecret)
	e.pushPull(t, ciKey, ciSecret, "sec/user")

	ciCfg := e.awsConfig(ciKey, ciSecret, "")
	sess, err := sts.NewFromConfig(ciCfg).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	c := sess.Credentials
	secrets = append(secrets, aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	sessCfg := e.awsConfig(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	if _, err := sts.NewFromConfig(sessCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	// Failures are logged with their error text: a wrong secret must not
	// reach the log through an error message either.
	badCfg := e.awsConfig(ciKey, "wrongwrongwrongwrongwrongwrongwrongwrong", "")
	if _, err := sts.NewFromConfig(badCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil {
		t.Fatal("wrong secret accepted")
	}
	secrets = append(secrets, "wrongwrongwrongwrongwrongwrongwrongwrong")

	for _, v := range e.rec.values() {
		secrets = append(secrets, v)
		if b, ok := strings.CutPrefix(v, "Basic "); ok {
			if dec, err := base64.StdEncoding.DecodeString(b); err == nil {
				_, pw, _ := strings.Cut(string(dec), ":")
				secrets = append(secrets, pw)
			}
		}
	}
	logs := e.log.String()
	if !strings.Contains(logs, `"route":"manifest.put"`) || !strings.Contains(logs, "arn:aws:iam::111111111111:user/ci") {
		t.Fatalf("the log does not show the traffic, so it proves nothing:\n%.2000s", logs)
	}
	for _, s := range secrets {
		if len(s) < 16 {
			t.Fatalf("secret %q too short to search for meaningfully", s)
		}
		if strings.Contains(logs, s) {
			t.Errorf("secret %.12s… appears in the log", s)
		}
	}

	// At rest: the database and everything else in the data directory.
	// (A generated root key would live in its 0600 credentials file; this
	// one comes from the environment, so no file may hold it.)
	err = filepath.WalkDir(e.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, s := range []string{secRootSecret, ciSecret, aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds secret %.12s… in plaintext", strings.TrimPrefix(p, e.dir), s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNoAnonymousAccess: every /v2/ route and a call of every AWS service
// answers an unauthenticated request with its protocol's authentication
// error and none of the data behind it.
func TestNoAnonymousAccess(t *testing.T) {
	e := newSecureEnv(t)
	e.pushPull(t, secRootKey, secRootSecret, "private/app")
	dg := string(digest.FromString("layer of private/app"))
	loc := func() string {
		req, _ := http.NewRequest("POST", e.ts.URL+"/v2/private/app/blobs/uploads/", nil)
		req.SetBasicAuth(secRootKey, secRootSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 202 {
			t.Fatalf("start upload: %v %v", resp, err)
		}
		resp.Body.Close()
		return resp.Header.Get("Location")
	}()
	for _, rt := range []struct{ method, path string }{
		{"GET", "/v2/"}, {"HEAD", "/v2/"}, {"GET", "/v2/_catalog"}, {"GET", "/v2/private/app/tags/list"},
		{"GET", "/v2/private/app/manifests/latest"}, {"HEAD", "/v2/private/app/manifests/latest"},
		{"PUT", "/v2/private/app/manifests/latest"}, {"DELETE", "/v2/private/app/manifests/latest"},
		{"GET", "/v2/private/app/blobs/" + dg}, {"HEAD", "/v2/private/app/blobs/" + dg}, {"DELETE", "/v2/private/app/blobs/" + dg},
		{"POST", "/v2/private/app/blobs/uploads/"}, {"POST", "/v2/private/app/blobs/uploads/?mount=" + dg + "&from=private/app"},
		{"PATCH", loc}, {"PUT", loc + "?digest=" + dg}, {"GET", loc}, {"DELETE", loc},
		{"GET", "/v2/private/app/referrers/" + dg}, {"GET", "/v2/nope/manifests/x"},
	} {
		st, body := e.v2(t, "", "", rt.method, rt.path, "application/vnd.oci.image.manifest.v1+json", "{}")
		if st != 401 || (rt.method != "HEAD" && !strings.Contains(body, `"UNAUTHORIZED"`)) || strings.Contains(body, "layer of") || strings.Contains(body, "latest") {
			t.Errorf("anonymous %s %s: %d %s", rt.method, rt.path, st, body)
		}
	}
	// The pushed content is untouched by all that.
	if st, _ := e.v2(t, secRootKey, secRootSecret, "GET", "/v2/private/app/manifests/latest", "", ""); st != 200 {
		t.Fatalf("content changed by anonymous requests: %d", st)
	}

	for _, c := range []struct{ target, query, want string }{
		{target: "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories", want: "MissingAuthenticationTokenException"},
		{target: "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", want: "MissingAuthenticationTokenException"},
		{target: "AmazonEC2ContainerRegistry_V20150921.BatchGetImage", want: "MissingAuthenticationTokenException"},
		{target: "AmazonEC2ContainerRegistry_V20150921.SetRepositoryPolicy", want: "MissingAuthenticationTokenException"},
		{target: "AmazonSSM.GetParameter", want: "MissingAuthenticationTokenException"},
		{target: "secretsmanager.GetSecretValue", want: "MissingAuthenticationTokenException"},
		{query: "Action=ListUsers&Version=2010-05-08", want: "MissingAuthenticationToken"},
		{query: "Action=CreateAccessKey&Version=2010-05-08", want: "MissingAuthenticationToken"},
		{query: "Action=GetCallerIdentity&Version=2011-06-15", want: "MissingAuthenticationToken"},
	} {
		body := c.query
		if c.target != "" {
			body = `{"repositoryName":"private/app","imageIds":[{"imageTag":"latest"}]}`
		}
		req, _ := http.NewRequest("POST", e.ts.URL+"/", strings.NewReader(body))
		if c.target != "" {
			req.Header.Set("X-Amz-Target", c.target)
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || !strings.Contains(string(b), c.want) || strings.Contains(string(b), "sha256:") {
			t.Errorf("anonymous %s%s: %d %s", c.target, c.query, resp.StatusCode, b)
		}
	}
}

// TestBodyLimits: oversized bodies are refused with the protocol's error
// before they are buffered: the admin endpoint, the AWS front door, and ECR
// policy documents over 10240 characters.
func TestBodyLimits(t *testing.T) {
	ctx := t.Context()
	e := newSecureEnv(t)
	for _, c := range []struct {
		name, path, target string
		size               int
		want               string
	}{
		// Unsigned, so refused before a byte of the body is read (the size
		// limit for signed callers is in awsapi.TestRouterBodyLimit).
		{"admin", server.AdminPathPrefix + "CreateAccount", "", 64<<10 + 1, "Missing Authentication Token"},
		{"aws json", "/", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories", 8<<20 + 1, "Missing Authentication Token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", e.ts.URL+c.path, bytes.NewReader(bytes.Repeat([]byte(" "), c.size)))
			if c.target != "" {
				req.Header.Set("X-Amz-Target", c.target)
			}
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode >= 500 || !strings.Contains(string(b), c.want) {
				t.Fatalf("%d bytes: %d %s", c.size, resp.StatusCode, b)
			}
		})
	}

	client := ecr.NewFromConfig(e.awsConfig(secRootKey, secRootSecret, ""))
	if _, err := client.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("limits")}); err != nil {
		t.Fatal(err)
	}
	stmt := `{"Sid":"s%05d","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}`
	var sts []string
	for i := 0; len(strings.Join(sts, ",")) <= 10240; i++ {
		sts = append(sts, fmt.Sprintf(stmt, i))
	}
	policy := `{"Version":"2012-10-17","Statement":[` + strings.Join(sts, ",") + `]}`
	_, err := client.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("limits"), PolicyText: aws.String(policy)})
	if err == nil || !strings.Contains(err.Error(), "InvalidParameterException") {
		t.Fatalf("%d-character policy: %v", len(policy), err)
	}
	if _, err := client.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("limits")}); err == nil || !strings.Contains(err.Error(), "RepositoryPolicyNotFoundException") {
		t.Fatalf("oversized policy stored: %v", err)
	}
}
