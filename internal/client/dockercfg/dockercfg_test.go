package dockercfg

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// dump renders a parse result in a stable, reviewable text form.
func dump(c *Config, f Format, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "format: %s\n", f)
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
		return b.String()
	}
	for _, k := range c.Keys() {
		e := c.Auths[k]
		u, p, cerr := e.Credentials()
		switch {
		case e.Empty():
			fmt.Fprintf(&b, "auth %q: empty\n", k)
		case cerr != nil:
			fmt.Fprintf(&b, "auth %q: invalid: %v\n", k, cerr)
		default:
			fmt.Fprintf(&b, "auth %q: user=%q pass=%q email=%q\n", k, u, p, e.Email)
		}
	}
	hk := make([]string, 0, len(c.CredHelpers))
	for k := range c.CredHelpers {
		hk = append(hk, k)
	}
	sort.Strings(hk)
	for _, k := range hk {
		fmt.Fprintf(&b, "credHelper %q: %s\n", k, c.CredHelpers[k])
	}
	if c.CredsStore != "" {
		fmt.Fprintf(&b, "credsStore: %s\n", c.CredsStore)
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.input")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			if strings.HasPrefix(filepath.Base(in), "legacy_") {
				auths, err := ParseLegacy(data)
				got = dump(&Config{Auths: auths}, DetectFormat(data), err)
			} else {
				c, f, err := ParseAny(data)
				got = dump(c, f, err)
			}
			golden := strings.TrimSuffix(in, ".input") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s mismatch\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

func TestDecodeAuth(t *testing.T) {
	tests := []struct {
		name, in, user, pass, err string
	}{
		{"simple", EncodeAuth("user", "pass"), "user", "pass", ""},
		{"colons split on first", EncodeAuth("AWS", "a:b:c"), "AWS", "a:b:c", ""},
		{"trailing NULs trimmed", "dTpwAAA=", "u", "p", ""},
		{"empty password", EncodeAuth("u", ""), "u", "", ""},
		{"no colon", "bm9jb2xvbg==", "", "", "does not contain ':'"},
		{"empty user", EncodeAuth("", "p"), "", "", "empty username"},
		{"bad base64", "%%%", "", "", "not valid base64"},
		{"surrounding whitespace", " dXNlcjpwYXNz\n", "user", "pass", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, p, err := DecodeAuth(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || u != tc.user || p != tc.pass {
				t.Fatalf("got %q %q %v, want %q %q", u, p, err, tc.user, tc.pass)
			}
		})
	}
}

func TestNormalizeKey(t *testing.T) {
	tests := map[string]string{
		"docker.io":                        HubKey,
		"index.docker.io":                  HubKey,
		"https://index.docker.io/v1/":      HubKey,
		"registry-1.docker.io":             "registry-1.docker.io",
		"https://Registry.Example.com/v2/": "registry.example.com",
		"registry.example.com:5000":        "registry.example.com:5000",
		"http://127.0.0.1:5000/v2":         "127.0.0.1:5000",
		"[::1]:5000":                       "[::1]:5000",
		"https://[::1]:5000/x":             "[::1]:5000",
		"123456789012.dkr.ecr.us-east-1.amazonaws.com/repo/x": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
		"  quay.io  ": "quay.io",
	}
	for in, want := range tests {
		if got := NormalizeKey(in); got != want {
			t.Errorf("NormalizeKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLookup(t *testing.T) {
	const ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
	base := func() *Config {
		return &Config{
			Auths: map[string]AuthEntry{
				HubKey:                           {Auth: EncodeAuth("hub", "p")},
				"https://legacy.example.com/v1/": {Auth: EncodeAuth("legacy", "p")},
				"reg.example.com:5000":           {Auth: EncodeAuth("port", "p")},
				ecr:                              {Auth: EncodeAuth("AWS", "stale")},
			},
			CredHelpers: map[string]string{ecr: "berth", "docker.io": "never-matches"},
		}
	}
	tests := []struct {
		name     string
		mutate   func(*Config)
		host     string
		implicit string
		source   Source
		key      string
		helper   string
		closest  string
	}{
		{"hub via docker.io", nil, "docker.io", "", SourceAuthsExact, HubKey, "", ""},
		{"legacy key normalized", nil, "legacy.example.com", "", SourceAuthsHostname, "https://legacy.example.com/v1/", "", ""},
		{"helper shadows inline auth", nil, ecr, "", SourceCredHelper, ecr, "berth", ""},
		{"port must match", nil, "reg.example.com", "", SourceNone, "reg.example.com", "", "reg.example.com:5000"},
		{"near spelling suggested", nil, "reg.exampel.com:5000", "", SourceNone, "reg.exampel.com:5000", "", "reg.example.com:5000"},
		{"credsStore beats auths", func(c *Config) { c.CredsStore = "desktop" }, "docker.io", "", SourceCredsStore, HubKey, "desktop", ""},
		{"implicit store beats auths", nil, "docker.io", "secretservice", SourceImplicitStore, HubKey, "secretservice", ""},
		{"env first", func(c *Config) {
			if err := c.SetAuthConfigEnv(`{"auths":{"` + ecr + `":{"auth":"` + EncodeAuth("AWS", "env") + `"}}}`); err != nil {
				t.Fatal(err)
			}
		}, ecr, "", SourceEnv, ecr, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			if tc.mutate != nil {
				tc.mutate(c)
			}
			m := c.Lookup(tc.host, tc.implicit)
			if m.Source != tc.source || m.Key != tc.key || m.Helper != tc.helper || m.Closest != tc.closest {
				t.Fatalf("Lookup(%q) = %+v, want source=%s key=%s helper=%s closest=%s", tc.host, m, tc.source, tc.key, tc.helper, tc.closest)
			}
		})
	}
}

func TestAuthConfigEnvRejectsUnknownFields(t *testing.T) {
	for _, v := range []string{
		`{"auths":{"h":{"username":"u"}}}`,
		`{"auths":{}, "credsStore":"x"}`,
		`{"auths":{}} {"auths":{}}`,
		`not json`,
	} {
		if _, err := ParseAuthConfigEnv(v); err == nil {
			t.Errorf("ParseAuthConfigEnv(%q) accepted", v)
		}
	}
}

func TestSaveRoundTripKeepsUnknownKeysAndIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "docker")
	c, err := Load(dir)
	if err != nil {
		t.Fatalf("missing file must be empty config: %v", err)
	}
	c.other = nil
	c.SetAuth("https://reg.example.com/v2/", "u", "p")
	c.SetHelper("docker.io", "berth")
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", st.Mode().Perm())
	}
	dst, _ := os.Stat(dir)
	if dst.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", dst.Mode().Perm())
	}
	// Add a key berth does not know and make sure it survives a save.
	path := filepath.Join(dir, FileName)
	raw, _ := os.ReadFile(path)
	raw = []byte(strings.Replace(string(raw), "{", `{"proxies":{"default":{"httpProxy":"http://p:3128"}},`, 1))
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	c2, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := c2.Save(); err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(path)
	if !strings.Contains(string(out), `"httpProxy": "http://p:3128"`) {
		t.Errorf("unknown key dropped:\n%s", out)
	}
	c3, _ := Load(dir)
	if u, p, _ := c3.Auths["reg.example.com"].Credentials(); u != "u" || p != "p" {
		t.Errorf("auth not round-tripped: %q %q", u, p)
	}
	if c3.CredHelpers[HubKey] != "berth" {
		t.Errorf("helper key = %v, want Hub key", c3.CredHelpers)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
}

func TestSaveFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.json")
	if err := os.WriteFile(real, []byte(`{"auths":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgDir := filepath.Join(dir, "cfg")
	os.Mkdir(cfgDir, 0o700)
	link := filepath.Join(cfgDir, FileName)
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	c, err := Load(cfgDir)
	if err != nil {
		t.Fatal(err)
	}
	c.SetAuth("h", "u", "p")
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("symlink replaced by a file")
	}
	data, _ := os.ReadFile(real)
	if !strings.Contains(string(data), EncodeAuth("u", "p")) {
		t.Fatalf("target not updated: %s", data)
	}
}

func TestLoadMalformedNamesFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileName), []byte(`{"auths":`), 0o600)
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, FileName)) {
		t.Fatalf("err = %v, want the file path in it", err)
	}
}

func TestMarshalLegacyRoundTrip(t *testing.T) {
	auths := map[string]AuthEntry{
		HubKey:    {Username: "u", Password: "p"},
		"quay.io": {Auth: EncodeAuth("q", "w"), Email: "x@y"},
	}
	data, err := MarshalLegacy(auths, "none")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "\n") {
		t.Fatal("legacy output must be single-line for ECS_ENGINE_AUTH_DATA")
	}
	if DetectFormat(data) != FormatLegacy {
		t.Fatalf("format %s", DetectFormat(data))
	}
	back, err := ParseLegacy(data)
	if err != nil {
		t.Fatal(err)
	}
	if u, p, _ := back[HubKey].Credentials(); u != "u" || p != "p" || back[HubKey].Email != "none" {
		t.Fatalf("hub = %+v", back[HubKey])
	}
	if back["quay.io"].Email != "x@y" {
		t.Fatalf("email overwritten: %+v", back["quay.io"])
	}
}

func TestDetectImplicitStore(t *testing.T) {
	on := func(names ...string) LookPath {
		return func(n string) (string, error) {
			for _, x := range names {
				if x == n {
					return "/usr/bin/" + n, nil
				}
			}
			return "", os.ErrNotExist
		}
	}
	tests := []struct {
		goos string
		lp   LookPath
		want string
	}{
		{"linux", on(), ""},
		{"linux", on("docker-credential-pass"), ""},
		{"linux", on("docker-credential-pass", "pass"), "pass"},
		{"linux", on("docker-credential-secretservice"), "secretservice"},
		{"darwin", on("docker-credential-osxkeychain"), "osxkeychain"},
		{"windows", on("docker-credential-wincred"), "wincred"},
	}
	for _, tc := range tests {
		if got := DetectImplicitStore(tc.goos, tc.lp); got != tc.want {
			t.Errorf("%s: got %q want %q", tc.goos, got, tc.want)
		}
	}
}
