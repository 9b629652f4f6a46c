package sigv4

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

type botoRequest struct {
	Kind    string            `json:"kind"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	Service string            `json:"service"`
	Region  string            `json:"region"`
	AKID    string            `json:"akid"`
	Secret  string            `json:"secret"`
	Token   string            `json:"token,omitempty"`
	Expires int               `json:"expires,omitempty"`
}

type botoSigned struct {
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
}

// botoSign runs testdata/botosign.py, which signs with botocore.auth exactly as the aws CLI does.
func botoSign(t *testing.T, now time.Time, reqs []botoRequest) []botoSigned {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	if exec.Command(py, "-c", "import botocore").Run() != nil {
		t.Skip("botocore not installed")
	}
	in, _ := json.Marshal(map[string]any{"now": now.UTC().Format("2006-01-02T15:04:05"), "requests": reqs})
	cmd := exec.Command(py, "testdata/botosign.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("botosign.py: %v\n%s", err, stderr.String())
	}
	var signed []botoSigned
	if err := json.Unmarshal(out, &signed); err != nil {
		t.Fatal(err)
	}
	if len(signed) != len(reqs) {
		t.Fatalf("botosign.py returned %d results for %d requests", len(signed), len(reqs))
	}
	return signed
}

func TestBotocoreSignedRequestsVerify(t *testing.T) {
	v := NewVerifier(WithClock(fixedClock(t0.Add(2 * time.Minute))))
	srv := verifyingServer(t, v, map[string]string{testAKID: testSecret})
	jsonHdr := func(target string) map[string]string {
		return map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}
	}
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
	cases := []struct {
		name string
		req  botoRequest
	}{
		{"ecr DescribeRepositories", botoRequest{Kind: "header", Method: "POST", URL: srv.URL + "/",
			Headers: jsonHdr("AmazonEC2ContainerRegistry_V20150921.DescribeRepositories"), Body: `{"repositoryNames": ["team/app"]}`, Service: "ecr", Region: "eu-west-1"}},
		{"ecr GetAuthorizationToken empty", botoRequest{Kind: "header", Method: "POST", URL: srv.URL + "/",
			Headers: jsonHdr("AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"), Body: `{}`, Service: "ecr", Region: "us-east-1"}},
		{"ssm with session token", botoRequest{Kind: "header", Method: "POST", URL: srv.URL + "/",
			Headers: jsonHdr("AmazonSSM.GetParameter"), Body: `{"Name": "/a/b", "WithDecryption": true}`, Service: "ssm", Region: "us-east-1", Token: testToken}},
		{"iam query", botoRequest{Kind: "header", Method: "POST", URL: srv.URL + "/", Headers: form,
			Body: "Action=CreateUser&Version=2010-05-08&UserName=bob&Tags.member.1.Key=k&Tags.member.1.Value=a%20b%2Bc", Service: "iam", Region: "eu-west-1"}},
		{"sts query with token", botoRequest{Kind: "header", Method: "POST", URL: srv.URL + "/", Headers: form,
			Body: "Action=GetCallerIdentity&Version=2011-06-15", Service: "sts", Region: "us-east-1", Token: testToken}},
		{"sts GET query string", botoRequest{Kind: "header", Method: "GET", URL: srv.URL + "/?Version=2011-06-15&Action=GetCallerIdentity",
			Service: "sts", Region: "us-east-1"}},
		{"s3 presigned", botoRequest{Kind: "presign", Method: "GET", URL: srv.URL + "/bucket/a%20b/c.txt",
			Service: "s3", Region: "us-east-1", Expires: 600}},
		{"s3 put header auth", botoRequest{Kind: "header", Method: "PUT", URL: srv.URL + "/bucket/dir/a%20b~c.bin",
			Body: "object bytes", Service: "s3", Region: "us-east-1"}},
		{"sts presigned with token", botoRequest{Kind: "presign", Method: "GET", URL: srv.URL + "/?Action=GetCallerIdentity&Version=2011-06-15",
			Service: "sts", Region: "us-east-1", Expires: 60 * 15, Token: testToken}},
	}
	reqs := make([]botoRequest, len(cases))
	for i := range cases {
		cases[i].req.AKID, cases[i].req.Secret = testAKID, testSecret
		reqs[i] = cases[i].req
	}
	signed := botoSign(t, t0, reqs)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := signed[i]
			req, err := http.NewRequest(tc.req.Method, s.URL, strings.NewReader(tc.req.Body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range s.Headers {
				req.Header.Set(k, v)
			}
			if tc.req.Kind == "header" && strings.Contains(s.Headers["Authorization"], "content-length") {
				t.Fatalf("botocore unexpectedly signed content-length: %s", s.Headers["Authorization"])
			}
			if code, msg := send(t, req); code != http.StatusNoContent {
				t.Fatalf("status %d: %s\nsigned: %+v", code, msg, s)
			}
			// The same request with one body byte changed must fail.
			if tc.req.Body != "" {
				bad := []byte(tc.req.Body)
				bad[len(bad)-1] ^= 1
				req2, _ := http.NewRequest(tc.req.Method, s.URL, bytes.NewReader(bad))
				for k, v := range s.Headers {
					req2.Header.Set(k, v)
				}
				if code, _ := send(t, req2); code != http.StatusForbidden {
					t.Fatalf("tampered body accepted")
				}
			}
		})
	}
}
