package sigv4

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testAKID   = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testToken  = "FwoGZXIvYXdzEBYaDHqa0AP1/8cnS+BzGCKBAd7/token+with/base64=="
)

var (
	// t0 is the signing time of every fixed-time test; the verifier's clock is a minute later.
	t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// verifyingServer answers 204 when a request verifies and 403 with the error text otherwise,
// so the request travels through real net/http on both ends (Host, Content-Length, header folding).
func verifyingServer(t *testing.T, v *Verifier, secrets map[string]string) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := verifyRequest(v, r, secrets); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func verifyRequest(v *Verifier, r *http.Request, secrets map[string]string) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		return err
	}
	p, err := Parse(r)
	if err != nil {
		return err
	}
	secret, ok := secrets[p.AccessKeyID]
	if !ok {
		return errors.New("unknown access key")
	}
	return v.Verify(r, p, secret, HashHex(body))
}

func send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func sdkSign(t testing.TB, req *http.Request, body []byte, token, service, region string, at time.Time, s3Style bool) {
	t.Helper()
	ph := HashHex(body)
	if h := req.Header.Get("X-Amz-Content-Sha256"); h != "" {
		ph = h
	}
	err := v4.NewSigner().SignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: token},
		req, ph, service, region, at, func(o *v4.SignerOptions) { o.DisableURIPathEscaping = s3Style })
	if err != nil {
		t.Fatal(err)
	}
}
