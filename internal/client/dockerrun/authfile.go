package dockerrun

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/berth-dev/berth/internal/client/dockercfg"
	"github.com/berth-dev/berth/internal/ecrhost"
)

// AuthFile is the downloaded auth object, validated.
type AuthFile struct {
	Format dockercfg.Format
	Config *dockercfg.Config // Auths holds the usable entries only
	Diags  []Diagnostic
}

// ParseAuthFile validates the S3 object the way the Docker platforms use it.
// name is shown in messages (e.g. "s3://bucket/key").
func ParseAuthFile(data []byte, name, key string) *AuthFile {
	a := &AuthFile{}
	diag := func(sev Severity, field, format string, args ...any) {
		a.Diags = append(a.Diags, Diagnostic{Severity: sev, File: name, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if base := path.Base(key); base != ".dockercfg" {
		diag(SevWarning, "", "the object is named %q; the Elastic Beanstalk guide says to upload it \"named .dockercfg\" and at least one user reported only that name worked (aws-elastic-beanstalk-developer-guide PR #64). berth accepts any name; rename it if the environment still pulls anonymously", base)
	}
	cfg, format, err := dockercfg.ParseAny(data)
	a.Format = format
	if err != nil {
		diag(SevError, "", "not a usable Docker auth file: %v", err)
		return a
	}
	usable := map[string]dockercfg.AuthEntry{}
	for _, k := range sortedKeys(cfg.Auths) {
		e := cfg.Auths[k]
		field := k
		if format == dockercfg.FormatConfigJSON {
			field = "auths." + k
		}
		if e.Empty() {
			if h := cfg.CredHelpers[k]; h != "" {
				diag(SevError, field, "the secret is in credential helper docker-credential-%s on the machine that ran docker login; the instance has no such helper. Log in again with DOCKER_CONFIG pointing at an empty directory and upload that config.json", h)
			} else if cfg.CredsStore != "" {
				diag(SevError, field, "the secret is in credential store docker-credential-%s on the machine that ran docker login; the instance has no such helper. Log in again with DOCKER_CONFIG pointing at an empty directory and upload that config.json", cfg.CredsStore)
			} else {
				diag(SevError, field, "entry has no credentials")
			}
			continue
		}
		if e.Auth != "" {
			if _, _, err := dockercfg.DecodeAuth(e.Auth); err != nil {
				diag(SevError, field, "%v; docker cannot use this entry", err)
				continue
			}
		} else if e.IdentityToken == "" && (e.Username == "" || e.Password == "") {
			diag(SevError, field, "needs \"auth\" (base64 of user:password)")
			continue
		}
		h := dockercfg.HostOf(k)
		if (h == "docker.io" || h == "index.docker.io" || h == "registry-1.docker.io") && k != dockercfg.HubKey {
			diag(SevWarning, field, "Docker Hub credentials are looked up under %q; %q is not found for Docker Hub images", dockercfg.HubKey, k)
		}
		usable[k] = e
	}
	if cfg.CredsStore != "" {
		diag(SevError, "credsStore", "%q: the instance lacks docker-credential-%s, so docker on the instance fails to read any credentials. Remove credsStore from the uploaded file", cfg.CredsStore, cfg.CredsStore)
	}
	for _, h := range sortedKeys(cfg.CredHelpers) {
		diag(SevError, "credHelpers."+h, "%q: the instance lacks docker-credential-%s; pulls from %s fail. Remove credHelpers from the uploaded file", cfg.CredHelpers[h], cfg.CredHelpers[h], h)
	}
	if format == dockercfg.FormatConfigJSON {
		diag(SevWarning, "auths", "config.json shape: fine on Amazon Linux 2/2023 Docker platforms, but the retired Amazon Linux AMI (AL1) platforms read only the legacy flat .dockercfg shape (no \"auths\" wrapper, plus \"email\"); convert with `berth ecs-auth --from FILE --to dockercfg` if you are on AL1")
	}
	if len(usable) == 0 && !HasErrors(a.Diags) {
		diag(SevError, "", "the file holds no registry credentials")
	}
	a.Config = &dockercfg.Config{Auths: usable}
	return a
}

// Coverage says whether the auth file serves an image.
type Coverage struct {
	Image   Image
	Host    string // registry host as docker derives it
	Key     string // auth-file key docker would use; "" if none
	Covered bool
	Note    string
}

// Cover matches every image against the auth file with Docker's rules:
// exact normalized key, else any key with the same host[:port].
func (a *AuthFile) Cover(images []Image) []Coverage {
	out := make([]Coverage, 0, len(images))
	for _, img := range images {
		host := ImageHost(img.Name)
		c := Coverage{Image: img, Host: host}
		if a.Config != nil {
			m := a.Config.Lookup(host, "")
			if m.Source == dockercfg.SourceAuthsExact || m.Source == dockercfg.SourceAuthsHostname {
				c.Key, c.Covered = m.Key, true
			} else if m.Closest != "" {
				c.Note = fmt.Sprintf("no entry for %s (closest key: %q)", dockercfg.NormalizeKey(host), m.Closest)
			}
		}
		if !c.Covered && c.Note == "" {
			c.Note = fmt.Sprintf("no entry for %s; pulled anonymously", dockercfg.NormalizeKey(host))
		}
		if _, isECR := ecrhost.Parse(host); isECR && !c.Covered {
			c.Note = "ECR image: Elastic Beanstalk authenticates with the instance profile (ecr:GetAuthorizationToken, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer), not with this file"
		}
		out = append(out, c)
	}
	return out
}

// ImageHost is the registry host of an image reference by Docker's rules:
// the first component is a host if it has '.' or ':', is "localhost", or
// has upper-case letters; otherwise the image is on Docker Hub.
func ImageHost(name string) string {
	first, _, found := strings.Cut(name, "/")
	if !found || (!strings.ContainsAny(first, ".:") && first != "localhost" && strings.ToLower(first) == first) {
		return "docker.io"
	}
	if first == "index.docker.io" {
		return "docker.io"
	}
	return first
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
