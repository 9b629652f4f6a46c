package server

import (
	"context"
	"database/sql"

	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/smapi"
	"github.com/berth-dev/berth/internal/awsapi/ssmapi"
	"github.com/berth-dev/berth/internal/params"
	"github.com/berth-dev/berth/internal/secrets"
)

// Sealer purposes: each service's values are encrypted under its own key
// derived from <data>/keys/master.key.
const (
	sealerSSM     = "ssm parameters"
	sealerSecrets = "secretsmanager secrets"
)

// registerSSMAndSecrets mounts SSM Parameter Store and Secrets Manager on rt,
// with their tables in the metadata database.
func (s *Server) registerSSMAndSecrets(ctx context.Context, rt *awsapi.Router, db *sql.DB) error {
	ssmSealer, err := s.ids.Keys().Sealer(sealerSSM)
	if err != nil {
		return err
	}
	smSealer, err := s.ids.Keys().Sealer(sealerSecrets)
	if err != nil {
		return err
	}
	ps, err := params.Open(ctx, db, ssmSealer)
	if err != nil {
		return err
	}
	ss, err := secrets.Open(ctx, db, smSealer)
	if err != nil {
		return err
	}
	s.params, s.secrets = ps, ss
	if err := ssmapi.Register(rt, ssmapi.Deps{Params: ps, Secrets: ss, Authz: s.authz}); err != nil {
		return err
	}
	return smapi.Register(rt, smapi.Deps{Secrets: ss, Authz: s.authz})
}
