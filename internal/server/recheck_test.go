package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/berth-dev/berth/internal/server"
)

// signAndSend signs req (with whatever extra headers it carries) for a
// JSON service call and sends it.
func (w *world) signAndSend(c creds, req *http.Request, service, target string, payload []byte) (int, string) {
	w.t.Helper()
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	return w.send(c, req, service, w.region, payload)
}

// The re-check list of issue 16: each test pins behaviour that must hold.

// A role's sessions, and ECR tokens minted from them, die with the role and
// do not come back with a new role of the same name; a deactivated key's
// tokens stop at once.
func TestRevocationAfterRoleAndKeyChanges(t *testing.T) {
	w := newWorld(t)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + acctA + `"},"Action":"sts:AssumeRole"}]}`
	w.mustIAM(w.rootA, "CreateRole", map[string]string{"RoleName": "ci", "AssumeRolePolicyDocument": trust})
	w.mustIAM(w.rootA, "PutRolePolicy", map[string]string{"RoleName": "ci", "PolicyName": "p", "PolicyDocument": policyDoc(allowAll)})
	dev := w.newUser(w.rootA, "dev", policyDoc(allowAll))
	st, body := w.sts(dev, "AssumeRole", map[string]string{"RoleArn": "arn:aws:iam::" + acctA + ":role/ci", "RoleSessionName": "build"})
	w.mustOK(st, body)
	sess := creds{key: xmlField(body, "AccessKeyId"), secret: xmlField(body, "SecretAccessKey"), token: xmlField(body, "SessionToken")}
	sessToken := w.ecrToken(sess, w.region)
	keyToken := w.ecrToken(dev, w.region)
	su, sp := basicOf(sess)
	opens := func(user, pass string) bool {
		return w.v2(w.host("", ""), user, pass, "GET", "/v2/_catalog", nil, nil).status == 200
	}
	if !opens("AWS", sessToken) || !opens(su, sp) || !opens("AWS", keyToken) {
		t.Fatal("credentials do not work before revocation")
	}

	w.mustIAM(w.rootA, "UpdateAccessKey", map[string]string{"UserName": "dev", "AccessKeyId": dev.key, "Status": "Inactive"})
	if opens("AWS", keyToken) || opens(dev.key, dev.secret) {
		t.Error("token or key of a deactivated key still opens /v2/")
	}
	if st, body := w.ecr(dev, "DescribeRepositories", "{}"); st == 200 || !strings.Contains(body, "UnrecognizedClient") {
		t.Errorf("deactivated key signs: %d %s", st, body)
	}

	w.mustIAM(w.rootA, "DeleteRolePolicy", map[string]string{"RoleName": "ci", "PolicyName": "p"})
	w.mustIAM(w.rootA, "DeleteRole", map[string]string{"RoleName": "ci"})
	check := func(stage string) {
		t.Helper()
		if opens("AWS", sessToken) || opens(su, sp) {
			t.Errorf("%s: session or its token still opens /v2/", stage)
		}
		if st, body := w.ecr(sess, "DescribeRepositories", "{}"); st == 200 {
			t.Errorf("%s: session still signs: %s", stage, body)
		}
	}
	check("after DeleteRole")
	w.mustIAM(w.rootA, "CreateRole", map[string]string{"RoleName": "ci", "AssumeRolePolicyDocument": trust})
	w.mustIAM(w.rootA, "PutRolePolicy", map[string]string{"RoleName": "ci", "PolicyName": "p", "PolicyDocument": policyDoc(allowAll)})
	check("after re-creating the role")
}

// NotPrincipal in repository policies: a Deny applies to everyone not
// listed, an Allow grants everyone not listed.
func TestNotPrincipalInRepositoryPolicy(t *testing.T) {
	w := newWorld(t)
	w.mustOK(w.ecr(w.rootA, "CreateRepository", `{"repositoryName":"frozen"}`))
	deployer := w.newUser(w.rootA, "deployer", policyDoc(allowAll))
	admin := w.newUser(w.rootA, "admin", policyDoc(allowAll))
	pol := policyDoc(
		`{"Sid":"onlydeployer","Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::`+acctA+`:user/deployer","arn:aws:iam::`+acctA+`:root"]},"Action":"ecr:PutImageTagMutability"}`,
		`{"Sid":"allbutc","Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::`+acctC+`:root"},"Action":"ecr:DescribeImages"}`)
	w.mustOK(w.ecr(w.rootA, "SetRepositoryPolicy", map[string]string{"repositoryName": "frozen", "policyText": pol}))
	mut := `{"repositoryName":"frozen","imageTagMutability":"IMMUTABLE"}`
	wantDenied(t, "admin (not listed) under the NotPrincipal Deny")(w.ecr(admin, "PutImageTagMutability", mut))
	wantOK(t, "deployer (listed)")(w.ecr(deployer, "PutImageTagMutability", mut))
	wantOK(t, "root (listed)")(w.ecr(w.rootA, "PutImageTagMutability", mut))
	desc := `{"registryId":"` + acctA + `","repositoryName":"frozen"}`
	wantOK(t, "B root under the NotPrincipal Allow")(w.ecr(w.rootB, "DescribeImages", desc))
	wantDenied(t, "C root (excluded from the Allow)")(w.ecr(w.rootC, "DescribeImages", desc))
}

// A permissions boundary is a ceiling, and a group's Deny still wins under it.
func TestBoundaryWithGroupDeny(t *testing.T) {
	w := newWorld(t)
	b := w.mustIAM(w.rootA, "CreatePolicy", map[string]string{"PolicyName": "ecr-only", "PolicyDocument": policyDoc(`{"Effect":"Allow","Action":["ecr:*","iam:GetUser"],"Resource":"*"}`)})
	boundary := xmlField(b, "Arn")
	w.mustIAM(w.rootA, "CreateGroup", map[string]string{"GroupName": "nodelete"})
	w.mustIAM(w.rootA, "PutGroupPolicy", map[string]string{"GroupName": "nodelete", "PolicyName": "deny", "PolicyDocument": policyDoc(
		`{"Effect":"Deny","Action":"ecr:DeleteRepository","Resource":"*"}`, `{"Effect":"Allow","Action":"ssm:*","Resource":"*"}`)})
	w.mustIAM(w.rootA, "CreateUser", map[string]string{"UserName": "bounded", "PermissionsBoundary": boundary})
	w.mustIAM(w.rootA, "PutUserPolicy", map[string]string{"UserName": "bounded", "PolicyName": "all", "PolicyDocument": policyDoc(allowAll)})
	w.mustIAM(w.rootA, "AddUserToGroup", map[string]string{"GroupName": "nodelete", "UserName": "bounded"})
	k := w.mustIAM(w.rootA, "CreateAccessKey", map[string]string{"UserName": "bounded"})
	u := creds{key: xmlField(k, "AccessKeyId"), secret: xmlField(k, "SecretAccessKey")}
	wantOK(t, "CreateRepository (identity and boundary allow)")(w.ecr(u, "CreateRepository", `{"repositoryName":"mine"}`))
	wantDenied(t, "DeleteRepository (group Deny)")(w.ecr(u, "DeleteRepository", `{"repositoryName":"mine"}`))
	wantDenied(t, "SSM (group allows, boundary does not)")(w.ssm(u, "PutParameter", `{"Name":"x","Value":"y","Type":"String"}`))
	wantDenied(t, "IAM CreateUser (identity allows, boundary does not)")(w.iam(u, "CreateUser", map[string]string{"UserName": "escape"}))
	// The boundary cannot be lifted from inside it: moving out of the group is IAM, outside the boundary.
	wantDenied(t, "RemoveUserFromGroup from inside")(w.iam(u, "RemoveUserFromGroup", map[string]string{"GroupName": "nodelete", "UserName": "bounded"}))
}

// aws:SourceIp is the TCP peer: X-Forwarded-For and friends are ignored
// (berth has no trusted-proxy setting, so no client may choose its IP).
func TestSourceIpIgnoresForwardedHeaders(t *testing.T) {
	w := newWorld(t)
	dev := w.newUser(w.rootA, "dev", policyDoc(allowAll,
		`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`))
	wantDenied(t, "from 127.0.0.1")(w.ecr(dev, "DescribeRepositories", "{}"))
	w.mustOK(w.ecr(w.rootA, "CreateRepository", `{"repositoryName":"app"}`))
	du, dp := basicOf(dev)
	for _, h := range []map[string]string{
		{"X-Forwarded-For": "10.1.2.3"}, {"X-Real-Ip": "10.1.2.3"}, {"Forwarded": "for=10.1.2.3"}, {"True-Client-Ip": "10.1.2.3"},
	} {
		if r := w.v2(w.host("", ""), du, dp, "GET", "/v2/app/tags/list", h, nil); r.status != 403 {
			t.Errorf("/v2/ with %v: %d %s", h, r.status, r.body)
		}
	}
	// The AWS API front door, signed with the spoofing header included.
	req, _ := http.NewRequest("POST", w.ts.URL+"/", strings.NewReader("{}"))
	req.Header.Set("X-Forwarded-For", "10.1.2.3")
	st, body := w.signAndSend(dev, req, "ecr", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories", []byte("{}"))
	wantDenied(t, "AWS API with X-Forwarded-For")(st, body)
}

// Blob GETs cannot be turned into an amplifier by Range: a request for
// many ranges gets the plain blob (RFC 9110 lets a server ignore Range),
// a range past the end gets 416, and what is sent never exceeds the blob
// plus headers.
func TestRangeAbuseOnBlobGET(t *testing.T) {
	w := newWorld(t)
	tok := w.ecrToken(w.rootA, w.region)
	host := w.host(acctA, w.region)
	layer := strings.Repeat("0123456789abcdef", 4096) // 64 KiB
	layerDigest, _ := w.pushImage(host, creds{key: "AWS", secret: tok}, "app", "v1", layer)
	path := "/v2/app/blobs/" + string(layerDigest)

	var ranges []string
	for i := 0; i < 2000; i++ {
		ranges = append(ranges, fmt.Sprintf("%d-%d", i*2, i*2))
	}
	r := w.v2(host, "AWS", tok, "GET", path, map[string]string{"Range": "bytes=" + strings.Join(ranges, ",")}, nil)
	if r.status != 200 || r.body != layer {
		t.Errorf("2000 ranges: %d, %d bytes (want 200 with the %d-byte blob)", r.status, len(r.body), len(layer))
	}
	r = w.v2(host, "AWS", tok, "GET", path, map[string]string{"Range": "bytes=0-0,10-10"}, nil)
	if r.status != 206 || !strings.HasPrefix(r.header.Get("Content-Type"), "multipart/byteranges") {
		t.Errorf("two ranges: %d %s", r.status, r.header.Get("Content-Type"))
	}
	r = w.v2(host, "AWS", tok, "GET", path, map[string]string{"Range": "bytes=999999999-"}, nil)
	if r.status != 416 {
		t.Errorf("range past the end: %d", r.status)
	}
	r = w.v2(host, "AWS", tok, "GET", path, map[string]string{"Range": "bytes=10-20"}, nil)
	if r.status != 206 || r.body != layer[10:21] {
		t.Errorf("one range: %d %q", r.status, r.body)
	}
}

// Manifests and indexes over the limit are refused without being stored,
// and the limit holds however the body is framed.
func TestLargeIndexRefused(t *testing.T) {
	w := newWorld(t)
	tok := w.ecrToken(w.rootA, w.region)
	host := w.host(acctA, w.region)
	_, manifest := w.pushImage(host, creds{key: "AWS", secret: tok}, "app", "v1", "layer")
	var b bytes.Buffer
	b.WriteString(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`)
	entry := `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + string(manifest) + `","size":1,"platform":{"architecture":"amd64","os":"linux"}}`
	for i := 0; b.Len() < 5<<20; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(entry)
	}
	b.WriteString(`]}`)
	hdr := map[string]string{"Content-Type": "application/vnd.oci.image.index.v1+json"}
	r := w.v2(host, "AWS", tok, "PUT", "/v2/app/manifests/huge", hdr, b.Bytes())
	if r.status < 400 || r.status >= 500 {
		t.Errorf("5 MiB index: %d %s", r.status, r.body)
	}
	if r := w.v2(host, "AWS", tok, "GET", "/v2/app/manifests/huge", nil, nil); r.status != 404 {
		t.Errorf("the refused index was stored: %d", r.status)
	}
	// Same through chunked transfer (no Content-Length).
	req, _ := http.NewRequest("PUT", w.ts.URL+"/v2/app/manifests/huge2", io.NopCloser(bytes.NewReader(b.Bytes())))
	req.Host = host
	req.SetBasicAuth("AWS", tok)
	req.Header.Set("Content-Type", hdr["Content-Type"])
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Errorf("chunked 5 MiB index: %d", resp.StatusCode)
	}
	// And through the ECR API.
	st, body := w.ecr(w.rootA, "PutImage", map[string]string{"repositoryName": "app", "imageTag": "huge3", "imageManifest": b.String()})
	if st == 200 {
		t.Errorf("PutImage of a 5 MiB index: %d %s", st, body[:min(200, len(body))])
	}
}

// The admin endpoint answers only the operator's own long-term root key,
// and says nothing to anyone else.
func TestAdminEndpointStrangers(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		name string
		cr   *aws.Credentials
	}{
		{"anonymous", nil},
		{"unknown key", &aws.Credentials{AccessKeyID: "AKIAUNKNOWNUNKNOWN00", SecretAccessKey: "x"}},
		{"wrong secret for the operator key", &aws.Credentials{AccessKeyID: w.rootA.key, SecretAccessKey: "wrong"}},
	} {
		if st, out := adminPost(t, w.ts.URL, c.cr, `{"AccountId":"888888888888"}`); st == 200 || st >= 500 {
			t.Errorf("%s: %d %v", c.name, st, out)
		}
	}
	// Unknown admin operations and methods are errors, not panics or 200s.
	for _, m := range []string{"GET", "DELETE"} {
		req, _ := http.NewRequest(m, w.ts.URL+server.AdminPathPrefix+"CreateAccount", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 || resp.StatusCode >= 500 {
			t.Errorf("%s admin: %d", m, resp.StatusCode)
		}
	}
}

// With --trusted-proxy the proxy's X-Forwarded-For names the client, and
// only the proxy's: a client-written prefix is not believed.
func TestSourceIpBehindTrustedProxy(t *testing.T) {
	s, err := server.New(t.Context(), server.Config{DataDir: t.TempDir(), AccountID: acctA,
		RootAccessKeyID: opKey, RootSecretKey: opSecret, Metadata: testMetadata(t), TrustedProxies: []string{"127.0.0.1/32"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	w := worldOn(t, s, ts)
	dev := w.newUser(w.rootA, "dev", policyDoc(allowAll,
		`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`))
	send := func(xff string) (int, string) {
		req, _ := http.NewRequest("POST", ts.URL+"/", nil)
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		return w.signAndSend(dev, req, "ecr", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories", []byte("{}"))
	}
	wantDenied(t, "no X-Forwarded-For: the proxy itself is the client")(send(""))
	wantOK(t, "proxy forwards 10.1.2.3")(send("10.1.2.3"))
	wantDenied(t, "client wrote 10.1.2.3 before its real address")(send("10.1.2.3, 203.0.113.5"))
	w.mustOK(w.ecr(w.rootA, "CreateRepository", `{"repositoryName":"app"}`))
	du, dp := basicOf(dev)
	if r := w.v2(w.host("", ""), du, dp, "GET", "/v2/app/tags/list", map[string]string{"X-Forwarded-For": "10.1.2.3"}, nil); r.status != 200 {
		t.Errorf("/v2/ through the trusted proxy: %d %s", r.status, r.body)
	}
	if _, err := server.New(t.Context(), server.Config{DataDir: t.TempDir(), TrustedProxies: []string{"not-an-ip"}}, nil); err == nil {
		t.Error("bad --trusted-proxy accepted")
	}
}
