package rewrite

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/berth-dev/berth/internal/client/golden"
)

func testOptions(t testing.TB) Options {
	t.Helper()
	o := Options{Registry: "127.0.0.1:5000"}
	for _, s := range []string{
		"docker.io=docker-hub", "ghcr.io=ghcr", "quay.io=quay", "registry.k8s.io=k8s",
		"registry.vendor.example/acme=vendor/acme", "public.ecr.aws=ecr-public", "gcr.io=",
	} {
		r, err := ParseRule(s)
		if err != nil {
			t.Fatal(err)
		}
		o.Rules = append(o.Rules, r)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	return o
}

func report(res *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "format: %s\n", res.Format)
	for _, r := range res.Refs {
		fmt.Fprintf(&b, "%s\t%s\n", r.Status, r)
	}
	if res.PullSecretAdded > 0 {
		fmt.Fprintf(&b, "imagePullSecrets added to %d pod specs\n", res.PullSecretAdded)
	}
	return b.String()
}

// TestGolden rewrites every kind of file the command accepts; the .golden
// file is the exact output, the .report the references found.
func TestGolden(t *testing.T) {
	cases := []struct {
		in, out    string
		pullSecret string
		format     Format
	}{
		{in: "kubernetes.yaml", out: "kubernetes", format: Kubernetes},
		{in: "kubernetes.yaml", out: "kubernetes-pullsecret", pullSecret: "berth-pull"},
		{in: "docker-compose.yml", out: "compose", format: Compose},
		{in: "Dockerrun-v1.aws.json", out: "dockerrun-v1", format: Dockerrun},
		{in: "Dockerrun-v2.aws.json", out: "dockerrun-v2", format: Dockerrun},
		{in: "Dockerrun-v3.aws.json", out: "dockerrun-v3", format: Dockerrun},
	}
	for _, c := range cases {
		t.Run(c.out, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", c.in))
			if err != nil {
				t.Fatal(err)
			}
			o := testOptions(t)
			o.PullSecret = c.pullSecret
			res, err := File(c.in, data, "", o)
			if err != nil {
				t.Fatal(err)
			}
			if c.format != "" && res.Format != c.format {
				t.Errorf("detected %s, want %s", res.Format, c.format)
			}
			golden.Check(t, filepath.Join("testdata", c.out+".golden"), res.Output)
			golden.Check(t, filepath.Join("testdata", c.out+".report"), []byte(report(res)))
			if c.pullSecret == "" {
				checkOnlyImagesChanged(t, res.Format, data, res)
			}
			// A second run finds nothing left to do.
			again, err := File(c.in, res.Output, "", o)
			if err != nil {
				t.Fatal(err)
			}
			if again.Pending() {
				t.Errorf("second run still has changes:\n%s", report(again))
			}
			if string(again.Output) != string(res.Output) {
				t.Error("second run changed the output")
			}
		})
	}
}

// checkOnlyImagesChanged decodes input and output and requires that they
// differ exactly in the rewritten references.
func checkOnlyImagesChanged(t *testing.T, f Format, in []byte, res *Result) {
	t.Helper()
	want := map[string]string{}
	n := 0
	for _, r := range res.Refs {
		if r.Status == Rewritten {
			want[r.From] = r.To
			n++
		}
	}
	a, b := decodeAll(t, f, in), decodeAll(t, f, res.Output)
	diffs := 0
	var cmp func(x, y any, path string)
	cmp = func(x, y any, path string) {
		switch xv := x.(type) {
		case map[string]any:
			yv, ok := y.(map[string]any)
			if !ok || len(xv) != len(yv) {
				t.Errorf("%s: shape changed", path)
				return
			}
			for k := range xv {
				cmp(xv[k], yv[k], path+"."+k)
			}
		case []any:
			yv, ok := y.([]any)
			if !ok || len(xv) != len(yv) {
				t.Errorf("%s: shape changed", path)
				return
			}
			for i := range xv {
				cmp(xv[i], yv[i], fmt.Sprintf("%s[%d]", path, i))
			}
		default:
			if reflect.DeepEqual(x, y) {
				return
			}
			diffs++
			if xs, ok := x.(string); !ok || want[xs] != y {
				t.Errorf("%s: %v became %v, which is not a reported rewrite", path, x, y)
			}
		}
	}
	cmp(a, b, "")
	if diffs < n {
		t.Errorf("%d values changed, %d rewrites reported", diffs, n)
	}
}

func decodeAll(t *testing.T, f Format, data []byte) any {
	t.Helper()
	if f == Dockerrun {
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	var docs []any
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	for {
		var v any
		if err := dec.Decode(&v); err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatal(err)
		}
		docs = append(docs, v)
	}
	return docs
}

func TestMap(t *testing.T) {
	o := testOptions(t)
	const dg = "sha256:0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"
	cases := []struct {
		in, want string
		st       Status
	}{
		{"nginx", "127.0.0.1:5000/docker-hub/library/nginx", Rewritten},
		{"nginx:1.25", "127.0.0.1:5000/docker-hub/library/nginx:1.25", Rewritten},
		{"bitnami/redis:7", "127.0.0.1:5000/docker-hub/bitnami/redis:7", Rewritten},
		{"docker.io/library/nginx@" + dg, "127.0.0.1:5000/docker-hub/library/nginx@" + dg, Rewritten},
		{"registry-1.docker.io/library/nginx:1", "127.0.0.1:5000/docker-hub/library/nginx:1", Rewritten},
		{"ghcr.io/acme/app:1.0@" + dg, "127.0.0.1:5000/ghcr/acme/app:1.0@" + dg, Rewritten},
		{"gcr.io/distroless/static", "127.0.0.1:5000/distroless/static", Rewritten},
		// The vendor rule is longer than any host rule and keeps only what follows its path.
		{"registry.vendor.example/acme/app:2", "127.0.0.1:5000/vendor/acme/app:2", Rewritten},
		{"registry.vendor.example/other/app:2", "registry.vendor.example/other/app:2", NoRule},
		{"registry.vendor.example/acme", "registry.vendor.example/acme", Skipped},
		{"127.0.0.1:5000/docker-hub/library/nginx:1", "127.0.0.1:5000/docker-hub/library/nginx:1", Already},
		{"mcr.microsoft.com/dotnet/runtime:8.0", "mcr.microsoft.com/dotnet/runtime:8.0", NoRule},
		{"${IMAGE}", "${IMAGE}", Skipped},
		{"{{ .Values.image }}", "{{ .Values.image }}", Skipped},
		{"", "", Skipped},
		{"Nginx:latest", "Nginx:latest", Skipped},
		{"nginx@sha256:short", "nginx@sha256:short", Skipped},
	}
	for _, c := range cases {
		got, st, reason := o.Map(c.in)
		if got != c.want || st != c.st {
			t.Errorf("Map(%q) = %q, %v (%s); want %q, %v", c.in, got, st, reason, c.want, c.st)
		}
		if st != Rewritten && st != Already && reason == "" {
			t.Errorf("Map(%q): %v without a reason", c.in, st)
		}
	}
}

func TestParseRuleAndValidate(t *testing.T) {
	bad := []string{"docker.io", "=x", "Docker Hub=x", "ghcr.io/UPPER=x", "ghcr.io=bad prefix", "ghcr.io=a//b"}
	for _, s := range bad {
		if _, err := ParseRule(s); err == nil {
			t.Errorf("ParseRule(%q) accepted", s)
		}
	}
	r, err := ParseRule("https://index.docker.io/=/docker-hub/")
	if err == nil {
		t.Errorf("a URL scheme is not a host, got %+v", r)
	}
	r, err = ParseRule("index.docker.io=/docker-hub/")
	if err != nil || r != (Rule{Upstream: "docker.io", Prefix: "docker-hub"}) {
		t.Errorf("ParseRule alias = %+v, %v", r, err)
	}
	for _, o := range []Options{
		{},
		{Registry: "127.0.0.1:5000"},
		{Registry: "127.0.0.1:5000/path", Rules: []Rule{{Upstream: "docker.io"}}},
		{Registry: "h", Rules: []Rule{{Upstream: "docker.io"}, {Upstream: "docker.io", Prefix: "x"}}},
		{Registry: "h", Rules: []Rule{{Upstream: "docker.io"}}, PullSecret: "Bad_Name"},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", o)
		}
	}
	o := Options{Registry: "https://127.0.0.1:5000/", Rules: []Rule{{Upstream: "docker.io"}}}
	if err := o.Validate(); err != nil || o.Registry != "127.0.0.1:5000" {
		t.Errorf("Validate normalises the registry: %q, %v", o.Registry, err)
	}
}

func TestPullSecretLayouts(t *testing.T) {
	o := testOptions(t)
	o.PullSecret = "berth-pull"
	cases := []struct{ name, in, want, err string }{
		{
			name: "existing list gains an entry with its indentation",
			in:   "kind: Pod\nspec:\n  imagePullSecrets:\n    - name: old\n  containers:\n    - image: nginx\n",
			want: "kind: Pod\nspec:\n  imagePullSecrets:\n    - name: berth-pull\n    - name: old\n  containers:\n    - image: 127.0.0.1:5000/docker-hub/library/nginx\n",
		},
		{
			name: "already present: no change but the image",
			in:   "kind: Pod\nspec:\n  imagePullSecrets: [{name: berth-pull}]\n  containers:\n  - image: nginx\n",
			want: "kind: Pod\nspec:\n  imagePullSecrets: [{name: berth-pull}]\n  containers:\n  - image: 127.0.0.1:5000/docker-hub/library/nginx\n",
		},
		{
			name: "CRLF line endings are kept",
			in:   "kind: Pod\r\nspec:\r\n  containers:\r\n  - image: nginx\r\n",
			want: "kind: Pod\r\nspec:\r\n  imagePullSecrets:\r\n  - name: berth-pull\r\n  containers:\r\n  - image: 127.0.0.1:5000/docker-hub/library/nginx\r\n",
		},
		{name: "flow style spec", in: "kind: Pod\nspec: {containers: [{image: nginx}]}\n", err: "flow style"},
		{name: "flow style list", in: "kind: Pod\nspec:\n  imagePullSecrets: [{name: x}]\n  containers: []\n", err: "flow style"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := File("pod.yaml", []byte(c.in), Kubernetes, o)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Output) != c.want {
				t.Errorf("got\n%s\nwant\n%s", res.Output, c.want)
			}
		})
	}
}

func TestUnusualScalars(t *testing.T) {
	o := testOptions(t)
	in := "kind: Pod\nspec:\n  containers:\n  - image: >-\n      nginx\n  - image: 42\n  - image: \"ngi\\u006ex\"\n  - {name: é, image: alpine}\n"
	res, err := File("p.yaml", []byte(in), "", o)
	if err != nil {
		t.Fatal(err)
	}
	var st []Status
	for _, r := range res.Refs {
		st = append(st, r.Status)
	}
	if want := []Status{Skipped, Skipped, Skipped, Rewritten}; !reflect.DeepEqual(st, want) {
		t.Fatalf("statuses %v, want %v\n%s", st, want, report(res))
	}
	if !strings.Contains(string(res.Output), "{name: é, image: 127.0.0.1:5000/docker-hub/library/alpine}") {
		t.Errorf("flow mapping after a multi-byte character not rewritten in place:\n%s", res.Output)
	}
}

func TestErrorsNameTheFile(t *testing.T) {
	o := testOptions(t)
	for name, in := range map[string]string{"bad.yaml": "kind: [\n", "Dockerrun.aws.json": "{\"Image\": "} {
		if _, err := File(name, []byte(in), "", o); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestPullSecretDocument(t *testing.T) {
	out, err := PullSecret("berth-pull", "shop", "127.0.0.1:5000", "AKIAEXAMPLE", "s3cr3t")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Kind     string
		Type     string
		Metadata struct{ Name, Namespace string }
		Data     map[string]string
	}
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(doc.Data[".dockerconfigjson"])
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Auths map[string]struct{ Auth string }
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	auth, _ := base64.StdEncoding.DecodeString(cfg.Auths["127.0.0.1:5000"].Auth)
	if doc.Kind != "Secret" || doc.Type != "kubernetes.io/dockerconfigjson" || doc.Metadata.Name != "berth-pull" ||
		doc.Metadata.Namespace != "shop" || string(auth) != "AKIAEXAMPLE:s3cr3t" {
		t.Errorf("secret = %+v, auth %q", doc, auth)
	}
	if _, err := PullSecret("berth-pull", "", "r", "", "x"); err == nil {
		t.Error("empty username accepted")
	}
}
