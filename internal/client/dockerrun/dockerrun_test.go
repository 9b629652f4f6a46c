package dockerrun

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/client/golden"
)

// TestParseGolden pins the parse of every Dockerrun fixture: version,
// auth location, images with their fields, and diagnostics (or the error).
func TestParseGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/dockerrun/*.json")
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, p := range files {
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			f, err := Parse(data, filepath.Base(p))
			if err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("error not ErrInvalid: %v", err)
				}
				fmt.Fprintf(&out, "ERROR %v\n", err)
			} else {
				f.Write(&out)
				for _, d := range f.Diags {
					fmt.Fprintln(&out, d)
				}
			}
			golden.Check(t, strings.TrimSuffix(p, ".json")+".golden", out.Bytes())
		})
	}
}

func TestLoadV3Compose(t *testing.T) {
	f, err := Load("testdata/v3ok/Dockerrun.aws.json")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range f.Images {
		names = append(names, i.Field+"="+i.Name)
	}
	want := "services.web.image=registry.example.com:5000/team/web:${TAG:-1},services.worker.image=quay.io/johndoe/worker"
	if strings.Join(names, ",") != want {
		t.Errorf("images = %v", names)
	}
	if f.Auth == nil || f.Auth.Bucket != "b" || f.Auth.Key != ".dockercfg" {
		t.Errorf("auth = %+v", f.Auth)
	}
	var errs []string
	for _, d := range f.Diags {
		if d.Severity == SevError {
			errs = append(errs, d.String())
		}
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "services.broken") {
		t.Errorf("errors = %q", errs)
	}

	f, err = Load("testdata/v3nocompose/Dockerrun.aws.json")
	if err != nil || !HasErrors(f.Diags) || !strings.Contains(f.Diags[0].String(), "docker-compose.yml") {
		t.Fatalf("missing compose not reported: %v %+v", err, f)
	}
	if _, err := Load("testdata/nope/Dockerrun.aws.json"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestAuthFileGolden(t *testing.T) {
	images := []Image{
		{Name: "nginx:1.27"}, {Name: "quay.io/johndoe/private-image"}, {Name: "registry.example.com:5000/team/web:1"},
		{Name: "registry.example.com/team/web:1"}, {Name: "123456789012.dkr.ecr.us-east-2.amazonaws.com/repo:latest"},
	}
	files, _ := filepath.Glob("testdata/authfile/*")
	for _, p := range files {
		if strings.HasSuffix(p, ".golden") {
			continue
		}
		t.Run(filepath.Base(p), func(t *testing.T) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			a := ParseAuthFile(data, filepath.Base(p), filepath.Base(p))
			var out bytes.Buffer
			fmt.Fprintf(&out, "format %s\n", a.Format)
			for _, c := range a.Cover(images) {
				fmt.Fprintf(&out, "%s covered=%v key=%q %s\n", c.Image.Name, c.Covered, c.Key, c.Note)
			}
			for _, d := range a.Diags {
				fmt.Fprintln(&out, d)
			}
			golden.Check(t, p+".golden", out.Bytes())
		})
	}
}

func TestImageHost(t *testing.T) {
	for in, want := range map[string]string{
		"nginx": "docker.io", "library/nginx:1": "docker.io", "docker.io/x/y": "docker.io", "index.docker.io/x/y": "docker.io",
		"localhost/a": "localhost", "localhost:5000/a": "localhost:5000", "Registry/app": "Registry", "quay.io/a/b@sha256:00": "quay.io",
		"127.0.0.1:5000/a:1": "127.0.0.1:5000", "[::1]:5000/a": "[::1]:5000",
	} {
		if got := ImageHost(in); got != want {
			t.Errorf("ImageHost(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseDockerrun: Parse never panics; when it succeeds the version is
// one of 1/2/3, every image has a name and a field, an Authentication it
// reports has both bucket and key, and parsing is deterministic.
func FuzzParseDockerrun(f *testing.F) {
	files, _ := filepath.Glob("testdata/dockerrun/*.json")
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Parse(data, "f")
		b, err2 := Parse(data, "f")
		if (err == nil) != (err2 == nil) {
			t.Fatal("non-deterministic")
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		if a.Version != "1" && a.Version != "2" && a.Version != "3" {
			t.Fatalf("version %q", a.Version)
		}
		if a.Auth != nil && (strings.TrimSpace(a.Auth.Bucket) == "" || strings.TrimSpace(a.Auth.Key) == "") {
			t.Fatalf("auth %+v", a.Auth)
		}
		for _, img := range a.Images {
			if strings.TrimSpace(img.Name) == "" || img.Field == "" {
				t.Fatalf("image %+v", img)
			}
		}
		if len(a.Images) != len(b.Images) || len(a.Diags) != len(b.Diags) {
			t.Fatal("non-deterministic")
		}
	})
}
