package resolve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/berth-dev/berth/internal/client/golden"
)

// tableResolver answers from a fixed table keyed by the reference text; it
// is the input of the expansion tests, whose subject is the splicing.
type tableResolver struct {
	values map[string]string
	calls  int
}

func (r *tableResolver) Resolve(_ context.Context, ref Ref) (string, error) {
	r.calls++
	v, ok := r.values[ref.String()]
	if !ok {
		return "", fmt.Errorf("%w: no value for %s", ErrNotFound, ref)
	}
	return v, nil
}

func fixtureValues() map[string]string {
	return map[string]string{
		"{{resolve:ssm:USER:1}}":        "alice",
		"{{resolve:ssm:USER}}":          "alice",
		"{{resolve:ssm:PASSWD:1}}":      "p@ss: #word",
		"{{resolve:ssm:PORT}}":          "8080",
		"{{resolve:ssm:FLAG}}":          "true",
		"{{resolve:ssm:BOOL}}":          "yes",
		"{{resolve:ssm:QUOTE}}":         `it's "quoted" \ back`,
		"{{resolve:ssm:MULTI}}":         "line1\nline2",
		"{{resolve:ssm-secure:DBPASS}}": "s3cr3t/+=",
		"{{resolve:ssm:IMAGE}}":         "127.0.0.1:5000/app:1",
	}
}

func TestExpandGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/expand/*")
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".golden") {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			x, _ := NewExpander(&tableResolver{values: fixtureValues()})
			ctx := context.Background()
			var out []byte
			switch {
			case strings.HasSuffix(f, ".yaml"):
				out, err = x.YAML(ctx, data, filepath.Base(f))
				if err == nil {
					checkYAMLValues(t, data, out)
				}
			case strings.HasSuffix(f, ".json"):
				out, err = x.JSON(ctx, data, filepath.Base(f))
				if err == nil && !json.Valid(out) {
					t.Fatal("output is not JSON")
				}
			default:
				var s string
				s, err = x.Text(ctx, string(data), filepath.Base(f), 1, nil)
				out = []byte(s)
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(out), "{{resolve:") {
				t.Errorf("unexpanded reference left:\n%s", out)
			}
			if strings.HasPrefix(filepath.Base(f), "no-refs") && !bytes.Equal(out, data) {
				t.Errorf("file without references was rewritten")
			}
			golden.Check(t, f+".golden", out)
		})
	}
	if n == 0 {
		t.Fatal("no fixtures")
	}
}

// checkYAMLValues decodes input and output and checks every expanded value
// is a string equal to the expected substitution — the property that keeps
// "true" and "8080" from turning into a bool and an int.
func checkYAMLValues(t *testing.T, in, out []byte) {
	t.Helper()
	var before, after any
	if err := yaml.Unmarshal(in, &before); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(out, &after); err != nil {
		t.Fatalf("output is not YAML: %v\n%s", err, out)
	}
	vals := fixtureValues()
	var walk func(b, a any)
	walk = func(b, a any) {
		switch bv := b.(type) {
		case map[string]any:
			am, ok := a.(map[string]any)
			if !ok {
				t.Fatalf("shape changed: %T", a)
			}
			for k := range bv {
				walk(bv[k], am[k])
			}
		case []any:
			al := a.([]any)
			for i := range bv {
				walk(bv[i], al[i])
			}
		case string:
			if !strings.Contains(bv, "{{resolve:") {
				return
			}
			want := bv
			for ref, v := range vals {
				want = strings.ReplaceAll(want, ref, v)
			}
			if a != want {
				t.Errorf("value %q became %#v, want string %q", bv, a, want)
			}
		}
	}
	walk(before, after)
}

func TestExpandErrorsNameLocation(t *testing.T) {
	ctx := context.Background()
	res := &tableResolver{values: fixtureValues()}
	x, _ := NewExpander(res)
	_, err := x.Text(ctx, "a\nb\nx={{resolve:ssm:MISSING:4}}\n", "hook.sh", 1, nil)
	var le *LocError
	if !errors.As(err, &le) || le.Line != 3 || le.File != "hook.sh" || !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	if !strings.HasPrefix(err.Error(), "hook.sh:3: {{resolve:ssm:MISSING:4}}: ") {
		t.Errorf("message %q does not lead with file:line and the reference", err)
	}
	// Syntax errors are all reported, before any lookup.
	res.calls = 0
	_, err = x.Text(ctx, "{{resolve:ssm:USER}}\n{{resolve:ssm:A:0}}\n{{resolve:ssm:B:x}}", "f", 10, nil)
	if err == nil || !strings.Contains(err.Error(), "f:11:") || !strings.Contains(err.Error(), "f:12:") || res.calls != 0 {
		t.Fatalf("err = %v, calls = %d", err, res.calls)
	}
	_, err = x.YAML(ctx, []byte("a:\n  b: 1\n  c: '{{resolve:ssm:NOPE}}'\n"), "env.config")
	if !errors.As(err, &le) || le.Line != 3 {
		t.Fatalf("yaml err = %v", err)
	}
	if _, err := x.JSON(ctx, []byte(`{"a": {{resolve:ssm:USER}} }`), "x.json"); err == nil {
		t.Fatal("reference outside a JSON string accepted")
	}
}

func TestExpanderCaches(t *testing.T) {
	res := &tableResolver{values: fixtureValues()}
	x, _ := NewExpander(res)
	out, err := x.Text(context.Background(), "{{resolve:ssm:USER}} {{resolve:ssm:USER}} {{resolve:ssm:USER:1}}", "f", 1, nil)
	if err != nil || out != "alice alice alice" {
		t.Fatalf("%q %v", out, err)
	}
	if res.calls != 2 {
		t.Errorf("calls = %d, want 2 (one per distinct reference)", res.calls)
	}
}
