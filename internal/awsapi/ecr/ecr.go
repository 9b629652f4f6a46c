// Package ecr serves the Amazon ECR API (AWS JSON 1.1, target prefix
// AmazonEC2ContainerRegistry_V20150921) on the awsapi front door. Each
// handler decodes its input, validates it the way ECR does (botocore checks
// little and aws-sdk-go-v2 less, so the server answers every constraint with
// InvalidParameterException "Invalid parameter at 'X' failed to satisfy
// constraint: '…'"), authorizes the operation's ecr: action on the
// repository ARN (or "*" for registry-level actions), and calls the images
// service, which is shared with /v2/ so both APIs see one registry.
package ecr

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/storage"
)

// TargetPrefix and SigningName identify ECR on the JSON 1.1 front door.
const (
	TargetPrefix = "AmazonEC2ContainerRegistry_V20150921"
	SigningName  = "ecr"
)

// Authorizer decides ecr: actions; internal/authz.Authorizer implements it.
type Authorizer interface {
	AuthorizeRepo(ctx context.Context, p *auth.Principal, action string, k storage.RepoKey, info auth.RequestInfo) error
	AuthorizeRegistry(ctx context.Context, p *auth.Principal, action, account, region string, info auth.RequestInfo) error
	Authorize(ctx context.Context, p *auth.Principal, action, resource, resourceAccount, resourcePolicy string, info auth.RequestInfo) error
	// Effect and RepoEffect decide for listings, telling an explicit Deny
	// from an implicit one.
	Effect(ctx context.Context, p *auth.Principal, action, resource, resourceAccount string, info auth.RequestInfo) (iam.Effect, error)
	RepoEffect(ctx context.Context, p *auth.Principal, action string, r *storage.Repository, info auth.RequestInfo) (iam.Effect, error)
	// InvalidateRepository drops cached policy/tags after this package changes them.
	InvalidateRepository(k storage.RepoKey)
}

// TokenIssuer mints GetAuthorizationToken passwords (auth.Authenticator).
type TokenIssuer interface {
	IssueToken(ctx context.Context, p *auth.Principal, region string) (string, time.Time, error)
}

// PrincipalResolver re-resolves the principal behind an access key id when a
// presigned layer URL is used, so a deleted key or user stops its links
// (iamsvc.Service implements it).
type PrincipalResolver interface {
	PrincipalForCredential(id string) (*auth.Principal, error)
}

// SecretChecker reports whether a Secrets Manager secret exists in
// account+region; pull-through cache rules check their credentialArn with
// it, and ValidatePullThroughCacheRule reads its current string value
// (ok false: no such secret, or scheduled for deletion, or binary only).
// Optional: without one, rules are stored unchecked and cannot be validated.
type SecretChecker interface {
	SecretExists(ctx context.Context, account, region, secretARN string) (bool, error)
	SecretString(ctx context.Context, account, region, secretARN string) (value string, ok bool, err error)
}

// Deps are the collaborators of the ECR API.
type Deps struct {
	Images     *images.Service
	Authorizer Authorizer
	Tokens     TokenIssuer
	// Store keeps registry-level documents (registry policy, replication
	// configuration, pull-through cache rules, lifecycle previews).
	Store RegistryStore
	// Principals and PresignKey (≥ 32 random bytes, stable across restarts
	// if links must survive them) back GetDownloadUrlForLayer.
	Principals PrincipalResolver
	PresignKey []byte
	Secrets    SecretChecker
	// Upstreams contacts pull-through upstreams (optional).
	Upstreams UpstreamValidator
	// Default is the registry served on hosts that are not ACCOUNT.dkr.ecr.REGION.*.
	Default ecrhost.Registry
	Now     func() time.Time
	Log     *slog.Logger
}

// API is the registered ECR service. It also serves presigned layer
// downloads (see DownloadPathPrefix).
type API struct {
	img     *images.Service
	authz   Authorizer
	tokens  TokenIssuer
	store   RegistryStore
	princ   PrincipalResolver
	secrets SecretChecker
	ups     UpstreamValidator
	presign presigner
	def     ecrhost.Registry
	now     func() time.Time
	log     *slog.Logger
	re      patterns
	// stateMu serialises read-modify-write of per-image storage-class
	// records and of the list-valued registry documents.
	stateMu sync.Mutex
}

// patterns are the model's regular expressions, compiled once per API.
type patterns struct {
	repoName, layerDigest, ptcPrefix, credentialARN, repoFilter, mutFilter, region, uploadID, kmsKey, scanFilter, signingFilter, signingProfile, principalARN *regexp.Regexp
}

func compilePatterns() (patterns, error) {
	var p patterns
	var err error
	for _, x := range []struct {
		dst **regexp.Regexp
		src string
	}{
		{&p.repoName, `^` + patRepoName + `$`},
		{&p.layerDigest, `^` + patLayerDigest + `$`},
		{&p.ptcPrefix, patPTCPrefix},
		{&p.credentialARN, patCredentialARN},
		{&p.repoFilter, patRepoFilter},
		{&p.mutFilter, patMutFilter},
		{&p.region, `^` + patRegion + `$`},
		{&p.uploadID, `^` + patUploadID + `$`},
		{&p.kmsKey, `^(?:` + patKMSKey + `)$`},
		{&p.scanFilter, patScanFilter},
		{&p.signingFilter, patSigningFilter},
		{&p.signingProfile, patSigningProfile},
		{&p.principalARN, patPrincipalARN},
	} {
		if *x.dst, err = regexp.Compile(x.src); err != nil {
			return p, err
		}
	}
	return p, nil
}

// Model patterns (botocore ecr 2015-09-21), quoted in error messages.
const (
	patRepoName      = `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`
	patRegistryID    = `[0-9]{12}`
	patLayerDigest   = `[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+`
	patPTCPrefix     = `^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)$`
	patCredentialARN = `^arn:aws(-\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr\-pullthroughcache\/[a-zA-Z0-9\/_+=.@-]+$`
	patRepoFilter    = `^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$`
	patMutFilter     = `^[0-9a-zA-Z._*-]{1,128}$`
	patRegion        = `[0-9a-z-]{2,25}`
	patUploadID      = `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`
)

// Register validates d, registers every ECR operation on rt and returns the
// API, whose LayerDownloads handler the server mounts under DownloadPathPrefix.
func Register(rt *awsapi.Router, d Deps) (*API, error) {
	if d.Images == nil || d.Authorizer == nil || d.Tokens == nil || d.Store == nil {
		return nil, errors.New("ecr: images, authorizer, token issuer and registry store are required")
	}
	if d.Principals == nil || len(d.PresignKey) < 32 {
		return nil, errors.New("ecr: a principal resolver and a presign key of at least 32 bytes are required")
	}
	if !ecrhost.IsAccountID(d.Default.Account) || d.Default.Region == "" {
		return nil, errors.New("ecr: default registry needs a 12-digit account and a region")
	}
	re, err := compilePatterns()
	if err != nil {
		return nil, err
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	a := &API{img: d.Images, authz: d.Authorizer, tokens: d.Tokens, store: d.Store, princ: d.Principals,
		secrets: d.Secrets, ups: d.Upstreams, presign: newPresigner(d.PresignKey), def: d.Default, now: d.Now, log: d.Log, re: re}
	for op, h := range a.handlers() {
		rt.HandleJSON(TargetPrefix, SigningName, op, h)
	}
	return a, nil
}

func (a *API) handlers() map[string]awsapi.Handler {
	return map[string]awsapi.Handler{
		"GetAuthorizationToken":                   a.getAuthorizationToken,
		"CreateRepository":                        a.createRepository,
		"DescribeRepositories":                    a.describeRepositories,
		"DeleteRepository":                        a.deleteRepository,
		"PutImageTagMutability":                   a.putImageTagMutability,
		"PutImageScanningConfiguration":           a.putImageScanningConfiguration,
		"BatchGetRepositoryScanningConfiguration": a.batchGetRepositoryScanningConfiguration,
		"ListImages":                              a.listImages,
		"DescribeImages":                          a.describeImages,
		"BatchGetImage":                           a.batchGetImage,
		"BatchDeleteImage":                        a.batchDeleteImage,
		"PutImage":                                a.putImage,
		"DescribeImageReplicationStatus":          a.describeImageReplicationStatus,
		"BatchCheckLayerAvailability":             a.batchCheckLayerAvailability,
		"GetDownloadUrlForLayer":                  a.getDownloadURLForLayer,
		"InitiateLayerUpload":                     a.initiateLayerUpload,
		"UploadLayerPart":                         a.uploadLayerPart,
		"CompleteLayerUpload":                     a.completeLayerUpload,
		"SetRepositoryPolicy":                     a.setRepositoryPolicy,
		"GetRepositoryPolicy":                     a.getRepositoryPolicy,
		"DeleteRepositoryPolicy":                  a.deleteRepositoryPolicy,
		"PutRegistryPolicy":                       a.putRegistryPolicy,
		"GetRegistryPolicy":                       a.getRegistryPolicy,
		"DeleteRegistryPolicy":                    a.deleteRegistryPolicy,
		"PutReplicationConfiguration":             a.putReplicationConfiguration,
		"DescribeRegistry":                        a.describeRegistry,
		"CreatePullThroughCacheRule":              a.createPullThroughCacheRule,
		"DescribePullThroughCacheRules":           a.describePullThroughCacheRules,
		"DeletePullThroughCacheRule":              a.deletePullThroughCacheRule,
		"UpdatePullThroughCacheRule":              a.updatePullThroughCacheRule,
		"PutLifecyclePolicy":                      a.putLifecyclePolicy,
		"GetLifecyclePolicy":                      a.getLifecyclePolicy,
		"DeleteLifecyclePolicy":                   a.deleteLifecyclePolicy,
		"StartLifecyclePolicyPreview":             a.startLifecyclePolicyPreview,
		"GetLifecyclePolicyPreview":               a.getLifecyclePolicyPreview,
		"TagResource":                             a.tagResource,
		"UntagResource":                           a.untagResource,
		"ListTagsForResource":                     a.listTagsForResource,
		"ListImageReferrers":                      a.listImageReferrers,
		"CreateRepositoryCreationTemplate":        a.createRepositoryCreationTemplate,
		"DescribeRepositoryCreationTemplates":     a.describeRepositoryCreationTemplates,
		"UpdateRepositoryCreationTemplate":        a.updateRepositoryCreationTemplate,
		"DeleteRepositoryCreationTemplate":        a.deleteRepositoryCreationTemplate,
		"GetAccountSetting":                       a.getAccountSetting,
		"PutAccountSetting":                       a.putAccountSetting,
		"GetRegistryScanningConfiguration":        a.getRegistryScanningConfiguration,
		"PutRegistryScanningConfiguration":        a.putRegistryScanningConfiguration,
		"DescribeImageScanFindings":               a.describeImageScanFindings,
		"StartImageScan":                          a.startImageScan,
		"GetSigningConfiguration":                 a.getSigningConfiguration,
		"PutSigningConfiguration":                 a.putSigningConfiguration,
		"DeleteSigningConfiguration":              a.deleteSigningConfiguration,
		"DescribeImageSigningStatus":              a.describeImageSigningStatus,
		"RegisterPullTimeUpdateExclusion":         a.registerPullTimeUpdateExclusion,
		"DeregisterPullTimeUpdateExclusion":       a.deregisterPullTimeUpdateExclusion,
		"ListPullTimeUpdateExclusions":            a.listPullTimeUpdateExclusions,
		"ValidatePullThroughCacheRule":            a.validatePullThroughCacheRule,
		"UpdateImageStorageClass":                 a.updateImageStorageClass,
	}
}

// registry resolves the registryId parameter: empty means the caller's
// own account; the region is always the call's (ECR registries are regional).
func (a *API) registry(c *awsapi.Call, registryID string) (ecrhost.Registry, error) {
	if registryID == "" {
		return ecrhost.Registry{Account: c.Principal.Account, Region: c.Region}, nil
	}
	if !ecrhost.IsAccountID(registryID) {
		return ecrhost.Registry{}, invalidPattern("registryId", patRegistryID)
	}
	return ecrhost.Registry{Account: registryID, Region: c.Region}, nil
}

// repoKey validates the repository name and resolves the registry.
func (a *API) repoKey(c *awsapi.Call, registryID, name string) (storage.RepoKey, error) {
	if err := a.checkRepoName("repositoryName", name); err != nil {
		return storage.RepoKey{}, err
	}
	reg, err := a.registry(c, registryID)
	if err != nil {
		return storage.RepoKey{}, err
	}
	return storage.RepoKey{Account: reg.Account, Region: reg.Region, Name: name}, nil
}

// decodeRepoKey decodes the input of an operation that names only a
// repository (registryId and repositoryName).
func (a *API) decodeRepoKey(c *awsapi.Call) (storage.RepoKey, error) {
	var in struct {
		RegistryID     string `json:"registryId"`
		RepositoryName string `json:"repositoryName"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return storage.RepoKey{}, err
	}
	return a.repoKey(c, in.RegistryID, in.RepositoryName)
}

// authRepo authorizes "ecr:"+op on repository k for the caller.
func (a *API) authRepo(ctx context.Context, c *awsapi.Call, action string, k storage.RepoKey) error {
	return a.authz.AuthorizeRepo(ctx, c.Principal, action, k, c.Info)
}

// repo authorizes action on k and returns the repository (NameUnknown →
// RepositoryNotFoundException with ECR's message).
func (a *API) repo(ctx context.Context, c *awsapi.Call, action string, k storage.RepoKey) (*storage.Repository, error) {
	if err := a.authRepo(ctx, c, action, k); err != nil {
		return nil, err
	}
	return a.img.Repository(ctx, k)
}

// registryHost is the registry host name (with port) that serves reg,
// derived from the host the client used to reach berth:
//   - the request host is ACCOUNT.dkr.ecr.REGION.DOMAIN: reuse DOMAIN;
//   - it is the API host api.ecr.REGION.DOMAIN (or ecr.REGION.DOMAIN), as
//     with AWS_ENDPOINT_URL_ECR=https://api.ecr.…: the registry is under DOMAIN;
//   - reg is the server's default registry: the request host itself;
//   - otherwise ACCOUNT.dkr.ecr.REGION.<request host>, with a bare IP
//     address replaced by "localhost" (a name under an IP does not resolve,
//     a name under localhost does on most systems and in berth's test setup).
func (a *API) registryHost(c *awsapi.Call, reg ecrhost.Registry) string {
	host := c.Host
	if _, ok := ecrhost.Parse(host); ok {
		parts := strings.SplitN(host, ".", 5)
		if len(parts) == 5 {
			return ecrhost.Host(reg.Account, reg.Region, parts[4])
		}
	}
	if domain, ok := ecrhost.APIDomain(host); ok {
		return ecrhost.Host(reg.Account, reg.Region, domain)
	}
	if reg == a.def {
		return host
	}
	name, port, err := net.SplitHostPort(host)
	if err != nil {
		name, port = host, ""
	}
	if net.ParseIP(strings.Trim(name, "[]")) != nil {
		name = "localhost"
	}
	if port != "" {
		name += ":" + port
	}
	return ecrhost.Host(reg.Account, reg.Region, name)
}
