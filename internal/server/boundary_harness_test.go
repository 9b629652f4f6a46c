package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/server"
	"github.com/berth-dev/berth/internal/sigv4"
)

// The boundary tests play an attacker who holds valid credentials for SOME
// principal and tries to reach what belongs to another. Account A is the
// default account (the operator's), B and C are created through the admin
// endpoint.
const (
	acctA = "000000000000"
	acctB = "222222222222"
	acctC = "333333333333"
)

type creds struct{ key, secret, token string }

func (c creds) aws() aws.Credentials {
	return aws.Credentials{AccessKeyID: c.key, SecretAccessKey: c.secret, SessionToken: c.token}
}

type world struct {
	t      *testing.T
	srv    *server.Server
	ts     *httptest.Server
	port   string
	rootA  creds
	rootB  creds
	rootC  creds
	region string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	s, ts := newServer(t)
	return withAccounts(t, worldOn(t, s, ts))
}

// worldOn is the world of an already started server (no accounts B and C).
func worldOn(t *testing.T, s *server.Server, ts *httptest.Server) *world {
	t.Helper()
	u, _ := url.Parse(ts.URL)
	return &world{t: t, srv: s, ts: ts, port: u.Port(), rootA: creds{key: opKey, secret: opSecret}, region: "us-east-1"}
}

// withAccounts creates accounts B and C through the admin endpoint.
func withAccounts(t *testing.T, w *world) *world {
	t.Helper()
	ts := w.ts
	op := w.rootA.aws()
	for _, acct := range []struct {
		id  string
		dst *creds
	}{{acctB, &w.rootB}, {acctC, &w.rootC}} {
		st, out := adminPost(t, ts.URL, &op, `{"AccountId":"`+acct.id+`"}`)
		if st != 200 {
			t.Fatalf("create account %s: %d %v", acct.id, st, out)
		}
		*acct.dst = creds{key: out["AccessKeyId"], secret: out["SecretAccessKey"]}
	}
	return w
}

// host is the registry host of account+region; "" is the default host.
func (w *world) host(account, region string) string {
	if account == "" {
		return "127.0.0.1:" + w.port
	}
	return account + ".dkr.ecr." + region + ".localhost:" + w.port
}

type resp struct {
	status int
	header http.Header
	body   string
}

// v2 sends a registry request to host with Basic user/pass (none when user == "").
func (w *world) v2(host, user, pass, method, path string, hdr map[string]string, body []byte) resp {
	w.t.Helper()
	req, err := http.NewRequest(method, w.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Host = host
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{r.StatusCode, r.Header, string(b)}
}

// basicOf is the Basic user/password pair for c (STS creds use the session form).
func basicOf(c creds) (string, string) {
	if c.token != "" {
		return c.key, c.secret + "." + c.token
	}
	return c.key, c.secret
}

// pushImage pushes a one-layer image (layer content = layer) as c to
// host/repo:tag and returns the layer and manifest digests.
func (w *world) pushImage(host string, c creds, repo, tag, layer string) (digest.Digest, digest.Digest) {
	w.t.Helper()
	user, pass := basicOf(c)
	cfg := `{"architecture":"amd64","os":"linux","layer":"` + layer + `"}`
	for _, blob := range []string{cfg, layer} {
		r := w.v2(host, user, pass, "POST", "/v2/"+repo+"/blobs/uploads/?digest="+string(digest.FromString(blob)), nil, []byte(blob))
		if r.status != 201 {
			w.t.Fatalf("push blob to %s/%s: %d %s", host, repo, r.status, r.body)
		}
	}
	m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}`,
		digest.FromString(cfg), len(cfg), digest.FromString(layer), len(layer))
	r := w.v2(host, user, pass, "PUT", "/v2/"+repo+"/manifests/"+tag, map[string]string{"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, []byte(m))
	if r.status != 201 {
		w.t.Fatalf("push manifest to %s/%s: %d %s", host, repo, r.status, r.body)
	}
	return digest.FromString(layer), digest.FromString(m)
}

// call signs and sends an AWS API request. JSON services: target != "";
// Query services: form != nil. Returns status and body.
func (w *world) call(c creds, service, region, target string, body any) (int, string) {
	w.t.Helper()
	var payload []byte
	req, _ := http.NewRequest("POST", w.ts.URL+"/", nil)
	switch b := body.(type) {
	case url.Values:
		payload = []byte(b.Encode())
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	case string:
		payload = []byte(b)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	default:
		payload, _ = json.Marshal(b)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	return w.send(c, req, service, region, payload)
}

// send signs req (with the headers it already carries) and payload as c, and sends it.
func (w *world) send(c creds, req *http.Request, service, region string, payload []byte) (int, string) {
	w.t.Helper()
	req.Body = io.NopCloser(bytes.NewReader(payload))
	req.ContentLength = int64(len(payload))
	if err := v4.NewSigner().SignHTTP(context.Background(), c.aws(), req, sigv4.HashHex(payload), service, region, time.Now()); err != nil {
		w.t.Fatal(err)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer r.Body.Close()
	out, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(out)
}

func (w *world) ecr(c creds, op string, body any) (int, string) {
	w.t.Helper()
	return w.call(c, "ecr", w.region, "AmazonEC2ContainerRegistry_V20150921."+op, body)
}

func (w *world) ecrIn(c creds, region, op string, body any) (int, string) {
	w.t.Helper()
	return w.call(c, "ecr", region, "AmazonEC2ContainerRegistry_V20150921."+op, body)
}

func (w *world) iam(c creds, action string, params map[string]string) (int, string) {
	w.t.Helper()
	v := url.Values{"Action": {action}, "Version": {"2010-05-08"}}
	for k, val := range params {
		v.Set(k, val)
	}
	return w.call(c, "iam", "us-east-1", "", v)
}

func (w *world) sts(c creds, action string, params map[string]string) (int, string) {
	w.t.Helper()
	v := url.Values{"Action": {action}, "Version": {"2011-06-15"}}
	for k, val := range params {
		v.Set(k, val)
	}
	return w.call(c, "sts", "us-east-1", "", v)
}

func (w *world) ssm(c creds, op string, body any) (int, string) {
	w.t.Helper()
	return w.call(c, "ssm", w.region, "AmazonSSM."+op, body)
}

func (w *world) sm(c creds, op string, body any) (int, string) {
	w.t.Helper()
	return w.call(c, "secretsmanager", w.region, "secretsmanager."+op, body)
}

func (w *world) mustIAM(c creds, action string, params map[string]string) string {
	w.t.Helper()
	st, body := w.iam(c, action, params)
	if st != 200 {
		w.t.Fatalf("iam %s %v: %d %s", action, params, st, body)
	}
	return body
}

// mustOK takes an AWS call's (status, body) and fails unless it is a 200.
func (w *world) mustOK(st int, body string) string {
	w.t.Helper()
	if st != 200 {
		w.t.Fatalf("want 200, got %d %s", st, body)
	}
	return body
}

// xmlField pulls <name>value</name> out of an XML body (first occurrence).
func xmlField(body, name string) string {
	_, rest, ok := strings.Cut(body, "<"+name+">")
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, "</"+name+">")
	return v
}

// newUser creates an IAM user in the account of root with an inline
// policy (if any) and managed policies, and returns its access key.
func (w *world) newUser(root creds, name, inline string, managed ...string) creds {
	w.t.Helper()
	w.mustIAM(root, "CreateUser", map[string]string{"UserName": name})
	if inline != "" {
		w.mustIAM(root, "PutUserPolicy", map[string]string{"UserName": name, "PolicyName": "p", "PolicyDocument": inline})
	}
	for _, m := range managed {
		w.mustIAM(root, "AttachUserPolicy", map[string]string{"UserName": name, "PolicyArn": "arn:aws:iam::aws:policy/" + m})
	}
	body := w.mustIAM(root, "CreateAccessKey", map[string]string{"UserName": name})
	return creds{key: xmlField(body, "AccessKeyId"), secret: xmlField(body, "SecretAccessKey")}
}

// ecrToken asks GetAuthorizationToken (in region) and returns the password half.
func (w *world) ecrToken(c creds, region string) string {
	w.t.Helper()
	st, body := w.ecrIn(c, region, "GetAuthorizationToken", "{}")
	w.mustOK(st, body)
	var out struct {
		AuthorizationData []struct{ AuthorizationToken string } `json:"authorizationData"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || len(out.AuthorizationData) == 0 {
		w.t.Fatalf("token body: %s", body)
	}
	raw, _ := base64.StdEncoding.DecodeString(out.AuthorizationData[0].AuthorizationToken)
	_, pass, _ := strings.Cut(string(raw), ":")
	return pass
}

// denied reports whether an AWS JSON/Query answer is an authorization failure.
func denied(st int, body string) bool {
	return st >= 400 && st < 500 && strings.Contains(body, "AccessDenied")
}
