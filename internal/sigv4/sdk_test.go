package sigv4

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

type signCase struct {
	name    string
	method  string
	path    string // raw path + query appended to the server URL
	headers http.Header
	body    string
	token   string
	service string
}

func signCases() []signCase {
	ecrJSON := http.Header{
		"Content-Type": {"application/x-amz-json-1.1"},
		"X-Amz-Target": {"AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"},
	}
	return []signCase{
		{name: "ecr json", method: "POST", path: "/", headers: ecrJSON, body: `{"repositoryNames":["a/b"]}`, service: "ecr"},
		{name: "ecr json empty body", method: "POST", path: "/", headers: ecrJSON, service: "ecr"},
		{name: "ecr json session token", method: "POST", path: "/", headers: ecrJSON, body: `{}`, token: testToken, service: "ecr"},
		{name: "iam query form", method: "POST", path: "/", headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}},
			body: "Action=GetUser&Version=2010-05-08&UserName=bob", service: "iam"},
		{name: "sts get query", method: "GET", path: "/?Version=2011-06-15&Action=GetCallerIdentity", service: "sts"},
		{name: "unsorted repeated query", method: "GET", path: "/?b=2&a=1&a=0&A=3&c=x+y&d=%2B%7E%20&novalue&empty=", service: "ecr"},
		{name: "reserved query chars", method: "GET", path: "/?k%3Dx=v%26w&%C3%BC=%E2%82%AC&star=*&slash=a/b", service: "ssm"},
		{name: "special path non-s3", method: "GET", path: "/a%20b/c%2Fd/%C3%BC/~x/!*()/a+b", service: "execute-api"},
		{name: "special path s3", method: "GET", path: "/bucket/a%20b/c%2Fd/%C3%BC/~x/a+b", service: "s3"},
		{name: "s3 put with content sha", method: "PUT", path: "/bucket/key.bin", body: "hello world",
			headers: http.Header{"X-Amz-Content-Sha256": {HashHex([]byte("hello world"))}}, service: "s3"},
		{name: "s3 unsigned payload", method: "PUT", path: "/bucket/k", body: "payload",
			headers: http.Header{"X-Amz-Content-Sha256": {UnsignedPayload}}, service: "s3"},
		{name: "header spaces and multi values", method: "POST", path: "/", body: "x",
			headers: http.Header{"X-Custom": {"  a   b  c  ", "second   value"}, "X-Amz-Meta-Thing": {"\tq  r\t"}}, service: "ecr"},
		{name: "large body", method: "POST", path: "/", body: strings.Repeat("0123456789abcdef", 1<<16),
			headers: ecrJSON, service: "ecr"},
	}
}

// TestSDKSignedRequestsVerify is the differential test against aws-sdk-go-v2's signer,
// over real HTTP so net/http's header handling on both sides is part of the check.
func TestSDKSignedRequestsVerify(t *testing.T) {
	v := NewVerifier(WithClock(fixedClock(t0.Add(time.Minute))))
	srv := verifyingServer(t, v, map[string]string{testAKID: testSecret})
	for _, tc := range signCases() {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, bytes.NewReader([]byte(tc.body)))
			if err != nil {
				t.Fatal(err)
			}
			if tc.body == "" {
				req.Body, req.ContentLength = http.NoBody, 0
			}
			for k, vs := range tc.headers {
				req.Header[k] = append([]string(nil), vs...)
			}
			sdkSign(t, req, []byte(tc.body), tc.token, tc.service, "eu-west-1", t0, tc.service == "s3")
			if code, msg := send(t, req); code != http.StatusNoContent {
				t.Fatalf("status %d: %s", code, msg)
			}
		})
	}
}

// TestSDKPresignVerifies checks URLs presigned by aws-sdk-go-v2, both the S3
// form (UNSIGNED-PAYLOAD) and the form other services use (empty-body hash).
func TestSDKPresignVerifies(t *testing.T) {
	v := NewVerifier(WithClock(fixedClock(t0.Add(time.Minute))))
	srv := verifyingServer(t, v, map[string]string{testAKID: testSecret})
	for _, tc := range []struct {
		service, payload, token string
	}{
		{"s3", UnsignedPayload, ""},
		{"s3", UnsignedPayload, testToken},
		{"sts", EmptyPayloadHash, ""},
	} {
		t.Run(tc.service+"/"+tc.payload[:8], func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/bucket/some%20key?Action=GetCallerIdentity&X-Amz-Expires=300", nil)
			signed, _, err := v4.NewSigner().PresignHTTP(context.Background(),
				aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: tc.token},
				req, tc.payload, tc.service, "us-east-1", t0,
				func(o *v4.SignerOptions) { o.DisableURIPathEscaping = tc.service == "s3" })
			if err != nil {
				t.Fatal(err)
			}
			get, _ := http.NewRequest("GET", signed, nil)
			if code, msg := send(t, get); code != http.StatusNoContent {
				t.Fatalf("status %d: %s", code, msg)
			}
		})
	}
}

func TestPresignRoundTrip(t *testing.T) {
	secrets := map[string]string{testAKID: testSecret}
	for _, token := range []string{"", testToken} {
		v := NewVerifier(WithClock(fixedClock(t0.Add(4 * time.Minute))))
		srv := verifyingServer(t, v, secrets)
		u, _ := url.Parse(srv.URL + "/v2/team/app%20x/blobs/sha256:abc?keep=1")
		signed := Presign(u, testAKID, testSecret, token, "us-east-1", "ecr", t0, 5*time.Minute)

		get, _ := http.NewRequest("GET", signed, nil)
		if code, msg := send(t, get); code != http.StatusNoContent {
			t.Fatalf("presigned GET: status %d: %s", code, msg)
		}
		p, err := Parse(get)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Presigned || p.Expires != 5*time.Minute || p.SecurityToken != token || !p.Date.Equal(t0) || p.Service != "ecr" {
			t.Fatalf("parsed %+v", p)
		}
		if keep := get.URL.Query().Get("keep"); keep != "1" {
			t.Fatalf("original query lost: %q", signed)
		}

		tampered, _ := http.NewRequest("GET", strings.Replace(signed, "sha256:abc", "sha256:abd", 1), nil)
		if code, _ := send(t, tampered); code != http.StatusForbidden {
			t.Fatalf("tampered path accepted")
		}
	}

	u, _ := url.Parse("http://127.0.0.1:5000/v2/x/blobs/sha256:abc")
	signed := Presign(u, testAKID, testSecret, "", "us-east-1", "ecr", t0, 5*time.Minute)
	req, _ := http.NewRequest("GET", signed, nil)
	p, err := Parse(req)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		now  time.Time
		want error
	}{
		{"at expiry", t0.Add(5 * time.Minute), nil},
		{"after expiry", t0.Add(5*time.Minute + time.Second), ErrPresignExpired},
		{"before signing within skew", t0.Add(-10 * time.Minute), nil},
		{"before signing beyond skew", t0.Add(-16 * time.Minute), ErrRequestExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := NewVerifier(WithClock(fixedClock(tc.now))).Verify(req, p, testSecret, "")
			if !errorsIs(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}
