package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRedact(t *testing.T) {
	in := map[string]any{
		"Value":         "top-level-ssm-value",
		"name":          "/db/pw",
		"Tags":          []any{map[string]any{"Key": "team", "Value": "blue"}},
		"nested":        map[string]any{"SecretString": "s3cr3t", "Password": "pw", "credentials": map[string]any{"accessKeyId": "ASIA"}},
		"layerPartBlob": "AAAA",
		"policyText":    strings.Repeat("x", maxString+10),
		"list":          make([]any, maxList+5),
	}
	out := Redact(in)
	if out["Value"] != Hidden {
		t.Errorf("top-level Value: %v", out["Value"])
	}
	if tag := out["Tags"].([]any)[0].(map[string]any); tag["Value"] != "blue" {
		t.Errorf("a tag's Value is not a secret: %v", tag)
	}
	n := out["nested"].(map[string]any)
	if n["SecretString"] != Hidden || n["Password"] != Hidden || n["credentials"] != Hidden {
		t.Errorf("nested secrets: %v", n)
	}
	if _, ok := out["layerPartBlob"]; ok {
		t.Error("layerPartBlob kept")
	}
	if s := out["policyText"].(string); len(s) > maxString+len("…") || !strings.HasSuffix(s, "…") {
		t.Errorf("long string not truncated: %d bytes", len(s))
	}
	if l := out["list"].([]any); len(l) != maxList+1 || l[maxList] != "…" {
		t.Errorf("long list: %d entries", len(l))
	}
	if in["Value"] != "top-level-ssm-value" {
		t.Error("Redact modified its input")
	}
}

func TestLowerFirst(t *testing.T) {
	for in, want := range map[string]string{
		"UserName": "userName", "ARN": "arn", "KMSKeyId": "kmsKeyId", "AccessKeyId": "accessKeyId",
		"repositoryName": "repositoryName", "": "", "X": "x", "IAMUser": "iamUser",
	} {
		if got := lowerFirst(in); got != want {
			t.Errorf("lowerFirst(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFromForm(t *testing.T) {
	got := FromForm(map[string][]string{"Action": {"CreateLoginProfile"}, "Version": {"2010-05-08"},
		"UserName": {"alice"}, "Password": {"hunter2"}, "X-Amz-Signature": {"abc"}})
	want := map[string]any{"userName": "alice", "password": Hidden}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("FromForm = %v, want %v", got, want)
	}
}

func TestFromXMLValue(t *testing.T) {
	type key struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string
	}
	type members struct {
		Items []string `xml:"member"`
	}
	got := FromXMLValue(struct {
		AccessKey key
		Groups    members
	}{key{"AKIA1", "shh"}, members{[]string{"a", "b"}}})
	ak := got["accessKey"].(map[string]any)
	if ak["accessKeyId"] != "AKIA1" || ak["secretAccessKey"] != Hidden {
		t.Errorf("accessKey: %v", ak)
	}
	if fmt.Sprint(got["groups"]) != "[a b]" {
		t.Errorf("groups: %v", got["groups"])
	}
}

func TestEventIDIsUUIDv4(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		id := NewEventID()
		if !re.MatchString(id) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

func TestReadOnly(t *testing.T) {
	for op, want := range map[string]bool{"GetAuthorizationToken": true, "ListImages": true, "DescribeRepositories": true,
		"BatchGetImage": true, "PutImage": false, "CreateUser": false, "BatchDeleteImage": false, "AssumeRole": false} {
		if IsReadOnly(op) != want {
			t.Errorf("IsReadOnly(%s) != %v", op, want)
		}
	}
}

func ev(name string, at time.Time) Event {
	return Event{EventTime: at, EventName: name, EventSource: "iam.amazonaws.com",
		UserIdentity: UserIdentity{Type: "IAMUser", ARN: "arn:aws:iam::000000000000:user/ci/alice", UserName: "alice", AccessKeyID: "AKIAX"}}
}

func collect(t *testing.T, path string, f Filter) []string {
	t.Helper()
	var names []string
	if err := Read(context.Background(), path, f, false, 0, func(e Event) error { names = append(names, e.EventName); return nil }); err != nil {
		t.Fatal(err)
	}
	return names
}

func TestLogRotatesAndReadsOldestFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit", "audit.log")
	l, err := Open(Options{Path: path, MaxBytes: 600, MaxFiles: 3})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	for i := range 20 {
		l.Record(context.Background(), ev(fmt.Sprintf("E%02d", i), t0.Add(time.Duration(i)*time.Minute)))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files := Files(path)
	if len(files) != 4 || files[3] != path || files[0] != path+".3" {
		t.Fatalf("files = %v, want 3 rotated + active", files)
	}
	for _, f := range files {
		st, _ := os.Stat(f)
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	names := collect(t, path, Filter{})
	if len(names) == 0 || names[len(names)-1] != "E19" {
		t.Fatalf("events %v", names)
	}
	for i := 1; i < len(names); i++ {
		if names[i] <= names[i-1] {
			t.Fatalf("not oldest first: %v", names)
		}
	}
	// The oldest events fell off the end: rotation bounds the disk.
	if names[0] == "E00" {
		t.Errorf("nothing was dropped after %d rotations: %v", len(files), names)
	}
	if got := collect(t, path, Filter{Since: t0.Add(18 * time.Minute)}); fmt.Sprint(got) != "[E18 E19]" {
		t.Errorf("since filter: %v", got)
	}
}

func TestFilter(t *testing.T) {
	e := ev("CreateUser", time.Now())
	e.ErrorCode = "AccessDenied"
	for _, tc := range []struct {
		f    Filter
		want bool
	}{
		{Filter{}, true},
		{Filter{Principal: "alice"}, true},
		{Filter{Principal: "AKIAX"}, true},
		{Filter{Principal: "arn:aws:iam::000000000000:user/ci/alice"}, true},
		{Filter{Principal: "bob"}, false},
		{Filter{Principal: "lice"}, false},
		{Filter{Source: "iam"}, true},
		{Filter{Source: "ecr"}, false},
		{Filter{EventName: "CreateUser", ErrorsOnly: true}, true},
		{Filter{EventName: "DeleteUser"}, false},
		{Filter{Until: e.EventTime}, false},
	} {
		if tc.f.Match(e) != tc.want {
			t.Errorf("%+v.Match = %v", tc.f, !tc.want)
		}
	}
}

func TestReadSkipsTornLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	b, _ := json.Marshal(ev("A", time.Now()))
	os.WriteFile(path, append(append(b, '\n'), []byte(`{"eventName":"B","eventTi`)...), 0o600)
	if got := collect(t, path, Filter{}); fmt.Sprint(got) != "[A]" {
		t.Errorf("got %v", got)
	}
}

func TestFollowSurvivesRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(Options{Path: path, MaxBytes: 400, MaxFiles: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Record(context.Background(), ev("before", time.Now()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got := make(chan string, 100)
	done := make(chan error, 1)
	go func() {
		done <- Read(ctx, path, Filter{}, true, 10*time.Millisecond, func(e Event) error {
			got <- e.EventName
			if e.EventName == "last" {
				return ErrStop
			}
			return nil
		})
	}()
	if n := <-got; n != "before" {
		t.Fatalf("first event %q", n)
	}
	const n = 12 // several rotations at 400 bytes per file
	for i := range n {
		l.Record(context.Background(), ev(fmt.Sprintf("e%d", i), time.Now()))
		time.Sleep(15 * time.Millisecond)
	}
	l.Record(context.Background(), ev("last", time.Now()))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	close(got)
	var seen []string
	for s := range got {
		seen = append(seen, s)
	}
	if len(seen) != n+1 || seen[n] != "last" {
		t.Errorf("followed %d events %v, want %d ending in last", len(seen), seen, n+1)
	}
}

// FuzzFromJSON: whatever the document, a value under a secret name never
// reaches the output, and nothing panics.
func FuzzFromJSON(f *testing.F) {
	f.Add([]byte(`{"SecretString":"MARKER","a":{"Password":"MARKER"},"Value":"MARKER"}`))
	f.Add([]byte(`{"Tags":[{"Key":"k","Value":"v"}],"credentials":{"SessionToken":"MARKER"}}`))
	f.Add([]byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out := FromJSON(body)
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatalf("output does not encode: %v", err)
		}
		var in any
		if json.Unmarshal(body, &in) != nil {
			return
		}
		// A secret that also appears outside secret positions (as a key or
		// another value) may legitimately show up.
		public, _ := json.Marshal(withoutSecrets(in, 0))
		for _, s := range secretValues(in, 0) {
			if len(s) < 4 || strings.Contains(string(public), s) || strings.Contains(Hidden+"…", s) {
				continue
			}
			if strings.Contains(string(b), s) {
				t.Fatalf("secret %q survived in %s", s, b)
			}
		}
	})
}

// secretValues lists the string values under secret names (any depth) or a
// top-level Value.
func secretValues(v any, depth int) []string {
	var out []string
	var all func(any)
	all = func(x any) {
		switch t := x.(type) {
		case string:
			out = append(out, t)
		case map[string]any:
			for _, y := range t {
				all(y)
			}
		case []any:
			for _, y := range t {
				all(y)
			}
		}
	}
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			lk := strings.ToLower(k)
			if secretNames[lk] || (depth == 0 && topLevelSecrets[lk]) {
				all(x)
				continue
			}
			out = append(out, secretValues(x, depth+1)...)
		}
	case []any:
		for _, x := range t {
			out = append(out, secretValues(x, depth+1)...)
		}
	}
	return out
}

func withoutSecrets(v any, depth int) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range t {
			lk := strings.ToLower(k)
			if secretNames[lk] || (depth == 0 && topLevelSecrets[lk]) {
				out[k] = nil
				continue
			}
			out[k] = withoutSecrets(x, depth+1)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = withoutSecrets(x, depth+1)
		}
		return out
	}
	return v
}

func TestRecordBoundsUserAgent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	e := ev("Ping", time.Now())
	e.UserAgent = strings.Repeat("u", 1000)
	l.Record(context.Background(), e)
	l.Close()
	var got []Event
	Read(context.Background(), path, Filter{}, false, 0, func(e Event) error { got = append(got, e); return nil })
	if len(got) != 1 || len(got[0].UserAgent) != maxUserAgent {
		t.Fatalf("user agent of %d bytes recorded, want %d", len(got[0].UserAgent), maxUserAgent)
	}
}
