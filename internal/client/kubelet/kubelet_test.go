package kubelet

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/client/ecrclient"
	"github.com/berth-dev/berth/internal/client/endpoint"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, in, got string) {
	t.Helper()
	g := strings.TrimSuffix(strings.TrimSuffix(in, ".input"), ".yaml") + ".golden"
	if *update {
		os.WriteFile(g, []byte(got), 0o644)
		return
	}
	want, err := os.ReadFile(g)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s mismatch\n--- got\n%s--- want\n%s", g, got, want)
	}
}

type fakeMinter struct{ expires time.Time }

func (f fakeMinter) Token(_ context.Context, t endpoint.Target, _ ecrclient.GetOptions) (ecrclient.Token, error) {
	return ecrclient.Token{Username: "AWS", Password: "pw-for-" + t.Host, ExpiresAt: f.expires}, nil
}

func provider(t *testing.T, now time.Time) *Provider {
	r, err := endpoint.New(func(k string) string {
		if k == "BERTH_CONFIG_DIR" {
			return t.TempDir()
		}
		if k == "BERTH_REGISTRY_MAP" {
			return "registry.corp.example=https://berth.corp.example"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	return &Provider{Resolver: r, Minter: fakeMinter{expires: now.Add(11 * time.Hour)}, Now: func() time.Time { return now }}
}

// TestRequestsGolden parses each request and, when valid, answers it; the
// golden file pins both the parse error and the exact response JSON.
func TestRequestsGolden(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/req_*.input")
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			data, _ := os.ReadFile(in)
			req, err := ParseRequest(bytes.NewReader(data))
			var got string
			if err != nil {
				got = "error: " + err.Error() + "\n"
			} else {
				resp, err := provider(t, now).Respond(context.Background(), req)
				if err != nil {
					got = "respond error: " + err.Error() + "\n"
				} else {
					b, _ := json.MarshalIndent(resp, "", "  ")
					got = string(b) + "\n"
				}
			}
			golden(t, in, got)
		})
	}
}

func TestConfigGolden(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/config_*.yaml")
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			data, _ := os.ReadFile(in)
			c, err := ParseConfig(data)
			got := fmt.Sprintf("%+v\n", c)
			if err != nil {
				got = "error: " + err.Error() + "\n"
			}
			golden(t, in, got)
		})
	}
}

func TestRenderConfigRoundTrip(t *testing.T) {
	c := BuildConfig(ConfigOptions{Hosts: []string{"222222222222.dkr.ecr.eu-west-2.localhost:5000", "Registry.Corp.Example", "registry.corp.example"}})
	out, err := RenderConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/rendered_config.input", string(out))
	back, err := ParseConfig(out)
	if err != nil {
		t.Fatalf("rendered config does not parse: %v\n%s", err, out)
	}
	p := back.Providers[0]
	if p.Name != "berth" || len(p.Args) != 1 || p.Args[0] != "kubelet-credential-provider" {
		t.Fatalf("provider %+v", p)
	}
	for _, img := range []string{"222222222222.dkr.ecr.eu-west-2.localhost:5000/app:1", "registry.corp.example/x/y", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"} {
		ok := false
		for _, m := range p.MatchImages {
			ok = ok || MatchImage(m, img)
		}
		if !ok {
			t.Errorf("no matchImages entry matches %s: %v", img, p.MatchImages)
		}
	}
}

func TestCacheDurationIsHalfRemaining(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	p := provider(t, now)
	p.Minter = fakeMinter{expires: now.Add(3*time.Hour + 1500*time.Millisecond)}
	resp, err := p.Respond(context.Background(), Request{APIVersion: APIVersion, Kind: KindRequest, Image: "registry.corp.example/a"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.CacheDuration != "1h30m0s" {
		t.Fatalf("cacheDuration %s", resp.CacheDuration)
	}
	p.Minter = fakeMinter{expires: now.Add(-time.Minute)}
	resp, _ = p.Respond(context.Background(), Request{APIVersion: APIVersion, Kind: KindRequest, Image: "registry.corp.example/a"})
	if resp.CacheDuration != "0s" {
		t.Fatalf("expired token cacheDuration %s", resp.CacheDuration)
	}
}

func TestMatchImage(t *testing.T) {
	tests := []struct {
		pattern, image string
		want           bool
	}{
		{"*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1", true},
		{"*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com.cn/app", false},
		{"*.io", "a.k8s.io/x", false},
		{"app*.k8s.io", "app-x.k8s.io/x", true},
		{"registry.corp:5000", "registry.corp:5000/a", true},
		{"registry.corp:5000", "registry.corp/a", false},
		{"registry.corp", "registry.corp:5000/a", false},
		{"registry.corp/team", "registry.corp/team/app:1", true},
		{"registry.corp/team", "registry.corp/other/app", false},
		{"docker.io", "nginx", true},
		{"https://registry.corp", "registry.corp/a", true},
	}
	for _, tc := range tests {
		if got := MatchImage(tc.pattern, tc.image); got != tc.want {
			t.Errorf("MatchImage(%q, %q) = %v", tc.pattern, tc.image, got)
		}
	}
}

// FuzzParseRequest: an accepted request re-encodes and re-parses to the same
// value, and its response (when the host is berth/ECR) is keyed by the image host.
func FuzzParseRequest(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/req_*.input")
	for _, in := range inputs {
		data, _ := os.ReadFile(in)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ParseRequest(bytes.NewReader(data))
		if err != nil {
			return
		}
		b, _ := json.Marshal(req)
		req2, err := ParseRequest(bytes.NewReader(b))
		if err != nil || req2.Image != req.Image || req2.APIVersion != req.APIVersion {
			t.Fatalf("round trip: %v %+v %+v", err, req, req2)
		}
		now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		resp, err := provider(t, now).Respond(context.Background(), req)
		if err != nil {
			return
		}
		if resp.APIVersion != req.APIVersion || resp.Kind != KindResponse || resp.CacheKeyType != CacheKeyRegistry {
			t.Fatalf("bad envelope %+v", resp)
		}
		host, _ := endpoint.SplitImage(strings.TrimSpace(req.Image))
		for k := range resp.Auth {
			if k != host {
				t.Fatalf("auth key %q, image host %q", k, host)
			}
		}
	})
}
