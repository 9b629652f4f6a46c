// Package ecrclient mints registry credentials with ECR GetAuthorizationToken
// (against real ECR or a berth server), caches them in a 0600 file and
// answers "who am I" through STS GetCallerIdentity.
package ecrclient

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/berth-dev/berth/internal/client/dockercfg"
	"github.com/berth-dev/berth/internal/client/endpoint"
)

// DefaultRegion is used for berth hosts whose name carries no region when
// neither --region nor the AWS configuration names one.
const DefaultRegion = "us-east-1"

// ConfigLoader builds an aws.Config for a region and profile; tests inject one.
type ConfigLoader func(ctx context.Context, region, profile string) (aws.Config, error)

// LoadDefaultConfig is the production ConfigLoader: aws-sdk-go-v2's default
// chain (env, shared config/credentials files and profiles incl. SSO,
// credential_process and web identity, ECS task role, EC2 instance profile).
func LoadDefaultConfig(ctx context.Context, region, profile string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	return config.LoadDefaultConfig(ctx, opts...)
}

// Options configure a Client.
type Options struct {
	// Region overrides the region for hosts whose name does not carry one.
	Region string
	// Profile selects a shared-config profile ("" = AWS_PROFILE / default).
	Profile string
	// Cache is the token cache; a zero Cache disables caching.
	Cache Cache
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// LoadConfig builds AWS configs (LoadDefaultConfig when nil).
	LoadConfig ConfigLoader
	// HTTPClient for API calls (the SDK default when nil).
	HTTPClient *http.Client
}

// Client mints tokens.
type Client struct {
	opts Options
}

// New returns a Client.
func New(opts Options) (*Client, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LoadConfig == nil {
		opts.LoadConfig = LoadDefaultConfig
	}
	return &Client{opts: opts}, nil
}

// Token is a registry credential.
type Token struct {
	Username      string // always "AWS"
	Password      string
	RequestedAt   time.Time
	ExpiresAt     time.Time
	ProxyEndpoint string
	Region        string
	APIEndpoint   string // "" = AWS default
	CacheKey      string
	FromCache     bool
	// Warning is set when an API failure was papered over with a cached,
	// still-valid token.
	Warning string
}

// Remaining is how long the token is still valid at now.
func (t Token) Remaining(now time.Time) time.Duration { return t.ExpiresAt.Sub(now) }

// ErrorKind classifies failures so callers can pick exit codes and advice.
type ErrorKind string

const (
	KindNoCredentials ErrorKind = "no-credentials" // the SDK chain found nothing usable
	KindAuth          ErrorKind = "auth"           // the API rejected the caller (AccessDenied, bad signature, expired)
	KindNetwork       ErrorKind = "network"        // endpoint unreachable
	KindUnsupported   ErrorKind = "unsupported"    // host kind berth cannot mint tokens for
	KindOther         ErrorKind = "other"
)

// Error is a failed API interaction, naming operation, endpoint and region.
type Error struct {
	Kind     ErrorKind
	Op       string
	Endpoint string
	Region   string
	Code     string // AWS error code, when the API answered
	Message  string
	Err      error
}

func (e *Error) Error() string {
	ep := e.Endpoint
	if ep == "" {
		ep = "the AWS default endpoint"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s at %s (region %s): ", e.Op, ep, e.Region)
	switch {
	case e.Code != "":
		fmt.Fprintf(&b, "%s: %s", e.Code, e.Message)
	case e.Message != "":
		b.WriteString(e.Message)
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the ErrorKind of err (KindOther if it is not an *Error).
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindOther
}

// GetOptions tune one Token call.
type GetOptions struct {
	// Refresh ignores the cached entry and mints a new token.
	Refresh bool
}

// Region returns the region used for target: the host's, else --region,
// else the AWS configuration's, else DefaultRegion.
func (c *Client) Region(ctx context.Context, target endpoint.Target) (string, aws.Config, error) {
	region := target.Region
	if region == "" {
		region = c.opts.Region
	}
	cfg, err := c.opts.LoadConfig(ctx, region, c.opts.Profile)
	if err != nil {
		return "", aws.Config{}, &Error{Kind: KindNoCredentials, Op: "load AWS configuration", Endpoint: target.APIEndpoint, Region: region, Err: err}
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	return cfg.Region, cfg, nil
}

// Token returns a registry credential for target, from the cache while it is
// in the first half of its lifetime, else from GetAuthorizationToken.
func (c *Client) Token(ctx context.Context, target endpoint.Target, o GetOptions) (Token, error) {
	if target.Kind != endpoint.KindECR && target.Kind != endpoint.KindBerth {
		return Token{}, &Error{Kind: KindUnsupported, Op: "GetAuthorizationToken", Region: target.Region,
			Message: fmt.Sprintf("%s is a %s registry; berth mints tokens only for berth and private ECR hosts", target.Host, target.Kind)}
	}
	region, cfg, err := c.Region(ctx, target)
	if err != nil {
		return Token{}, err
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return Token{}, &Error{Kind: KindNoCredentials, Op: "GetAuthorizationToken", Endpoint: target.APIEndpoint, Region: region,
			Message: "no AWS credentials (looked in env AWS_ACCESS_KEY_ID, shared config/credentials profile, SSO, web identity, ECS task role, EC2 instance profile): " + err.Error(), Err: err}
	}
	registry := target.Account
	if registry == "" {
		registry = "default"
	}
	key := CacheKey(region, creds.AccessKeyID, registry, target.APIEndpoint)
	now := c.opts.Now()
	cached, haveCached, cacheErr := c.opts.Cache.Get(key)
	if cacheErr == nil && haveCached && !o.Refresh && now.Before(cached.FreshUntil()) {
		t, err := tokenFromEntry(cached, key)
		if err == nil {
			t.FromCache = true
			return t, nil
		}
	}
	entry, err := c.getAuthorizationToken(ctx, cfg, target, region)
	if err != nil {
		if haveCached && now.Before(cached.ExpiresAt) && !o.Refresh {
			if t, terr := tokenFromEntry(cached, key); terr == nil {
				t.FromCache = true
				t.Warning = "using cached token because " + err.Error()
				return t, nil
			}
		}
		return Token{}, err
	}
	entry.RequestedAt = now
	t, err := tokenFromEntry(entry, key)
	if err != nil {
		return Token{}, &Error{Kind: KindOther, Op: "GetAuthorizationToken", Endpoint: target.APIEndpoint, Region: region, Err: err}
	}
	// A cache write failure must not fail the pull.
	_ = c.opts.Cache.Put(key, entry, now)
	return t, nil
}

// Forget drops the cached token for target (e.g. after the registry said it
// expired). It needs credentials to compute the key.
func (c *Client) Forget(ctx context.Context, target endpoint.Target) error {
	region, cfg, err := c.Region(ctx, target)
	if err != nil {
		return err
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil
	}
	registry := target.Account
	if registry == "" {
		registry = "default"
	}
	return c.opts.Cache.Delete(CacheKey(region, creds.AccessKeyID, registry, target.APIEndpoint))
}

func tokenFromEntry(e CacheEntry, key string) (Token, error) {
	user, pass, err := DecodeToken(e.AuthorizationToken)
	if err != nil {
		return Token{}, err
	}
	return Token{Username: user, Password: pass, RequestedAt: e.RequestedAt, ExpiresAt: e.ExpiresAt,
		ProxyEndpoint: e.ProxyEndpoint, Region: e.Region, APIEndpoint: e.APIEndpoint, CacheKey: key}, nil
}

// DecodeToken splits an authorizationToken (base64 "AWS:<password>").
func DecodeToken(authorizationToken string) (user, pass string, err error) {
	user, pass, err = dockercfg.DecodeAuth(authorizationToken)
	if err != nil {
		return "", "", fmt.Errorf("authorizationToken: %w", err)
	}
	if pass == "" {
		return "", "", errors.New("authorizationToken has an empty password")
	}
	return user, pass, nil
}

func (c *Client) getAuthorizationToken(ctx context.Context, cfg aws.Config, target endpoint.Target, region string) (CacheEntry, error) {
	api := ecr.NewFromConfig(cfg, func(o *ecr.Options) {
		if target.APIEndpoint != "" {
			o.BaseEndpoint = aws.String(target.APIEndpoint)
		}
		if c.opts.HTTPClient != nil {
			o.HTTPClient = c.opts.HTTPClient
		}
	})
	// No registryIds: deprecated, and the token covers every registry the
	// principal may reach in the region (the same call `aws ecr get-login-password` makes).
	out, err := api.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return CacheEntry{}, apiError("GetAuthorizationToken", target.APIEndpoint, region, err)
	}
	if len(out.AuthorizationData) == 0 || out.AuthorizationData[0].AuthorizationToken == nil {
		return CacheEntry{}, &Error{Kind: KindOther, Op: "GetAuthorizationToken", Endpoint: target.APIEndpoint, Region: region, Message: "response has no authorizationData"}
	}
	d := out.AuthorizationData[0]
	e := CacheEntry{AuthorizationToken: aws.ToString(d.AuthorizationToken), ProxyEndpoint: aws.ToString(d.ProxyEndpoint),
		Region: region, APIEndpoint: target.APIEndpoint}
	if d.ExpiresAt != nil {
		e.ExpiresAt = d.ExpiresAt.UTC()
	} else {
		// ECR always sends expiresAt; assume its documented 12 h if a server does not.
		e.ExpiresAt = c.opts.Now().Add(12 * time.Hour).UTC()
	}
	return e, nil
}

// Identity is the STS caller identity.
type Identity struct {
	Account string
	Arn     string
	UserID  string
}

// CallerIdentity calls STS GetCallerIdentity with the same credential chain,
// region and endpoint used for target.
func (c *Client) CallerIdentity(ctx context.Context, target endpoint.Target) (Identity, string, error) {
	region, cfg, err := c.Region(ctx, target)
	if err != nil {
		return Identity{}, "", err
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return Identity{}, region, &Error{Kind: KindNoCredentials, Op: "GetCallerIdentity", Endpoint: target.APIEndpoint, Region: region,
			Message: "no AWS credentials: " + err.Error(), Err: err}
	}
	api := sts.NewFromConfig(cfg, func(o *sts.Options) {
		if target.APIEndpoint != "" {
			o.BaseEndpoint = aws.String(target.APIEndpoint)
		}
		if c.opts.HTTPClient != nil {
			o.HTTPClient = c.opts.HTTPClient
		}
	})
	out, err := api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, region, apiError("GetCallerIdentity", target.APIEndpoint, region, err)
	}
	return Identity{Account: aws.ToString(out.Account), Arn: aws.ToString(out.Arn), UserID: aws.ToString(out.UserId)}, region, nil
}

func apiError(op, ep, region string, err error) error {
	e := &Error{Kind: KindNetwork, Op: op, Endpoint: ep, Region: region, Err: err}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		e.Code, e.Message = ae.ErrorCode(), ae.ErrorMessage()
		e.Kind = KindOther
		switch e.Code {
		case "AccessDenied", "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
			"ExpiredTokenException", "ExpiredToken", "InvalidClientTokenId", "SignatureDoesNotMatch", "IncompleteSignature",
			"MissingAuthenticationToken":
			e.Kind = KindAuth
		}
		return e
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		e.Kind = KindOther
		if s := re.HTTPStatusCode(); s == 401 || s == 403 {
			e.Kind = KindAuth
		}
	}
	return e
}

// EncodeToken builds an authorizationToken from a password (tests, fakes).
func EncodeToken(password string) string {
	return base64.StdEncoding.EncodeToString([]byte("AWS:" + password))
}
