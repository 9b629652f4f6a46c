package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/audit"
	"github.com/berth-dev/berth/internal/server"
)

func TestAuditCommand(t *testing.T) {
	data := t.TempDir()
	l, err := audit.Open(audit.Options{Path: server.AuditPath(data)})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	alice := audit.UserIdentity{Type: "IAMUser", ARN: "arn:aws:iam::000000000000:user/alice", UserName: "alice"}
	l.Record(context.Background(), audit.Event{EventTime: now.Add(-3 * time.Hour), EventSource: "iam.amazonaws.com", EventName: "CreateUser", UserIdentity: alice, RequestID: "r1"})
	l.Record(context.Background(), audit.Event{EventTime: now.Add(-time.Minute), EventSource: "ecr.amazonaws.com", EventName: "PutImage", UserIdentity: alice, ErrorCode: "AccessDeniedException", RequestID: "r2"})
	l.Record(context.Background(), audit.Event{EventTime: now, EventSource: "ecr.amazonaws.com", EventName: "PutImage", UserIdentity: audit.UserIdentity{Type: "Root", ARN: "arn:aws:iam::000000000000:root"}, RequestID: "r3"})
	l.Close()

	r := runBerth(t, nil, "", "audit", "--data", data)
	if r.code != 0 || strings.Count(r.stdout, "\n") != 4 || !strings.Contains(r.stdout, "AccessDeniedException") {
		t.Fatalf("table: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runBerth(t, nil, "", "audit", "--data", data, "--since", "1h", "--errors", "-o", "json")
	var e audit.Event
	if r.code != 0 || strings.Count(r.stdout, "\n") != 1 || json.Unmarshal([]byte(r.stdout), &e) != nil || e.RequestID != "r2" {
		t.Fatalf("errors since 1h: %d %q %s", r.code, r.stdout, r.stderr)
	}
	r = runBerth(t, nil, "", "audit", "--data", data, "--principal", "alice", "--source", "iam", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"r1"`) || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("principal+source: %d %q", r.code, r.stdout)
	}
	if r = runBerth(t, nil, "", "audit", "--data", data, "--since", "yesterday"); r.code != ExitUsage || !strings.Contains(r.stderr, "--since") {
		t.Fatalf("bad --since: %d %s", r.code, r.stderr)
	}
}
