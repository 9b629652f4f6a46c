// Package dockerrun reads Elastic Beanstalk's Dockerrun.aws.json (v1, v2 and
// v3 with its docker-compose.yml), fetches the private-registry auth file
// it points at from S3, validates it the way the platform will use it, and
// installs it into Docker's config.json.
package dockerrun

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// FileName is the name Elastic Beanstalk looks for in a source bundle.
const FileName = "Dockerrun.aws.json"

// ComposeFileName is the compose file the v3 (Docker with Compose) platform reads.
const ComposeFileName = "docker-compose.yml"

// maxFileSize bounds Dockerrun, compose and auth files; real ones are KiB.
const maxFileSize = 4 << 20

// Severity orders diagnostics.
type Severity int

// Severities, least to most serious.
const (
	SevInfo Severity = iota
	SevWarning
	SevError
)

func (s Severity) String() string {
	switch s {
	case SevError:
		return "error"
	case SevWarning:
		return "warning"
	default:
		return "note"
	}
}

// Diagnostic is one finding about a file or field.
type Diagnostic struct {
	Severity Severity
	File     string
	Field    string // JSON/YAML path of the field at fault, if any
	Message  string
}

func (d Diagnostic) String() string {
	var b strings.Builder
	if d.File != "" {
		b.WriteString(d.File)
		b.WriteString(": ")
	}
	b.WriteString(d.Severity.String())
	b.WriteString(": ")
	if d.Field != "" {
		b.WriteString(d.Field)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	return b.String()
}

// HasErrors reports whether any diagnostic is an error.
func HasErrors(ds []Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == SevError {
			return true
		}
	}
	return false
}

// S3Location is the Authentication block.
type S3Location struct {
	Bucket string
	Key    string
	Field  string // e.g. "Authentication" or "authentication"
}

// Image is one image the environment pulls, with where it was declared.
type Image struct {
	Name  string
	File  string
	Field string
}

// File is a parsed Dockerrun.aws.json.
type File struct {
	Path    string
	Version string // "1", "2" or "3"
	Auth    *S3Location
	Images  []Image
	Diags   []Diagnostic
}

// spelling per version, as the Elastic Beanstalk guide writes them.
type spelling struct{ auth, bucket, key string }

func spellingFor(version string) spelling {
	switch version {
	case "2":
		return spelling{"authentication", "bucket", "key"}
	case "3":
		return spelling{"Authentication", "bucket", "key"}
	default:
		return spelling{"Authentication", "Bucket", "Key"}
	}
}

// ErrInvalid marks a Dockerrun file Elastic Beanstalk would reject outright.
var ErrInvalid = errors.New("invalid Dockerrun.aws.json")

// Load reads path and, for v3, the docker-compose.yml next to it.
func Load(path string) (*File, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	switch f.Version {
	case "3":
		cpath := filepath.Join(dir, ComposeFileName)
		cdata, err := readLimited(cpath)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				f.Diags = append(f.Diags, Diagnostic{Severity: SevError, File: cpath, Message: "AWSEBDockerrunVersion 3 takes its images from docker-compose.yml next to Dockerrun.aws.json, and there is none"})
				return f, nil
			}
			return nil, err
		}
		imgs, diags, err := ParseCompose(cdata, cpath)
		if err != nil {
			return nil, err
		}
		f.Images = append(f.Images, imgs...)
		f.Diags = append(f.Diags, diags...)
	case "1":
		if len(f.Images) == 0 {
			if _, err := os.Stat(filepath.Join(dir, "Dockerfile")); err != nil {
				f.Diags = append(f.Diags, Diagnostic{Severity: SevError, File: path, Field: "Image", Message: "no Image.Name and no Dockerfile next to the file: the Docker platform has nothing to run"})
			}
		}
	}
	return f, nil
}

func readLimited(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxFileSize)
	}
	return data, nil
}

// object is a JSON object whose members can be looked up case-insensitively
// while remembering how they were spelled.
type object map[string]json.RawMessage

func (o object) get(want string) (spelled string, raw json.RawMessage, ok bool) {
	if v, ok := o[want]; ok {
		return want, v, true
	}
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.EqualFold(k, want) {
			return k, o[k], true
		}
	}
	return "", nil, false
}

// Parse decodes a Dockerrun.aws.json. It fails only when Elastic Beanstalk
// could not use the file at all; everything else is a diagnostic.
func Parse(data []byte, path string) (*File, error) {
	f := &File{Path: path}
	diag := func(sev Severity, field, format string, args ...any) {
		f.Diags = append(f.Diags, Diagnostic{Severity: sev, File: path, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	var top object
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("%w: %s: not a JSON object: %v", ErrInvalid, path, err)
	}
	if top == nil {
		return nil, fmt.Errorf("%w: %s: not a JSON object", ErrInvalid, path)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: %s: trailing data after the JSON object", ErrInvalid, path)
	}
	vf, vraw, ok := top.get("AWSEBDockerrunVersion")
	if !ok {
		return nil, fmt.Errorf("%w: %s: AWSEBDockerrunVersion is missing (1 = Docker without Compose, 2 = ECS-managed, 3 = Docker with Compose)", ErrInvalid, path)
	}
	if vf != "AWSEBDockerrunVersion" {
		diag(SevWarning, vf, "spelled %q; Elastic Beanstalk documents \"AWSEBDockerrunVersion\"", vf)
	}
	var vs string
	var vn json.Number
	switch {
	case json.Unmarshal(vraw, &vs) == nil:
	case json.Unmarshal(vraw, &vn) == nil:
		vs = vn.String()
	default:
		return nil, fmt.Errorf("%w: %s: AWSEBDockerrunVersion must be \"1\", \"2\" or \"3\", got %s", ErrInvalid, path, vraw)
	}
	vs = strings.TrimSpace(vs)
	switch vs {
	case "1", "2", "3":
	case "1.0", "2.0", "3.0":
		vs = vs[:1]
	default:
		return nil, fmt.Errorf("%w: %s: AWSEBDockerrunVersion %q is not 1, 2 or 3", ErrInvalid, path, vs)
	}
	f.Version = vs
	sp := spellingFor(vs)

	if af, araw, ok := top.get("Authentication"); ok {
		if af != sp.auth {
			diag(SevWarning, af, "version %s documents %q; Elastic Beanstalk may not find %q", vs, sp.auth, af)
		}
		var auth object
		if err := json.Unmarshal(araw, &auth); err != nil || auth == nil {
			diag(SevError, af, "must be an object {%q: BUCKET, %q: KEY}", sp.bucket, sp.key)
		} else {
			loc := &S3Location{Field: af}
			for _, m := range []struct {
				want string
				dst  *string
			}{{sp.bucket, &loc.Bucket}, {sp.key, &loc.Key}} {
				name, raw, ok := auth.get(m.want)
				field := af + "." + m.want
				if !ok {
					diag(SevError, field, "missing")
					continue
				}
				if name != m.want {
					diag(SevWarning, af+"."+name, "version %s documents %q", vs, m.want)
				}
				if err := json.Unmarshal(raw, m.dst); err != nil || strings.TrimSpace(*m.dst) == "" {
					diag(SevError, af+"."+name, "must be a non-empty string")
				}
			}
			if loc.Bucket != "" && loc.Key != "" {
				f.Auth = loc
				if strings.Contains(loc.Bucket, "/") || strings.HasPrefix(loc.Bucket, "s3://") {
					diag(SevError, af+"."+sp.bucket, "%q: give the bare bucket name, not a URL or path", loc.Bucket)
				}
				if strings.HasPrefix(loc.Key, "/") {
					diag(SevWarning, af+"."+sp.key, "%q starts with '/': S3 keys are taken literally, so this names a different object than %q", loc.Key, strings.TrimPrefix(loc.Key, "/"))
				}
			}
		}
	}

	switch vs {
	case "1":
		if imf, raw, ok := top.get("Image"); ok {
			var img object
			if err := json.Unmarshal(raw, &img); err != nil || img == nil {
				diag(SevError, imf, "must be an object {\"Name\": IMAGE, \"Update\": \"true\"}")
				break
			}
			if nf, nraw, ok := img.get("Name"); ok {
				var name string
				if json.Unmarshal(nraw, &name) != nil || strings.TrimSpace(name) == "" {
					diag(SevError, imf+"."+nf, "must be a non-empty string")
				} else {
					f.Images = append(f.Images, Image{Name: name, File: path, Field: imf + "." + nf})
				}
			} else {
				diag(SevError, imf+".Name", "missing")
			}
			if uf, uraw, ok := img.get("Update"); ok {
				var u string
				var ub bool
				switch {
				case json.Unmarshal(uraw, &u) == nil && (u == "true" || u == "false"):
				case json.Unmarshal(uraw, &ub) == nil:
					diag(SevWarning, imf+"."+uf, "the guide uses the string \"%t\", not a JSON boolean", ub)
				default:
					diag(SevError, imf+"."+uf, "must be \"true\" or \"false\", got %s", uraw)
				}
			}
		}
		for _, k := range []string{"containerDefinitions"} {
			if name, _, ok := top.get(k); ok {
				diag(SevWarning, name, "belongs to version 2 (ECS-managed platform); version 1 ignores it")
			}
		}
	case "2":
		name, raw, ok := top.get("containerDefinitions")
		if !ok {
			diag(SevError, "containerDefinitions", "missing: version 2 lists its containers there")
			break
		}
		var defs []object
		if err := json.Unmarshal(raw, &defs); err != nil {
			diag(SevError, name, "must be an array of container definitions")
			break
		}
		for i, d := range defs {
			field := fmt.Sprintf("%s[%d]", name, i)
			inf, iraw, ok := d.get("image")
			if !ok {
				diag(SevError, field+".image", "missing")
				continue
			}
			if inf != "image" {
				diag(SevWarning, field+"."+inf, "ECS task definitions spell it \"image\"")
			}
			var img string
			if json.Unmarshal(iraw, &img) != nil || strings.TrimSpace(img) == "" {
				diag(SevError, field+"."+inf, "must be a non-empty string")
				continue
			}
			f.Images = append(f.Images, Image{Name: img, File: path, Field: field + "." + inf})
		}
		if name, _, ok := top.get("Image"); ok {
			diag(SevWarning, name, "belongs to version 1; version 2 uses containerDefinitions[].image")
		}
	case "3":
		for _, k := range []string{"Image", "containerDefinitions"} {
			if name, _, ok := top.get(k); ok {
				diag(SevWarning, name, "version 3 takes images from docker-compose.yml and ignores this field")
			}
		}
	}
	return f, nil
}

// ParseCompose lists services.*.image from a compose file. Services that
// only build locally have no image and are skipped.
func ParseCompose(data []byte, path string) ([]Image, []Diagnostic, error) {
	var doc struct {
		Services map[string]struct {
			Image string `yaml:"image"`
			Build any    `yaml:"build"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: not valid compose YAML: %v", ErrInvalid, path, err)
	}
	var imgs []Image
	var diags []Diagnostic
	names := make([]string, 0, len(doc.Services))
	for n := range doc.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := doc.Services[n]
		field := "services." + n + ".image"
		switch {
		case strings.TrimSpace(s.Image) != "":
			if strings.Contains(s.Image, "${") {
				diags = append(diags, Diagnostic{Severity: SevInfo, File: path, Field: field, Message: fmt.Sprintf("%q uses variable interpolation; host matching below uses the text as written", s.Image)})
			}
			imgs = append(imgs, Image{Name: s.Image, File: path, Field: field})
		case s.Build == nil:
			diags = append(diags, Diagnostic{Severity: SevError, File: path, Field: "services." + n, Message: "has neither image nor build"})
		}
	}
	if len(doc.Services) == 0 {
		diags = append(diags, Diagnostic{Severity: SevError, File: path, Field: "services", Message: "no services"})
	}
	return imgs, diags, nil
}
