package awsapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/berth-dev/berth/internal/sigv4"
)

// A presigned "prove who you are" URL must stay exactly that: nothing in an
// unsigned body may turn it into another action (the red-team turned a
// presigned GetCallerIdentity into GetSessionToken via form parameters).
func TestPresignedRequestBodyCannotChooseAction(t *testing.T) {
	rt := newTestRouter(t)
	called := false
	rt.HandleQuery("sts", "https://sts.amazonaws.com/doc/2011-06-15/", "2011-06-15", "GetSessionToken", func(context.Context, *Call) (any, error) {
		called = true
		return nil, nil
	})
	srv := httptest.NewServer(rt)
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/?Action=GetCallerIdentity&Version=2011-06-15")
	link := sigv4.Presign(u, testKey, testSecret, "", "us-east-1", "sts", time.Now(), time.Minute)

	do := func(method, body string) (int, string) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, link, rd)
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, b := do(http.MethodGet, ""); st != 200 || !strings.Contains(b, "GetCallerIdentityResponse") {
		t.Fatalf("plain presigned GET: %d %s", st, b)
	}
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		for _, body := range []string{"Action=GetSessionToken&Version=2011-06-15", "Action=GetCallerIdentity&Version=2011-06-15"} {
			st, b := do(method, body)
			if st == 200 || !strings.Contains(b, "presigned") {
				t.Errorf("%s presigned with body %q: %d %s; want a refusal naming the presigned body", method, body, st, b)
			}
		}
	}
	if called {
		t.Fatal("GetSessionToken ran on a presigned GetCallerIdentity URL")
	}
}

// A header-signed request that declares UNSIGNED-PAYLOAD leaves its body
// unsigned; for the AWS APIs the body is the request, so it must be refused.
func TestUnsignedPayloadWithBodyRefused(t *testing.T) {
	srv := httptest.NewServer(newTestRouter(t))
	defer srv.Close()
	for _, tc := range []struct{ target, service, ctype, body string }{
		{"AmazonEC2ContainerRegistry_V20150921.Echo", "ecr", "application/x-amz-json-1.1", `{"a":1}`},
		{"", "sts", "application/x-www-form-urlencoded", "Action=GetCallerIdentity&Version=2011-06-15"},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", tc.ctype)
		if tc.target != "" {
			req.Header.Set("X-Amz-Target", tc.target)
		}
		req.Header.Set("X-Amz-Content-Sha256", sigv4.UnsignedPayload)
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}, req, sigv4.UnsignedPayload, tc.service, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("%s: UNSIGNED-PAYLOAD with a body accepted: %s", tc.service, b)
		}
	}
}

// X-Amz-Target picks the JSON operation, so it must be covered by the
// signature; otherwise a captured request (or a presigned URL) could be
// replayed as any other operation.
func TestJSONTargetMustBeSigned(t *testing.T) {
	srv := httptest.NewServer(newTestRouter(t))
	defer srv.Close()
	body := `{}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}, req, hex.EncodeToString(sum[:]), "ecr", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.Echo") // after signing: not signed
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == 200 || !strings.Contains(string(b), "x-amz-target") {
		t.Fatalf("unsigned X-Amz-Target accepted: %d %s", resp.StatusCode, b)
	}

	u, _ := url.Parse(srv.URL + "/")
	link := sigv4.Presign(u, testKey, testSecret, "", "us-east-1", "ecr", time.Now(), time.Minute)
	req, _ = http.NewRequest(http.MethodPost, link, nil)
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.Echo")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Fatalf("presigned JSON call with an unsigned target accepted: %s", b)
	}
}
