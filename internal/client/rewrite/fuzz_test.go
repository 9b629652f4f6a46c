package rewrite

import (
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzFile: no input panics, an accepted YAML input gives YAML output,
// and a second run has nothing left to do.
func FuzzFile(f *testing.F) {
	for _, n := range []string{"kubernetes.yaml", "docker-compose.yml", "Dockerrun-v1.aws.json", "Dockerrun-v2.aws.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(n, data)
	}
	f.Add("x.yaml", []byte("kind: Pod\nspec:\n  containers:\n  - image: 'a'\n"))
	o := testOptions(f)
	o.PullSecret = "berth-pull"
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		res, err := File(name, data, "", o)
		if err != nil {
			return
		}
		if res.Format != Dockerrun {
			var v any
			if yaml.Unmarshal(data, &v) == nil {
				if err := yaml.Unmarshal(res.Output, &v); err != nil {
					t.Fatalf("output is not YAML: %v\n%s", err, res.Output)
				}
			}
		}
		again, err := File(name, res.Output, res.Format, o)
		if err != nil {
			t.Fatalf("second run fails: %v\n%s", err, res.Output)
		}
		for _, r := range again.Refs {
			if r.Status == Rewritten {
				t.Fatalf("second run rewrites %s\n%s", r, res.Output)
			}
		}
	})
}
