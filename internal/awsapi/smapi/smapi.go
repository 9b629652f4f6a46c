// Package smapi serves the Secrets Manager subset of the AWS JSON 1.1 API
// (target prefix and signing name secretsmanager) on internal/secrets,
// authorizing every call with secretsmanager: actions on the secret's ARN.
package smapi

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
	"github.com/berth-dev/berth/internal/secrets"
)

// Wire constants.
const (
	TargetPrefix = "secretsmanager"
	SigningName  = "secretsmanager"
)

// Authorizer decides one action on one resource (authz.Authorizer).
type Authorizer interface {
	Authorize(ctx context.Context, p *auth.Principal, action, resource, resourceAccount, resourcePolicy string, info auth.RequestInfo) error
}

// Deps are what the Secrets Manager API needs.
type Deps struct {
	Secrets *secrets.Service
	Authz   Authorizer
}

type api struct {
	svc   *secrets.Service
	authz Authorizer
}

// Register adds the operations to rt.
func Register(rt *awsapi.Router, d Deps) error {
	if d.Secrets == nil || d.Authz == nil {
		return errors.New("smapi: Secrets and Authz are required")
	}
	a := &api{svc: d.Secrets, authz: d.Authz}
	for op, h := range map[string]awsapi.Handler{
		"CreateSecret":   a.createSecret,
		"GetSecretValue": a.getSecretValue,
		"PutSecretValue": a.putSecretValue,
		"DeleteSecret":   a.deleteSecret,
		"DescribeSecret": a.describeSecret,
	} {
		rt.HandleJSON(TargetPrefix, SigningName, op, h)
	}
	return nil
}

func required(member string) error {
	return apierr.New(apierr.SecretsInvalidParameter, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

func scope(c *awsapi.Call) secrets.Scope {
	return secrets.Scope{Account: c.Principal.Account, Region: c.Region}
}

// authorizeID resolves id and authorizes action on the secret's ARN. For a
// secret that does not exist the decision is made on the ARN the caller
// named, so a caller without permission cannot probe for names.
func (a *api) authorizeID(ctx context.Context, c *awsapi.Call, action, id string, info auth.RequestInfo) (string, error) {
	if id == "" {
		return "", required("secretId")
	}
	info = info.With("secretsmanager:SecretId", id)
	sc := scope(c)
	guess := id
	if !strings.HasPrefix(id, "arn:") {
		guess = secrets.ARNPrefix(sc, id)
	}
	if acct := arnAccount(guess, sc.Account); acct != sc.Account {
		// Another account's secret: secrets carry no resource policy, so
		// the answer is a denial — on the ARN as the caller wrote it, so
		// that it tells neither whether the secret exists nor its full ARN.
		if derr := a.authz.Authorize(ctx, c.Principal, "secretsmanager:"+action, guess, acct, "", info); derr != nil {
			return "", derr
		}
	}
	arn, err := a.svc.ARNOf(ctx, sc, id)
	if err != nil {
		if !apierr.HasCode(err, apierr.ResourceNotFound) {
			return "", err
		}
		if derr := a.authz.Authorize(ctx, c.Principal, "secretsmanager:"+action, guess, arnAccount(guess, sc.Account), "", info); derr != nil {
			return "", derr
		}
		return "", err
	}
	return arn, a.authz.Authorize(ctx, c.Principal, "secretsmanager:"+action, arn, arnAccount(arn, sc.Account), "", info)
}

func arnAccount(arn, fallback string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[4] != "" {
		return parts[4]
	}
	return fallback
}

type createInput struct {
	Name               *string `json:"Name"`
	ClientRequestToken string  `json:"ClientRequestToken"`
	Description        string  `json:"Description"`
	KmsKeyID           string  `json:"KmsKeyId"`
	SecretBinary       []byte  `json:"SecretBinary"`
	SecretString       *string `json:"SecretString"`
	Tags               []struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	} `json:"Tags"`
	AddReplicaRegions []struct{} `json:"AddReplicaRegions"`
}

// createKeys are CreateSecret's condition keys.
func createKeys(info auth.RequestInfo, in *createInput) auth.RequestInfo {
	keys, vals := make([]string, len(in.Tags)), make([]string, len(in.Tags))
	for i, t := range in.Tags {
		keys[i], vals[i] = t.Key, t.Value
	}
	info = info.WithRequestTags(keys, vals).With("secretsmanager:Name", *in.Name)
	if in.Description != "" {
		info = info.With("secretsmanager:Description", in.Description)
	}
	if in.KmsKeyID != "" {
		info = info.With("secretsmanager:KmsKeyId", in.KmsKeyID)
	}
	return info
}

type createOutput struct {
	ARN       string `json:"ARN"`
	Name      string `json:"Name"`
	VersionID string `json:"VersionId,omitempty"`
}

func (a *api) createSecret(ctx context.Context, c *awsapi.Call) (any, error) {
	var in createInput
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, required("name")
	}
	if len(in.AddReplicaRegions) > 0 {
		return nil, apierr.New(apierr.InvalidRequest, "berth does not replicate secrets to other regions.")
	}
	sc := scope(c)
	if err := secrets.ValidateName(*in.Name); err != nil {
		return nil, err
	}
	arn, err := secrets.NewARN(sc, *in.Name)
	if err != nil {
		return nil, err
	}
	if err := a.authz.Authorize(ctx, c.Principal, "secretsmanager:CreateSecret", arn, sc.Account, "", createKeys(c.Info, &in)); err != nil {
		return nil, err
	}
	v, err := a.svc.Create(ctx, sc, secrets.CreateInput{
		Name: *in.Name, ARN: arn, Description: in.Description, KmsKeyID: in.KmsKeyID,
		Value: secrets.Payload{String: in.SecretString, Binary: in.SecretBinary}, Token: in.ClientRequestToken,
	})
	if err != nil {
		return nil, err
	}
	return createOutput{ARN: v.ARN, Name: v.Name, VersionID: v.VersionID}, nil
}

type getValueInput struct {
	SecretID     string `json:"SecretId"`
	VersionID    string `json:"VersionId"`
	VersionStage string `json:"VersionStage"`
}

func (a *api) getSecretValue(ctx context.Context, c *awsapi.Call) (any, error) {
	var in getValueInput
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	info := c.Info
	if in.VersionID != "" {
		info = info.With("secretsmanager:VersionId", in.VersionID)
	}
	if in.VersionStage != "" {
		info = info.With("secretsmanager:VersionStage", in.VersionStage)
	}
	arn, err := a.authorizeID(ctx, c, "GetSecretValue", in.SecretID, info)
	if err != nil {
		return nil, err
	}
	v, err := a.svc.GetValue(ctx, scope(c), arn, in.VersionID, in.VersionStage)
	if err != nil {
		return nil, err
	}
	return struct {
		ARN           string             `json:"ARN"`
		Name          string             `json:"Name"`
		VersionID     string             `json:"VersionId"`
		SecretBinary  []byte             `json:"SecretBinary,omitempty"`
		SecretString  *string            `json:"SecretString,omitempty"`
		VersionStages []string           `json:"VersionStages"`
		CreatedDate   protocol.EpochTime `json:"CreatedDate,omitzero"`
	}{v.ARN, v.Name, v.VersionID, v.Binary, v.String, v.Stages, protocol.EpochTime(v.Created)}, nil
}

type putValueInput struct {
	SecretID           string   `json:"SecretId"`
	ClientRequestToken string   `json:"ClientRequestToken"`
	SecretBinary       []byte   `json:"SecretBinary"`
	SecretString       *string  `json:"SecretString"`
	VersionStages      []string `json:"VersionStages"`
}

func (a *api) putSecretValue(ctx context.Context, c *awsapi.Call) (any, error) {
	var in putValueInput
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	arn, err := a.authorizeID(ctx, c, "PutSecretValue", in.SecretID, c.Info)
	if err != nil {
		return nil, err
	}
	v, err := a.svc.PutValue(ctx, scope(c), secrets.PutInput{
		ID: arn, Token: in.ClientRequestToken, Value: secrets.Payload{String: in.SecretString, Binary: in.SecretBinary}, Stages: in.VersionStages,
	})
	if err != nil {
		return nil, err
	}
	return struct {
		ARN           string   `json:"ARN"`
		Name          string   `json:"Name"`
		VersionID     string   `json:"VersionId"`
		VersionStages []string `json:"VersionStages"`
	}{v.ARN, v.Name, v.VersionID, v.Stages}, nil
}

type deleteInput struct {
	SecretID                   string `json:"SecretId"`
	RecoveryWindowInDays       *int64 `json:"RecoveryWindowInDays"`
	ForceDeleteWithoutRecovery bool   `json:"ForceDeleteWithoutRecovery"`
}

func (a *api) deleteSecret(ctx context.Context, c *awsapi.Call) (any, error) {
	var in deleteInput
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	info := c.Info.With("secretsmanager:ForceDeleteWithoutRecovery", strconv.FormatBool(in.ForceDeleteWithoutRecovery))
	if in.RecoveryWindowInDays != nil {
		info = info.With("secretsmanager:RecoveryWindowInDays", strconv.FormatInt(*in.RecoveryWindowInDays, 10))
	}
	arn, err := a.authorizeID(ctx, c, "DeleteSecret", in.SecretID, info)
	if err != nil {
		return nil, err
	}
	sec, when, err := a.svc.Delete(ctx, scope(c), arn, in.RecoveryWindowInDays, in.ForceDeleteWithoutRecovery)
	if err != nil {
		return nil, err
	}
	return struct {
		ARN          string             `json:"ARN"`
		Name         string             `json:"Name"`
		DeletionDate protocol.EpochTime `json:"DeletionDate"`
	}{sec.ARN, sec.Name, protocol.EpochTime(when)}, nil
}

func (a *api) describeSecret(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		SecretID string `json:"SecretId"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	arn, err := a.authorizeID(ctx, c, "DescribeSecret", in.SecretID, c.Info)
	if err != nil {
		return nil, err
	}
	sec, err := a.svc.Describe(ctx, scope(c), arn)
	if err != nil {
		return nil, err
	}
	out := struct {
		ARN                string              `json:"ARN"`
		Name               string              `json:"Name"`
		Description        string              `json:"Description,omitempty"`
		KmsKeyID           string              `json:"KmsKeyId,omitempty"`
		LastChangedDate    protocol.EpochTime  `json:"LastChangedDate,omitzero"`
		DeletedDate        protocol.EpochTime  `json:"DeletedDate,omitzero"`
		VersionIdsToStages map[string][]string `json:"VersionIdsToStages,omitempty"`
		CreatedDate        protocol.EpochTime  `json:"CreatedDate,omitzero"`
	}{
		ARN: sec.ARN, Name: sec.Name, Description: sec.Description, KmsKeyID: sec.KmsKeyID,
		LastChangedDate: protocol.EpochTime(sec.Changed), DeletedDate: protocol.EpochTime(sec.DeletionAt),
		CreatedDate: protocol.EpochTime(sec.Created),
	}
	if len(sec.Versions) > 0 {
		out.VersionIdsToStages = map[string][]string{}
		for id, st := range sec.Versions {
			if len(st) > 0 {
				out.VersionIdsToStages[id] = st
			}
		}
	}
	return out, nil
}
