package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/audit"
)

func readAudit(t *testing.T, path string) []audit.Event {
	t.Helper()
	var evs []audit.Event
	if err := audit.Read(context.Background(), path, audit.Filter{}, false, 0, func(e audit.Event) error {
		evs = append(evs, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestAuditOneEventPerCallNoSecrets drives control-plane and data-plane
// calls, successful, failed and denied, and checks the audit log holds
// exactly one event per audited call with CloudTrail's fields — and none
// of the secrets the calls created or carried.
func TestAuditOneEventPerCallNoSecrets(t *testing.T) {
	w := newWorld(t) // two admin CreateAccount calls
	secrets := []string{w.rootA.secret, w.rootB.secret, w.rootC.secret}

	alice := w.newUser(w.rootA, "alice", "") // CreateUser, CreateAccessKey
	secrets = append(secrets, alice.secret)
	body := w.mustOK(w.sts(alice, "GetSessionToken", nil))
	secrets = append(secrets, xmlField(body, "SecretAccessKey"), xmlField(body, "SessionToken"))
	tok := w.ecrToken(w.rootA, w.region)
	secrets = append(secrets, tok)
	w.mustOK(w.ssm(w.rootA, "PutParameter", map[string]any{"Name": "/db/pw", "Type": "SecureString", "Value": "ssm-secret-value-1"}))
	w.mustOK(w.sm(w.rootA, "CreateSecret", map[string]any{"Name": "ci/token", "SecretString": "sm-secret-value-2"}))
	secrets = append(secrets, "ssm-secret-value-1", "sm-secret-value-2")
	if st, b := w.ecr(alice, "DescribeRepositories", map[string]any{}); !denied(st, b) {
		t.Fatalf("alice DescribeRepositories: %d %s", st, b)
	}
	user, pass := basicOf(alice)
	if r := w.v2(w.host("", ""), user, pass, "GET", "/v2/nope/manifests/latest", nil, nil); r.status != 403 && r.status != 404 {
		t.Fatalf("alice pull: %d %s", r.status, r.body)
	}
	// Not events: the anonymous ping every docker login starts with.
	if r := w.v2(w.host("", ""), "", "", "GET", "/v2/", nil, nil); r.status != 401 {
		t.Fatalf("anonymous ping: %d", r.status)
	}
	// An event: a wrong password on the registry.
	if r := w.v2(w.host("", ""), alice.key, "wrong", "GET", "/v2/", nil, nil); r.status != 401 {
		t.Fatalf("wrong password: %d", r.status)
	}

	path := w.srv.AuditFile()
	evs := readAudit(t, path)
	type key struct{ source, name, code string }
	got := map[key]int{}
	for _, e := range evs {
		got[key{e.EventSource, e.EventName, e.ErrorCode}]++
		if e.EventVersion != audit.EventVersion || e.EventID == "" || e.RequestID == "" || e.EventTime.IsZero() || e.SourceIPAddress == "" {
			t.Errorf("incomplete event: %+v", e)
		}
	}
	want := map[key]int{
		{"berth.admin", "CreateAccount", ""}:                                   2,
		{"iam.amazonaws.com", "CreateUser", ""}:                                1,
		{"iam.amazonaws.com", "CreateAccessKey", ""}:                           1,
		{"sts.amazonaws.com", "GetSessionToken", ""}:                           1,
		{"ecr.amazonaws.com", "GetAuthorizationToken", ""}:                     1,
		{"ssm.amazonaws.com", "PutParameter", ""}:                              1,
		{"secretsmanager.amazonaws.com", "CreateSecret", ""}:                   1,
		{"ecr.amazonaws.com", "DescribeRepositories", "AccessDeniedException"}: 1,
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("events %v: got %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
	var pulls, badPassword, pings int
	for _, e := range evs {
		if e.EventType != audit.TypeRegistryCall {
			continue
		}
		switch {
		case e.EventName == "BatchGetImage" && e.ErrorCode != "":
			pulls++
			if e.UserIdentity.ARN != "arn:aws:iam::000000000000:user/alice" || e.UserIdentity.Type != "IAMUser" || e.RequestParameters["repositoryName"] != "nope" {
				t.Errorf("denied pull event: %+v", e)
			}
		case e.EventName == "Ping" && e.ErrorCode == "UNAUTHORIZED":
			badPassword++
		default:
			pings++
		}
	}
	if pulls != 1 || badPassword != 1 || pings != 0 {
		t.Errorf("registry events: denied pulls %d, bad password %d, other %d; want 1, 1, 0", pulls, badPassword, pings)
	}
	for _, e := range evs {
		if e.EventName == "CreateAccessKey" {
			ak, _ := e.ResponseElements["accessKey"].(map[string]any)
			if ak["accessKeyId"] != alice.key || ak["secretAccessKey"] != audit.Hidden {
				t.Errorf("CreateAccessKey responseElements: %v", e.ResponseElements)
			}
			if e.RequestParameters["userName"] != "alice" || e.ReadOnly {
				t.Errorf("CreateAccessKey request: %v readOnly=%v", e.RequestParameters, e.ReadOnly)
			}
		}
		if e.EventName == "GetAuthorizationToken" && (e.ResponseElements != nil || !e.ReadOnly) {
			t.Errorf("GetAuthorizationToken must be read-only without response: %+v", e)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if s == "" {
			t.Fatal("a secret the test meant to look for is empty")
		}
		for _, form := range []string{s, base64.StdEncoding.EncodeToString([]byte(s)), jsonEscaped(s)} {
			if strings.Contains(string(raw), form) {
				t.Errorf("audit log contains a secret (%.6s…)", s)
			}
		}
	}
}

func jsonEscaped(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}
