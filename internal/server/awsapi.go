package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"net/http"
	"strings"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/ecr"
	"github.com/berth-dev/berth/internal/awsapi/iamapi"
	"github.com/berth-dev/berth/internal/awsapi/stsapi"
	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/secrets"
	"github.com/berth-dev/berth/internal/storage/sqlmeta"
)

// buildAWSAPI assembles the AWS API front door (every JSON 1.1 and Query
// service registers on one awsapi.Router) plus the presigned layer
// download links that GetDownloadUrlForLayer hands out. Requests that are
// neither are 404.
func (s *Server) buildAWSAPI(ctx context.Context) (http.Handler, error) {
	rt := awsapi.NewRouter(s.authn, s.log)
	if a := s.auditor(); a != nil {
		rt.SetAuditor(a)
	}
	meta, ok := s.meta.(*sqlmeta.Store)
	if !ok {
		return nil, errNoSQLStore
	}
	secretStore, err := s.openSecretsForECR(ctx, meta.DB())
	if err != nil {
		return nil, err
	}
	ecrAPI, err := ecr.Register(rt, ecr.Deps{
		Images:     s.images,
		Authorizer: s.authz,
		Tokens:     s.authn,
		Store:      s.ecrDocs,
		Principals: s.ids,
		Secrets:    secretChecker{secretStore},
		Upstreams:  s.ptc,
		PresignKey: presignKey(s.ids.Keys().TokenMACKey()),
		Default:    ecrhost.Registry{Account: s.cfg.AccountID, Region: s.cfg.Region},
		Log:        s.log,
	})
	if err != nil {
		return nil, err
	}
	s.ecrAPI = ecrAPI
	if err := iamapi.Register(rt, iamapi.Deps{IAM: s.ids, Authz: s.authz}); err != nil {
		return nil, err
	}
	if err := stsapi.Register(rt, stsapi.Deps{IAM: s.ids}); err != nil {
		return nil, err
	}
	if err := s.registerSSMAndSecrets(ctx, rt, meta.DB()); err != nil {
		return nil, err
	}
	downloads := ecrAPI.LayerDownloads()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case awsapi.IsAWSRequest(r):
			rt.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, ecr.DownloadPathPrefix):
			downloads.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	}), nil
}

// openSecretsForECR opens the Secrets Manager store (the same tables and
// sealer the Secrets Manager API uses) so pull-through cache rules can check
// that their credentialArn exists.
func (s *Server) openSecretsForECR(ctx context.Context, db *sql.DB) (*secrets.Service, error) {
	sealer, err := s.ids.Keys().Sealer(sealerSecrets)
	if err != nil {
		return nil, err
	}
	return secrets.Open(ctx, db, sealer)
}

// secretChecker answers ecr.SecretChecker from the Secrets Manager store. A
// secret scheduled for deletion no longer counts.
type secretChecker struct{ s *secrets.Service }

func (c secretChecker) SecretExists(ctx context.Context, account, region, secretARN string) (bool, error) {
	sec, err := c.s.Describe(ctx, secrets.Scope{Account: account, Region: region}, secretARN)
	if apierr.HasCode(err, apierr.ResourceNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return sec.DeletionAt.IsZero(), nil
}

// SecretString returns the current string value of the secret, for
// ValidatePullThroughCacheRule; a missing secret, one scheduled for
// deletion or a binary-only one is ok == false.
func (c secretChecker) SecretString(ctx context.Context, account, region, secretARN string) (string, bool, error) {
	v, err := c.s.GetValue(ctx, secrets.Scope{Account: account, Region: region}, secretARN, "", "")
	if apierr.HasCode(err, apierr.ResourceNotFound) || apierr.HasCode(err, apierr.InvalidRequest) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if v.String == nil {
		return "", false, nil
	}
	return *v.String, true, nil
}

// presignKey derives the layer-link signing key from the master-key-derived
// token MAC key, so links survive restarts without another key file.
func presignKey(tokenMAC []byte) []byte {
	m := hmac.New(sha256.New, tokenMAC)
	m.Write([]byte("berth presigned layer downloads"))
	return m.Sum(nil)
}

type serverError string

func (e serverError) Error() string { return string(e) }

const errNoSQLStore = serverError("server: the ECR API needs the SQLite metadata store")
