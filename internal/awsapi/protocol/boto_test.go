package protocol

import (
	"encoding/json"
	"net/http/httptest"
	"os/exec"
	"testing"
)

// TestBotocoreParsesResponses runs boto3 (the aws CLI's parser) against the
// same fake front end as TestRealSDKClients.
func TestBotocoreParsesResponses(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil || exec.Command(py, "-c", "import boto3").Run() != nil {
		t.Skip("python3 with boto3 not installed")
	}
	srv := httptest.NewServer(fakeAPI{})
	t.Cleanup(srv.Close)
	cmd := exec.Command(py, "testdata/boto_client.py", srv.URL)
	cmd.Env = append(cmd.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	raw, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("boto_client.py: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	type apiErr struct {
		Code, Message, RequestID string
		Status                   int
	}
	var got struct {
		Repo, UserName, CreateDate, IamRequestID, Account string
		CreatedAt                                         float64
		EcrError, IamError                                *apiErr
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if got.Repo != "team/app" || got.CreatedAt != 1714564800.123 || got.UserName != "bob" ||
		got.CreateDate != "2024-05-01T12:00:00+00:00" || len(got.IamRequestID) != 36 || got.Account != "123456789012" {
		t.Fatalf("botocore parsed %s", raw)
	}
	if e := got.EcrError; e == nil || e.Code != "RepositoryNotFoundException" || e.Status != 400 ||
		e.Message != "The repository with name 'missing' does not exist in the registry with id '123456789012'" || len(e.RequestID) != 36 {
		t.Fatalf("ecr error parsed as %+v", got.EcrError)
	}
	if e := got.IamError; e == nil || e.Code != "NoSuchEntity" || e.Status != 404 ||
		e.Message != "The user with name missing cannot be found." || len(e.RequestID) != 36 {
		t.Fatalf("iam error parsed as %+v", got.IamError)
	}
}
