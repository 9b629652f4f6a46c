package ssmapi_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/awsapitest"
	"github.com/berth-dev/berth/internal/awsapi/smapi"
	"github.com/berth-dev/berth/internal/awsapi/ssmapi"
	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/params"
	"github.com/berth-dev/berth/internal/secrets"
	"github.com/berth-dev/berth/internal/storage/sqldb"
)

const (
	acct   = awsapitest.Account
	region = awsapitest.Region
)

// testEnv serves SSM and Secrets Manager on berth's AWS front door on
// loopback, with the identity service of account 111111111111 behind it.
type testEnv struct{ *awsapitest.Env }

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	return &testEnv{awsapitest.New(t, func(rt *awsapi.Router, d awsapitest.Deps) error {
		ssmSealer, err := d.IDs.Keys.Sealer("ssm parameters")
		if err != nil {
			return err
		}
		smSealer, err := d.IDs.Keys.Sealer("secretsmanager secrets")
		if err != nil {
			return err
		}
		ps, err := params.Open(ctx, d.IDs.DB, ssmSealer)
		if err != nil {
			return err
		}
		ss, err := secrets.Open(ctx, d.IDs.DB, smSealer)
		if err != nil {
			return err
		}
		if err := ssmapi.Register(rt, ssmapi.Deps{Params: ps, Secrets: ss, Authz: d.Authz}); err != nil {
			return err
		}
		return smapi.Register(rt, smapi.Deps{Secrets: ss, Authz: d.Authz})
	})}
}

func (e *testEnv) ssm(k *iamsvc.AccessKey) *ssm.Client {
	return ssm.NewFromConfig(e.Config(k.AccessKeyID, k.SecretAccessKey, ""), func(o *ssm.Options) { o.BaseEndpoint = aws.String(e.URL) })
}

func (e *testEnv) sm(k *iamsvc.AccessKey) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(e.Config(k.AccessKeyID, k.SecretAccessKey, ""), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(e.URL) })
}

func (e *testEnv) rootSSM() *ssm.Client { return e.ssm(e.Root) }

// dbBytes is everything SQLite has written: the main file and the WAL.
func (e *testEnv) dbBytes(t *testing.T) []byte {
	t.Helper()
	var all []byte
	if sqldb.DialectOf(e.IDs.DB) == sqldb.Postgres {
		// PostgreSQL's files are not ours to read: take every stored row.
		rows, err := e.IDs.DB.Query(`SELECT convert_to(name, 'UTF8') || value FROM ssm_parameter_versions
			UNION ALL SELECT convert_to(arn, 'UTF8') || value FROM sm_secret_versions`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		return all
	}
	for _, suffix := range []string{"", "-wal", "-journal"} {
		b, err := os.ReadFile(filepath.Join(e.Dir, "meta.db"+suffix))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if len(all) == 0 {
		t.Fatal("database files are empty")
	}
	return all
}

// wantErr asserts err is an AWS API error with code and HTTP 400, and
// (when msg != "") exactly that message.
func wantErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	awsapitest.WantErr(t, err, code, http.StatusBadRequest, msg)
}

func wantErrContains(t *testing.T, err error, code, sub string) {
	t.Helper()
	awsapitest.WantErrContaining(t, err, code, http.StatusBadRequest, sub)
}

func within(t *testing.T, ts *time.Time) {
	t.Helper()
	if ts == nil || time.Since(*ts) > time.Hour || time.Until(*ts) > time.Hour {
		t.Fatalf("timestamp %v is not about now", ts)
	}
}
