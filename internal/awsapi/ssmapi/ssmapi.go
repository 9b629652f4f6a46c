// Package ssmapi serves the SSM Parameter Store operations of the AWS JSON
// 1.1 API (target prefix AmazonSSM, signing name ssm) on internal/params,
// authorizing every call with ssm: actions on
// arn:aws:ssm:REGION:ACCOUNT:parameter/NAME.
package ssmapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
	"github.com/berth-dev/berth/internal/awstags"
	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/params"
	"github.com/berth-dev/berth/internal/secrets"
)

// Wire constants.
const (
	TargetPrefix = "AmazonSSM"
	SigningName  = "ssm"
)

// secretRefPrefix is the Parameter Store name space that reads Secrets
// Manager secrets (GetParameter/GetParameters with WithDecryption).
const secretRefPrefix = "/aws/reference/secretsmanager/"

// Authorizer decides one action on one resource (authz.Authorizer).
type Authorizer interface {
	Authorize(ctx context.Context, p *auth.Principal, action, resource, resourceAccount, resourcePolicy string, info auth.RequestInfo) error
	// Effect tells an explicit Deny from an implicit one, for listings.
	Effect(ctx context.Context, p *auth.Principal, action, resource, resourceAccount string, info auth.RequestInfo) (iam.Effect, error)
}

// hidden reports whether a listing must leave out parameter name: the
// caller is explicitly denied action on the parameter's own ARN. The
// listing itself is authorized on its path (or "*"), so without this an
// identity-policy Deny on one parameter would not keep it out.
func (a *api) hidden(ctx context.Context, c *awsapi.Call, action string, sc params.Scope, name string, info auth.RequestInfo) (bool, error) {
	eff, err := a.authz.Effect(ctx, c.Principal, "ssm:"+action, params.ARN(sc.Region, sc.Account, name), sc.Account, info)
	if err != nil && !apierr.HasCode(err, apierr.AccessDenied) {
		return false, err
	}
	return eff == iam.ExplicitDeny, nil
}

// SecretReader reads Secrets Manager secrets for /aws/reference/secretsmanager/.
type SecretReader interface {
	ARNOf(ctx context.Context, sc secrets.Scope, id string) (string, error)
	GetValue(ctx context.Context, sc secrets.Scope, id, versionID, stage string) (*secrets.Value, error)
}

// Deps are what the SSM API needs; Secrets may be nil (then secret
// references are ParameterNotFound).
type Deps struct {
	Params  *params.Service
	Secrets SecretReader
	Authz   Authorizer
}

type api struct {
	params  *params.Service
	secrets SecretReader
	authz   Authorizer
}

// Register adds the Parameter Store operations to rt.
func Register(rt *awsapi.Router, d Deps) error {
	if d.Params == nil || d.Authz == nil {
		return errors.New("ssmapi: Params and Authz are required")
	}
	a := &api{params: d.Params, secrets: d.Secrets, authz: d.Authz}
	for op, h := range map[string]awsapi.Handler{
		"PutParameter":          a.putParameter,
		"GetParameter":          a.getParameter,
		"GetParameters":         a.getParameters,
		"GetParametersByPath":   a.getParametersByPath,
		"DeleteParameter":       a.deleteParameter,
		"DeleteParameters":      a.deleteParameters,
		"DescribeParameters":    a.describeParameters,
		"GetParameterHistory":   a.getParameterHistory,
		"LabelParameterVersion": a.labelParameterVersion,
	} {
		rt.HandleJSON(TargetPrefix, SigningName, op, h)
	}
	return nil
}

// --- shapes (members as in botocore's ssm 2014-11-06 model) ---

type parameterJSON struct {
	Name             string             `json:"Name"`
	Type             string             `json:"Type"`
	Value            string             `json:"Value"`
	Version          int64              `json:"Version"`
	Selector         string             `json:"Selector,omitempty"`
	SourceResult     string             `json:"SourceResult,omitempty"`
	LastModifiedDate protocol.EpochTime `json:"LastModifiedDate,omitzero"`
	ARN              string             `json:"ARN"`
	DataType         string             `json:"DataType"`
}

type metadataJSON struct {
	Name             string             `json:"Name"`
	ARN              string             `json:"ARN"`
	Type             string             `json:"Type"`
	KeyID            string             `json:"KeyId,omitempty"`
	LastModifiedDate protocol.EpochTime `json:"LastModifiedDate,omitzero"`
	LastModifiedUser string             `json:"LastModifiedUser"`
	Description      string             `json:"Description,omitempty"`
	AllowedPattern   string             `json:"AllowedPattern,omitempty"`
	Version          int64              `json:"Version"`
	Tier             string             `json:"Tier"`
	Policies         []struct{}         `json:"Policies"`
	DataType         string             `json:"DataType"`
}

type historyJSON struct {
	Name             string             `json:"Name"`
	Type             string             `json:"Type"`
	KeyID            string             `json:"KeyId,omitempty"`
	LastModifiedDate protocol.EpochTime `json:"LastModifiedDate,omitzero"`
	LastModifiedUser string             `json:"LastModifiedUser"`
	Description      string             `json:"Description,omitempty"`
	Value            string             `json:"Value"`
	AllowedPattern   string             `json:"AllowedPattern,omitempty"`
	Version          int64              `json:"Version"`
	Labels           []string           `json:"Labels"`
	Tier             string             `json:"Tier"`
	Policies         []struct{}         `json:"Policies"`
	DataType         string             `json:"DataType"`
}

type filterJSON struct {
	Key    string   `json:"Key"`
	Option string   `json:"Option"`
	Values []string `json:"Values"`
}

func toParameter(sc params.Scope, p *params.Parameter, selector string) parameterJSON {
	return parameterJSON{
		Name: p.Name, Type: p.Type, Value: p.Value, Version: p.Version, Selector: selector,
		LastModifiedDate: protocol.EpochTime(p.LastModified), ARN: params.ARN(sc.Region, sc.Account, p.Name), DataType: p.DataType,
	}
}

func toMetadata(sc params.Scope, p *params.Parameter) metadataJSON {
	return metadataJSON{
		Name: p.Name, ARN: params.ARN(sc.Region, sc.Account, p.Name), Type: p.Type, KeyID: p.KeyID,
		LastModifiedDate: protocol.EpochTime(p.LastModified), LastModifiedUser: p.LastModifiedUser,
		Description: p.Description, AllowedPattern: p.AllowedPattern, Version: p.Version, Tier: p.Tier,
		Policies: []struct{}{}, DataType: p.DataType,
	}
}

// --- helpers ---

func required(member string) error {
	return apierr.New(apierr.ValidationException, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

func callScope(c *awsapi.Call) params.Scope {
	return params.Scope{Account: c.Principal.Account, Region: c.Region}
}

// scopeOf is where ref lives: the ARN's account and region when the caller
// used one (cross-account reads then need a resource policy, which
// parameters cannot carry, so the authorizer denies them), else the caller's.
func scopeOf(c *awsapi.Call, ref params.Ref) params.Scope {
	sc := callScope(c)
	if ref.Account != "" {
		sc.Account = ref.Account
	}
	if ref.Region != "" {
		sc.Region = ref.Region
	}
	return sc
}

func (a *api) authorize(ctx context.Context, c *awsapi.Call, action string, sc params.Scope, name string) error {
	return a.authorizeWith(ctx, c, action, sc, name, c.Info)
}

func (a *api) authorizeWith(ctx context.Context, c *awsapi.Call, action string, sc params.Scope, name string, info auth.RequestInfo) error {
	return a.authz.Authorize(ctx, c.Principal, "ssm:"+action, params.ARN(sc.Region, sc.Account, name), sc.Account, "", info)
}

// putKeys are PutParameter's condition keys: ssm:Overwrite and the
// request tags (aws:RequestTag/K, aws:TagKeys).
func putKeys(info auth.RequestInfo, in *putParameterInput) auth.RequestInfo {
	var keys, vals []string
	for _, raw := range in.Tags {
		var t struct{ Key, Value string }
		if json.Unmarshal(raw, &t) == nil && t.Key != "" {
			keys, vals = append(keys, t.Key), append(vals, t.Value)
		}
	}
	return info.WithRequestTags(keys, vals).With("ssm:Overwrite", strconv.FormatBool(in.Overwrite))
}

// checkTags holds PutParameter's Tags to AWS's Tag type (both members
// required, the shared length and character rules, at most 50).
func checkTags(raw []json.RawMessage) error {
	tags := make([]awstags.Tag, len(raw))
	for i, r := range raw {
		var t struct{ Key, Value *string }
		if err := json.Unmarshal(r, &t); err != nil {
			return apierr.New(apierr.SerializationException, "tags.%d must be an object with Key and Value", i+1)
		}
		if t.Key == nil {
			return required(fmt.Sprintf("tags.%d.member.key", i+1))
		}
		if t.Value == nil {
			return required(fmt.Sprintf("tags.%d.member.value", i+1))
		}
		tags[i] = awstags.Tag{Key: *t.Key, Value: *t.Value}
	}
	v := awstags.Check(tags, false)
	switch {
	case v == nil:
		return nil
	case v.Problem == awstags.Duplicate:
		return apierr.New(apierr.ValidationException, "Duplicate tag keys found: %s", v.Tag.Key)
	case v.Problem == awstags.TooMany:
		return apierr.New(apierr.ValidationException, "1 validation error detected: Value at 'tags' failed to satisfy constraint: %s", v.Constraint())
	}
	return apierr.New(apierr.ValidationException, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", v.Value(), v.Member("tags"), v.Constraint())
}

// --- operations ---

type putParameterInput struct {
	Name           *string           `json:"Name"`
	Description    *string           `json:"Description"`
	Value          *string           `json:"Value"`
	Type           string            `json:"Type"`
	KeyID          string            `json:"KeyId"`
	Overwrite      bool              `json:"Overwrite"`
	AllowedPattern *string           `json:"AllowedPattern"`
	Tags           []json.RawMessage `json:"Tags"`
	Tier           string            `json:"Tier"`
	Policies       string            `json:"Policies"`
	DataType       string            `json:"DataType"`
}

func (a *api) putParameter(ctx context.Context, c *awsapi.Call) (any, error) {
	var in putParameterInput
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, required("name")
	}
	if in.Value == nil {
		return nil, required("value")
	}
	ref, err := params.ParseRef(*in.Name)
	if err != nil {
		return nil, err
	}
	if ref.Selector() != "" {
		return nil, apierr.New(apierr.ValidationException, "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_")
	}
	if in.Policies != "" {
		return nil, apierr.New(apierr.ValidationException, "Parameter policies are not supported by berth.")
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	sc := scopeOf(c, ref)
	if err := a.authorizeWith(ctx, c, "PutParameter", sc, ref.Name, putKeys(c.Info, &in)); err != nil {
		return nil, err
	}
	version, tier, err := a.params.Put(ctx, sc, params.PutInput{
		Name: ref.Name, Value: *in.Value, Type: in.Type, Overwrite: in.Overwrite, Description: in.Description,
		KeyID: in.KeyID, AllowedPattern: in.AllowedPattern, Tier: in.Tier, DataType: in.DataType,
		User: c.Principal.ARN, HasTags: len(in.Tags) > 0,
	})
	if err != nil {
		return nil, err
	}
	return struct {
		Version int64  `json:"Version"`
		Tier    string `json:"Tier"`
	}{version, tier}, nil
}

type getParameterInput struct {
	Name           *string `json:"Name"`
	WithDecryption bool    `json:"WithDecryption"`
}

func (a *api) getParameter(ctx context.Context, c *awsapi.Call) (any, error) {
	var in getParameterInput
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, required("name")
	}
	p, err := a.getOne(ctx, c, *in.Name, in.WithDecryption)
	if err != nil {
		return nil, err
	}
	return struct {
		Parameter parameterJSON `json:"Parameter"`
	}{p}, nil
}

// getOne serves one name of GetParameter/GetParameters.
func (a *api) getOne(ctx context.Context, c *awsapi.Call, name string, decrypt bool) (parameterJSON, error) {
	if strings.HasPrefix(name, secretRefPrefix) {
		return a.secretReference(ctx, c, name, decrypt)
	}
	ref, err := params.ParseRef(name)
	if err != nil {
		return parameterJSON{}, err
	}
	sc := scopeOf(c, ref)
	// GetParameters is its own IAM action, not GetParameter.
	if err := a.authorize(ctx, c, c.Operation, sc, ref.Name); err != nil {
		return parameterJSON{}, err
	}
	p, err := a.params.Get(ctx, sc, ref, decrypt)
	if err != nil {
		return parameterJSON{}, err
	}
	return toParameter(sc, p, ref.Selector()), nil
}

// secretReference reads /aws/reference/secretsmanager/ID[:VERSION-ID|:STAGE]
// as SSM does: only with WithDecryption, with the caller needing both
// ssm:GetParameter and secretsmanager:GetSecretValue.
func (a *api) secretReference(ctx context.Context, c *awsapi.Call, name string, decrypt bool) (parameterJSON, error) {
	if !decrypt {
		return parameterJSON{}, apierr.New(apierr.ValidationException, "WithDecryption flag must be True for retrieving a Secret Manager secret.")
	}
	if a.secrets == nil {
		return parameterJSON{}, apierr.New(apierr.ParameterNotFound, "")
	}
	sc := callScope(c)
	if err := a.authorize(ctx, c, c.Operation, sc, name); err != nil {
		return parameterJSON{}, err
	}
	id := strings.TrimPrefix(name, secretRefPrefix)
	versionID, stage := "", ""
	if !strings.HasPrefix(id, "arn:") {
		if base, sel, ok := strings.Cut(id, ":"); ok {
			id = base
			if len(sel) >= 32 {
				versionID = sel
			} else {
				stage = sel
			}
		}
	}
	ss := secrets.Scope{Account: sc.Account, Region: sc.Region}
	if strings.HasPrefix(id, "arn:") {
		// Another account's secret is denied before it is looked up, on
		// the ARN as written: the answer must not tell whether it exists.
		if acct := arnAccount(id, sc.Account); acct != sc.Account {
			if err := a.authz.Authorize(ctx, c.Principal, "secretsmanager:GetSecretValue", id, acct, "", c.Info); err != nil {
				return parameterJSON{}, err
			}
		}
	}
	arn, err := a.secrets.ARNOf(ctx, ss, id)
	if apierr.HasCode(err, apierr.ResourceNotFound) {
		return parameterJSON{}, apierr.New(apierr.ParameterNotFound, "An error occurred (ResourceNotFoundException) when referencing Secrets Manager: Secrets Manager can't find the specified secret.")
	}
	if err != nil {
		return parameterJSON{}, err
	}
	// A full ARN may name a secret of another account: authorize against
	// the owner the ARN names, so a cross-account read needs what
	// GetSecretValue itself would need (and secrets carry no resource
	// policy here, so it is denied).
	if err := a.authz.Authorize(ctx, c.Principal, "secretsmanager:GetSecretValue", arn, arnAccount(arn, sc.Account), "", c.Info); err != nil {
		return parameterJSON{}, err
	}
	v, err := a.secrets.GetValue(ctx, ss, arn, versionID, stage)
	if err != nil {
		if e, ok := apierr.As(err); ok && e.Code == apierr.ResourceNotFound {
			return parameterJSON{}, apierr.New(apierr.ParameterNotFound, "An error occurred (ResourceNotFoundException) when referencing Secrets Manager: %s", e.Message)
		}
		return parameterJSON{}, err
	}
	if v.String == nil {
		return parameterJSON{}, apierr.New(apierr.ValidationException, "The secret %s has a binary value, which Parameter Store references cannot return.", id)
	}
	source, err := json.Marshal(struct {
		ARN           string             `json:"ARN"`
		CreatedDate   protocol.EpochTime `json:"CreatedDate"`
		Name          string             `json:"Name"`
		SecretString  string             `json:"SecretString"`
		VersionID     string             `json:"VersionId"`
		VersionStages []string           `json:"VersionStages"`
	}{v.ARN, protocol.EpochTime(v.Created), v.Name, *v.String, v.VersionID, v.Stages})
	if err != nil {
		return parameterJSON{}, err
	}
	return parameterJSON{
		Name: name, Type: params.TypeSecureString, Value: *v.String, Version: 0, SourceResult: string(source),
		LastModifiedDate: protocol.EpochTime(v.Created), ARN: params.ARN(sc.Region, sc.Account, name), DataType: params.DataTypeText,
	}, nil
}

type getParametersInput struct {
	Names          []string `json:"Names"`
	WithDecryption bool     `json:"WithDecryption"`
}

func (a *api) getParameters(ctx context.Context, c *awsapi.Call) (any, error) {
	var in getParametersInput
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := checkNames(in.Names); err != nil {
		return nil, err
	}
	out := struct {
		Parameters        []parameterJSON `json:"Parameters"`
		InvalidParameters []string        `json:"InvalidParameters"`
	}{[]parameterJSON{}, []string{}}
	seen := map[string]bool{}
	for _, n := range in.Names {
		if seen[n] {
			continue
		}
		seen[n] = true
		p, err := a.getOne(ctx, c, n, in.WithDecryption)
		switch {
		case err == nil:
			out.Parameters = append(out.Parameters, p)
		case apierr.HasCode(err, apierr.AccessDenied), !isAPIError(err):
			return nil, err
		default:
			// Missing names, missing versions and malformed names are listed, not fatal.
			out.InvalidParameters = append(out.InvalidParameters, n)
		}
	}
	return out, nil
}

func isAPIError(err error) bool {
	e, ok := apierr.As(err)
	return ok && e.Code != apierr.Internal
}

func checkNames(names []string) error {
	if names == nil {
		return required("names")
	}
	if len(names) < 1 || len(names) > 10 {
		return apierr.New(apierr.ValidationException, "1 validation error detected: Value '[%s]' at 'names' failed to satisfy constraint: Member must have length less than or equal to 10", strings.Join(names, ", "))
	}
	return nil
}

type getByPathInput struct {
	Path             *string      `json:"Path"`
	Recursive        bool         `json:"Recursive"`
	ParameterFilters []filterJSON `json:"ParameterFilters"`
	WithDecryption   bool         `json:"WithDecryption"`
	MaxResults       int          `json:"MaxResults"`
	NextToken        string       `json:"NextToken"`
}

func (a *api) getParametersByPath(ctx context.Context, c *awsapi.Call) (any, error) {
	var in getByPathInput
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if in.Path == nil {
		return nil, required("path")
	}
	path, err := params.ValidatePath(*in.Path)
	if err != nil {
		return nil, err
	}
	sc := callScope(c)
	info := c.Info.With("ssm:Recursive", strconv.FormatBool(in.Recursive))
	if err := a.authorizeWith(ctx, c, "GetParametersByPath", sc, path, info); err != nil {
		return nil, err
	}
	ps, next, err := a.params.ByPath(ctx, sc, params.ByPathInput{
		Path: path, Recursive: in.Recursive, Filters: toFilters(in.ParameterFilters), Decrypt: in.WithDecryption,
		MaxResult: in.MaxResults, NextToken: in.NextToken,
	})
	if err != nil {
		return nil, err
	}
	out := struct {
		Parameters []parameterJSON `json:"Parameters"`
		NextToken  string          `json:"NextToken,omitempty"`
	}{Parameters: make([]parameterJSON, 0, len(ps)), NextToken: next}
	for _, p := range ps {
		if hide, err := a.hidden(ctx, c, "GetParametersByPath", sc, p.Name, info); err != nil {
			return nil, err
		} else if hide {
			continue
		}
		out.Parameters = append(out.Parameters, toParameter(sc, p, ""))
	}
	return out, nil
}

func toFilters(fs []filterJSON) []params.Filter {
	out := make([]params.Filter, 0, len(fs))
	for _, f := range fs {
		out = append(out, params.Filter{Key: f.Key, Option: f.Option, Values: f.Values})
	}
	return out
}

type nameInput struct {
	Name *string `json:"Name"`
}

func (a *api) deleteParameter(ctx context.Context, c *awsapi.Call) (any, error) {
	var in nameInput
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, required("name")
	}
	return struct{}{}, a.deleteOne(ctx, c, *in.Name)
}

func (a *api) deleteOne(ctx context.Context, c *awsapi.Call, name string) error {
	ref, err := params.ParseRef(name)
	if err != nil {
		return err
	}
	if ref.Selector() != "" {
		return apierr.New(apierr.ParameterNotFound, "Parameter %s not found.", name)
	}
	sc := scopeOf(c, ref)
	if err := a.authorize(ctx, c, "DeleteParameter", sc, ref.Name); err != nil {
		return err
	}
	return a.params.Delete(ctx, sc, ref.Name)
}

func (a *api) deleteParameters(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		Names []string `json:"Names"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := checkNames(in.Names); err != nil {
		return nil, err
	}
	out := struct {
		DeletedParameters []string `json:"DeletedParameters"`
		InvalidParameters []string `json:"InvalidParameters"`
	}{[]string{}, []string{}}
	for _, n := range in.Names {
		ref, err := params.ParseRef(n)
		if err != nil {
			out.InvalidParameters = append(out.InvalidParameters, n)
			continue
		}
		// IAM action for the batch call is ssm:DeleteParameters.
		sc := scopeOf(c, ref)
		if err := a.authorize(ctx, c, "DeleteParameters", sc, ref.Name); err != nil {
			return nil, err
		}
		err = a.params.Delete(ctx, sc, ref.Name)
		switch {
		case err == nil:
			out.DeletedParameters = append(out.DeletedParameters, n)
		case isAPIError(err):
			out.InvalidParameters = append(out.InvalidParameters, n)
		default:
			return nil, err
		}
	}
	return out, nil
}

type describeInput struct {
	Filters          []filterJSON `json:"Filters"`
	ParameterFilters []filterJSON `json:"ParameterFilters"`
	MaxResults       int          `json:"MaxResults"`
	NextToken        string       `json:"NextToken"`
	Shared           bool         `json:"Shared"`
}

func (a *api) describeParameters(ctx context.Context, c *awsapi.Call) (any, error) {
	var in describeInput
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if len(in.Filters) > 0 && len(in.ParameterFilters) > 0 {
		return nil, apierr.New(apierr.ValidationException, "You can use either Filters or ParameterFilters in a single request.")
	}
	sc := callScope(c)
	// DescribeParameters has no resource-level permissions on AWS: policies grant it on "*".
	if err := a.authz.Authorize(ctx, c.Principal, "ssm:DescribeParameters", "*", sc.Account, "", c.Info); err != nil {
		return nil, err
	}
	filters := toFilters(in.ParameterFilters)
	for _, f := range in.Filters {
		switch f.Key {
		case "Name":
			// The legacy Name filter matches by prefix.
			filters = append(filters, params.Filter{Key: "Name", Option: params.OptBeginsWith, Values: f.Values})
		case "Type", "KeyId":
			filters = append(filters, params.Filter{Key: f.Key, Option: params.OptEquals, Values: f.Values})
		default:
			return nil, apierr.New(apierr.ValidationException, "1 validation error detected: Value '%s' at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [Name, Type, KeyId]", f.Key)
		}
	}
	out := struct {
		Parameters []metadataJSON `json:"Parameters"`
		NextToken  string         `json:"NextToken,omitempty"`
	}{Parameters: []metadataJSON{}}
	if in.Shared {
		// Parameters shared through AWS RAM do not exist in berth.
		return out, nil
	}
	ps, next, err := a.params.Describe(ctx, sc, params.DescribeInput{Filters: filters, MaxResult: in.MaxResults, NextToken: in.NextToken})
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if hide, err := a.hidden(ctx, c, "DescribeParameters", sc, p.Name, c.Info); err != nil {
			return nil, err
		} else if hide {
			continue
		}
		out.Parameters = append(out.Parameters, toMetadata(sc, p))
	}
	out.NextToken = next
	return out, nil
}

type historyInput struct {
	Name           *string `json:"Name"`
	WithDecryption bool    `json:"WithDecryption"`
	MaxResults     int     `json:"MaxResults"`
	NextToken      string  `json:"NextToken"`
}

func (a *api) getParameterHistory(ctx context.Context, c *awsapi.Call) (any, error) {
	var in historyInput
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, required("name")
	}
	ref, err := params.ParseRef(*in.Name)
	if err != nil {
		return nil, err
	}
	limit := in.MaxResults
	if limit == 0 {
		limit = params.MaxDescribeResults
	}
	if limit < 1 || limit > params.MaxDescribeResults {
		return nil, apierr.New(apierr.ValidationException, "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to %d", in.MaxResults, params.MaxDescribeResults)
	}
	sc := scopeOf(c, ref)
	if err := a.authorize(ctx, c, "GetParameterHistory", sc, ref.Name); err != nil {
		return nil, err
	}
	ps, next, err := a.params.History(ctx, sc, ref.Name, in.WithDecryption, in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	out := struct {
		Parameters []historyJSON `json:"Parameters"`
		NextToken  string        `json:"NextToken,omitempty"`
	}{Parameters: make([]historyJSON, 0, len(ps)), NextToken: next}
	for _, p := range ps {
		out.Parameters = append(out.Parameters, historyJSON{
			Name: p.Name, Type: p.Type, KeyID: p.KeyID, LastModifiedDate: protocol.EpochTime(p.LastModified),
			LastModifiedUser: p.LastModifiedUser, Description: p.Description, Value: p.Value, AllowedPattern: p.AllowedPattern,
			Version: p.Version, Labels: p.Labels, Tier: p.Tier, Policies: []struct{}{}, DataType: p.DataType,
		})
	}
	return out, nil
}

type labelInput struct {
	Name             *string  `json:"Name"`
	ParameterVersion int64    `json:"ParameterVersion"`
	Labels           []string `json:"Labels"`
}

func (a *api) labelParameterVersion(ctx context.Context, c *awsapi.Call) (any, error) {
	var in labelInput
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, required("name")
	}
	if in.Labels == nil {
		return nil, required("labels")
	}
	ref, err := params.ParseRef(*in.Name)
	if err != nil {
		return nil, err
	}
	sc := scopeOf(c, ref)
	if err := a.authorize(ctx, c, "LabelParameterVersion", sc, ref.Name); err != nil {
		return nil, err
	}
	invalid, version, err := a.params.Label(ctx, sc, ref.Name, in.ParameterVersion, in.Labels)
	if err != nil {
		return nil, err
	}
	if invalid == nil {
		invalid = []string{}
	}
	return struct {
		InvalidLabels    []string `json:"InvalidLabels"`
		ParameterVersion int64    `json:"ParameterVersion"`
	}{invalid, version}, nil
}

// arnAccount is the account field of an ARN, or fallback when it has none.
func arnAccount(arn, fallback string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[4] != "" {
		return parts[4]
	}
	return fallback
}
