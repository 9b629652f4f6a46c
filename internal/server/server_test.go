package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRootCredentialsGeneratedOnceAndReused(t *testing.T) {
	dir := t.TempDir()
	s1, err := New(t.Context(), Config{DataDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c1 := s1.RootCredentials()
	s1.Close()
	if !c1.Generated || !regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`).MatchString(c1.AccessKeyID) || len(c1.SecretAccessKey) != 40 || strings.Contains(c1.SecretAccessKey, ":") {
		t.Fatalf("bad generated credentials %+v", c1)
	}
	fi, err := os.Stat(filepath.Join(dir, rootCredentialsFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", fi, err)
	}
	s2, err := New(t.Context(), Config{DataDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	c2 := s2.RootCredentials()
	if c2.Generated || c2.AccessKeyID != c1.AccessKeyID || c2.SecretAccessKey != c1.SecretAccessKey {
		t.Fatalf("credentials not reused: %+v vs %+v", c2, c1)
	}
}

func TestHandlerAuth(t *testing.T) {
	s, err := New(t.Context(), Config{DataDir: t.TempDir(), RootAccessKeyID: "AKIAROOTROOTROOTROOT", RootSecretKey: "secretsecretsecretsecretsecretsecret0000"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	tests := []struct {
		name, path, user, pass string
		want                   int
	}{
		{"no credentials", "/v2/", "", "", 401},
		{"wrong secret", "/v2/", "AKIAROOTROOTROOTROOT", "wrong", 401},
		{"root", "/v2/", "AKIAROOTROOTROOTROOT", "secretsecretsecretsecretsecretsecret0000", 200},
		{"root catalog", "/v2/_catalog", "AKIAROOTROOTROOTROOT", "secretsecretsecretsecretsecretsecret0000", 200},
		{"not a registry path", "/other", "AKIAROOTROOTROOTROOT", "secretsecretsecretsecretsecretsecret0000", 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+tc.path, nil)
			if tc.user != "" {
				req.SetBasicAuth(tc.user, tc.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Error("no request id")
			}
		})
	}
}

func TestRootAuthorizerDeniesOthers(t *testing.T) {
	a := rootAuthorizer{account: "111111111111"}
	other := newRootAuthenticator(RootCredentials{AccessKeyID: "A", SecretAccessKey: "B"}, "222222222222").principal
	err := a.AuthorizeRepo(t.Context(), other, "ecr:BatchGetImage", keyFor("app"), infoNow())
	if err == nil || !strings.Contains(err.Error(), "arn:aws:iam::222222222222:root is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:111111111111:repository/app") {
		t.Fatalf("err = %v", err)
	}
}

// syncBuffer lets the test read Run's stdout while Run writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestRunPrintsBannerAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, Config{Addr: "127.0.0.1:0", DataDir: t.TempDir()}, nil, out) }()
	re := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		t.Fatalf("no banner: %q", out.String())
	}
	if !strings.Contains(out.String(), "SecretAccessKey:") {
		t.Errorf("first start did not print the generated credentials: %q", out.String())
	}
	resp, err := http.Get(base + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Basic realm="https://127.0.0.1:`) {
		t.Fatalf("status %d, challenge %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
