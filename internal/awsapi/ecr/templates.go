package ecr

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/arn"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/storage"
)

// creationTemplate is a stored RepositoryCreationTemplate, in its wire form.
type creationTemplate struct {
	Prefix                             string                   `json:"prefix"`
	Description                        string                   `json:"description,omitempty"`
	EncryptionConfiguration            *encryptionConfiguration `json:"encryptionConfiguration,omitempty"`
	ResourceTags                       []tag                    `json:"resourceTags,omitempty"`
	ImageTagMutability                 string                   `json:"imageTagMutability,omitempty"`
	ImageTagMutabilityExclusionFilters []mutabilityFilter       `json:"imageTagMutabilityExclusionFilters,omitempty"`
	RepositoryPolicy                   string                   `json:"repositoryPolicy,omitempty"`
	LifecyclePolicy                    string                   `json:"lifecyclePolicy,omitempty"`
	AppliedFor                         []string                 `json:"appliedFor"`
	CustomRoleARN                      string                   `json:"customRoleArn,omitempty"`
	CreatedAt                          protocol.EpochTime       `json:"createdAt"`
	UpdatedAt                          protocol.EpochTime       `json:"updatedAt"`
}

// templateInput is the input of Create/UpdateRepositoryCreationTemplate;
// nil members are "not given" (Update keeps the stored value).
type templateInput struct {
	Prefix                             *string                  `json:"prefix"`
	Description                        *string                  `json:"description"`
	EncryptionConfiguration            *encryptionConfiguration `json:"encryptionConfiguration"`
	ResourceTags                       []tag                    `json:"resourceTags"`
	ImageTagMutability                 *string                  `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []mutabilityFilter       `json:"imageTagMutabilityExclusionFilters"`
	RepositoryPolicy                   *string                  `json:"repositoryPolicy"`
	LifecyclePolicy                    *string                  `json:"lifecyclePolicy"`
	AppliedFor                         []string                 `json:"appliedFor"`
	CustomRoleARN                      *string                  `json:"customRoleArn"`
}

const (
	maxTemplates = 100 // berth's bound; ECR documents no number in the model
	patKMSKey    = `^$|arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[a-z0-9-]+`
)

// templateID is the key a prefix is stored under: ECR treats "prod" and
// "prod/" as the same namespace ("there is always an assumed / applied to
// the end of the prefix").
func templateID(prefix string) string {
	if prefix == "ROOT" {
		return prefix
	}
	return strings.TrimSuffix(prefix, "/")
}

func (a *API) checkTemplatePrefix(field, p string) error {
	if p == "" {
		return missing(field)
	}
	if err := checkLen(field, p, 1, 256); err != nil {
		return err
	}
	if !a.re.ptcPrefix.MatchString(p) {
		return invalidPattern(field, patPTCPrefix)
	}
	return nil
}

// apply copies the given members of in onto t.
func (in *templateInput) apply(t *creationTemplate) {
	if in.Description != nil {
		t.Description = *in.Description
	}
	if in.EncryptionConfiguration != nil {
		t.EncryptionConfiguration = in.EncryptionConfiguration
	}
	if in.ResourceTags != nil {
		t.ResourceTags = in.ResourceTags
	}
	if in.ImageTagMutability != nil {
		t.ImageTagMutability = *in.ImageTagMutability
		t.ImageTagMutabilityExclusionFilters = nil
	}
	if in.ImageTagMutabilityExclusionFilters != nil {
		t.ImageTagMutabilityExclusionFilters = in.ImageTagMutabilityExclusionFilters
	}
	if in.RepositoryPolicy != nil {
		t.RepositoryPolicy = *in.RepositoryPolicy
	}
	if in.LifecyclePolicy != nil {
		t.LifecyclePolicy = *in.LifecyclePolicy
	}
	if in.AppliedFor != nil {
		t.AppliedFor = in.AppliedFor
	}
	if in.CustomRoleARN != nil {
		t.CustomRoleARN = *in.CustomRoleARN
	}
}

// checkTemplate validates a whole template (after apply) and normalises
// it: ECR's defaults filled in, tags and appliedFor deduplicated.
func (a *API) checkTemplate(t *creationTemplate, reg ecrhost.Registry) error {
	if err := checkLen("description", t.Description, 0, 256); err != nil {
		return err
	}
	if t.EncryptionConfiguration == nil {
		t.EncryptionConfiguration = &encryptionConfiguration{EncryptionType: "AES256"}
	}
	e := t.EncryptionConfiguration
	if err := checkEnum("encryptionConfiguration.encryptionType", e.EncryptionType, "AES256", "KMS", "KMS_DSSE"); err != nil {
		return err
	}
	if e.KMSKey != "" {
		if e.EncryptionType == "AES256" {
			return invalidParam("encryptionConfiguration.kmsKey", "A KMS key can only be specified with the KMS or KMS_DSSE encryption type")
		}
		if err := checkLen("encryptionConfiguration.kmsKey", e.KMSKey, 0, 2048); err != nil {
			return err
		}
		if !a.re.kmsKey.MatchString(e.KMSKey) {
			return invalidPattern("encryptionConfiguration.kmsKey", patKMSKey)
		}
	}
	tags, err := mergeTags(nil, t.ResourceTags)
	if err != nil {
		return err
	}
	t.ResourceTags = nil
	for _, key := range slices.Sorted(maps.Keys(tags)) {
		t.ResourceTags = append(t.ResourceTags, tag{Key: &key, Value: ptr(tags[key])})
	}
	if t.ImageTagMutability == "" {
		t.ImageTagMutability = "MUTABLE"
	}
	if _, err := a.checkMutability(t.ImageTagMutability, t.ImageTagMutabilityExclusionFilters, t.ImageTagMutabilityExclusionFilters != nil); err != nil {
		return err
	}
	if t.RepositoryPolicy != "" {
		if err := checkPolicyText(t.RepositoryPolicy, "repository"); err != nil {
			return err
		}
	}
	if t.LifecyclePolicy != "" {
		if _, err := parseLifecyclePolicy(t.LifecyclePolicy); err != nil {
			return err
		}
	}
	if len(t.AppliedFor) == 0 {
		return invalidParam("appliedFor", "Member must have length greater than or equal to 1")
	}
	var applied []string
	for _, f := range t.AppliedFor {
		if err := checkEnum("appliedFor", f, "REPLICATION", "PULL_THROUGH_CACHE", "CREATE_ON_PUSH"); err != nil {
			return err
		}
		if !slices.Contains(applied, f) {
			applied = append(applied, f)
		}
	}
	t.AppliedFor = applied
	if t.CustomRoleARN != "" {
		if err := checkLen("customRoleArn", t.CustomRoleARN, 0, 2048); err != nil {
			return err
		}
		p, err := arn.Parse(t.CustomRoleARN)
		if err != nil || p.Service != "iam" || !strings.HasPrefix(p.Resource, "role/") {
			return invalidParam("customRoleArn", "must be an IAM role ARN")
		}
		if p.AccountID != reg.Account {
			return invalidParam("customRoleArn", "The role must be in the same account (%s) as the registry", reg.Account)
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

func templateNotFound(prefix string, reg ecrhost.Registry) error {
	return apierr.New(apierr.TemplateNotFound,
		"The repository creation template with prefix '%s' does not exist in the registry with id '%s'", prefix, reg.Account)
}

type templateOut struct {
	RegistryID                 string           `json:"registryId"`
	RepositoryCreationTemplate creationTemplate `json:"repositoryCreationTemplate"`
}

func (a *API) createRepositoryCreationTemplate(ctx context.Context, c *awsapi.Call) (any, error) {
	var in templateInput
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if in.Prefix == nil {
		return nil, missing("prefix")
	}
	if err := a.checkTemplatePrefix("prefix", *in.Prefix); err != nil {
		return nil, err
	}
	if in.AppliedFor == nil {
		return nil, missing("appliedFor")
	}
	reg := ecrhost.Registry{Account: c.Principal.Account, Region: c.Region}
	now := protocol.EpochTime(a.now().UTC())
	t := creationTemplate{Prefix: *in.Prefix, CreatedAt: now, UpdatedAt: now}
	in.apply(&t)
	if err := a.checkTemplate(&t, reg); err != nil {
		return nil, err
	}
	if _, err := a.authRegistry(ctx, c, "ecr:CreateRepositoryCreationTemplate"); err != nil {
		return nil, err
	}
	a.stateMu.Lock()
	defer a.stateMu.Unlock()
	if err := a.checkDocLimit(ctx, reg, kindTemplate, maxTemplates, "repository creation templates"); err != nil {
		return nil, err
	}
	err := a.createJSON(ctx, reg, kindTemplate, templateID(t.Prefix), t)
	if errors.Is(err, storage.ErrAlreadyExists) {
		return nil, apierr.New(apierr.TemplateAlreadyExists,
			"The repository creation template with prefix '%s' already exists in the registry with id '%s'", t.Prefix, reg.Account)
	}
	if err != nil {
		return nil, err
	}
	return templateOut{reg.Account, t}, nil
}

func (a *API) loadTemplate(ctx context.Context, reg ecrhost.Registry, prefix string) (*creationTemplate, error) {
	var t creationTemplate
	found, err := a.getJSON(ctx, reg, kindTemplate, templateID(prefix), &t)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, templateNotFound(prefix, reg)
	}
	return &t, nil
}

func (a *API) describeRepositoryCreationTemplates(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		Prefixes   []string `json:"prefixes"`
		NextToken  string   `json:"nextToken"`
		MaxResults *int     `json:"maxResults"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	reg, err := a.authRegistry(ctx, c, "ecr:DescribeRepositoryCreationTemplates")
	if err != nil {
		return nil, err
	}
	out := struct {
		RegistryID string             `json:"registryId"`
		Templates  []creationTemplate `json:"repositoryCreationTemplates"`
		NextToken  *string            `json:"nextToken,omitempty"`
	}{RegistryID: reg.Account, Templates: []creationTemplate{}}
	if in.Prefixes != nil {
		if in.MaxResults != nil || in.NextToken != "" {
			return nil, invalidParam("maxResults", "maxResults and nextToken cannot be used together with prefixes")
		}
		// The model has no TemplateNotFoundException here: unknown
		// prefixes are left out of the answer.
		seen := map[string]bool{}
		for _, p := range in.Prefixes {
			if err := a.checkTemplatePrefix("prefixes", p); err != nil {
				return nil, err
			}
			if seen[templateID(p)] {
				continue
			}
			seen[templateID(p)] = true
			t, err := a.loadTemplate(ctx, reg, p)
			if apierr.HasCode(err, apierr.TemplateNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out.Templates = append(out.Templates, *t)
		}
		return out, nil
	}
	limit, err := pageSize("maxResults", in.MaxResults, 1000)
	if err != nil {
		return nil, err
	}
	op := "DescribeRepositoryCreationTemplates\x00" + reg.Account
	docs, next, err := a.docPage(ctx, reg, kindTemplate, op, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	out.NextToken = next
	for _, d := range docs {
		var t creationTemplate
		if err := json.Unmarshal(d.Body, &t); err != nil {
			return nil, err
		}
		out.Templates = append(out.Templates, t)
	}
	return out, nil
}

func (a *API) updateRepositoryCreationTemplate(ctx context.Context, c *awsapi.Call) (any, error) {
	var in templateInput
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if in.Prefix == nil {
		return nil, missing("prefix")
	}
	if err := a.checkTemplatePrefix("prefix", *in.Prefix); err != nil {
		return nil, err
	}
	if in.AppliedFor != nil && len(in.AppliedFor) == 0 {
		return nil, invalidParam("appliedFor", "Member must have length greater than or equal to 1")
	}
	reg, err := a.authRegistry(ctx, c, "ecr:UpdateRepositoryCreationTemplate")
	if err != nil {
		return nil, err
	}
	a.stateMu.Lock()
	defer a.stateMu.Unlock()
	t, err := a.loadTemplate(ctx, reg, *in.Prefix)
	if err != nil {
		return nil, err
	}
	in.apply(t)
	if err := a.checkTemplate(t, reg); err != nil {
		return nil, err
	}
	t.UpdatedAt = protocol.EpochTime(a.now().UTC())
	if err := a.putJSON(ctx, reg, kindTemplate, templateID(t.Prefix), t); err != nil {
		return nil, err
	}
	return templateOut{reg.Account, *t}, nil
}

func (a *API) deleteRepositoryCreationTemplate(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		Prefix string `json:"prefix"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := a.checkTemplatePrefix("prefix", in.Prefix); err != nil {
		return nil, err
	}
	reg, err := a.authRegistry(ctx, c, "ecr:DeleteRepositoryCreationTemplate")
	if err != nil {
		return nil, err
	}
	a.stateMu.Lock()
	defer a.stateMu.Unlock()
	t, err := a.loadTemplate(ctx, reg, in.Prefix)
	if err != nil {
		return nil, err
	}
	if err := a.store.DeleteDoc(ctx, reg.Account, reg.Region, kindTemplate, templateID(in.Prefix)); errors.Is(err, storage.ErrNotFound) {
		return nil, templateNotFound(in.Prefix, reg)
	} else if err != nil {
		return nil, err
	}
	return templateOut{reg.Account, *t}, nil
}

// templateFor returns the template whose prefix is the longest namespace
// containing name (ROOT when no other matches) among those applied for
// scenario, or nil.
func templateFor(ts []creationTemplate, name, scenario string) *creationTemplate {
	var best *creationTemplate
	bestLen := -1
	for i := range ts {
		t := &ts[i]
		if !slices.Contains(t.AppliedFor, scenario) {
			continue
		}
		id := templateID(t.Prefix)
		n := len(id)
		switch {
		case id == "ROOT":
			n = 0
		case strings.HasPrefix(name, id+"/"):
		default:
			continue
		}
		if n > bestLen {
			best, bestLen = t, n
		}
	}
	return best
}
