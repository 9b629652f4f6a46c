package ecr_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func TestValidatePullThroughCacheRule(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sm := e.secretsManager()
	rule := func(prefix, url, cred string) {
		t.Helper()
		in := &ecrsdk.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String(prefix), UpstreamRegistryUrl: aws.String(url)}
		if cred != "" {
			in.CredentialArn = aws.String(cred)
		}
		must[*ecrsdk.CreatePullThroughCacheRuleOutput](t)(e.root.CreatePullThroughCacheRule(ctx, in))
	}
	// The upstream: /v2/ answers 200 to Basic u:t (the secret e.secret
	// stores) and 401 to anything else.
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); ok && u == "u" && p == "t" && r.URL.Path == "/v2/" {
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer up.Close()
	good := e.secret("ecr-pullthroughcache/hub-good")
	wrong := must[*secretsmanager.CreateSecretOutput](t)(sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("ecr-pullthroughcache/wrong"), SecretString: aws.String(`{"username":"u","accessToken":"nope"}`)}))
	notJSON := must[*secretsmanager.CreateSecretOutput](t)(sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("ecr-pullthroughcache/hub-text"), SecretString: aws.String("user:token")}))
	noToken := must[*secretsmanager.CreateSecretOutput](t)(sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("ecr-pullthroughcache/hub-half"), SecretString: aws.String(`{"username":"u"}`)}))
	deleted := e.secret("ecr-pullthroughcache/hub-gone")
	rule("hub-good", up.URL, good)
	rule("wrong", up.URL, *wrong.ARN)
	rule("anon", up.URL, "")
	rule("metadata", "http://169.254.169.254", "")
	rule("hub-text", "registry-1.docker.io", *notJSON.ARN)
	rule("hub-half", "registry-1.docker.io", *noToken.ARN)
	rule("hub-gone", "registry-1.docker.io", deleted)
	must[*secretsmanager.DeleteSecretOutput](t)(sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(deleted)}))

	tests := []struct {
		prefix  string
		valid   bool
		failure string
	}{
		{"hub-good", true, ""},
		{"wrong", false, "rejected the credentials in secret '" + *wrong.ARN + "'"},
		{"anon", false, "requires credentials: give the rule a credentialArn"},
		{"metadata", false, "169.254.169.254 is a loopback, link-local, private or reserved address"},
		{"hub-text", false, "is not a JSON object with the keys username and accessToken"},
		{"hub-half", false, "must contain non-empty username and accessToken values"},
		{"hub-gone", false, "does not exist or has no string value"},
	}
	for _, tc := range tests {
		t.Run(tc.prefix, func(t *testing.T) {
			out := must[*ecrsdk.ValidatePullThroughCacheRuleOutput](t)(e.root.ValidatePullThroughCacheRule(ctx, &ecrsdk.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String(tc.prefix)}))
			if out.IsValid != tc.valid || *out.EcrRepositoryPrefix != tc.prefix || *out.RegistryId != account || out.UpstreamRegistryUrl == nil {
				t.Fatalf("%+v", out)
			}
			failure := aws.ToString(out.Failure)
			if (tc.failure == "") != (failure == "") || !strings.Contains(failure, tc.failure) {
				t.Fatalf("failure %q, want %q", failure, tc.failure)
			}
			if strings.Contains(failure, "user:token") || strings.Contains(failure, `"u"`) || strings.Contains(failure, "nope") {
				t.Fatalf("failure text leaks the secret value: %s", failure)
			}
		})
	}
	_, err := e.root.ValidatePullThroughCacheRule(ctx, &ecrsdk.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("nope")})
	apiErr(t, err, "PullThroughCacheRuleNotFoundException", "The pull through cache rule with prefix 'nope' does not exist in the registry with id '111111111111'")
	_, err = e.root.ValidatePullThroughCacheRule(ctx, &ecrsdk.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("x")})
	apiErr(t, err, "InvalidParameterException", "Invalid parameter at 'ecrRepositoryPrefix' failed to satisfy constraint: 'Member must have length between 2 and 30'")
	ro, _ := e.user(account, "ro", "AmazonEC2ContainerRegistryReadOnly")
	_, err = ro.ValidatePullThroughCacheRule(ctx, &ecrsdk.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("hub-good")})
	apiErr(t, err, "AccessDeniedException", "ecr:ValidatePullThroughCacheRule")
}
