package doctor

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/client/credhelper"
	"github.com/berth-dev/berth/internal/client/dockercfg"
	"github.com/berth-dev/berth/internal/client/ecrclient"
	"github.com/berth-dev/berth/internal/client/editdist"
	"github.com/berth-dev/berth/internal/client/endpoint"
	"github.com/berth-dev/berth/internal/ociref"
)

// credentialSource reports what Docker would use for the host and obtains
// those credentials the way Docker would.
func (r *run) credentialSource(ctx context.Context) {
	const step = "credentials (docker)"
	dir := r.o.DockerConfigDir
	if dir == "" {
		dir = dockercfg.DefaultDir(r.o.Getenv)
	}
	cfg, err := dockercfg.Load(dir)
	if err != nil {
		r.add(Result{Step: step, Status: Fail, Message: err.Error(), Fix: "fix or remove the malformed docker config", Class: ClassAuth})
		return
	}
	if v := r.o.Getenv("DOCKER_AUTH_CONFIG"); v != "" {
		if err := cfg.SetAuthConfigEnv(v); err != nil {
			r.add(Result{Step: step, Status: Warn, Message: err.Error() + " (docker ignores it with a warning)"})
		}
	}
	implicit := ""
	if cfg.CredsStore == "" {
		implicit = dockercfg.DetectImplicitStore("", r.o.LookPath)
	}
	m := cfg.Lookup(r.target.Host, implicit)
	for _, k := range cfg.Keys() {
		if e := cfg.Auths[k]; e.Auth != "" || e.Password != "" {
			r.rep.Plaintext = appendUnique(r.rep.Plaintext, cfg.Path+" (auths["+k+"])")
		}
	}
	ev := []string{"docker config " + cfg.Path, "looked up key " + m.Key}
	switch m.Source {
	case dockercfg.SourceNone:
		msg := fmt.Sprintf("no credential source matches %s (looked for key %s in %s", r.target.Host, m.Key, cfg.Path)
		if m.Closest != "" {
			msg += "; closest key: " + m.Closest
		}
		msg += "): docker will pull anonymously"
		if r.target.Kind == endpoint.KindBerth || r.target.Kind == endpoint.KindECR {
			r.add(Result{Step: step, Status: Fail, Message: msg + " and fail with \"no basic auth credentials\"",
				Fix: "berth install-helper && berth login --helper " + r.target.Host, Evidence: ev, Class: ClassAuth})
			return
		}
		r.add(Result{Step: step, Status: Warn, Message: msg, Evidence: ev})
		return
	case dockercfg.SourceCredHelper, dockercfg.SourceCredsStore, dockercfg.SourceImplicitStore:
		r.fromHelper(ctx, step, m, cfg.Path, ev)
		return
	}
	user, pass, err := m.Entry.Credentials()
	where := fmt.Sprintf("%s auths[%q] (%s)", cfg.Path, m.Key, m.Source)
	if m.Source == dockercfg.SourceEnv {
		where = fmt.Sprintf("DOCKER_AUTH_CONFIG auths[%q]", m.Key)
	}
	if err != nil {
		r.add(Result{Step: step, Status: Fail, Message: fmt.Sprintf("%s has no usable credentials: %v", where, err),
			Fix: "berth login --helper " + r.target.Host, Evidence: ev, Class: ClassAuth})
		return
	}
	r.creds = &creds{user: user, pass: pass, source: where, static: true}
	r.add(Result{Step: step, Status: Pass, Message: fmt.Sprintf("docker sends user %q from %s", user, where), Evidence: ev})
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func (r *run) fromHelper(ctx context.Context, step string, m dockercfg.Match, file string, ev []string) {
	bin := dockercfg.HelperBinary(m.Helper)
	origin := fmt.Sprintf("%s[%q] in %s", m.Source, m.Key, file)
	if m.Source == dockercfg.SourceCredsStore {
		origin = fmt.Sprintf("credsStore %q in %s (used for every registry)", m.Helper, file)
	}
	if m.Source == dockercfg.SourceImplicitStore {
		origin = fmt.Sprintf("docker's implicit default store %q (found on PATH, credsStore is empty)", m.Helper)
	}
	path, err := r.o.LookPath(bin)
	if err != nil {
		r.add(Result{Step: step, Status: Fail, Class: ClassAuth, Evidence: ev,
			Message: fmt.Sprintf("%s maps %s → %s but %s is not on PATH", origin, r.target.Host, bin, bin),
			Fix:     fixMissingHelper(m.Helper)})
		return
	}
	ev = append(ev, "helper "+path)
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	out, runErr := r.o.RunHelper(ctx, m.Helper, "get", m.Key)
	trimmed := strings.TrimSpace(out)
	switch {
	case runErr != nil && trimmed == credhelper.ErrNotFound:
		r.add(Result{Step: step, Status: Fail, Class: ClassAuth, Evidence: ev,
			Message: fmt.Sprintf("%s answered %q for %s: docker pulls anonymously (any auths entry for the host is ignored)", bin, credhelper.ErrNotFound, m.Key),
			Fix:     fmt.Sprintf("log in through that helper (docker login %s) or route the host to berth: berth login --helper %s", r.target.Host, r.target.Host)})
		return
	case runErr != nil:
		r.add(Result{Step: step, Status: Fail, Class: helperClass(trimmed), Evidence: ev,
			Message: fmt.Sprintf("%s get %s failed: %s", bin, m.Key, firstLine(trimmed, runErr)),
			Fix:     helperFix(m.Helper, trimmed)})
		return
	}
	var c credhelper.Credentials
	if err := json.Unmarshal([]byte(trimmed), &c); err != nil {
		r.add(Result{Step: step, Status: Fail, Evidence: ev, Message: fmt.Sprintf("%s get returned invalid JSON: %v", bin, err)})
		return
	}
	if c.Username == "" {
		r.add(Result{Step: step, Status: Fail, Class: ClassAuth, Evidence: ev, Message: fmt.Sprintf("%s get returned an empty Username for %s", bin, m.Key)})
		return
	}
	r.creds = &creds{user: c.Username, pass: c.Secret, source: origin, viaBerth: m.Helper == "berth"}
	r.add(Result{Step: step, Status: Pass, Evidence: ev,
		Message: fmt.Sprintf("docker runs %s (from %s) and gets user %q", bin, origin, c.Username)})
}

func firstLine(out string, err error) string {
	if out == "" {
		return err.Error()
	}
	line, _, _ := strings.Cut(out, "\n")
	return line
}

func helperClass(out string) Class {
	for _, s := range []string{"AccessDenied", "no AWS credentials", "ExpiredToken", "UnrecognizedClient", "InvalidSignature", "InvalidClientTokenId", "SignatureDoesNotMatch"} {
		if strings.Contains(out, s) {
			return ClassAuth
		}
	}
	return ClassOther
}

func helperFix(helper, out string) string {
	switch {
	case strings.Contains(out, "no AWS credentials"):
		return "give this machine AWS credentials: instance profile / task role, AWS_PROFILE, or AWS_ACCESS_KEY_ID+AWS_SECRET_ACCESS_KEY"
	case strings.Contains(out, "ecr:GetAuthorizationToken"):
		return "allow ecr:GetAuthorizationToken on \"*\" in the caller's identity policy (e.g. attach AmazonEC2ContainerRegistryReadOnly)"
	case helper == "berth":
		return "run `echo HOST | docker-credential-berth get` by hand to see the full error"
	}
	return "run `echo HOST | docker-credential-" + helper + " get` by hand"
}

func fixMissingHelper(helper string) string {
	if helper == "berth" {
		return "berth install-helper (creates docker-credential-berth next to berth; make sure that directory is on docker's PATH)"
	}
	return "install docker-credential-" + helper + " on PATH, or remove it from the docker config"
}

// extraConsumers reports, without failing the Docker path, what other
// consumers would do: containers/image, ECS agent, kubelet.
func (r *run) extraConsumers() {
	if r.target.Host == "" {
		return
	}
	r.podman()
	if r.o.ECSConfig != "" {
		if data, err := os.ReadFile(r.o.ECSConfig); err == nil {
			r.add(ecsCheck(r.o.ECSConfig, data, r.target.Host))
		}
	}
	if r.o.KubeletConfig != "" {
		res := kubeletCheck(r.o.KubeletConfig, r.o.Image)
		if res.Status == Fail {
			res.Status = Warn // the docker path is what doctor judges; report, don't stop
		}
		r.add(res)
	}
}

// podman follows containers/image's file order and reports the first file
// with an entry for the host (credsStore is ignored there).
func (r *run) podman() {
	g := r.o.Getenv
	var files []string
	if f := g("REGISTRY_AUTH_FILE"); f != "" {
		files = []string{f}
	} else {
		if x := g("XDG_RUNTIME_DIR"); x != "" {
			files = append(files, filepath.Join(x, "containers", "auth.json"))
		} else {
			files = append(files, fmt.Sprintf("/run/containers/%d/auth.json", os.Getuid()))
		}
		cfgHome := g("XDG_CONFIG_HOME")
		if cfgHome == "" {
			cfgHome = filepath.Join(g("HOME"), ".config")
		}
		files = append(files, filepath.Join(cfgHome, "containers", "auth.json"))
		files = append(files, filepath.Join(dockercfg.DefaultDir(g), dockercfg.FileName))
		files = append(files, filepath.Join(g("HOME"), dockercfg.LegacyFileName))
	}
	hostname := r.target.Host
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		c, format, err := dockercfg.ParseAny(data)
		if err != nil {
			continue
		}
		if h, ok := c.CredHelpers[hostname]; ok {
			r.add(Result{Step: "credentials (podman)", Status: Pass, Message: fmt.Sprintf("containers/image uses credHelpers[%q] = %q from %s", hostname, h, f)})
			return
		}
		for _, k := range c.Keys() {
			if dockercfg.HostOf(k) == hostname || strings.HasPrefix(k, hostname+"/") {
				if c.Auths[k].Empty() {
					continue
				}
				r.add(Result{Step: "credentials (podman)", Status: Pass, Message: fmt.Sprintf("containers/image uses auths[%q] from %s (%s format)", k, f, format)})
				return
			}
		}
	}
	r.add(Result{Step: "credentials (podman)", Status: Warn, Message: "podman/skopeo/buildah find no credentials for " + hostname + " (checked " + strings.Join(files, ", ") + ")",
		Fix: "podman login " + hostname + " --password-stdin, or add \"credHelpers\": {\"" + hostname + "\": \"berth\"} to ${XDG_CONFIG_HOME:-~/.config}/containers/auth.json"})
}

func ecsCheck(path string, data []byte, host string) Result {
	const step = "credentials (ECS agent)"
	var typ, authData string
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		switch k {
		case "ECS_ENGINE_AUTH_TYPE":
			typ = strings.TrimSpace(v)
		case "ECS_ENGINE_AUTH_DATA":
			authData = strings.TrimSpace(v)
		}
	}
	if typ == "" {
		return Result{Step: step, Status: Skip, Message: path + " sets no ECS_ENGINE_AUTH_TYPE (ECR images use the execution role instead)"}
	}
	if dockercfg.DetectFormat([]byte(authData)) == dockercfg.FormatConfigJSON {
		return Result{Step: step, Status: Warn, Message: path + ": ECS_ENGINE_AUTH_DATA uses the {\"auths\":…} wrapper — the ECS agent will ignore it",
			Fix: "convert it: berth ecs-auth --file " + path}
	}
	var flat map[string]json.RawMessage
	if err := json.Unmarshal([]byte(authData), &flat); err != nil {
		return Result{Step: step, Status: Warn, Message: fmt.Sprintf("%s: ECS_ENGINE_AUTH_DATA is not valid JSON: %v", path, err)}
	}
	for k := range flat {
		if dockercfg.HostOf(k) == host {
			return Result{Step: step, Status: Pass, Message: fmt.Sprintf("%s: ECS_ENGINE_AUTH_TYPE=%s has key %q for %s", path, typ, k, host)}
		}
	}
	return Result{Step: step, Status: Warn, Message: fmt.Sprintf("%s: ECS_ENGINE_AUTH_DATA has no key for %s", path, host)}
}

func (r *run) freshness() {
	const step = "token"
	if r.creds == nil {
		r.add(Result{Step: step, Status: Skip, Message: "no credentials to check"})
		return
	}
	if r.creds.user != "AWS" {
		r.add(Result{Step: step, Status: Skip, Message: fmt.Sprintf("user %q is not an ECR-style token; expiry unknown", r.creds.user)})
		return
	}
	if r.creds.viaBerth {
		r.add(Result{Step: step, Status: Pass, Message: "docker-credential-berth mints a fresh token on demand (cached until half its lifetime)"})
		return
	}
	e, ok := r.tokenCacheEntryFor(r.creds.pass)
	if !ok {
		if c, isBerth := ecrclient.DecodeBerthToken(r.creds.pass); isBerth {
			e, ok = ecrclient.CacheEntry{RequestedAt: c.Issued, ExpiresAt: c.Expires, Region: c.Region}, true
		}
	}
	if !ok {
		r.add(Result{Step: step, Status: Warn, Message: "static ECR-style token in " + r.creds.source + "; its expiry is unknown (tokens last 12 h)",
			Fix: "use the helper instead of a written token: berth login --helper " + r.target.Host})
		return
	}
	now := r.o.Now()
	ev := []string{fmt.Sprintf("minted %s in region %s, expires %s", e.RequestedAt.UTC().Format(time.RFC3339), e.Region, e.ExpiresAt.UTC().Format(time.RFC3339))}
	if !e.ExpiresAt.After(now) {
		r.add(Result{Step: step, Status: Fail, Class: ClassAuth, Evidence: ev,
			Message: fmt.Sprintf("token for %s in %s expired at %s", r.target.Host, r.creds.source, e.ExpiresAt.UTC().Format(time.RFC3339)),
			Fix:     "berth login --helper " + r.target.Host + " (tokens are then minted on every pull)"})
		return
	}
	if r.target.Region != "" && e.Region != "" && e.Region != r.target.Region {
		r.add(Result{Step: step, Status: Fail, Class: ClassAuth, Evidence: ev,
			Message: fmt.Sprintf("token minted in %s but registry %s is in %s", e.Region, r.target.Host, r.target.Region),
			Fix:     fmt.Sprintf("mint it in the registry's region: berth login %s (or berth get-login-password --region %s)", r.target.Host, r.target.Region)})
		return
	}
	st := Pass
	msg := fmt.Sprintf("token valid for another %s", e.ExpiresAt.Sub(now).Truncate(time.Minute))
	if e.ExpiresAt.Sub(now) < time.Hour {
		st = Warn
		msg += " (less than an hour)"
	}
	r.add(Result{Step: step, Status: st, Message: msg, Evidence: ev})
}

func (r *run) identity(ctx context.Context) {
	const step = "aws identity"
	if r.stopped {
		return
	}
	if r.target.Kind != endpoint.KindBerth && r.target.Kind != endpoint.KindECR {
		r.add(Result{Step: step, Status: Skip, Message: "not a berth or ECR registry"})
		return
	}
	if r.o.Tokens == nil {
		r.add(Result{Step: step, Status: Skip, Message: "no AWS client configured"})
		return
	}
	id, region, err := r.o.Tokens.CallerIdentity(ctx, r.target)
	if err != nil {
		res := Result{Step: step, Status: Warn, Message: "GetCallerIdentity: " + err.Error()}
		if ecrclient.KindOf(err) == ecrclient.KindNoCredentials {
			res.Message = "no AWS credentials in this environment: " + err.Error()
		}
		if r.creds != nil && r.creds.viaBerth {
			res.Status, res.Class = Fail, ClassAuth
			res.Fix = "give this machine AWS credentials (instance profile / task role, AWS_PROFILE, env keys)"
		}
		r.add(res)
		return
	}
	ev := []string{"arn " + id.Arn, "account " + id.Account, "region " + region}
	msg := fmt.Sprintf("credentials belong to %s", id.Arn)
	if r.target.Account != "" && id.Account != "" && id.Account != r.target.Account {
		msg += fmt.Sprintf("; cross-account pull from %s: the repository policy in %s must allow %s (or its account)", r.target.Account, r.target.Account, id.Account)
	}
	r.add(Result{Step: step, Status: Pass, Message: msg, Evidence: ev})
	r.callerArn = id.Arn
	r.callerAccount = id.Account
}

func (r *run) manifest(ctx context.Context) {
	const step = "authorization"
	if r.stopped {
		return
	}
	hdr := http.Header{"Accept": {acceptManifests}}
	if r.creds != nil {
		hdr.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(r.creds.user+":"+r.creds.pass)))
	}
	url := fmt.Sprintf("%s/v2/%s/manifests/%s", r.target.RegistryURL, r.repo, r.ref)
	resp, body, err := r.get(ctx, url, hdr, maxManifest)
	if err != nil {
		r.add(Result{Step: step, Status: Fail, Message: fmt.Sprintf("GET %s failed: %v", url, err)})
		return
	}
	code, msg := parseRegistryError(body)
	switch {
	case resp.StatusCode == http.StatusOK:
		r.add(Result{Step: step, Status: Pass, Message: fmt.Sprintf("registry authorizes %s to pull %s", r.principal(), r.repo)})
		r.cacheStatus(resp.Header)
		img, child := r.platform(ctx, resp, body, hdr)
		r.layer(ctx, img, child, hdr.Get("Authorization"))
		return
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		r.add(r.denial(resp.StatusCode, code, msg))
		return
	case resp.StatusCode == http.StatusNotFound && code == "MANIFEST_UNKNOWN":
		r.add(Result{Step: step, Status: Pass, Message: fmt.Sprintf("registry authorizes %s to read %s", r.principal(), r.repo)})
		r.tagNotFound(ctx, hdr, msg)
		return
	case resp.StatusCode == http.StatusNotFound:
		where := r.target.Host + " (the server's default account and region)"
		if r.target.Account != "" && r.target.Region != "" {
			where = r.target.Account + "/" + r.target.Region
		}
		if code == "" {
			code = "no error code"
		}
		r.add(Result{Step: "manifest", Status: Fail, Class: ClassNotFound,
			Message:  fmt.Sprintf("repository %s does not exist in %s (%s: %s)", r.repo, where, code, msg),
			Fix:      "check the repository name (and for pull-through cache, that the rule prefix exists); create it with aws ecr create-repository --repository-name " + r.repo,
			Evidence: []string{"GET " + url + " → 404"}})
	default:
		r.add(Result{Step: step, Status: Fail, Message: fmt.Sprintf("registry answered %d %s: %s", resp.StatusCode, code, msg),
			Fix: "retry later; if it persists, check the registry's logs"})
	}
}

func (r *run) principal() string {
	if r.callerArn != "" {
		return r.callerArn
	}
	if r.creds != nil {
		return "user " + r.creds.user
	}
	return "anonymous"
}

// denial explains a 401/403 from the registry.
func (r *run) denial(status int, code, msg string) Result {
	res := Result{Step: "authorization", Status: Fail, Class: ClassAuth, Evidence: []string{fmt.Sprintf("HTTP %d %s: %s", status, code, msg)}}
	lower := strings.ToLower(msg)
	switch {
	case r.creds == nil:
		res.Message = "no credentials sent: docker would fail with \"no basic auth credentials\""
		res.Fix = "berth install-helper && berth login --helper " + r.target.Host
	case strings.Contains(lower, "expired"):
		res.Message = fmt.Sprintf("the registry says the token from %s has expired: %s", r.creds.source, msg)
		res.Fix = "berth login --helper " + r.target.Host + " (fresh token on every pull), or rerun berth login " + r.target.Host
	case strings.Contains(lower, "region"):
		res.Message = "token rejected for this region: " + msg
		res.Fix = fmt.Sprintf("mint the token in %s: berth login %s", orUnknown(r.target.Region), r.target.Host)
	case strings.Contains(msg, "no resource-based policy allows"):
		action := actionIn(msg)
		res.Message = fmt.Sprintf("the repository policy of %s in account %s does not allow %s to %s (cross-account pulls need the owner's repository policy)", r.repo, orUnknown(r.target.Account), r.principal(), action)
		res.Fix = fmt.Sprintf("in account %s: aws ecr set-repository-policy --repository-name %s with a statement allowing %s ecr:BatchGetImage, ecr:GetDownloadUrlForLayer, ecr:BatchCheckLayerAvailability", orUnknown(r.target.Account), r.repo, principalForPolicy(r.callerAccount))
	case strings.Contains(msg, "no identity-based policy allows"):
		action := actionIn(msg)
		res.Message = fmt.Sprintf("the identity policy of %s does not allow %s on %s", r.principal(), action, r.repo)
		res.Fix = fmt.Sprintf("allow %s (and ecr:GetDownloadUrlForLayer, ecr:BatchCheckLayerAvailability) on the repository ARN, e.g. attach AmazonEC2ContainerRegistryReadOnly", action)
	case strings.Contains(msg, "explicit deny"):
		res.Message = "an explicit Deny blocks the pull: " + msg
		res.Fix = "remove or narrow the Deny statement named in the message"
	default:
		res.Message = fmt.Sprintf("registry rejected the credentials from %s (%d %s): %s", r.creds.source, status, code, msg)
		res.Fix = "berth login --helper " + r.target.Host
	}
	return res
}

func principalForPolicy(account string) string {
	if account == "" {
		return "the puller's account root (arn:aws:iam::ACCOUNT:root)"
	}
	return "arn:aws:iam::" + account + ":root"
}

func actionIn(msg string) string {
	const marker = "perform: "
	if i := strings.Index(msg, marker); i >= 0 {
		rest := msg[i+len(marker):]
		if j := strings.IndexByte(rest, ' '); j >= 0 {
			return rest[:j]
		}
		return rest
	}
	return "ecr:BatchGetImage"
}

func (r *run) tagNotFound(ctx context.Context, hdr http.Header, msg string) {
	res := Result{Step: "manifest", Status: Fail, Class: ClassNotFound,
		Message: fmt.Sprintf("tag %s not found in %s (%s)", r.ref, r.repo, msg)}
	url := fmt.Sprintf("%s/v2/%s/tags/list", r.target.RegistryURL, r.repo)
	resp, body, err := r.get(ctx, url, hdr, maxManifest)
	if err == nil && resp.StatusCode == http.StatusOK {
		var tl struct {
			Tags []string `json:"tags"`
		}
		if json.Unmarshal(body, &tl) == nil {
			near := nearestTags(r.ref, tl.Tags, 5)
			if len(near) > 0 {
				res.Message += "; nearest tags: " + strings.Join(near, ", ")
			} else {
				res.Message += "; the repository has no tags"
			}
		}
	} else {
		res.Evidence = append(res.Evidence, "tags/list not readable (needs ecr:ListImages)")
	}
	res.Fix = "pull an existing tag, or push " + r.repo + ":" + r.ref
	r.add(res)
}

// platform checks the target platform and returns the image manifest to
// pull: the manifest itself, or (for an index) the matching child's digest.
func (r *run) platform(ctx context.Context, resp *http.Response, body []byte, hdr http.Header) (*ociref.Manifest, digest.Digest) {
	ct := resp.Header.Get("Content-Type")
	m, err := ociref.ParseManifest(ct, body)
	if err != nil {
		r.add(Result{Step: "manifest", Status: Warn, Message: fmt.Sprintf("manifest (%s) did not parse: %v", ct, err)})
		return nil, ""
	}
	dg := resp.Header.Get("Docker-Content-Digest")
	r.add(Result{Step: "manifest", Status: Pass, Message: fmt.Sprintf("%s:%s exists (%s %s)", r.repo, r.ref, m.MediaType, dg)})
	want := parsePlatform(r.o.Platform)
	switch m.Kind {
	case ociref.KindIndex:
		var avail []string
		for _, d := range m.Manifests {
			p := descriptorPlatform(d.Platform)
			if p.os == "" {
				continue
			}
			avail = append(avail, p.String())
			if p.matches(want) {
				r.add(Result{Step: "platform", Status: Pass, Message: fmt.Sprintf("index has a %s variant (%s)", want, d.Digest)})
				return nil, d.Digest
			}
		}
		r.add(Result{Step: "platform", Status: Fail, Message: fmt.Sprintf("image has no %s variant; available: %s", want, strings.Join(avail, ", ")),
			Fix: "pull with --platform one of the available platforms, or build and push a " + want.String() + " image"})
	case ociref.KindImage:
		if m.Config == nil {
			return m, ""
		}
		cresp, cbody, err := r.get(ctx, fmt.Sprintf("%s/v2/%s/blobs/%s", r.target.RegistryURL, r.repo, m.Config.Digest), hdr, 1<<20)
		if err != nil || cresp.StatusCode != http.StatusOK {
			r.add(Result{Step: "platform", Status: Skip, Message: "config blob not readable; platform not checked"})
			return m, ""
		}
		var c struct {
			OS           string `json:"os"`
			Architecture string `json:"architecture"`
			Variant      string `json:"variant"`
		}
		if json.Unmarshal(cbody, &c) != nil || c.OS == "" {
			r.add(Result{Step: "platform", Status: Skip, Message: "config has no os/architecture"})
			return m, ""
		}
		got := platform{os: c.OS, arch: c.Architecture, variant: c.Variant}
		if got.matches(want) {
			r.add(Result{Step: "platform", Status: Pass, Message: "single-platform image for " + got.String()})
			return m, ""
		}
		r.add(Result{Step: "platform", Status: Warn, Message: fmt.Sprintf("single-platform image for %s, not %s: the pull works but the container will not run natively", got, want)})
		return m, ""
	}
	return nil, ""
}

type platform struct{ os, arch, variant string }

func (p platform) String() string {
	s := p.os + "/" + p.arch
	if p.variant != "" {
		s += "/" + p.variant
	}
	return s
}

func (p platform) matches(want platform) bool {
	return p.os == want.os && p.arch == want.arch && (want.variant == "" || p.variant == want.variant)
}

func parsePlatform(s string) platform {
	parts := strings.SplitN(s, "/", 3)
	p := platform{os: parts[0]}
	if len(parts) > 1 {
		p.arch = parts[1]
	}
	if len(parts) > 2 {
		p.variant = parts[2]
	}
	return p
}

func descriptorPlatform(raw json.RawMessage) platform {
	var p struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &p) != nil {
		return platform{}
	}
	return platform{os: p.OS, arch: p.Architecture, variant: p.Variant}
}

func nearestTags(want string, tags []string, n int) []string {
	type scored struct {
		tag string
		d   int
	}
	var s []scored
	for _, t := range tags {
		s = append(s, scored{t, editdist.Levenshtein(want, t)})
	}
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && (s[j].d < s[j-1].d || (s[j].d == s[j-1].d && s[j].tag < s[j-1].tag)); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	var out []string
	for i := 0; i < len(s) && i < n; i++ {
		out = append(out, s[i].tag)
	}
	return out
}

func (r *run) summarize() {
	rep := r.rep
	for _, res := range rep.Results {
		if res.Status == Fail {
			rep.OK, rep.Class = false, res.Class
			rep.Summary = fmt.Sprintf("Pull of %s will FAIL: %s", rep.Image, res.Message)
			rep.Fix = res.Fix
			return
		}
	}
	rep.OK, rep.Class = true, ClassOK
	rep.Summary = fmt.Sprintf("Pull of %s should succeed", rep.Image)
}
