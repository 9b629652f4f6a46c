//go:build e2e

package e2e

import (
	"strings"
	"testing"
)

// TestBoto3Fidelity runs testdata/aws_fidelity.py: boto3 against berth where
// clients match on AWS's exact error texts and response shapes (issue 15).
func TestBoto3Fidelity(t *testing.T) {
	python := requireTool(t, "python3")
	noAWSProfile(t)
	b := StartBerth(t, WithArgs("--account-id", ecrTestAccount, "--region", "us-east-1"))
	env := append(ecrCLIEnv(RootAccessKeyID, RootSecretAccessKey),
		"BERTH_ENDPOINT="+b.URL(), "BERTH_KEY="+RootAccessKeyID, "BERTH_SECRET="+RootSecretAccessKey, "BERTH_ACCOUNT="+ecrTestAccount)
	out := mustRun(t, Cmd{Name: python, Args: []string{iamTestdata(t, "aws_fidelity.py")}, Env: env})
	if !strings.HasSuffix(strings.TrimSpace(out), "OK") {
		t.Fatalf("boto3 fidelity script did not finish:\n%s", out)
	}
}
