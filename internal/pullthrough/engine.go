package pullthrough

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/singleflight"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/ociref"
	"github.com/berth-dev/berth/internal/storage"
)

// ECR's actions for pull-through: importing an image from the upstream and
// creating the repository on the first pull, on top of the read actions.
const (
	ActionBatchImportUpstreamImage = "ecr:BatchImportUpstreamImage"
	ActionCreateRepository         = "ecr:CreateRepository"
)

// DefaultRevalidateAfter is how long a cached tag is served without asking
// the upstream whether it moved (ECR: about once every 24 hours).
const DefaultRevalidateAfter = 24 * time.Hour

// SecretReader reads the current string value of a Secrets Manager secret
// (ok false: missing, scheduled for deletion or binary only).
type SecretReader interface {
	SecretString(ctx context.Context, account, region, secretARN string) (value string, ok bool, err error)
}

// AuthorizeFunc asks whether the caller of the current request may perform
// action on the repository being pulled (nil: allowed).
type AuthorizeFunc func(action string) error

// Config are the collaborators and settings of an Engine.
type Config struct {
	Images  *images.Service
	Rules   RuleSource
	Secrets SecretReader // nil: rules with a credentialArn fail
	Store   *Store
	// Settings gives the repository the first pull creates (the
	// PULL_THROUGH_CACHE creation template); nil or a nil result: defaults.
	Settings func(ctx context.Context, k storage.RepoKey) (*storage.Repository, error)
	// Created is told about a repository the engine created (authorization
	// caches may hold it as absent).
	Created func(k storage.RepoKey)
	Guard   *Guard // nil: a guard with nothing extra allowed
	// Transport replaces the guarded transport (tests only).
	Transport http.RoundTripper
	SpoolDir  string
	// RevalidateAfter: 0 means DefaultRevalidateAfter.
	RevalidateAfter time.Duration
	// NoServeStale turns off serving the last good copy when the upstream fails.
	NoServeStale bool
	// FetchTimeout bounds one upstream blob fetch (default 1 h).
	FetchTimeout time.Duration
	// NodeID names this process in cross-node blob leases.
	NodeID string
	Log    *slog.Logger
	Now    func() time.Time
}

// Engine executes pull-through cache rules.
type Engine struct {
	cfg       Config
	img       *images.Service
	store     *Store
	log       *slog.Logger
	now       func() time.Time
	transport http.RoundTripper

	bg     context.Context // background imports and fetches outlive requests
	stop   context.CancelFunc
	wg     sync.WaitGroup
	sf     singleflight.Group
	mu     sync.Mutex
	rules  map[string]cachedRules
	ups    map[string]*Upstream
	health map[string]*upstreamHealth
	// flights are the upstream blob fetches in progress, by digest.
	flights map[digest.Digest]*flight
	imports map[string]bool
}

type cachedRules struct {
	rules []Rule
	at    time.Time
}

type upstreamHealth struct {
	failingSince time.Time
	lastErr      string
}

// rulesTTL bounds how long a created or deleted rule takes to apply on a
// node that did not make the change.
const rulesTTL = 5 * time.Second

// New builds an engine; Close stops its background work.
func New(cfg Config) (*Engine, error) {
	if cfg.Images == nil || cfg.Rules == nil || cfg.Store == nil {
		return nil, errors.New("pullthrough: images, rules and store are required")
	}
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = os.TempDir()
	}
	if err := os.MkdirAll(cfg.SpoolDir, 0o700); err != nil {
		return nil, fmt.Errorf("pullthrough spool: %w", err)
	}
	if cfg.RevalidateAfter <= 0 {
		cfg.RevalidateAfter = DefaultRevalidateAfter
	}
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = time.Hour
	}
	if cfg.Guard == nil {
		cfg.Guard = &Guard{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NodeID == "" {
		host, _ := os.Hostname()
		cfg.NodeID = fmt.Sprintf("%s/%d/%d", host, os.Getpid(), time.Now().UnixNano())
	}
	t := cfg.Transport
	if t == nil {
		t = cfg.Guard.Transport()
	}
	bg, stop := context.WithCancel(context.Background())
	return &Engine{
		cfg: cfg, img: cfg.Images, store: cfg.Store, log: cfg.Log, now: cfg.Now, transport: t,
		bg: bg, stop: stop,
		rules: map[string]cachedRules{}, ups: map[string]*Upstream{}, health: map[string]*upstreamHealth{},
		flights: map[digest.Digest]*flight{}, imports: map[string]bool{},
	}, nil
}

// Close cancels background imports and waits for them.
func (e *Engine) Close() {
	e.stop()
	e.wg.Wait()
}

// ---- rules and upstreams -----------------------------------------------------

// target is a repository covered by a rule.
type target struct {
	k    storage.RepoKey
	rule Rule
	repo string // upstream repository
}

func (t target) healthKey() string {
	return t.k.Account + "\x00" + t.k.Region + "\x00" + t.rule.ECRRepositoryPrefix
}

func (e *Engine) match(ctx context.Context, k storage.RepoKey) (*target, error) {
	key := k.Account + "\x00" + k.Region
	e.mu.Lock()
	c, ok := e.rules[key]
	e.mu.Unlock()
	if !ok || e.now().Sub(c.at) > rulesTTL {
		rules, err := e.cfg.Rules.PullThroughRules(ctx, k.Account, k.Region)
		if err != nil {
			return nil, fmt.Errorf("pull through cache rules: %w", err)
		}
		c = cachedRules{rules: rules, at: e.now()}
		e.mu.Lock()
		e.rules[key] = c
		e.mu.Unlock()
	}
	r, repo, ok := Match(c.rules, k.Name)
	if !ok {
		return nil, nil
	}
	return &target{k: k, rule: r, repo: repo}, nil
}

// InvalidateRules drops cached rules of a registry (after a rule changed here).
func (e *Engine) InvalidateRules(account, region string) {
	e.mu.Lock()
	delete(e.rules, account+"\x00"+region)
	e.mu.Unlock()
}

// upstream returns the (cached, so tokens are reused) client for rule r
// of account+region.
func (e *Engine) upstream(account, region string, r Rule) (*Upstream, error) {
	key := strings.Join([]string{account, region, r.ECRRepositoryPrefix, r.UpstreamRegistryURL, r.CredentialARN}, "\x00")
	e.mu.Lock()
	defer e.mu.Unlock()
	if u, ok := e.ups[key]; ok {
		return u, nil
	}
	base, err := BaseURL(r.UpstreamRegistryURL)
	if err != nil {
		return nil, err
	}
	var creds CredentialFunc
	if r.CredentialARN != "" {
		creds = e.secretCredentials(account, region, r.CredentialARN)
	}
	u := NewUpstream(base, e.transport, creds)
	e.ups[key] = u
	return u, nil
}

// secretCredentials reads username/accessToken from the rule's secret on
// every use, so a rotated secret applies at once.
func (e *Engine) secretCredentials(account, region, arn string) CredentialFunc {
	return func(ctx context.Context) (*Credentials, error) {
		c, problem, err := e.readSecret(ctx, account, region, arn)
		if err != nil {
			return nil, err
		}
		if problem != "" {
			return nil, &UpstreamError{Op: "credentials", Detail: problem}
		}
		return c, nil
	}
}

// readSecret returns the credentials in secret arn, or a description of
// what is wrong with it (never containing the value).
func (e *Engine) readSecret(ctx context.Context, account, region, arn string) (*Credentials, string, error) {
	if e.cfg.Secrets == nil {
		return nil, "berth has no Secrets Manager store to read the credential secret from", nil
	}
	value, ok, err := e.cfg.Secrets.SecretString(ctx, account, region, arn)
	if err != nil {
		return nil, "", err
	}
	c, problem := ParseSecret(arn, value, ok)
	return c, problem, nil
}

// ParseSecret reads a pull-through credential secret's value (ok false: no
// such secret or no string value) as ECR defines it, {"username",
// "accessToken"}, or says what is wrong with it — never quoting the value.
func ParseSecret(arn, value string, ok bool) (*Credentials, string) {
	if !ok {
		return nil, "The secret '" + arn + "' does not exist or has no string value"
	}
	var v struct {
		Username    *string `json:"username"`
		AccessToken *string `json:"accessToken"`
	}
	if json.Unmarshal([]byte(value), &v) != nil {
		return nil, "The secret '" + arn + "' is not a JSON object with the keys username and accessToken"
	}
	if v.Username == nil || *v.Username == "" || v.AccessToken == nil || *v.AccessToken == "" {
		return nil, "The secret '" + arn + "' must contain non-empty username and accessToken values"
	}
	return &Credentials{Username: *v.Username, Password: *v.AccessToken}, ""
}

// Validate contacts the upstream of rule as account+region would and
// describes what fails ("" when the upstream answered /v2/ with the
// rule's credentials).
func (e *Engine) Validate(ctx context.Context, account, region string, r Rule) (string, error) {
	if r.CredentialARN != "" {
		_, problem, err := e.readSecret(ctx, account, region, r.CredentialARN)
		if err != nil || problem != "" {
			return problem, err
		}
	}
	u, err := e.upstream(account, region, r)
	if err != nil {
		return err.Error(), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := u.Ping(ctx); err != nil {
		return e.describe(r, err), nil
	}
	return "", nil
}

// describe turns an upstream failure into a message for the caller that
// names what to fix (the secret, the URL, the guard) without secrets.
func (e *Engine) describe(r Rule, err error) string {
	var ue *UpstreamError
	if !errors.As(err, &ue) {
		return fmt.Sprintf("upstream registry %s: %v", r.UpstreamRegistryURL, err)
	}
	switch {
	case ue.Forbidden():
		return fmt.Sprintf("upstream registry %s: %v", r.UpstreamRegistryURL, ue.Err)
	case ue.AuthFailed() && r.CredentialARN == "" && r.CustomRoleARN != "":
		return fmt.Sprintf("upstream registry %s refused the pull: berth does not assume customRoleArn roles (%s); give the rule a credentialArn whose secret holds an access key id (username) and secret access key (accessToken) (%v)", r.UpstreamRegistryURL, r.CustomRoleARN, ue)
	case ue.AuthFailed() && r.CredentialARN != "":
		return fmt.Sprintf("upstream registry %s rejected the credentials in secret '%s' (%v)", r.UpstreamRegistryURL, r.CredentialARN, ue)
	case ue.AuthFailed():
		return fmt.Sprintf("upstream registry %s requires credentials: give the rule a credentialArn (a secret named ecr-pullthroughcache/… with username and accessToken) (%v)", r.UpstreamRegistryURL, ue)
	case ue.Op == "credentials":
		return ue.Detail
	}
	return fmt.Sprintf("upstream registry %s: %v", r.UpstreamRegistryURL, ue)
}

// upstreamFailed records a failure for the stale bookkeeping and returns
// the error the caller sees when there is nothing cached to serve.
func (e *Engine) upstreamFailed(t *target, err error) error {
	msg := e.describe(t.rule, err)
	e.mu.Lock()
	h := e.health[t.healthKey()]
	if h == nil {
		h = &upstreamHealth{failingSince: e.now().UTC()}
		e.health[t.healthKey()] = h
	}
	h.lastErr = msg
	e.mu.Unlock()
	var ue *UpstreamError
	if errors.As(err, &ue) && ue.NotFound() {
		return nil
	}
	return apierr.Wrap(apierr.UpstreamUnavailable, err, "%s", msg)
}

func (e *Engine) upstreamOK(t *target) {
	e.mu.Lock()
	delete(e.health, t.healthKey())
	e.mu.Unlock()
}

func (e *Engine) failingSince(t *target) time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	if h := e.health[t.healthKey()]; h != nil {
		return h.failingSince
	}
	return e.now().UTC()
}

// ---- manifests ---------------------------------------------------------------

// Manifest is a manifest the engine serves.
type Manifest struct {
	MediaType string
	Digest    digest.Digest
	Payload   []byte
	// Cache says where it came from: "hit" (cached, fresh), "revalidated"
	// (cached, upstream confirmed), "miss" (fetched now), "stale" (cached,
	// the upstream failed).
	Cache string
	// UnreachableSince is when the upstream started failing (Cache "stale").
	UnreachableSince time.Time
}

// GetManifest serves ref of k when a rule covers k (covered false: no
// rule does, serve k locally as usual). Digests are served from the cache
// once held; tags are confirmed with the upstream when older than
// RevalidateAfter, and the last good copy is served when it fails.
func (e *Engine) GetManifest(ctx context.Context, k storage.RepoKey, ref ociref.Reference, authorize AuthorizeFunc) (*Manifest, bool, error) {
	t, err := e.match(ctx, k)
	if err != nil || t == nil {
		return nil, false, err
	}
	if ref.IsDigest() {
		m, err := e.manifestByDigest(ctx, t, ref.Digest, authorize)
		return m, true, err
	}
	m, err := e.manifestByTag(ctx, t, ref.Tag, authorize)
	return m, true, err
}

// cached returns k's copy of dg: stored, or staged while its references arrive.
func (e *Engine) cached(ctx context.Context, k storage.RepoKey, dg digest.Digest) (*Manifest, error) {
	m, err := e.img.GetManifest(ctx, k, ociref.Reference{Digest: dg})
	if err == nil {
		return &Manifest{MediaType: m.MediaType, Digest: m.Digest, Payload: m.Payload}, nil
	}
	if !apierr.HasCode(err, apierr.ManifestUnknown) && !apierr.HasCode(err, apierr.NameUnknown) {
		return nil, err
	}
	s, err := e.store.staged(ctx, k, dg)
	if err != nil || s == nil {
		return nil, err
	}
	return &Manifest{MediaType: s.MediaType, Digest: s.Digest, Payload: s.Payload}, nil
}

func (e *Engine) manifestByDigest(ctx context.Context, t *target, dg digest.Digest, authorize AuthorizeFunc) (*Manifest, error) {
	if m, err := e.cached(ctx, t.k, dg); err != nil || m != nil {
		if m != nil {
			m.Cache = "hit"
			e.startImport(t, m)
		}
		return m, err
	}
	if err := e.mayImport(ctx, t.k, authorize); err != nil {
		return nil, err
	}
	v, err, _ := e.sf.Do("m\x00"+t.k.Account+t.k.Region+t.k.Name+"@"+string(dg), func() (any, error) {
		return e.fetchManifest(t, string(dg))
	})
	if err != nil {
		return nil, err
	}
	m := *v.(*Manifest)
	return &m, nil
}

func (e *Engine) manifestByTag(ctx context.Context, t *target, tag string, authorize AuthorizeFunc) (*Manifest, error) {
	st, err := e.store.tag(ctx, t.k, tag)
	if err != nil {
		return nil, err
	}
	var have *Manifest
	switch {
	case st != nil:
		if have, err = e.cached(ctx, t.k, st.Digest); err != nil {
			return nil, err
		}
	default:
		// A tag stored without engine state (pushed, or cached before the
		// state existed) is served and re-validated now.
		m, err := e.img.GetManifest(ctx, t.k, ociref.Reference{Tag: tag})
		if err == nil {
			have = &Manifest{MediaType: m.MediaType, Digest: m.Digest, Payload: m.Payload}
		} else if !apierr.HasCode(err, apierr.ManifestUnknown) && !apierr.HasCode(err, apierr.NameUnknown) {
			return nil, err
		}
	}
	if have != nil && st != nil && st.Digest == have.Digest && e.now().Sub(st.ValidatedAt) < e.cfg.RevalidateAfter {
		have.Cache = "hit"
		e.startImport(t, have)
		return have, nil
	}
	if have == nil {
		if err := e.mayImport(ctx, t.k, authorize); err != nil {
			return nil, err
		}
	}
	v, err, _ := e.sf.Do("t\x00"+t.k.Account+t.k.Region+t.k.Name+":"+tag, func() (any, error) {
		return e.refreshTag(t, tag, have, authorize)
	})
	if err != nil {
		return nil, err
	}
	m := *v.(*Manifest)
	return &m, nil
}

// refreshTag asks the upstream where tag points now. It runs detached from
// the request (single-flight: other pulls of the tag wait for it).
func (e *Engine) refreshTag(t *target, tag string, have *Manifest, authorize AuthorizeFunc) (*Manifest, error) {
	ctx, cancel := context.WithTimeout(e.bg, 60*time.Second)
	defer cancel()
	u, err := e.upstream(t.k.Account, t.k.Region, t.rule)
	if err != nil {
		return nil, apierr.Wrap(apierr.UpstreamUnavailable, err, "%s", err.Error())
	}
	if have == nil {
		// Nothing cached to compare: GET at once (one round trip fewer,
		// and a failure's body says why).
		return e.fetchManifest(t, tag)
	}
	head, err := u.HeadManifest(ctx, t.repo, tag)
	if err != nil {
		return e.stale(t, tag, have, err)
	}
	if head != nil && have != nil && head.Digest == have.Digest {
		e.upstreamOK(t)
		if err := e.store.setTag(ctx, t.k, tag, have.Digest, e.now()); err != nil {
			return nil, err
		}
		have.Cache = "revalidated"
		e.startImport(t, have)
		return have, nil
	}
	if pinned, err := e.tagPinned(ctx, t.k, tag, have); err != nil || pinned {
		if err != nil {
			return nil, err
		}
		// The repository's mutability setting freezes this tag: the cache
		// keeps what it stored, as a push could not move it either.
		e.upstreamOK(t)
		if err := e.store.setTag(ctx, t.k, tag, have.Digest, e.now()); err != nil {
			return nil, err
		}
		e.log.Info("pull-through: tag moved upstream but is immutable here; keeping the cached image",
			"repo", t.k.Name, "tag", tag, "digest", string(have.Digest))
		have.Cache = "hit"
		return have, nil
	}
	if have != nil && authorize(ActionBatchImportUpstreamImage) != nil {
		// The tag moved upstream but this caller may not import: it gets
		// the copy it may read, and a caller who may import updates it.
		have.Cache = "hit"
		return have, nil
	}
	m, err := e.fetchManifest(t, tag)
	if err != nil {
		return e.stale(t, tag, have, err)
	}
	return m, nil
}

// tagPinned reports whether tag is stored in k at have's digest and k's
// tag mutability setting forbids moving it (IMMUTABLE, or the tag matched
// by the *_WITH_EXCLUSION filters accordingly).
func (e *Engine) tagPinned(ctx context.Context, k storage.RepoKey, tag string, have *Manifest) (bool, error) {
	if have == nil {
		return false, nil
	}
	r, err := e.img.Repository(ctx, k)
	if apierr.HasCode(err, apierr.NameUnknown) {
		return false, nil
	}
	if err != nil || !storage.TagImmutable(r.TagMutability, r.MutabilityFilters, tag) {
		return false, err
	}
	cur, err := e.img.GetManifest(ctx, k, ociref.Reference{Tag: tag})
	if apierr.HasCode(err, apierr.ManifestUnknown) {
		return false, nil
	}
	return err == nil && cur.Digest == have.Digest, err
}

// stale answers a failed upstream exchange: the last good copy (marked)
// when there is one and serving stale is on, else the failure.
func (e *Engine) stale(t *target, tag string, have *Manifest, err error) (*Manifest, error) {
	failure := e.upstreamFailed(t, err)
	if have == nil {
		if failure == nil {
			return nil, apierr.New(apierr.ManifestUnknown, "Requested image not found (upstream %s has no %s:%s)", t.rule.UpstreamRegistryURL, t.repo, tag).
				WithDetail(map[string]string{"reference": tag})
		}
		return nil, failure
	}
	if e.cfg.NoServeStale && failure != nil {
		return nil, failure
	}
	m := *have
	m.Cache = "stale"
	m.UnreachableSince = e.failingSince(t)
	e.log.Warn("pull-through: serving cached copy, upstream failed",
		"repo", t.k.Name, "tag", tag, "digest", string(m.Digest), "upstream", t.rule.UpstreamRegistryURL,
		"unreachable_since", m.UnreachableSince.Format(time.RFC3339), "err", e.describe(t.rule, err))
	e.startImport(t, &m)
	return &m, nil
}

// fetchManifest GETs ref from the upstream, stages it (served from there
// until its references are stored), points the tag at it and starts the
// background import.
func (e *Engine) fetchManifest(t *target, ref string) (*Manifest, error) {
	ctx, cancel := context.WithTimeout(e.bg, 60*time.Second)
	defer cancel()
	u, err := e.upstream(t.k.Account, t.k.Region, t.rule)
	if err != nil {
		return nil, apierr.Wrap(apierr.UpstreamUnavailable, err, "%s", err.Error())
	}
	up, err := u.GetManifest(ctx, t.repo, ref, e.img.MaxManifestBytes())
	if err != nil {
		if f := e.upstreamFailed(t, err); f != nil {
			return nil, f
		}
		return nil, apierr.New(apierr.ManifestUnknown, "Requested image not found (upstream %s has no %s:%s)", t.rule.UpstreamRegistryURL, t.repo, ref).
			WithDetail(map[string]string{"reference": ref})
	}
	e.upstreamOK(t)
	parsed, err := ociref.ParseManifest(up.MediaType, up.Payload)
	if err != nil {
		return nil, apierr.Wrap(apierr.UpstreamUnavailable, err, "upstream %s served an invalid manifest for %s:%s: %v", t.rule.UpstreamRegistryURL, t.repo, ref, err)
	}
	up.MediaType = parsed.MediaType
	if err := e.store.stage(ctx, t.k, up, e.now()); err != nil {
		return nil, err
	}
	if _, err := digest.Parse(ref); err != nil {
		if err := e.store.setTag(ctx, t.k, ref, up.Digest, e.now()); err != nil {
			return nil, err
		}
	}
	m := &Manifest{MediaType: up.MediaType, Digest: up.Digest, Payload: up.Payload, Cache: "miss"}
	e.log.Info("pull-through: fetched manifest", "repo", t.k.Name, "ref", ref, "digest", string(up.Digest),
		"upstream", t.rule.UpstreamRegistryURL, "upstream_repo", t.repo)
	e.startImport(t, m)
	return m, nil
}

// mayImport authorizes a pull that has to import: ecr:BatchImportUpstreamImage,
// and on the first pull ecr:CreateRepository, which creates the repository
// with the PULL_THROUGH_CACHE creation template.
func (e *Engine) mayImport(ctx context.Context, k storage.RepoKey, authorize AuthorizeFunc) error {
	if err := authorize(ActionBatchImportUpstreamImage); err != nil {
		return err
	}
	err := e.img.CheckRepository(ctx, k)
	if !apierr.HasCode(err, apierr.NameUnknown) {
		return err
	}
	if err := authorize(ActionCreateRepository); err != nil {
		return err
	}
	r := &storage.Repository{}
	if e.cfg.Settings != nil {
		s, err := e.cfg.Settings(ctx, k)
		if err != nil {
			return err
		}
		if s != nil {
			r = s
		}
	}
	r.Key, r.CreatedAt = k, time.Time{}
	err = e.img.CreateRepositoryWith(ctx, r)
	if err != nil && !apierr.HasCode(err, apierr.RepositoryAlreadyExists) {
		return err
	}
	if err == nil {
		e.log.Info("pull-through: created repository", "repo", k.Name, "account", k.Account, "region", k.Region)
	}
	if e.cfg.Created != nil {
		e.cfg.Created(k)
	}
	return nil
}

// ---- background import -------------------------------------------------------

// startImport makes sure m's references are being fetched and m stored
// through images.PutManifest once they are (no-op when m is stored).
func (e *Engine) startImport(t *target, m *Manifest) {
	key := t.k.Account + "\x00" + t.k.Region + "\x00" + t.k.Name + "@" + string(m.Digest)
	e.mu.Lock()
	if e.imports[key] || e.bg.Err() != nil {
		e.mu.Unlock()
		return
	}
	e.imports[key] = true
	e.mu.Unlock()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer func() {
			e.mu.Lock()
			delete(e.imports, key)
			e.mu.Unlock()
		}()
		if err := e.importManifest(t, m); err != nil && e.bg.Err() == nil {
			e.log.Warn("pull-through: import incomplete (retried on the next pull)", "repo", t.k.Name, "digest", string(m.Digest), "err", err)
		}
	}()
}

func (e *Engine) importManifest(t *target, m *Manifest) error {
	ctx := e.bg
	if _, err := e.img.GetManifest(ctx, t.k, ociref.Reference{Digest: m.Digest}); err == nil {
		return e.applyTags(ctx, t.k, m)
	}
	parsed, err := ociref.ParseManifest(m.MediaType, m.Payload)
	if err != nil {
		return err
	}
	if parsed.Kind == ociref.KindIndex {
		// Children are fetched when a client asks for them; the index is
		// stored once every child is (see storeParents).
		return e.storeIfComplete(ctx, t.k, m)
	}
	var blobs []ociref.Descriptor
	if parsed.Config != nil {
		blobs = append(blobs, *parsed.Config)
	}
	for _, l := range parsed.Layers {
		if !ociref.IsNonDistributable(l) {
			blobs = append(blobs, l)
		}
	}
	errs := make(chan error, len(blobs))
	sem := make(chan struct{}, 4)
	for _, b := range blobs {
		go func(b ociref.Descriptor) {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs <- e.ensureBlob(ctx, t, b.Digest, b.Size)
		}(b)
	}
	var first error
	for range blobs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return first
	}
	if err := e.storeIfComplete(ctx, t.k, m); err != nil {
		return err
	}
	return e.storeParents(ctx, t.k)
}

// storeIfComplete puts m into the registry (with the cached tags that point
// at it) when everything it references is there; an index with children
// still missing stays staged.
func (e *Engine) storeIfComplete(ctx context.Context, k storage.RepoKey, m *Manifest) error {
	tags, err := e.store.tagsAt(ctx, k, m.Digest)
	if err != nil {
		return err
	}
	_, err = e.img.PutManifest(ctx, k, images.PutManifestInput{
		Reference: ociref.Reference{Digest: m.Digest}, Tags: tags, ContentType: m.MediaType, Payload: m.Payload,
	})
	if apierr.HasCode(err, apierr.ReferencedImagesNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	e.log.Info("pull-through: stored", "repo", k.Name, "digest", string(m.Digest), "tags", strings.Join(tags, ","))
	return e.store.unstage(ctx, k, m.Digest)
}

// applyTags points the cached tags of an already stored manifest at it
// (a tag re-validated to a digest the registry holds).
func (e *Engine) applyTags(ctx context.Context, k storage.RepoKey, m *Manifest) error {
	tags, err := e.store.tagsAt(ctx, k, m.Digest)
	if err != nil || len(tags) == 0 {
		return err
	}
	var missing []string
	for _, tg := range tags {
		cur, err := e.img.GetManifest(ctx, k, ociref.Reference{Tag: tg})
		if err != nil || cur.Digest != m.Digest {
			missing = append(missing, tg)
		}
	}
	if len(missing) == 0 {
		return e.store.unstage(ctx, k, m.Digest)
	}
	return e.storeIfComplete(ctx, k, m)
}

// storeParents retries the staged indexes of k (a child just arrived).
func (e *Engine) storeParents(ctx context.Context, k storage.RepoKey) error {
	staged, err := e.store.stagedIndexes(ctx, k)
	if err != nil {
		return err
	}
	for _, s := range staged {
		if err := e.storeIfComplete(ctx, k, &Manifest{MediaType: s.MediaType, Digest: s.Digest, Payload: s.Payload}); err != nil {
			return err
		}
	}
	return nil
}

// ---- blobs -------------------------------------------------------------------

// Blob is a blob the engine serves: Local is set when the registry holds
// it; otherwise Stream delivers it while it is being fetched (Size -1 when
// the upstream did not say).
type Blob struct {
	Local  storage.Blob
	Stream io.ReadCloser
	Size   int64
}

// GetBlob serves dg of k when a rule covers k and the registry does not
// hold the blob yet (covered false: no rule, serve locally).
func (e *Engine) GetBlob(ctx context.Context, k storage.RepoKey, dg digest.Digest, authorize AuthorizeFunc) (*Blob, bool, error) {
	t, err := e.match(ctx, k)
	if err != nil || t == nil {
		return nil, false, err
	}
	if b, err := e.local(ctx, k, dg); err != nil || b != nil {
		return b, true, err
	}
	if err := e.mayImport(ctx, k, authorize); err != nil {
		return nil, true, err
	}
	for range 3 {
		f, err := e.flightFor(t, dg, -1)
		if err != nil {
			return nil, true, err
		}
		select {
		case <-f.started:
		case <-ctx.Done():
			return nil, true, ctx.Err()
		}
		if f.startErr != nil {
			return nil, true, f.startErr
		}
		if r := f.reader(ctx); r != nil {
			return &Blob{Stream: r, Size: f.size}, true, nil
		}
		// The fetch ended between lookup and read: the blob is stored (or
		// the fetch failed and the next round starts another).
		<-f.stored
		if b, err := e.local(ctx, k, dg); err != nil || b != nil {
			return b, true, err
		}
	}
	return nil, true, apierr.New(apierr.UpstreamUnavailable, "fetching blob %s from %s did not complete", dg, t.rule.UpstreamRegistryURL)
}

// local opens dg when the registry holds it, linking it to k when another
// repository brought it in.
func (e *Engine) local(ctx context.Context, k storage.RepoKey, dg digest.Digest) (*Blob, error) {
	_, ok, err := e.img.AdoptBlob(ctx, k, dg)
	if err != nil || !ok {
		return nil, err
	}
	b, _, err := e.img.OpenBlob(ctx, k, dg)
	if err != nil {
		return nil, err
	}
	return &Blob{Local: b, Size: b.Size()}, nil
}

// ensureBlob makes sure k holds dg, fetching it once if needed.
func (e *Engine) ensureBlob(ctx context.Context, t *target, dg digest.Digest, size int64) error {
	if _, ok, err := e.img.AdoptBlob(ctx, t.k, dg); err != nil || ok {
		return err
	}
	f, err := e.flightFor(t, dg, size)
	if err != nil {
		return err
	}
	select {
	case <-f.stored:
	case <-ctx.Done():
		return ctx.Err()
	}
	if f.storeErr != nil {
		return f.storeErr
	}
	_, ok, err := e.img.AdoptBlob(ctx, t.k, dg)
	if err == nil && !ok {
		err = fmt.Errorf("blob %s vanished after it was fetched", dg)
	}
	return err
}

// flightFor joins the fetch of dg in progress, or starts one.
func (e *Engine) flightFor(t *target, dg digest.Digest, size int64) (*flight, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if f := e.flights[dg]; f != nil {
		return f, nil
	}
	f, err := newFlight(e.cfg.SpoolDir, dg, size)
	if err != nil {
		return nil, err
	}
	e.flights[dg] = f
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.fetch(t, f)
		e.mu.Lock()
		delete(e.flights, dg)
		e.mu.Unlock()
		close(f.stored)
	}()
	return f, nil
}

// fetch runs one flight: upstream GET → spool (hashing) → verified → EOF
// for readers → committed to storage and linked to t.k.
func (e *Engine) fetch(t *target, f *flight) {
	ctx, cancel := context.WithTimeout(e.bg, e.cfg.FetchTimeout)
	defer cancel()
	started := false
	start := func(err error) {
		if !started {
			started = true
			f.startErr = err
			close(f.started)
		}
	}
	fail := func(err error) {
		start(err)
		f.storeErr = err
		f.finish(err)
	}
	// Across nodes on one database: one node holds the blob's lease and
	// fetches; the others wait for the blob to appear in the shared blob
	// store and stream it from there.
	body, size, fromStore, release, err := e.blobSource(ctx, t, f.dg)
	if release != nil {
		defer release()
	}
	if err == nil && fromStore {
		defer body.Close()
		if size >= 0 {
			f.size = size
		}
		start(nil)
		v := newVerifier(f.dg, f.size)
		if _, err := io.Copy(io.MultiWriter(f, v), body); err != nil || v.check() != nil {
			fail(fmt.Errorf("reading blob %s stored by another node: %v", f.dg, errors.Join(err, v.check())))
			return
		}
		f.finish(nil)
		return
	}
	if err != nil {
		if failure := e.upstreamFailed(t, err); failure != nil {
			err = failure
		} else {
			err = apierr.New(apierr.BlobUnknown, "blob unknown to registry (upstream %s has no %s@%s)", t.rule.UpstreamRegistryURL, t.repo, f.dg).
				WithDetail(map[string]string{"digest": string(f.dg)})
		}
		fail(err)
		return
	}
	defer body.Close()
	e.upstreamOK(t)
	if size >= 0 {
		f.size = size
	}
	start(nil)
	v := newVerifier(f.dg, f.size)
	n, err := io.Copy(io.MultiWriter(f, v), body)
	if err == nil {
		err = v.check()
	}
	if err != nil {
		fail(apierr.Wrap(apierr.UpstreamUnavailable, err, "fetching blob %s from %s failed: %v", f.dg, t.rule.UpstreamRegistryURL, err))
		return
	}
	// Readers have every verified byte: they finish while it is stored.
	f.retain()
	f.finish(nil)
	defer f.release()
	_, err = e.img.ImportBlob(ctx, t.k, f.contents(), f.dg, n)
	f.storeErr = err
	if err != nil {
		e.log.Warn("pull-through: storing fetched blob failed", "repo", t.k.Name, "digest", string(f.dg), "err", err)
		return
	}
	e.log.Info("pull-through: fetched blob", "repo", t.k.Name, "digest", string(f.dg), "bytes", n, "upstream", t.rule.UpstreamRegistryURL)
}

// Blob leases: a holder renews every leaseTTL/3; a node that dies leaves a
// lease that expires after leaseTTL, and the next waiter takes over.
const (
	leaseTTL  = 30 * time.Second
	leasePoll = 100 * time.Millisecond
)

// blobSource opens where flight dg reads from: the upstream when this node
// takes the blob's lease (release ends the lease), or the blob store once
// the node holding the lease has stored it (fromStore).
func (e *Engine) blobSource(ctx context.Context, t *target, dg digest.Digest) (body io.ReadCloser, size int64, fromStore bool, release func(), err error) {
	name := "blob:" + string(dg)
	for {
		got, err := e.store.acquire(ctx, name, e.cfg.NodeID, e.now(), leaseTTL)
		if err != nil {
			return nil, 0, false, nil, err
		}
		if got {
			release = e.holdLease(name)
			break
		}
		if b, err := e.local(ctx, t.k, dg); err != nil {
			return nil, 0, false, nil, err
		} else if b != nil {
			e.log.Info("pull-through: blob stored by another node", "repo", t.k.Name, "digest", string(dg))
			return b.Local, b.Size, true, nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, 0, false, nil, ctx.Err()
		case <-time.After(leasePoll):
		}
	}
	// Another node may have finished between our lease and its release.
	if b, err := e.local(ctx, t.k, dg); err != nil || b != nil {
		if b != nil {
			return b.Local, b.Size, true, release, nil
		}
		return nil, 0, false, release, err
	}
	u, err := e.upstream(t.k.Account, t.k.Region, t.rule)
	if err != nil {
		return nil, 0, false, release, err
	}
	body, size, err = u.GetBlob(ctx, t.repo, dg)
	return body, size, false, release, err
}

// holdLease renews lease name until the returned func releases it.
func (e *Engine) holdLease(name string) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(leaseTTL / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if _, err := e.store.acquire(e.bg, name, e.cfg.NodeID, e.now(), leaseTTL); err != nil && e.bg.Err() == nil {
					e.log.Warn("pull-through: renewing blob lease", "lease", name, "err", err)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		if err := e.store.release(context.WithoutCancel(e.bg), name, e.cfg.NodeID); err != nil {
			e.log.Warn("pull-through: releasing blob lease", "lease", name, "err", err)
		}
	}
}
