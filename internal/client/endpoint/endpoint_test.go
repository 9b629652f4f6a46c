package endpoint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func withFile(t *testing.T, name string, extra map[string]string) func(string) string {
	t.Helper()
	dir := t.TempDir()
	if name != "" {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, MappingFileName), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	m := map[string]string{"BERTH_CONFIG_DIR": dir}
	for k, v := range extra {
		m[k] = v
	}
	return env(m)
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name  string
		host  string
		extra map[string]string
		want  Target
	}{
		{"real ECR", "123456789012.dkr.ecr.us-east-1.amazonaws.com", nil,
			Target{Kind: KindECR, Account: "123456789012", Region: "us-east-1", RegistryURL: "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"}},
		{"ECR URL form with path", "https://123456789012.dkr.ecr.eu-west-2.amazonaws.com/v2/app", nil,
			Target{Kind: KindECR, Account: "123456789012", Region: "eu-west-2", RegistryURL: "https://123456789012.dkr.ecr.eu-west-2.amazonaws.com"}},
		{"ECR FIPS", "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", nil,
			Target{Kind: KindECR, Account: "123456789012", Region: "us-gov-west-1", FIPS: true, RegistryURL: "https://123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com"}},
		{"ECR dual-stack", "123456789012.dkr-ecr.us-east-1.on.aws", nil,
			Target{Kind: KindECR, Account: "123456789012", Region: "us-east-1", DualStack: true, RegistryURL: "https://123456789012.dkr-ecr.us-east-1.on.aws"}},
		{"ECR China", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", nil,
			Target{Kind: KindECR, Account: "123456789012", Region: "cn-north-1", RegistryURL: "https://123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"}},
		{"ECR Public", "public.ecr.aws", nil, Target{Kind: KindECRPublic, Region: "us-east-1", RegistryURL: "https://public.ecr.aws"}},
		{"Docker Hub", "docker.io", nil, Target{Kind: KindOther, RegistryURL: "https://registry-1.docker.io"}},
		{"berth ECR-shaped loopback", "222222222222.dkr.ecr.eu-west-2.localhost:5000", nil,
			Target{Kind: KindBerth, Account: "222222222222", Region: "eu-west-2", APIEndpoint: "http://222222222222.dkr.ecr.eu-west-2.localhost:5000", RegistryURL: "http://222222222222.dkr.ecr.eu-west-2.localhost:5000"}},
		{"berth plain loopback IP", "127.0.0.1:5000", nil,
			Target{Kind: KindBerth, APIEndpoint: "http://127.0.0.1:5000", RegistryURL: "http://127.0.0.1:5000"}},
		{"berth IPv6 loopback", "[::1]:5000", nil,
			Target{Kind: KindBerth, APIEndpoint: "http://[::1]:5000", RegistryURL: "http://[::1]:5000"}},
		{"berth remote host is https", "registry.example.net", nil,
			Target{Kind: KindBerth, APIEndpoint: "https://registry.example.net", RegistryURL: "https://registry.example.net"}},
		{"BERTH_ENDPOINT overrides API for berth hosts", "registry.example.net", map[string]string{"BERTH_ENDPOINT": "https://api.example.net/"},
			Target{Kind: KindBerth, APIEndpoint: "https://api.example.net", RegistryURL: "https://registry.example.net"}},
		{"BERTH_ENDPOINT does not touch real ECR", "123456789012.dkr.ecr.us-east-1.amazonaws.com", map[string]string{"BERTH_ENDPOINT": "https://api.example.net"},
			Target{Kind: KindECR, Account: "123456789012", Region: "us-east-1", RegistryURL: "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"}},
		{"mapping file entry", "registry.corp.example", nil,
			Target{Kind: KindBerth, Account: "222222222222", Region: "eu-west-2", APIEndpoint: "https://berth.corp.example:8443", RegistryURL: "https://registry.corp.example"}},
		{"mapping alias to real ECR", "ecr-alias.corp.example", nil,
			Target{Kind: KindECR, Account: "499999999999", Region: "us-east-2", RegistryURL: "https://ecr-alias.corp.example"}},
		{"mapping insecure", "dev.internal:5000", nil,
			Target{Kind: KindBerth, Insecure: true, APIEndpoint: "http://dev.internal:5000", RegistryURL: "http://dev.internal:5000"}},
		{"mapping port must match", "dev.internal:6000", nil,
			Target{Kind: KindBerth, APIEndpoint: "https://dev.internal:6000", RegistryURL: "https://dev.internal:6000"}},
		{"mapping glob", "eu.mirror.corp.example", nil,
			Target{Kind: KindBerth, Region: "ap-south-1", APIEndpoint: "https://eu.mirror.corp.example", RegistryURL: "https://eu.mirror.corp.example"}},
		{"env map wins over file", "registry.corp.example", map[string]string{"BERTH_REGISTRY_MAP": "registry.corp.example=http://10.0.0.5:8080"},
			Target{Kind: KindBerth, APIEndpoint: "http://10.0.0.5:8080", RegistryURL: "https://registry.corp.example"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New(withFile(t, "registries_valid.json", tc.extra))
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Resolve(tc.host)
			if err != nil {
				t.Fatal(err)
			}
			got.Source, got.Host = "", ""
			if got != tc.want {
				t.Fatalf("Resolve(%q)\n got %+v\nwant %+v", tc.host, got, tc.want)
			}
		})
	}
}

func TestMalformedMappingNamesFileAndField(t *testing.T) {
	tests := map[string]string{
		"registries_typo.json":         `unknown field "regsitryId"`,
		"registries_bad_account.json":  `registries["h"].registryId "12345"`,
		"registries_bad_endpoint.json": `registries["h"].endpoint`,
		"registries_scheme_key.json":   `registries key "https://h/v2"`,
		"registries_truncated.json":    "unexpected EOF",
		"registries_bad_glob.json":     "bad glob",
	}
	for file, want := range tests {
		t.Run(file, func(t *testing.T) {
			_, err := New(withFile(t, file, nil))
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), MappingFileName) {
				t.Fatalf("err = %v, want file name and %q", err, want)
			}
		})
	}
}

func TestEnvMapErrors(t *testing.T) {
	for _, v := range []string{"noequals", "h=ftp://x", `{"registries":{"h":{"bogus":1}}}`, "=http://x"} {
		_, err := New(withFile(t, "", map[string]string{"BERTH_REGISTRY_MAP": v}))
		if err == nil || !strings.Contains(err.Error(), "BERTH_REGISTRY_MAP") {
			t.Errorf("BERTH_REGISTRY_MAP=%q: err = %v", v, err)
		}
	}
	if _, err := New(withFile(t, "", map[string]string{"BERTH_ENDPOINT": "localhost:5000"})); err == nil || !strings.Contains(err.Error(), "BERTH_ENDPOINT") {
		t.Errorf("bad BERTH_ENDPOINT accepted: %v", err)
	}
}

func TestConfigDir(t *testing.T) {
	if got := ConfigDir(env(map[string]string{"HOME": "/h"})); got != "/h/.config/berth" {
		t.Error(got)
	}
	if got := ConfigDir(env(map[string]string{"HOME": "/h", "XDG_CONFIG_HOME": "/x"})); got != "/x/berth" {
		t.Error(got)
	}
	if got := ConfigDir(env(map[string]string{"BERTH_CONFIG_DIR": "/b", "XDG_CONFIG_HOME": "/x"})); got != "/b" {
		t.Error(got)
	}
}

func TestIsLoopback(t *testing.T) {
	for h, want := range map[string]bool{
		"localhost": true, "localhost:5000": true, "a.dkr.ecr.r.localhost:1": true, "127.0.0.1:5000": true,
		"127.1.2.3": true, "[::1]:80": true, "10.0.0.1": false, "example.com": false, "localhost.example.com": false,
	} {
		if IsLoopback(h) != want {
			t.Errorf("IsLoopback(%q) != %v", h, want)
		}
	}
}

// FuzzParseMap: whatever BERTH_REGISTRY_MAP parsing accepts has valid keys
// and endpoints, and resolving those keys never fails.
func FuzzParseMap(f *testing.F) {
	f.Add("h=http://x:1,g=https://y")
	f.Add(`{"registries":{"a:1":{"insecure":true}}}`)
	f.Fuzz(func(t *testing.T, v string) {
		m, err := ParseMap(v)
		if err != nil {
			return
		}
		r := &Resolver{}
		r.add(m, "fuzz")
		for k, e := range m {
			if strings.Contains(k, "/") {
				t.Fatalf("key with path accepted: %q", k)
			}
			if isGlob(k) {
				continue
			}
			tg, err := r.Resolve(k)
			if err != nil {
				continue // e.g. whitespace-only host
			}
			if e.Endpoint != "" && e.Endpoint != EndpointAWS && tg.HostMatches(k) && tg.APIEndpoint == "" {
				t.Fatalf("mapped endpoint lost for %q", k)
			}
		}
	})
}
