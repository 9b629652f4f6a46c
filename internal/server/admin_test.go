package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/berth-dev/berth/internal/server"
	"github.com/berth-dev/berth/internal/sigv4"
)

const (
	opKey    = "AKIABERTHTESTOPER001"
	opSecret = "berthTestOperatorSecretAccessKey00000000"
)

func newServer(t *testing.T) (*server.Server, *httptest.Server) {
	t.Helper()
	s, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), AccountID: "000000000000",
		RootAccessKeyID: opKey, RootSecretKey: opSecret, Metadata: testMetadata(t)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

func adminPost(t *testing.T, base string, creds *aws.Credentials, body string) (int, map[string]string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+server.AdminPathPrefix+"CreateAccount", bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	if creds != nil {
		if err := v4.NewSigner().SignHTTP(context.Background(), *creds, req, sigv4.HashHex([]byte(body)), server.AdminSigningName, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]string{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestAdminCreateAccount(t *testing.T) {
	_, ts := newServer(t)
	op := &aws.Credentials{AccessKeyID: opKey, SecretAccessKey: opSecret}
	status, out := adminPost(t, ts.URL, op, `{"AccountId":"222222222222"}`)
	if status != 200 || out["AccountId"] != "222222222222" || len(out["AccessKeyId"]) != 20 || len(out["SecretAccessKey"]) != 40 {
		t.Fatalf("create: %d %v", status, out)
	}
	newRoot := &aws.Credentials{AccessKeyID: out["AccessKeyId"], SecretAccessKey: out["SecretAccessKey"]}
	cases := []struct {
		name   string
		creds  *aws.Credentials
		body   string
		status int
		typ    string
	}{
		{"duplicate", op, `{"AccountId":"222222222222"}`, 409, "EntityAlreadyExists"},
		{"not 12 digits", op, `{"AccountId":"2222"}`, 400, "ValidationException"},
		{"not JSON", op, `nope`, 400, "SerializationException"},
		{"another account's root", newRoot, `{"AccountId":"333333333333"}`, 400, "AccessDeniedException"},
		{"unsigned", nil, `{"AccountId":"333333333333"}`, 400, "MissingAuthenticationTokenException"},
		{"wrong secret", &aws.Credentials{AccessKeyID: opKey, SecretAccessKey: "x" + opSecret[1:]}, `{"AccountId":"333333333333"}`, 400, "InvalidSignatureException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, out := adminPost(t, ts.URL, c.creds, c.body)
			if status != c.status || out["__type"] != c.typ {
				t.Fatalf("got %d %v, want %d %s", status, out, c.status, c.typ)
			}
		})
	}

	// The new root user logs in to the registry with its key pair.
	for _, c := range []struct {
		user, pass string
		status     int
	}{{newRoot.AccessKeyID, newRoot.SecretAccessKey, 200}, {newRoot.AccessKeyID, "wrong", 401}, {opKey, opSecret, 200}} {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/v2/", nil)
		req.SetBasicAuth(c.user, c.pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("GET /v2/ as %s: %d, want %d", c.user, resp.StatusCode, c.status)
		}
	}
}

// Restarting keeps accounts and keys: secrets are sealed with the master key on disk.
func TestIdentitySurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := server.Config{DataDir: dir, AccountID: "000000000000", RootAccessKeyID: opKey, RootSecretKey: opSecret}
	s, err := server.New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	_, out := adminPost(t, ts.URL, &aws.Credentials{AccessKeyID: opKey, SecretAccessKey: opSecret}, `{"AccountId":"222222222222"}`)
	ts.Close()
	s.Close()

	s2, err := server.New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	c, err := s2.Identity().ResolveAccessKey(out["AccessKeyId"])
	if err != nil || !c.CheckSecret(out["SecretAccessKey"]) {
		t.Fatalf("after restart: %v", err)
	}
}

// A presigned admin URL, even the operator's own, is refused: a link is a
// bearer capability that leaks through logs and Referer headers.
func TestAdminRefusesPresignedURLs(t *testing.T) {
	_, ts := newServer(t)
	body := `{"AccountId":"555555555555"}`
	req, _ := http.NewRequest(http.MethodPost, ts.URL+server.AdminPathPrefix+"CreateAccount?X-Amz-Expires=300", bytes.NewReader([]byte(body)))
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: opKey, SecretAccessKey: opSecret}, req,
		sigv4.HashHex([]byte(body)), server.AdminSigningName, "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(u, "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]string{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	// Refused before the admin check: a presigned request may not carry a body.
	if resp.StatusCode != 400 || out["__type"] != "InvalidSignatureException" || out["AccessKeyId"] != "" {
		t.Fatalf("presigned admin call: %d %v", resp.StatusCode, out)
	}
	// The same call signed in the header works.
	if st, out := adminPost(t, ts.URL, &aws.Credentials{AccessKeyID: opKey, SecretAccessKey: opSecret}, body); st != 200 {
		t.Fatalf("header-signed admin call: %d %v", st, out)
	}
}
