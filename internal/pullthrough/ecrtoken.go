package pullthrough

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/berth-dev/berth/internal/ecrhost"
)

// An upstream ECR (or another berth) is asked for with AWS access keys:
// the secret's username is an access key id and accessToken its secret
// access key. Registries that speak ECR's Basic challenge
// (service="ecr.amazonaws.com") get a registry token minted with those
// keys through GetAuthorizationToken instead of the keys themselves, as
// `aws ecr get-login-password` does; the token is reused until
// tokenRefreshMargin before it expires.
var accessKeyID = regexp.MustCompile(`^(AKIA|ASIA)[A-Z0-9]{16}$`)

const tokenRefreshMargin = 30 * time.Minute

// ecrService is the service ECR's (and berth's) Basic challenge names.
const ecrService = "ecr.amazonaws.com"

type mintedToken struct {
	creds   Credentials
	expires time.Time
}

// ecrTokenEndpoint is where GetAuthorizationToken for registry base is
// served, and the region to sign for: ECR's regional API endpoint for
// *.amazonaws.com registries, the registry's own address otherwise
// (berth serves the AWS APIs on its registry port).
func ecrTokenEndpoint(base *url.URL) (endpoint, region string) {
	region = "us-east-1"
	if reg, ok := ecrhost.Parse(base.Host); ok {
		region = reg.Region
	}
	if strings.HasSuffix(strings.ToLower(base.Hostname()), ".amazonaws.com") {
		return "https://api.ecr." + region + ".amazonaws.com/", region
	}
	return base.Scheme + "://" + base.Host + "/", region
}

// mintToken calls GetAuthorizationToken with keys and returns the
// registry credentials (AWS + token) and their expiry.
func (u *Upstream) mintToken(ctx context.Context, keys *Credentials) (*mintedToken, error) {
	endpoint, region := ecrTokenEndpoint(u.base)
	body := []byte("{}")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, &UpstreamError{Op: "GetAuthorizationToken", Err: err}
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: keys.Username, SecretAccessKey: keys.Password},
		req, hex.EncodeToString(sum[:]), "ecr", region, u.now()); err != nil {
		return nil, &UpstreamError{Op: "GetAuthorizationToken", Err: err}
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, &UpstreamError{Op: "GetAuthorizationToken", Err: err}
	}
	defer drain(resp)
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, &UpstreamError{Op: "GetAuthorizationToken", Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &e)
		status := resp.StatusCode
		if status >= 400 && status < 500 && status != http.StatusTooManyRequests {
			// AWS answers refused keys and denials with 400/403 JSON
			// errors: for the rule, the credentials were rejected.
			status = http.StatusUnauthorized
		}
		return nil, &UpstreamError{Op: "GetAuthorizationToken", Status: status, Detail: strings.TrimSpace(e.Type + ": " + e.Message)}
	}
	var out struct {
		AuthorizationData []struct {
			AuthorizationToken string  `json:"authorizationToken"`
			ExpiresAt          float64 `json:"expiresAt"`
		} `json:"authorizationData"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.AuthorizationData) == 0 {
		return nil, &UpstreamError{Op: "GetAuthorizationToken", Status: resp.StatusCode, Detail: "answer has no authorizationData"}
	}
	d := out.AuthorizationData[0]
	dec, err := base64.StdEncoding.DecodeString(d.AuthorizationToken)
	user, pass, ok := strings.Cut(string(dec), ":")
	if err != nil || !ok {
		return nil, &UpstreamError{Op: "GetAuthorizationToken", Status: resp.StatusCode, Detail: "authorizationToken is not base64 user:password"}
	}
	exp := time.Unix(0, int64(d.ExpiresAt*1e9))
	if d.ExpiresAt == 0 {
		exp = u.now().Add(time.Hour)
	}
	return &mintedToken{creds: Credentials{Username: user, Password: pass}, expires: exp}, nil
}

// ecrCredentials returns a registry token for the keys the credential
// function yields, minting a new one when there is none or it is within
// tokenRefreshMargin of expiring (or the keys changed).
func (u *Upstream) ecrCredentials(ctx context.Context, keys *Credentials) (*Credentials, error) {
	u.mu.Lock()
	t, keyOf := u.minted, u.mintedFor
	u.mu.Unlock()
	if t != nil && keyOf == keys.Username+"\x00"+keys.Password && u.now().Before(t.expires.Add(-tokenRefreshMargin)) {
		return &t.creds, nil
	}
	t, err := u.mintToken(ctx, keys)
	if err != nil {
		return nil, err
	}
	u.mu.Lock()
	u.minted, u.mintedFor = t, keys.Username+"\x00"+keys.Password
	u.mints++
	u.mu.Unlock()
	return &t.creds, nil
}

// usesAccessKeys: keys of AWS (or berth) that ECR-style registries want
// exchanged for a token.
func usesAccessKeys(c *Credentials) bool { return c != nil && accessKeyID.MatchString(c.Username) }
