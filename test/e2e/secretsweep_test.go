//go:build e2e

package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The secret sweep: every secret the e2e tests create or receive (access
// keys, session tokens, ECR passwords, SecureString and Secrets Manager
// values) is noted, and when a berth process stops its access log (stderr)
// and audit files are searched for each of them. Secrets are noted from the
// JSON output of every command the tests run (aws CLI, berth admin…), and by
// the SDK helpers that receive them.
var knownSecrets sync.Map // secret → kind

// minSecretLen keeps short ordinary values (a tag, "v1") out of the sweep.
const minSecretLen = 12

func noteSecret(kind, s string) {
	if len(s) >= minSecretLen {
		knownSecrets.LoadOrStore(s, kind)
	}
}

// secretFields are JSON field names whose values are secrets in the outputs
// of the aws CLI and berth; parameters' Value counts only for SecureString.
var secretFields = map[string]bool{
	"secretaccesskey": true, "sessiontoken": true, "authorizationtoken": true,
	"secretstring": true, "password": true,
}

// noteSecretsInOutput records the secrets in a command's stdout: JSON
// fields by name, and the raw output of get-login-password.
func noteSecretsInOutput(args []string, stdout string) {
	for _, a := range args {
		if a == "get-login-password" {
			noteSecret("ECR password", strings.TrimSpace(stdout))
		}
	}
	var doc any
	if json.Unmarshal([]byte(stdout), &doc) != nil {
		return
	}
	walkSecrets(doc)
}

func walkSecrets(v any) {
	switch t := v.(type) {
	case map[string]any:
		secure := t["Type"] == "SecureString"
		for k, x := range t {
			lk := strings.ToLower(k)
			s, isString := x.(string)
			switch {
			case isString && secretFields[lk]:
				noteSecret(k, s)
				if lk == "authorizationtoken" {
					if raw, err := base64.StdEncoding.DecodeString(s); err == nil {
						if _, pw, ok := strings.Cut(string(raw), ":"); ok {
							noteSecret("ECR password", pw)
						}
					}
				}
			case isString && secure && lk == "value":
				noteSecret("SecureString", s)
			default:
				walkSecrets(x)
			}
		}
	case []any:
		for _, x := range t {
			walkSecrets(x)
		}
	}
}

// checkNoSecretsLogged fails the test when berth's output or audit log holds
// a known secret in any common encoding.
func (b *Berth) checkNoSecretsLogged(t testing.TB) {
	files := []string{b.logPath}
	auditDir := b.auditDir
	if auditDir == "" {
		auditDir = filepath.Join(b.DataDir, "audit")
	}
	rotated, _ := filepath.Glob(filepath.Join(auditDir, "audit.log*"))
	files = append(files, rotated...)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		knownSecrets.Range(func(k, v any) bool {
			s := k.(string)
			enc, _ := json.Marshal(s)
			for _, form := range [][]byte{[]byte(s), []byte(base64.StdEncoding.EncodeToString([]byte(s))), bytes.Trim(enc, `"`)} {
				if bytes.Contains(data, form) {
					t.Errorf("%s holds a %s (%.4s…)", filepath.Base(f), v, s)
					return true
				}
			}
			return true
		})
	}
}

// TestSecretSweepFindsALeak proves the sweep is not vacuous: a server log
// that echoes a noted secret is reported.
func TestSecretSweepFindsALeak(t *testing.T) {
	dir := t.TempDir()
	b := &Berth{DataDir: dir, logPath: filepath.Join(dir, "berth.log")}
	noteSecretsInOutput([]string{"iam", "create-access-key"}, `{"AccessKey":{"AccessKeyId":"AKIAEXAMPLE","SecretAccessKey":"sweep-canary-secret-0000"}}`)
	os.MkdirAll(filepath.Join(dir, "audit"), 0o700)
	os.WriteFile(filepath.Join(dir, "audit", "audit.log.1"), []byte(`{"x":"sweep-canary-secret-0000"}`), 0o600)
	ft := &fakeT{TB: t}
	b.checkNoSecretsLogged(ft)
	knownSecrets.Delete("sweep-canary-secret-0000")
	if !ft.failed {
		t.Fatal("the sweep did not report a secret written to a rotated audit file")
	}
}

type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Errorf(string, ...any) { f.failed = true }
