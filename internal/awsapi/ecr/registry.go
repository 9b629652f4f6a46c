package ecr

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/arn"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/pullthrough"
	"github.com/berth-dev/berth/internal/storage"
)

// Registry-level documents live per account and region (ECR registries are
// regional); there is one registry policy and one replication
// configuration per registry, stored under a fixed id.
const singletonID = "-"

func (a *API) authRegistry(ctx context.Context, c *awsapi.Call, action string) (ecrhost.Registry, error) {
	reg := ecrhost.Registry{Account: c.Principal.Account, Region: c.Region}
	return reg, a.authz.AuthorizeRegistry(ctx, c.Principal, action, reg.Account, reg.Region, c.Info)
}

// authRegistryOf authorizes action on reg, the registry a registryId
// parameter named: another account's registry is a cross-account request
// (which a registry without a resource policy for it denies), never the
// caller's own permission applied to someone else's documents.
func (a *API) authRegistryOf(ctx context.Context, c *awsapi.Call, action string, reg ecrhost.Registry) error {
	return a.authz.AuthorizeRegistry(ctx, c.Principal, action, reg.Account, reg.Region, c.Info)
}

// ---- registry policy -------------------------------------------------------

// registryPolicyAction reports whether act may appear in a registry policy:
// only cross-account replication and pull-through cache actions may.
func registryPolicyAction(act string) bool {
	switch strings.ToLower(act) {
	case "ecr:replicateimage", "ecr:createrepository", "ecr:batchimportupstreamimage":
		return true
	}
	return false
}

// checkRegistryPolicy adds the registry-specific rule to the engine's
// validation: every Action must be one of registryPolicyActions.
func checkRegistryPolicy(text string) error {
	if err := checkPolicyText(text, "registry"); err != nil {
		return err
	}
	var doc struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return invalidParam("PolicyText", "Invalid registry policy provided")
	}
	var stmts []map[string]json.RawMessage
	if err := json.Unmarshal(doc.Statement, &stmts); err != nil {
		var one map[string]json.RawMessage
		if json.Unmarshal(doc.Statement, &one) != nil {
			return invalidParam("PolicyText", "Invalid registry policy provided")
		}
		stmts = []map[string]json.RawMessage{one}
	}
	for _, st := range stmts {
		raw, ok := st["Action"]
		if !ok {
			return invalidParam("PolicyText", "Invalid registry policy provided")
		}
		var actions []string
		if json.Unmarshal(raw, &actions) != nil {
			var one string
			if json.Unmarshal(raw, &one) != nil {
				return invalidParam("PolicyText", "Invalid registry policy provided")
			}
			actions = []string{one}
		}
		for _, act := range actions {
			if !registryPolicyAction(act) {
				return apierr.New(apierr.InvalidParameter,
					"Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided' (action %s is not allowed in a registry policy; allowed: ecr:ReplicateImage, ecr:CreateRepository, ecr:BatchImportUpstreamImage)", act)
			}
		}
	}
	return nil
}

type registryPolicyOut struct {
	RegistryID string `json:"registryId"`
	PolicyText string `json:"policyText"`
}

func registryPolicyNotFound(reg ecrhost.Registry) error {
	return apierr.New(apierr.RegistryPolicyNotFound, "Registry policy does not exist in the registry with id '%s'", reg.Account)
}

func (a *API) putRegistryPolicy(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		PolicyText *string `json:"policyText"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if in.PolicyText == nil {
		return nil, missing("policyText")
	}
	if err := checkRegistryPolicy(*in.PolicyText); err != nil {
		return nil, err
	}
	reg, err := a.authRegistry(ctx, c, "ecr:PutRegistryPolicy")
	if err != nil {
		return nil, err
	}
	if err := a.store.PutDoc(ctx, reg.Account, reg.Region, kindRegistryPolicy, singletonID, []byte(*in.PolicyText)); err != nil {
		return nil, err
	}
	return registryPolicyOut{reg.Account, *in.PolicyText}, nil
}

func (a *API) getRegistryPolicy(ctx context.Context, c *awsapi.Call) (any, error) {
	reg, err := a.authRegistry(ctx, c, "ecr:GetRegistryPolicy")
	if err != nil {
		return nil, err
	}
	b, err := a.store.GetDoc(ctx, reg.Account, reg.Region, kindRegistryPolicy, singletonID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, registryPolicyNotFound(reg)
	}
	if err != nil {
		return nil, err
	}
	return registryPolicyOut{reg.Account, string(b)}, nil
}

func (a *API) deleteRegistryPolicy(ctx context.Context, c *awsapi.Call) (any, error) {
	reg, err := a.authRegistry(ctx, c, "ecr:DeleteRegistryPolicy")
	if err != nil {
		return nil, err
	}
	b, err := a.store.GetDoc(ctx, reg.Account, reg.Region, kindRegistryPolicy, singletonID)
	if err == nil {
		err = a.store.DeleteDoc(ctx, reg.Account, reg.Region, kindRegistryPolicy, singletonID)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, registryPolicyNotFound(reg)
	}
	if err != nil {
		return nil, err
	}
	return registryPolicyOut{reg.Account, string(b)}, nil
}

// ---- replication -----------------------------------------------------------

type replicationDestination struct {
	Region     string `json:"region"`
	RegistryID string `json:"registryId"`
}

type repositoryFilter struct {
	Filter     string `json:"filter"`
	FilterType string `json:"filterType"`
}

type replicationRule struct {
	Destinations      []replicationDestination `json:"destinations"`
	RepositoryFilters []repositoryFilter       `json:"repositoryFilters,omitempty"`
}

type replicationConfiguration struct {
	Rules []replicationRule `json:"rules"`
}

func (a *API) checkReplication(cfg *replicationConfiguration, reg ecrhost.Registry) error {
	if cfg.Rules == nil {
		return missing("replicationConfiguration.rules")
	}
	if err := checkListLen("replicationConfiguration.rules", len(cfg.Rules), 0, 10); err != nil {
		return err
	}
	unique := map[replicationDestination]bool{}
	for _, r := range cfg.Rules {
		if len(r.Destinations) == 0 {
			return invalidParam("replicationConfiguration.rules.destinations", "Member must have length greater than or equal to 1")
		}
		for _, d := range r.Destinations {
			if !a.re.region.MatchString(d.Region) {
				return invalidPattern("replicationConfiguration.rules.destinations.region", patRegion)
			}
			if !ecrhost.IsAccountID(d.RegistryID) {
				return invalidPattern("replicationConfiguration.rules.destinations.registryId", patRegistryID)
			}
			if d.Region == reg.Region && d.RegistryID == reg.Account {
				return invalidParam("replicationConfiguration.rules.destinations",
					"Replication destination cannot be the source registry (region %s, registry %s)", d.Region, d.RegistryID)
			}
			unique[d] = true
		}
		if r.RepositoryFilters != nil {
			if err := checkListLen("replicationConfiguration.rules.repositoryFilters", len(r.RepositoryFilters), 1, 100); err != nil {
				return err
			}
		}
		for _, f := range r.RepositoryFilters {
			if err := checkEnum("replicationConfiguration.rules.repositoryFilters.filterType", f.FilterType, "PREFIX_MATCH"); err != nil {
				return err
			}
			if err := checkLen("replicationConfiguration.rules.repositoryFilters.filter", f.Filter, 2, 256); err != nil {
				return err
			}
			if !a.re.repoFilter.MatchString(f.Filter) {
				return invalidPattern("replicationConfiguration.rules.repositoryFilters.filter", patRepoFilter)
			}
		}
	}
	if len(unique) > 25 {
		return apierr.New(apierr.ValidationException, "A replication configuration can have at most 25 unique destinations; this one has %d", len(unique))
	}
	return nil
}

func (a *API) putReplicationConfiguration(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		ReplicationConfiguration *replicationConfiguration `json:"replicationConfiguration"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if in.ReplicationConfiguration == nil {
		return nil, missing("replicationConfiguration")
	}
	reg := ecrhost.Registry{Account: c.Principal.Account, Region: c.Region}
	if err := a.checkReplication(in.ReplicationConfiguration, reg); err != nil {
		return nil, err
	}
	if _, err := a.authRegistry(ctx, c, "ecr:PutReplicationConfiguration"); err != nil {
		return nil, err
	}
	b, err := json.Marshal(in.ReplicationConfiguration)
	if err != nil {
		return nil, err
	}
	if err := a.store.PutDoc(ctx, reg.Account, reg.Region, kindReplication, singletonID, b); err != nil {
		return nil, err
	}
	return struct {
		ReplicationConfiguration *replicationConfiguration `json:"replicationConfiguration"`
	}{in.ReplicationConfiguration}, nil
}

func (a *API) describeRegistry(ctx context.Context, c *awsapi.Call) (any, error) {
	reg, err := a.authRegistry(ctx, c, "ecr:DescribeRegistry")
	if err != nil {
		return nil, err
	}
	cfg := replicationConfiguration{Rules: []replicationRule{}}
	b, err := a.store.GetDoc(ctx, reg.Account, reg.Region, kindReplication, singletonID)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &cfg); err != nil {
			return nil, err
		}
	case !errors.Is(err, storage.ErrNotFound):
		return nil, err
	}
	return struct {
		RegistryID               string                   `json:"registryId"`
		ReplicationConfiguration replicationConfiguration `json:"replicationConfiguration"`
	}{reg.Account, cfg}, nil
}

// ---- pull-through cache rules ----------------------------------------------

type ptcRule struct {
	ECRRepositoryPrefix      string              `json:"ecrRepositoryPrefix"`
	UpstreamRegistryURL      string              `json:"upstreamRegistryUrl"`
	CreatedAt                protocol.EpochTime  `json:"createdAt"`
	RegistryID               string              `json:"registryId"`
	CredentialARN            string              `json:"credentialArn,omitempty"`
	CustomRoleARN            string              `json:"customRoleArn,omitempty"`
	UpstreamRepositoryPrefix string              `json:"upstreamRepositoryPrefix,omitempty"`
	UpstreamRegistry         string              `json:"upstreamRegistry,omitempty"`
	UpdatedAt                *protocol.EpochTime `json:"updatedAt,omitempty"`
}

// upstreamFor maps an upstream registry URL to ECR's upstream registry kind
// and whether that kind needs (or accepts) Secrets Manager credentials.
func upstreamFor(u string) (kind string, creds string, ok bool) {
	host := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://"), "/"))
	switch {
	case host == "public.ecr.aws":
		return "ecr-public", "none", true
	case host == "registry.k8s.io":
		return "k8s", "none", true
	case host == "quay.io":
		return "quay", "optional", true
	case host == "registry-1.docker.io":
		return "docker-hub", "required", true
	case host == "ghcr.io":
		return "github-container-registry", "required", true
	case strings.HasSuffix(host, ".azurecr.io") && len(host) > len(".azurecr.io"):
		return "azure-container-registry", "required", true
	case host == "registry.gitlab.com":
		return "gitlab-container-registry", "required", true
	case host == "cgr.dev":
		return "chainguard", "optional", true
	}
	if reg, isECR := ecrhost.Parse(host); isECR && strings.HasSuffix(host, ".amazonaws.com") && reg.Account != "" {
		return "ecr", "role", true
	}
	// berth extension: any OCI registry written as scheme://host[:port]
	// (ECR's own kinds are bare host names). It has no upstreamRegistry
	// kind; whether berth may connect to it is the SSRF guard's decision.
	if strings.Contains(u, "://") {
		if _, err := pullthrough.BaseURL(u); err == nil {
			return "", "optional", true
		}
	}
	return "", "", false
}

func (a *API) checkPTCPrefix(field, p string) error {
	if p == "" {
		return missing(field)
	}
	if err := checkLen(field, p, 2, 30); err != nil {
		return err
	}
	if !a.re.ptcPrefix.MatchString(p) {
		return invalidPattern(field, patPTCPrefix)
	}
	return nil
}

// checkCredential validates credentialArn and, when a secret store is
// wired, that the secret exists in the caller's account and region.
func (a *API) checkCredential(ctx context.Context, reg ecrhost.Registry, credARN string) error {
	if err := checkLen("credentialArn", credARN, 50, 612); err != nil {
		return err
	}
	if !a.re.credentialARN.MatchString(credARN) {
		return invalidPattern("credentialArn", patCredentialARN)
	}
	parsed, err := arn.Parse(credARN)
	if err != nil || parsed.AccountID != reg.Account || parsed.Region != reg.Region {
		return invalidParam("credentialArn", "The secret must be in the same account (%s) and region (%s) as the pull through cache rule", reg.Account, reg.Region)
	}
	if a.secrets == nil {
		return nil
	}
	ok, err := a.secrets.SecretExists(ctx, reg.Account, reg.Region, credARN)
	if err != nil {
		return err
	}
	if !ok {
		return apierr.New(apierr.SecretNotFound, "The specified secret '%s' does not exist", credARN)
	}
	return nil
}

func ptcNotFound(prefix string, reg ecrhost.Registry) error {
	return apierr.New(apierr.PullThroughRuleNotFound,
		"The pull through cache rule with prefix '%s' does not exist in the registry with id '%s'", prefix, reg.Account)
}

const maxPTCRules = 50

func (a *API) createPullThroughCacheRule(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		ECRRepositoryPrefix      string `json:"ecrRepositoryPrefix"`
		UpstreamRegistryURL      string `json:"upstreamRegistryUrl"`
		RegistryID               string `json:"registryId"`
		UpstreamRegistry         string `json:"upstreamRegistry"`
		CredentialARN            string `json:"credentialArn"`
		CustomRoleARN            string `json:"customRoleArn"`
		UpstreamRepositoryPrefix string `json:"upstreamRepositoryPrefix"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	reg, err := a.registry(c, in.RegistryID)
	if err != nil {
		return nil, err
	}
	if err := a.checkPTCPrefix("ecrRepositoryPrefix", in.ECRRepositoryPrefix); err != nil {
		return nil, err
	}
	if in.UpstreamRepositoryPrefix != "" {
		if err := a.checkPTCPrefix("upstreamRepositoryPrefix", in.UpstreamRepositoryPrefix); err != nil {
			return nil, err
		}
	}
	if in.UpstreamRegistryURL == "" {
		return nil, missing("upstreamRegistryUrl")
	}
	kind, creds, ok := upstreamFor(in.UpstreamRegistryURL)
	if !ok {
		return nil, apierr.New(apierr.UnsupportedUpstreamRegistry, "The specified upstream registry '%s' is not supported", in.UpstreamRegistryURL)
	}
	if in.UpstreamRegistry != "" && in.UpstreamRegistry != kind {
		if err := checkEnum("upstreamRegistry", in.UpstreamRegistry, "ecr", "ecr-public", "quay", "k8s", "docker-hub",
			"github-container-registry", "azure-container-registry", "gitlab-container-registry", "chainguard"); err != nil {
			return nil, err
		}
		return nil, invalidParam("upstreamRegistry", "The upstream registry '%s' does not match the upstream registry URL '%s' (%s)", in.UpstreamRegistry, in.UpstreamRegistryURL, kind)
	}
	switch {
	case creds == "required" && in.CredentialARN == "":
		return nil, invalidParam("credentialArn", "A credentialArn is required for upstream registry %s", kind)
	case creds == "none" && in.CredentialARN != "":
		return nil, invalidParam("credentialArn", "Upstream registry %s does not use a credentialArn", kind)
	case creds == "role" && in.CustomRoleARN == "" && in.CredentialARN == "":
		// berth extension: instead of a role to assume, an ECR upstream
		// may name a secret with access keys (username = access key id,
		// accessToken = secret access key) that mint registry tokens.
		return nil, invalidParam("customRoleArn", "A customRoleArn (or, in berth, a credentialArn holding access keys) is required for an ECR upstream registry")
	case creds != "role" && in.CustomRoleARN != "":
		return nil, invalidParam("customRoleArn", "Upstream registry %s does not use a customRoleArn", kind)
	}
	if in.CustomRoleARN != "" {
		if err := checkLen("customRoleArn", in.CustomRoleARN, 1, 2048); err != nil {
			return nil, err
		}
		if p, err := arn.Parse(in.CustomRoleARN); err != nil || p.Service != "iam" || !strings.HasPrefix(p.Resource, "role/") {
			return nil, invalidParam("customRoleArn", "must be an IAM role ARN")
		}
	}
	if _, err := a.authRegistry(ctx, c, "ecr:CreatePullThroughCacheRule"); err != nil {
		return nil, err
	}
	if reg.Account != c.Principal.Account {
		return nil, apierr.New(apierr.InvalidParameter, "Invalid parameter at 'registryId' failed to satisfy constraint: 'Pull through cache rules can only be created in your own registry'")
	}
	if in.CredentialARN != "" {
		if err := a.checkCredential(ctx, reg, in.CredentialARN); err != nil {
			return nil, err
		}
	}
	// Count and create under the same lock as templates and exclusions, so
	// two concurrent creates cannot both pass the limit check.
	a.stateMu.Lock()
	defer a.stateMu.Unlock()
	if err := a.checkDocLimit(ctx, reg, kindPTCRule, maxPTCRules, "pull through cache rules"); err != nil {
		return nil, err
	}
	rule := ptcRule{
		ECRRepositoryPrefix: in.ECRRepositoryPrefix, UpstreamRegistryURL: in.UpstreamRegistryURL,
		CreatedAt: protocol.EpochTime(a.now().UTC()), RegistryID: reg.Account, CredentialARN: in.CredentialARN,
		CustomRoleARN: in.CustomRoleARN, UpstreamRepositoryPrefix: in.UpstreamRepositoryPrefix, UpstreamRegistry: kind,
	}
	if rule.UpstreamRepositoryPrefix == "" {
		rule.UpstreamRepositoryPrefix = "ROOT"
	}
	err = a.createJSON(ctx, reg, kindPTCRule, rule.ECRRepositoryPrefix, rule)
	if errors.Is(err, storage.ErrAlreadyExists) {
		return nil, apierr.New(apierr.PullThroughRuleAlreadyExists,
			"The pull through cache rule with prefix '%s' already exists in the registry with id '%s'", rule.ECRRepositoryPrefix, reg.Account)
	}
	if err != nil {
		return nil, err
	}
	a.rulesChanged(reg)
	return rule, nil
}

// rulesChanged tells the engine to re-read reg's rules.
func (a *API) rulesChanged(reg ecrhost.Registry) {
	if a.ups != nil {
		a.ups.InvalidateRules(reg.Account, reg.Region)
	}
}

// authorizedRule is the common start of the operations on one existing
// rule: the registry registryId names, the prefix checked, the action
// authorized there, and the rule stored under the prefix.
func (a *API) authorizedRule(ctx context.Context, c *awsapi.Call, action, registryID, prefix string) (ecrhost.Registry, *ptcRule, error) {
	reg, err := a.registry(c, registryID)
	if err != nil {
		return ecrhost.Registry{}, nil, err
	}
	if err := a.checkPTCPrefix("ecrRepositoryPrefix", prefix); err != nil {
		return ecrhost.Registry{}, nil, err
	}
	if err := a.authRegistryOf(ctx, c, action, reg); err != nil {
		return ecrhost.Registry{}, nil, err
	}
	r, err := a.loadRule(ctx, reg, prefix)
	if err != nil {
		return ecrhost.Registry{}, nil, err
	}
	return reg, r, nil
}

func (a *API) loadRule(ctx context.Context, reg ecrhost.Registry, prefix string) (*ptcRule, error) {
	var r ptcRule
	found, err := a.getJSON(ctx, reg, kindPTCRule, prefix, &r)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, ptcNotFound(prefix, reg)
	}
	return &r, nil
}

func (a *API) describePullThroughCacheRules(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID            string   `json:"registryId"`
		ECRRepositoryPrefixes []string `json:"ecrRepositoryPrefixes"`
		NextToken             string   `json:"nextToken"`
		MaxResults            *int     `json:"maxResults"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	reg, err := a.registry(c, in.RegistryID)
	if err != nil {
		return nil, err
	}
	if err := a.authRegistryOf(ctx, c, "ecr:DescribePullThroughCacheRules", reg); err != nil {
		return nil, err
	}
	out := struct {
		Rules     []ptcRule `json:"pullThroughCacheRules"`
		NextToken *string   `json:"nextToken,omitempty"`
	}{Rules: []ptcRule{}}
	if in.ECRRepositoryPrefixes != nil {
		if in.MaxResults != nil || in.NextToken != "" {
			return nil, invalidParam("maxResults", "maxResults and nextToken cannot be used together with ecrRepositoryPrefixes")
		}
		if err := checkListLen("ecrRepositoryPrefixes", len(in.ECRRepositoryPrefixes), 1, 100); err != nil {
			return nil, err
		}
		for _, p := range in.ECRRepositoryPrefixes {
			if err := a.checkPTCPrefix("ecrRepositoryPrefixes", p); err != nil {
				return nil, err
			}
			r, err := a.loadRule(ctx, reg, p)
			if err != nil {
				return nil, err
			}
			out.Rules = append(out.Rules, *r)
		}
		return out, nil
	}
	limit, err := pageSize("maxResults", in.MaxResults, 1000)
	if err != nil {
		return nil, err
	}
	op := "DescribePullThroughCacheRules\x00" + reg.Account
	docs, next, err := a.docPage(ctx, reg, kindPTCRule, op, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	out.NextToken = next
	for _, d := range docs {
		var r ptcRule
		if err := json.Unmarshal(d.Body, &r); err != nil {
			return nil, err
		}
		out.Rules = append(out.Rules, r)
	}
	return out, nil
}

func (a *API) deletePullThroughCacheRule(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		ECRRepositoryPrefix string `json:"ecrRepositoryPrefix"`
		RegistryID          string `json:"registryId"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	reg, r, err := a.authorizedRule(ctx, c, "ecr:DeletePullThroughCacheRule", in.RegistryID, in.ECRRepositoryPrefix)
	if err != nil {
		return nil, err
	}
	if err := a.store.DeleteDoc(ctx, reg.Account, reg.Region, kindPTCRule, in.ECRRepositoryPrefix); errors.Is(err, storage.ErrNotFound) {
		return nil, ptcNotFound(in.ECRRepositoryPrefix, reg)
	} else if err != nil {
		return nil, err
	}
	a.rulesChanged(reg)
	r.UpstreamRegistry, r.UpdatedAt = "", nil // DeletePullThroughCacheRule's output has neither
	return r, nil
}

func (a *API) updatePullThroughCacheRule(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID          string `json:"registryId"`
		ECRRepositoryPrefix string `json:"ecrRepositoryPrefix"`
		CredentialARN       string `json:"credentialArn"`
		CustomRoleARN       string `json:"customRoleArn"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	reg, r, err := a.authorizedRule(ctx, c, "ecr:UpdatePullThroughCacheRule", in.RegistryID, in.ECRRepositoryPrefix)
	if err != nil {
		return nil, err
	}
	_, creds, _ := upstreamFor(r.UpstreamRegistryURL)
	if in.CredentialARN != "" {
		if creds == "none" {
			return nil, invalidParam("credentialArn", "Upstream registry %s does not use a credentialArn", r.UpstreamRegistry)
		}
		if err := a.checkCredential(ctx, reg, in.CredentialARN); err != nil {
			return nil, err
		}
		r.CredentialARN = in.CredentialARN
	}
	if in.CustomRoleARN != "" {
		if creds != "role" {
			return nil, invalidParam("customRoleArn", "Upstream registry %s does not use a customRoleArn", r.UpstreamRegistry)
		}
		r.CustomRoleARN = in.CustomRoleARN
	}
	now := protocol.EpochTime(a.now().UTC())
	r.UpdatedAt = &now
	if err := a.putJSON(ctx, reg, kindPTCRule, r.ECRRepositoryPrefix, r); err != nil {
		return nil, err
	}
	a.rulesChanged(reg)
	return struct {
		ECRRepositoryPrefix      string             `json:"ecrRepositoryPrefix"`
		RegistryID               string             `json:"registryId"`
		UpdatedAt                protocol.EpochTime `json:"updatedAt"`
		CredentialARN            string             `json:"credentialArn,omitempty"`
		CustomRoleARN            string             `json:"customRoleArn,omitempty"`
		UpstreamRepositoryPrefix string             `json:"upstreamRepositoryPrefix,omitempty"`
	}{r.ECRRepositoryPrefix, r.RegistryID, now, r.CredentialARN, r.CustomRoleARN, r.UpstreamRepositoryPrefix}, nil
}
