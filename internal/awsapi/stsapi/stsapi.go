// Package stsapi serves the STS Query API (2011-06-15): GetCallerIdentity,
// AssumeRole and GetSessionToken on top of iamsvc. The session credentials
// it hands out work for SigV4 calls and, encoded with auth.SessionPassword,
// as registry Basic auth.
package stsapi

import (
	"context"
	"errors"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
	"github.com/berth-dev/berth/internal/iamsvc"
)

// Service constants of the STS Query API.
const (
	Namespace   = "https://sts.amazonaws.com/doc/2011-06-15/"
	Version     = "2011-06-15"
	SigningName = "sts"
)

// Deps are what the STS API needs. AssumeRole is authorized by iamsvc itself
// (trust policy + the caller's identity policies through the engine);
// GetCallerIdentity and GetSessionToken need no permission, as on AWS.
type Deps struct {
	IAM *iamsvc.Service
}

type api struct{ svc *iamsvc.Service }

// Register adds the STS actions to rt.
func Register(rt *awsapi.Router, d Deps) error {
	if d.IAM == nil {
		return errors.New("stsapi: IAM service is required")
	}
	a := &api{svc: d.IAM}
	rt.HandleQuery(SigningName, Namespace, Version, "GetCallerIdentity", a.getCallerIdentity)
	rt.HandleQuery(SigningName, Namespace, Version, "AssumeRole", a.assumeRole)
	rt.HandleQuery(SigningName, Namespace, Version, "GetSessionToken", a.getSessionToken)
	return nil
}

type callerIdentityResult struct {
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
	Arn     string `xml:"Arn"`
}

func (a *api) getCallerIdentity(_ context.Context, c *awsapi.Call) (any, error) {
	p := c.Principal
	return callerIdentityResult{UserID: p.UserID, Account: p.Account, Arn: p.ARN}, nil
}

type credentialsXML struct {
	AccessKeyID     string           `xml:"AccessKeyId"`
	SecretAccessKey string           `xml:"SecretAccessKey"`
	SessionToken    string           `xml:"SessionToken"`
	Expiration      protocol.ISOTime `xml:"Expiration"`
}

func credentialsOut(c iamsvc.Credentials) credentialsXML {
	return credentialsXML{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
		Expiration: protocol.ISOTime(c.Expiration)}
}

type assumedRoleUserXML struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type assumeRoleResult struct {
	Credentials      credentialsXML     `xml:"Credentials"`
	AssumedRoleUser  assumedRoleUserXML `xml:"AssumedRoleUser"`
	PackedPolicySize *int               `xml:"PackedPolicySize,omitempty"`
	SourceIdentity   string             `xml:"SourceIdentity,omitempty"`
}

func required(c *awsapi.Call, param, field string) (string, error) {
	if !c.Query.Has(param) {
		return "", apierr.New(apierr.ValidationError,
			"1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	}
	return c.Query.Get(param), nil
}

// durationParam checks DurationSeconds against the model's range, in the
// words AWS's validator uses for each bound.
func durationParam(c *awsapi.Call, max int) (int32, error) {
	n, present, err := c.Query.Int("DurationSeconds")
	if !present {
		return 0, nil
	}
	if err != nil {
		return 0, iamsvc.ValidationErr(c.Query.Get("DurationSeconds"), "durationSeconds", "Member must have value greater than or equal to 900")
	}
	if err := iamsvc.RangeErr(n, "durationSeconds", 900, max); err != nil {
		return 0, err
	}
	return int32(n), nil
}

func (a *api) assumeRole(ctx context.Context, c *awsapi.Call) (any, error) {
	roleARN, err := required(c, "RoleArn", "roleArn")
	if err != nil {
		return nil, err
	}
	session, err := required(c, "RoleSessionName", "roleSessionName")
	if err != nil {
		return nil, err
	}
	dur, err := durationParam(c, 43200)
	if err != nil {
		return nil, err
	}
	var arns []string
	for i, m := range c.Query.Structs("PolicyArns.member") {
		v, ok := m["arn"]
		if !ok {
			return nil, apierr.New(apierr.ValidationError,
				"1 validation error detected: Value null at 'policyArns.%d.member.arn' failed to satisfy constraint: Member must not be null", i+1)
		}
		arns = append(arns, v)
	}
	out, err := a.svc.AssumeRole(ctx, c.Principal, iamsvc.AssumeRoleInput{
		RoleArn: roleARN, RoleSessionName: session, DurationSeconds: dur,
		Policy: c.Query.Get("Policy"), PolicyArns: arns,
		ExternalID: c.Query.Get("ExternalId"), SourceIdentity: c.Query.Get("SourceIdentity"),
	}, c.Info)
	if err != nil {
		return nil, err
	}
	res := assumeRoleResult{
		Credentials:     credentialsOut(out.Credentials),
		AssumedRoleUser: assumedRoleUserXML{AssumedRoleID: out.AssumedRoleUser.AssumedRoleID, Arn: out.AssumedRoleUser.ARN},
		SourceIdentity:  c.Query.Get("SourceIdentity"),
	}
	if c.Query.Get("Policy") != "" || len(arns) > 0 {
		n := out.PackedPolicySize
		res.PackedPolicySize = &n
	}
	return res, nil
}

type sessionTokenResult struct {
	Credentials credentialsXML `xml:"Credentials"`
}

func (a *api) getSessionToken(ctx context.Context, c *awsapi.Call) (any, error) {
	dur, err := durationParam(c, 129600)
	if err != nil {
		return nil, err
	}
	creds, err := a.svc.GetSessionToken(ctx, c.Principal, dur)
	if err != nil {
		return nil, err
	}
	return sessionTokenResult{credentialsOut(*creds)}, nil
}
