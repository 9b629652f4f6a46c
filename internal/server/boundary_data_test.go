package server_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/berth-dev/berth/internal/server"
	"github.com/berth-dev/berth/internal/sigv4"
)

// SSM and Secrets Manager: account A's all-powerful IAM user against B's
// parameters and secrets, and the /aws/reference/secretsmanager/ bridge.
func TestBoundarySSMAndSecrets(t *testing.T) {
	w := newWorld(t)
	all := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ssm:*","secretsmanager:*"],"Resource":"*"}]}`
	mallory := w.newUser(w.rootA, "mallory", all)
	st, body := w.sm(w.rootB, "CreateSecret", `{"Name":"db","SecretString":"b-db-password"}`)
	w.mustOK(st, body)
	_, arnRest, _ := strings.Cut(body, `"ARN":"`)
	secretARN, _, _ := strings.Cut(arnRest, `"`)
	w.mustOK(w.ssm(w.rootB, "PutParameter", `{"Name":"/prod/db","Value":"b-param-secret","Type":"SecureString"}`))
	paramARN := "arn:aws:ssm:" + w.region + ":" + acctB + ":parameter/prod/db"

	leaks := func(body string) bool {
		return strings.Contains(body, "b-db-password") || strings.Contains(body, "b-param-secret")
	}
	for _, c := range []struct{ svc, op, body string }{
		{"ssm", "GetParameter", `{"Name":"` + paramARN + `","WithDecryption":true}`},
		{"ssm", "GetParameters", `{"Names":["` + paramARN + `"],"WithDecryption":true}`},
		{"ssm", "GetParameterHistory", `{"Name":"` + paramARN + `","WithDecryption":true}`},
		{"ssm", "PutParameter", `{"Name":"` + paramARN + `","Value":"x","Type":"String","Overwrite":true}`},
		{"ssm", "DeleteParameter", `{"Name":"` + paramARN + `"}`},
		{"ssm", "GetParameter", `{"Name":"/aws/reference/secretsmanager/` + secretARN + `","WithDecryption":true}`},
		{"ssm", "GetParameters", `{"Names":["/aws/reference/secretsmanager/` + secretARN + `"],"WithDecryption":true}`},
		{"secretsmanager", "GetSecretValue", `{"SecretId":"` + secretARN + `"}`},
		{"secretsmanager", "PutSecretValue", `{"SecretId":"` + secretARN + `","SecretString":"x"}`},
		{"secretsmanager", "DeleteSecret", `{"SecretId":"` + secretARN + `","ForceDeleteWithoutRecovery":true}`},
		{"secretsmanager", "DescribeSecret", `{"SecretId":"` + secretARN + `"}`},
	} {
		target := map[string]string{"ssm": "AmazonSSM.", "secretsmanager": "secretsmanager."}[c.svc] + c.op
		st, body := w.call(mallory, c.svc, w.region, target, c.body)
		if leaks(body) || (st == 200 && !strings.Contains(body, "InvalidParameters")) {
			t.Errorf("A's user %s %s: %d %s", c.op, c.body, st, body)
		}
	}
	// B's data is intact.
	st, body = w.sm(w.rootB, "GetSecretValue", `{"SecretId":"db"}`)
	if st != 200 || !strings.Contains(body, "b-db-password") {
		t.Fatalf("B's secret changed: %d %s", st, body)
	}
	st, body = w.ssm(w.rootB, "GetParameter", `{"Name":"/prod/db","WithDecryption":true}`)
	if st != 200 || !strings.Contains(body, "b-param-secret") {
		t.Fatalf("B's parameter changed: %d %s", st, body)
	}

	// Same account: the reference needs secretsmanager:GetSecretValue, and
	// ssm:GetParametersByPath / DescribeParameters never show SecureString
	// plaintext without WithDecryption; the ciphertext opens nowhere.
	w.mustOK(w.sm(w.rootA, "CreateSecret", `{"Name":"app","SecretString":"a-app-password"}`))
	w.mustOK(w.ssm(w.rootA, "PutParameter", `{"Name":"/app/key","Value":"a-param-secret","Type":"SecureString"}`))
	ssmOnly := w.newUser(w.rootA, "ssmonly", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:*","Resource":"*"}]}`)
	if st, body := w.ssm(ssmOnly, "GetParameter", `{"Name":"/aws/reference/secretsmanager/app","WithDecryption":true}`); !denied(st, body) || strings.Contains(body, "a-app-password") {
		t.Errorf("reference without secretsmanager:GetSecretValue: %d %s", st, body)
	}
	for _, c := range []struct{ op, body string }{
		{"DescribeParameters", `{}`},
		{"GetParametersByPath", `{"Path":"/app"}`},
		{"GetParameter", `{"Name":"/app/key"}`},
		{"GetParameterHistory", `{"Name":"/app/key"}`},
	} {
		st, body := w.ssm(ssmOnly, c.op, c.body)
		if st != 200 || strings.Contains(body, "a-param-secret") {
			t.Errorf("%s leaks the SecureString: %d %s", c.op, st, body)
		}
		if c.op == "GetParameter" {
			_, v, _ := strings.Cut(body, `"Value":"`)
			v, _, _ = strings.Cut(v, `"`)
			raw, err := base64.StdEncoding.DecodeString(v)
			if err != nil || strings.Contains(string(raw), "a-param-secret") {
				t.Errorf("SecureString without decryption is not opaque ciphertext: %q", v)
			}
			// Storing the ciphertext as another parameter does not decrypt it.
			w.mustOK(w.ssm(ssmOnly, "PutParameter", `{"Name":"/copy","Value":"`+v+`","Type":"SecureString"}`))
			if _, body := w.ssm(ssmOnly, "GetParameter", `{"Name":"/copy","WithDecryption":true}`); strings.Contains(body, "a-param-secret") {
				t.Errorf("ciphertext opened through a copy: %s", body)
			}
		}
	}
	// A path grant does not reach a sibling path.
	narrow := w.newUser(w.rootA, "narrow", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:GetParametersByPath","Resource":"arn:aws:ssm:*:*:parameter/public/*"}]}`)
	for _, p := range []string{"/", "/app", "/public/../app"} {
		st, body := w.ssm(narrow, "GetParametersByPath", `{"Path":"`+p+`","Recursive":true,"WithDecryption":true}`)
		if strings.Contains(body, "/app/key") || strings.Contains(body, "a-param-secret") || (st == 200) != strings.HasPrefix(p, "/public/") {
			t.Errorf("GetParametersByPath %s by a /public/* grant: %d %s", p, st, body)
		}
	}
}

// Only the default account's root, with a header-signed request, may call
// the admin endpoint.
func TestBoundaryAdmin(t *testing.T) {
	w := newWorld(t)
	iamAdmin := w.newUser(w.rootA, "admin", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	st, body := w.sts(w.rootA, "GetSessionToken", map[string]string{"DurationSeconds": "900"})
	w.mustOK(st, body)
	rootSess := aws.Credentials{AccessKeyID: xmlField(body, "AccessKeyId"), SecretAccessKey: xmlField(body, "SecretAccessKey"), SessionToken: xmlField(body, "SessionToken")}
	for _, c := range []struct {
		name string
		cr   aws.Credentials
	}{
		{"root of a created account", w.rootB.aws()},
		{"IAM admin of the default account", iamAdmin.aws()},
		{"STS session of the operator", rootSess},
	} {
		if st, out := adminPost(t, w.ts.URL, &c.cr, `{"AccountId":"444444444444"}`); st == 200 {
			t.Errorf("%s created an account: %v", c.name, out)
		}
	}
	// A presigned URL (which can leak through logs and Referer headers) is not an admin call, even the operator's.
	req, _ := http.NewRequest("POST", w.ts.URL+server.AdminPathPrefix+"CreateAccount?X-Amz-Expires=300", strings.NewReader(`{"AccountId":"555555555555"}`))
	u, _, err := v4.NewSigner().PresignHTTP(t.Context(), w.rootA.aws(), req, sigv4.HashHex([]byte(`{"AccountId":"555555555555"}`)), server.AdminSigningName, "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	preq, _ := http.NewRequest("POST", pu.String(), strings.NewReader(`{"AccountId":"555555555555"}`))
	r, err := http.DefaultClient.Do(preq)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode == 200 || !strings.Contains(string(b), "presigned") {
		t.Errorf("presigned operator request: %d %s", r.StatusCode, b)
	}
	// A GetDownloadUrlForLayer-style link key is not a principal either.
	if st, _ := adminPost(t, w.ts.URL, &aws.Credentials{AccessKeyID: "BERTHLAYERDOWNLOAD", SecretAccessKey: "x"}, `{"AccountId":"666666666666"}`); st == 200 {
		t.Errorf("layer link key reached admin")
	}
	// The operator itself still can.
	op := w.rootA.aws()
	if st, out := adminPost(t, w.ts.URL, &op, `{"AccountId":"777777777777"}`); st != 200 {
		t.Fatalf("operator: %d %v", st, out)
	}
}
