package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/internal/ecrhost"
)

// Operator endpoint contract, shared with internal/server/admin.go.
const (
	adminPath        = "/_berth/admin/"
	adminSigningName = "berth"
	defaultEndpoint  = "http://127.0.0.1:5000"
)

func newAdminCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Operator commands for a running berth (accounts)",
		Long: `Operator commands, sent to a running berth and signed with the operator's
credentials: BERTH_ROOT_ACCESS_KEY_ID / BERTH_ROOT_SECRET_ACCESS_KEY (the root user of
the server's default account).`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newCreateAccountCmd(env), newAdminCACmd(env))
	return cmd
}

func newCreateAccountCmd(env *Env) *cobra.Command {
	var id, endpoint string
	cmd := &cobra.Command{
		Use:   "create-account --id ACCOUNT_ID [--endpoint URL]",
		Short: "Create an account and print its root user's access key as JSON",
		Long: `Create an AWS-style account (12-digit id, unique) on a running berth and print
{"AccountId": …, "AccessKeyId": …, "SecretAccessKey": …} for its root user. The secret is
shown only here.

The endpoint defaults to $BERTH_ENDPOINT, else http://127.0.0.1:5000.`,
		Example: `  BERTH_ROOT_ACCESS_KEY_ID=AKIA… BERTH_ROOT_SECRET_ACCESS_KEY=… berth admin create-account --id 222222222222
  berth admin create-account --id 111111111111 --endpoint https://registry.example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !ecrhost.IsAccountID(id) {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--id %q: an account id is exactly 12 digits", id)}
			}
			keyID, secret := env.Getenv("BERTH_ROOT_ACCESS_KEY_ID"), env.Getenv("BERTH_ROOT_SECRET_ACCESS_KEY")
			if keyID == "" || secret == "" {
				return &ExitError{Code: ExitAuthError, Err: errors.New("set BERTH_ROOT_ACCESS_KEY_ID and BERTH_ROOT_SECRET_ACCESS_KEY to the operator's credentials")}
			}
			if endpoint == "" {
				endpoint = envOr(env, "BERTH_ENDPOINT", defaultEndpoint)
			}
			body, _ := json.Marshal(map[string]string{"AccountId": id})
			out, err := adminCall(cmd.Context(), endpoint, "CreateAccount", body, aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}, envOr(env, "BERTH_REGION", "us-east-1"))
			if err != nil {
				return err
			}
			var res struct{ AccountId, AccessKeyId, SecretAccessKey string }
			if err := json.Unmarshal(out, &res); err != nil {
				return fmt.Errorf("unexpected answer from %s: %w", endpoint, err)
			}
			enc := json.NewEncoder(env.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(map[string]string{"AccountId": res.AccountId, "AccessKeyId": res.AccessKeyId, "SecretAccessKey": res.SecretAccessKey})
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "account id to create: 12 digits (required)")
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "berth URL (env BERTH_ENDPOINT, default http://127.0.0.1:5000)")
	_ = cmd.MarkFlagRequired("id")
	return cmd
}

// adminCall POSTs body to endpoint/_berth/admin/op, SigV4-signed for service "berth".
func adminCall(ctx context.Context, endpoint, op string, body []byte, creds aws.Credentials, region string) ([]byte, error) {
	u, err := url.Parse(strings.TrimRight(endpoint, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("--endpoint %q: want http(s)://host[:port]", endpoint)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String()+adminPath+op, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), adminSigningName, region, time.Now()); err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach berth at %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return out, nil
	}
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if json.Unmarshal(out, &e) != nil || e.Type == "" {
		return nil, fmt.Errorf("%s answered %s", endpoint, resp.Status)
	}
	code := ExitFailure
	switch e.Type {
	case "UnrecognizedClientException", "InvalidSignatureException", "AccessDeniedException", "ExpiredTokenException",
		"MissingAuthenticationTokenException", "IncompleteSignatureException":
		code = ExitAuthError
	}
	return nil, &ExitError{Code: code, Err: fmt.Errorf("%s: %s", e.Type, e.Message)}
}
