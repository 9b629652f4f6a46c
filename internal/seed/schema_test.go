package seed

import (
	"strings"
	"testing"
)

func TestParseErrorsNameFileLineField(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"not yaml", "version: [1\n", "ci.yaml:1: "},
		{"empty", "", "ci.yaml: empty seed file"},
		{"wrong version", "version: 2\n", "ci.yaml:1: version: must be 1"},
		{"unknown field", "version: 1\naccounts:\n  - id: \"111111111111\"\n    userz: []\n", "ci.yaml:4: field userz not found"},
		{"wrong type", "version: 1\naccounts:\n  - users:\n      - name: [a]\n", "ci.yaml:4: cannot unmarshal"},
		{"unquoted account id", "version: 1\naccounts:\n  - id: 0123\n", "ci.yaml:3: accounts[0].id: \"0123\" is not a 12-digit account id"},
		{"duplicate account", "version: 1\naccounts:\n  - id: \"111111111111\"\n  - id: \"111111111111\"\n", "ci.yaml:4: accounts[1].id: account \"111111111111\" is already declared at accounts[0]"},
		{"user without name", "version: 1\naccounts:\n  - users:\n      - path: /\n", "ci.yaml:4: accounts[0].users[0]: name is required"},
		{"duplicate user", "version: 1\naccounts:\n  - users:\n      - name: ci\n      - name: CI\n", "ci.yaml:5: accounts[0].users[1].name: \"CI\" is declared twice"},
		{"key without secret", "version: 1\naccounts:\n  - users:\n      - name: ci\n        accessKeys:\n          - id: AKIA0000000000000001\n", "ci.yaml:6: accounts[0].users[0].accessKeys[0]: secret is required"},
		{"three keys", "version: 1\naccounts:\n  - users:\n      - name: ci\n        accessKeys: [{id: A, secret: b}, {id: B, secret: b}, {id: C, secret: b}]\n", "ci.yaml:5: accounts[0].users[0].accessKeys: a user can have at most 2"},
		{"role without trust", "version: 1\naccounts:\n  - roles:\n      - name: r\n", "ci.yaml:4: accounts[0].roles[0]: trustPolicy is required"},
		{"image with both sources", "version: 1\naccounts:\n  - repositories:\n      - name: app\n        images:\n          - {ociLayout: a, dockerArchive: b}\n", "ci.yaml:6: accounts[0].repositories[0].images[0]: give exactly one of ociLayout or dockerArchive"},
		{"image with no source", "version: 1\naccounts:\n  - repositories:\n      - name: app\n        images:\n          - tags: [x]\n", "ci.yaml:6: accounts[0].repositories[0].images[0]: give exactly one"},
		{"parameter without value", "version: 1\naccounts:\n  - parameters:\n      - name: /a\n", "ci.yaml:4: accounts[0].parameters[0]: value is required"},
		{"secret without value", "version: 1\naccounts:\n  - secrets:\n      - name: a\n", "ci.yaml:4: accounts[0].secrets[0]: value is required"},
		{"policy without document", "version: 1\naccounts:\n  - policies:\n      - name: p\n", "ci.yaml:4: accounts[0].policies[0]: document is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("ci.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseDocumentsAsYAMLOrJSONText(t *testing.T) {
	f, err := Parse("ci.yaml", []byte(`version: 1
accounts:
  - id: "111111111111"
    policies:
      - name: structured
        document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "ecr:*", Resource: "*"}]}
      - name: text
        document: '{"Version":"2012-10-17"}'
    secrets:
      - name: s
        value: plain text
`))
	if err != nil {
		t.Fatal(err)
	}
	a := f.Accounts[0]
	if got := a.Policies[0].Document.Text; got != `{"Statement":[{"Action":"ecr:*","Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}` {
		t.Errorf("structured document = %s", got)
	}
	if got := a.Policies[1].Document.Text; got != `{"Version":"2012-10-17"}` {
		t.Errorf("text document = %s", got)
	}
	if a.Secrets[0].Value.Text != "plain text" {
		t.Errorf("secret = %q", a.Secrets[0].Value.Text)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("version: 1\naccounts:\n  - users:\n      - name: ci\n"))
	f.Add([]byte("version: 1\naccounts:\n  - repositories:\n      - name: a\n        policy: {a: [1, {b: c}]}\n"))
	f.Add([]byte("version: 1\naccounts: [{id: '111111111111', secrets: [{name: x, value: {k: v}}]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("f.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if file.Version != 1 {
			t.Fatalf("accepted version %d", file.Version)
		}
	})
}
