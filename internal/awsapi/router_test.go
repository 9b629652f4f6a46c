package awsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/auth"
)

const (
	testKey    = "AKIAEXAMPLEEXAMPLE01"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

type oneKey struct{ cred *auth.Credential }

func (o oneKey) ResolveAccessKey(id string) (*auth.Credential, error) {
	if id != testKey {
		return nil, apierr.New(apierr.InvalidCredentials, "unknown")
	}
	return o.cred, nil
}
func (oneKey) Generation() uint64 { return 1 }

func newTestRouter(t *testing.T) *Router {
	t.Helper()
	p := &auth.Principal{Type: auth.Root, Account: "111111111111", ARN: "arn:aws:iam::111111111111:root", UserID: "111111111111"}
	a, err := auth.NewAuthenticator(oneKey{auth.NewLongTermCredential(p, testSecret)}, bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	rt := NewRouter(a, nil)
	rt.HandleJSON("AmazonEC2ContainerRegistry_V20150921", "ecr", "Echo", func(ctx context.Context, c *Call) (any, error) {
		if auth.FromContext(ctx) != c.Principal {
			t.Error("principal not in context")
		}
		return map[string]string{"region": c.Region, "op": c.Operation, "arn": c.Principal.ARN, "body": string(c.Body)}, nil
	})
	rt.HandleJSON("AmazonEC2ContainerRegistry_V20150921", "ecr", "Fail", func(context.Context, *Call) (any, error) {
		return nil, apierr.New(apierr.NameUnknown, "The repository with name 'x' does not exist in the registry with id '111111111111'")
	})
	type result struct {
		Account string
	}
	rt.HandleQuery("sts", "https://sts.amazonaws.com/doc/2011-06-15/", "2011-06-15", "GetCallerIdentity", func(_ context.Context, c *Call) (any, error) {
		return result{Account: c.Principal.Account}, nil
	})
	return rt
}

func signed(t *testing.T, srvURL, target, service, region, contentType, body string, secret string) *http.Request {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srvURL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	sum := sha256.Sum256([]byte(body))
	if secret != "" {
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKey, SecretAccessKey: secret}, req, hex.EncodeToString(sum[:]), service, region, time.Now())
		if err != nil {
			t.Fatal(err)
		}
	}
	return req
}

func TestRouter(t *testing.T) {
	srv := httptest.NewServer(newTestRouter(t))
	defer srv.Close()
	const json11 = "application/x-amz-json-1.1"
	const form = "application/x-www-form-urlencoded; charset=utf-8"
	for _, tc := range []struct {
		name, target, service, region, ctype, body, secret string
		status                                             int
		want                                               string // substring of the body
		errType                                            string // X-Amzn-ErrorType for JSON errors
	}{
		{"json ok", "AmazonEC2ContainerRegistry_V20150921.Echo", "ecr", "eu-west-2", json11, `{"a":1}`, testSecret, 200, `"region":"eu-west-2"`, ""},
		{"json empty body becomes {}", "AmazonEC2ContainerRegistry_V20150921.Echo", "ecr", "us-east-1", json11, ``, testSecret, 200, `"body":"{}"`, ""},
		{"json domain error", "AmazonEC2ContainerRegistry_V20150921.Fail", "ecr", "us-east-1", json11, `{}`, testSecret, 400, `"__type":"RepositoryNotFoundException"`, "RepositoryNotFoundException"},
		{"json unsigned", "AmazonEC2ContainerRegistry_V20150921.Echo", "ecr", "us-east-1", json11, `{}`, "", 400, "MissingAuthenticationTokenException", "MissingAuthenticationTokenException"},
		{"json bad secret", "AmazonEC2ContainerRegistry_V20150921.Echo", "ecr", "us-east-1", json11, `{}`, "wrong" + testSecret[5:], 400, "InvalidSignatureException", "InvalidSignatureException"},
		{"json wrong service scope", "AmazonEC2ContainerRegistry_V20150921.Echo", "ssm", "us-east-1", json11, `{}`, testSecret, 400, "Credential should be scoped to correct service", "InvalidSignatureException"},
		{"json unknown op", "AmazonEC2ContainerRegistry_V20150921.Nope", "ecr", "us-east-1", json11, `{}`, testSecret, 400, "UnknownOperationException", "UnknownOperationException"},
		{"json unknown service", "Nope_2020.Echo", "ecr", "us-east-1", json11, `{}`, testSecret, 400, "UnknownOperationException", "UnknownOperationException"},
		{"query ok", "", "sts", "eu-west-1", form, "Action=GetCallerIdentity&Version=2011-06-15", testSecret, 200, "<Account>111111111111</Account>", ""},
		{"query unknown action", "", "sts", "eu-west-1", form, "Action=Nope&Version=2011-06-15", testSecret, 400, "<Code>InvalidAction</Code>", ""},
		{"query unsigned uses sts namespace", "", "sts", "eu-west-1", form, "Action=GetCallerIdentity&Version=2011-06-15", "", 403, `xmlns="https://sts.amazonaws.com/doc/2011-06-15/"`, ""},
		{"query bad signature", "", "sts", "eu-west-1", form, "Action=GetCallerIdentity&Version=2011-06-15", "wrong" + testSecret[5:], 403, "<Code>SignatureDoesNotMatch</Code>", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := signed(t, srv.URL, tc.target, tc.service, tc.region, tc.ctype, tc.body, tc.secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
				t.Fatalf("status %d body %s; want %d containing %q", resp.StatusCode, b, tc.status, tc.want)
			}
			if resp.Header.Get("X-Amzn-RequestId") == "" {
				t.Error("no request id")
			}
			if tc.errType != "" && resp.Header.Get("X-Amzn-ErrorType") != tc.errType {
				t.Errorf("X-Amzn-ErrorType %q, want %q", resp.Header.Get("X-Amzn-ErrorType"), tc.errType)
			}
			if tc.ctype == form && resp.StatusCode == 200 {
				var v struct{ XMLName xml.Name }
				if err := xml.Unmarshal(b, &v); err != nil || v.XMLName.Local != "GetCallerIdentityResponse" {
					t.Errorf("bad XML %s: %v", b, err)
				}
			}
			if tc.ctype == json11 && resp.StatusCode == 200 && !json.Valid(b) {
				t.Errorf("bad JSON %s", b)
			}
		})
	}
}

func TestRouterBodyLimit(t *testing.T) {
	srv := httptest.NewServer(newTestRouter(t))
	defer srv.Close()
	big := `{"x":"` + strings.Repeat("a", 9<<20) + `"}`
	req := signed(t, srv.URL, "AmazonEC2ContainerRegistry_V20150921.Echo", "ecr", "us-east-1", "application/x-amz-json-1.1", big, testSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "exceeds") {
		t.Fatalf("status %d body %.200s", resp.StatusCode, b)
	}
}

func TestIsAWSRequest(t *testing.T) {
	for _, tc := range []struct {
		method, target, ctype, url string
		want                       bool
	}{
		{"POST", "AmazonSSM.GetParameter", "application/x-amz-json-1.1", "/", true},
		{"POST", "", "application/x-www-form-urlencoded; charset=utf-8", "/", true},
		{"GET", "", "", "/?Action=GetCallerIdentity&Version=2011-06-15", true},
		{"GET", "", "", "/v2/", false},
		{"POST", "", "application/json", "/v2/x/blobs/uploads/", false},
		{"GET", "", "", "/", false},
	} {
		r := httptest.NewRequest(tc.method, tc.url, nil)
		if tc.target != "" {
			r.Header.Set("X-Amz-Target", tc.target)
		}
		if tc.ctype != "" {
			r.Header.Set("Content-Type", tc.ctype)
		}
		if got := IsAWSRequest(r); got != tc.want {
			t.Errorf("%s %s %q: got %v", tc.method, tc.url, tc.target, got)
		}
	}
}
