package ecsauth

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/client/golden"
)

// goldenImages are asked of every ecs.config fixture so the golden files pin
// the agent's host matching as well as the diagnostics.
func goldenImages() []string {
	return []string{
		"nginx:latest",
		"library/nginx",
		"docker.io/library/nginx:1.27",
		"registry-1.docker.io/library/nginx",
		"registry.example.com/team/app:1",
		"reg.example.com/team-a/app:1",
		"reg.example.com/team-a/sub/app",
		"reg.example.com/team-ab/app",
		"reg.example.com/other/app",
		"reg.example.com:5000/app",
		"127.0.0.1:5000/app@sha256:0000000000000000000000000000000000000000000000000000000000000000",
		"localhost/app",
		"quay.io/org/app",
	}
}

func TestECSConfigGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/ecsconfig/*.config")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			ef, err := ParseEnvFile(bytes.NewReader(data), filepath.Base(f))
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			Analyze(ef, goldenImages()).Write(&out)
			golden.Check(t, strings.TrimSuffix(f, ".config")+".golden", out.Bytes())
		})
	}
}

func TestParseAuthVerdicts(t *testing.T) {
	tests := []struct {
		name       string
		typ, data  string
		usable     []string // RawKeys the agent keeps
		wantErrSub string   // substring of some error diagnostic, "" = no errors
	}{
		{"dockercfg ok", "dockercfg", `{"https://index.docker.io/v1/":{"auth":"dTpw"}}`, []string{"https://index.docker.io/v1/"}, ""},
		{"auths wrapper", "dockercfg", `{"auths":{"h.example.com":{"auth":"dTpw"}}}`, nil, `literally named "auths"`},
		{"auths wrapper docker", "docker", `{"auths":{"h":{"username":"u","password":"p"}}}`, nil, "WRAPPER"},
		{"bad base64", "dockercfg", `{"h.example.com":{"auth":"%%%"}}`, nil, "not valid standard base64"},
		{"unpadded base64 is rejected like the agent", "dockercfg", `{"h.example.com":{"auth":"dTpwMQ"}}`, nil, "base64"},
		{"no colon", "dockercfg", `{"h.example.com":{"auth":"dXNlcg=="}}`, nil, "must contain ':'"},
		{"member case-insensitive like encoding/json", "dockercfg", `{"h.example.com":{"AUTH":"dTpw"}}`, []string{"h.example.com"}, ""},
		{"hub key docker.io", "dockercfg", `{"docker.io":{"auth":"dTpw"}}`, []string{"docker.io"}, "index.docker.io/v1/"},
		{"hub key without slash", "dockercfg", `{"https://index.docker.io/v1":{"auth":"dTpw"}}`, []string{"https://index.docker.io/v1"}, "exactly"},
		{"docker type", "docker", `{"h.example.com":{"username":"u","password":"p"}}`, []string{"h.example.com"}, ""},
		{"docker type auth only", "docker", `{"h.example.com":{"auth":"dTpw"}}`, nil, "does not decode"},
		{"not an object", "dockercfg", `["h"]`, nil, "Could not parse"},
		{"value is a string", "dockercfg", `{"h":"dTpw"}`, nil, "Could not parse"},
		{"unknown type", "Docker", `{}`, nil, "Unknown auth configuration"},
		{"data without type", "", `{"h":{"auth":"dTpw"}}`, nil, "is not"},
		{"type without data", "docker", ``, nil, "empty or missing"},
		{"unsupported scheme", "dockercfg", `{"ftp://h.example.com":{"auth":"dTpw"}}`, []string{"ftp://h.example.com"}, "only http:// and https://"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := ParseAuth(tc.typ, []byte(tc.data), "f", 1)
			var usable []string
			for _, e := range a.Entries {
				if e.Usable {
					usable = append(usable, e.RawKey)
				}
			}
			if strings.Join(usable, ",") != strings.Join(tc.usable, ",") {
				t.Errorf("usable = %v, want %v", usable, tc.usable)
			}
			var errs []string
			for _, d := range a.Diags {
				if d.Severity == SevError {
					errs = append(errs, d.Message)
				}
			}
			if tc.wantErrSub == "" {
				if len(errs) > 0 {
					t.Errorf("unexpected errors: %q", errs)
				}
				return
			}
			if !strings.Contains(strings.Join(errs, "\n"), tc.wantErrSub) {
				t.Errorf("errors %q lack %q", errs, tc.wantErrSub)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	auth := func(keys ...string) *Auth {
		a := &Auth{Type: TypeDockercfg}
		for _, k := range keys {
			a.Entries = append(a.Entries, Entry{RawKey: k, Key: stripScheme(k), Usable: true})
		}
		return a
	}
	tests := []struct {
		name     string
		a        *Auth
		image    string
		possible []string
	}{
		{"hub short name", auth("https://index.docker.io/v1/"), "nginx", []string{"index.docker.io/v1/"}},
		{"hub namespaced", auth("https://index.docker.io/v1/"), "bitnami/redis:7", []string{"index.docker.io/v1/"}},
		{"hub registry-1", auth("index.docker.io/v1/"), "registry-1.docker.io/library/nginx", []string{"index.docker.io/v1/"}},
		{"hub docker.io key unused", auth("docker.io"), "docker.io/library/nginx", nil},
		{"exact host", auth("h.example.com", "https://other.example.com"), "h.example.com/a/b:1", []string{"h.example.com"}},
		{"port must match", auth("h.example.com"), "h.example.com:5000/a", nil},
		{"exact beaten by longer prefix", auth("h.example.com", "h.example.com/team"), "h.example.com/team/app", []string{"h.example.com/team"}},
		{"string prefix, not path prefix", auth("h.example.com", "h.example.com/team"), "h.example.com/teamster/app", []string{"h.example.com/team"}},
		{"exact kept outside path", auth("h.example.com", "h.example.com/team"), "h.example.com/other/app", []string{"h.example.com"}},
		{"single path key used outside its path", auth("h.example.com/team"), "h.example.com/other/app", []string{"h.example.com/team"}},
		{"random among path keys", auth("h.example.com/a", "h.example.com/b"), "h.example.com/c/app", []string{"h.example.com/a", "h.example.com/b"}},
		{"random narrowed by prefix", auth("h.example.com/a", "h.example.com/bb"), "h.example.com/bb/app", []string{"h.example.com/bb"}},
		{"random when the matching key is shorter", auth("h.example.com/a", "h.example.com/bbbb"), "h.example.com/a/app", []string{"h.example.com/a", "h.example.com/bbbb"}},
		{"trailing slash key", auth("https://h.example.com/"), "h.example.com/app", []string{"h.example.com/"}},
		{"localhost is a host", auth("localhost"), "localhost/app", []string{"localhost"}},
		{"no dot no colon is hub", auth("myreg"), "myreg/app", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.a.Lookup(tc.image)
			if strings.Join(m.Possible, ",") != strings.Join(tc.possible, ",") {
				t.Fatalf("Possible = %v, want %v (%s)", m.Possible, tc.possible, m.Reason)
			}
			if m.Deterministic() != (len(tc.possible) <= 1) {
				t.Errorf("Deterministic = %v", m.Deterministic())
			}
			if len(tc.possible) == 1 && m.Key != tc.possible[0] {
				t.Errorf("Key = %q, want %q", m.Key, tc.possible[0])
			}
			if m.Reason == "" {
				t.Error("empty reason")
			}
		})
	}
}

// TestLookupAgainstAgentLoop replays the agent's loop in every iteration
// order and checks Lookup's Possible set is exactly the set of outcomes.
func TestLookupAgainstAgentLoop(t *testing.T) {
	keys := []string{"h.example.com/a", "h.example.com/ab", "h.example.com/abc/d", "h.example.com/b", "h.example.com"}
	images := []string{"h.example.com/a/x", "h.example.com/abc/d/e", "h.example.com/b", "h.example.com/zzz", "h.example.com/ab"}
	for mask := 1; mask < 1<<len(keys); mask++ {
		var ks []string
		for i, k := range keys {
			if mask&(1<<i) != 0 {
				ks = append(ks, k)
			}
		}
		a := &Auth{}
		for _, k := range ks {
			a.Entries = append(a.Entries, Entry{RawKey: k, Key: k, Usable: true})
		}
		for _, img := range images {
			want := map[string]bool{}
			permute(ks, func(order []string) { want[agentLoop(order, img)] = true })
			got := a.Lookup(img).Possible
			if len(got) != len(want) {
				t.Fatalf("keys %v image %s: got %v, want %v", ks, img, got, want)
			}
			for _, k := range got {
				if !want[k] {
					t.Fatalf("keys %v image %s: got %v, want %v", ks, img, got, want)
				}
			}
		}
	}
}

// agentLoop is the agent's GetAuthconfig for a non-Hub host, with the map
// iteration order made explicit.
func agentLoop(order []string, image string) string {
	host := indexName(repositoryOf(image))
	longest := ""
	for _, k := range order {
		if k == host {
			longest = k
		}
	}
	for _, k := range order {
		h, _, _ := strings.Cut(k, "/")
		if h == host {
			if longest == "" {
				longest = k
			} else if len(k) > len(longest) && strings.HasPrefix(image, k) {
				longest = k
			}
		}
	}
	return longest
}

func permute(s []string, f func([]string)) {
	var rec func(int)
	rec = func(i int) {
		if i == len(s) {
			f(s)
			return
		}
		for j := i; j < len(s); j++ {
			s[i], s[j] = s[j], s[i]
			rec(i + 1)
			s[i], s[j] = s[j], s[i]
		}
	}
	rec(0)
}
