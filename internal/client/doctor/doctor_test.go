package doctor

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/client/dockercfg"
	"github.com/berth-dev/berth/internal/client/ecrclient"
	"github.com/berth-dev/berth/internal/client/endpoint"
	"github.com/berth-dev/berth/internal/ociref"
)

const goodPass = "good-token"

// fakeECR imitates an ECR-style registry: Basic challenge, DENIED bodies
// with AWS messages, NAME_UNKNOWN / MANIFEST_UNKNOWN, tags/list.
type fakeECR struct {
	denyStatus  int
	denyCode    string
	denyMessage string
	index       bool // serve an index with only linux/arm64
	indexAMD64  bool // serve an index whose linux/amd64 child is the image manifest
	noLayers    bool // image manifest without layers (doctor then checks the config blob)
	// blob says how the checked blob (first layer, else config) is answered:
	// "" serves it, "missing" 404 BLOB_UNKNOWN, "denied" 403 DENIED,
	// "redirect" 307 to blobURL (presigned-style query).
	blob        string
	blobMessage string
	blobURL     string
}

var testLayer = []byte("layer bytes")

// blobStore imitates S3 behind a presigned URL: it must never see the
// registry's Authorization header (real S3 rejects a request carrying both).
type blobStore struct {
	mu       sync.Mutex
	hits     int
	authSeen bool
	refuse   bool // answer 403 AccessDenied like an S3 bucket policy would
}

func (b *blobStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.hits++
	if r.Header.Get("Authorization") != "" {
		b.authSeen = true
	}
	b.mu.Unlock()
	if r.Header.Get("Authorization") != "" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>`)
		return
	}
	if b.refuse || r.URL.Query().Get("X-Amz-Signature") == "" {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
		return
	}
	if r.Header.Get("Range") != "bytes=0-0" {
		w.Write(testLayer)
		return
	}
	w.Header().Set("Content-Range", fmt.Sprintf("bytes 0-0/%d", len(testLayer)))
	w.WriteHeader(http.StatusPartialContent)
	w.Write(testLayer[:1])
}

func (b *blobStore) seen() (int, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hits, b.authSeen
}

func (f *fakeECR) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	writeErr := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"errors":[{"code":%q,"message":%q}]}`, code, msg)
	}
	if r.URL.Path == "/v2/" && r.Header.Get("Authorization") == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="https://`+r.Host+`/",service="ecr.amazonaws.com"`)
		w.WriteHeader(401)
		return
	}
	if r.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte("AWS:"+goodPass)) {
		writeErr(401, "DENIED", "Not Authorized")
		return
	}
	if f.denyStatus != 0 {
		writeErr(f.denyStatus, f.denyCode, f.denyMessage)
		return
	}
	config := []byte(`{"os":"linux","architecture":"amd64","rootfs":{"type":"layers","diff_ids":[]}}`)
	cd := fmt.Sprintf("sha256:%x", sha256.Sum256(config))
	ld := fmt.Sprintf("sha256:%x", sha256.Sum256(testLayer))
	layers := fmt.Sprintf(`[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":%d}]`, ld, len(testLayer))
	checked := ld
	if f.noLayers {
		layers, checked = "[]", cd
	}
	image := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":%s}`,
		ociref.MediaTypeOCIManifest, cd, len(config), layers)
	imageDigest := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(image)))
	if r.URL.Path == "/v2/app/blobs/"+checked && f.blob != "" {
		switch f.blob {
		case "missing":
			writeErr(404, "BLOB_UNKNOWN", "blob unknown to registry")
		case "denied":
			writeErr(403, "DENIED", f.blobMessage)
		case "redirect":
			http.Redirect(w, r, f.blobURL+"/prod-eu-west-2-starport-layer-bucket/"+strings.TrimPrefix(checked, "sha256:")+"?X-Amz-Credential=AKIASECRETCRED&X-Amz-Signature=secret-sig", http.StatusTemporaryRedirect)
		}
		return
	}
	switch {
	case r.URL.Path == "/v2/app/tags/list":
		fmt.Fprint(w, `{"name":"app","tags":["1.0","1.2","1.2.1","latest","2.0-rc1"]}`)
	case r.URL.Path == "/v2/app/manifests/1.2":
		if f.index {
			w.Header().Set("Content-Type", ociref.MediaTypeOCIIndex)
			fmt.Fprintf(w, `{"schemaVersion":2,"mediaType":%q,"manifests":[{"mediaType":%q,"digest":"sha256:%064d","size":10,"platform":{"os":"linux","architecture":"arm64"}}]}`,
				ociref.MediaTypeOCIIndex, ociref.MediaTypeOCIManifest, 1)
			return
		}
		if f.indexAMD64 {
			w.Header().Set("Content-Type", ociref.MediaTypeOCIIndex)
			fmt.Fprintf(w, `{"schemaVersion":2,"mediaType":%q,"manifests":[{"mediaType":%q,"digest":"sha256:%064d","size":10,"platform":{"os":"linux","architecture":"arm64"}},{"mediaType":%q,"digest":%q,"size":%d,"platform":{"os":"linux","architecture":"amd64"}}]}`,
				ociref.MediaTypeOCIIndex, ociref.MediaTypeOCIManifest, 1, ociref.MediaTypeOCIManifest, imageDigest, len(image))
			return
		}
		w.Header().Set("Content-Type", ociref.MediaTypeOCIManifest)
		fmt.Fprint(w, image)
	case r.URL.Path == "/v2/app/manifests/"+imageDigest:
		w.Header().Set("Content-Type", ociref.MediaTypeOCIManifest)
		fmt.Fprint(w, image)
	case r.URL.Path == "/v2/app/blobs/"+cd:
		w.Write(config)
	case r.URL.Path == "/v2/app/blobs/"+ld:
		w.Write(testLayer)
	case strings.HasPrefix(r.URL.Path, "/v2/app/manifests/"):
		writeErr(404, "MANIFEST_UNKNOWN", "Requested image not found")
	case r.URL.Path == "/v2/":
		w.WriteHeader(200)
	default:
		writeErr(404, "NAME_UNKNOWN", "The repository with name 'missing' does not exist in the registry with id '222222222222'")
	}
}

type fakeTokens struct {
	account string
	err     error
}

func (f fakeTokens) Token(context.Context, endpoint.Target, ecrclient.GetOptions) (ecrclient.Token, error) {
	return ecrclient.Token{}, errors.New("not used")
}

func (f fakeTokens) CallerIdentity(context.Context, endpoint.Target) (ecrclient.Identity, string, error) {
	if f.err != nil {
		return ecrclient.Identity{}, "", f.err
	}
	return ecrclient.Identity{Account: f.account, Arn: "arn:aws:iam::" + f.account + ":user/puller"}, "eu-west-2", nil
}

type tc struct {
	name     string
	image    string // path after host
	ecr      fakeECR
	docker   string // config.json content; HOST replaced
	cache    map[string]ecrclient.CacheEntry
	helper   func(helper, verb, stdin string) (string, error)
	onPath   []string
	tokens   fakeTokens
	platform string
	class    Class
	failStep string
	contains []string // HOST is the registry, BLOBHOST the redirect target
	// store runs a redirect target for ecr.blob == "redirect": "ok", "refuse",
	// or "closed" (a closed loopback port).
	store string
}

func authCfg(pass string) string {
	return `{"auths":{"HOST":{"auth":"` + dockercfg.EncodeAuth("AWS", pass) + `"}}}`
}

func TestDoctor(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	layer := fmt.Sprintf("sha256:%x", sha256.Sum256(testLayer))
	cases := []tc{
		{name: "pull works", image: "app:1.2", docker: authCfg(goodPass), tokens: fakeTokens{account: "222222222222"}, class: ClassOK,
			contains: []string{"single-platform image for linux/amd64", `"step": "layer"`, "layer " + layer + " downloads from the registry itself (HOST)"}},
		{name: "image without layers checks its config blob", image: "app:1.2", docker: authCfg(goodPass), ecr: fakeECR{noLayers: true}, class: ClassOK,
			contains: []string{"config blob sha256:", "downloads from the registry itself"}},
		{name: "layer redirected to a blob store", image: "app:1.2", docker: authCfg(goodPass), ecr: fakeECR{blob: "redirect"}, store: "ok", class: ClassOK,
			contains: []string{"layer " + layer + " downloads from redirect host BLOBHOST (fetched without the registry's Authorization", "GET http://BLOBHOST/prod-eu-west-2-starport-layer-bucket/"}},
		{name: "index platform child layer redirected", image: "app:1.2", docker: authCfg(goodPass), ecr: fakeECR{indexAMD64: true, blob: "redirect"}, store: "ok", class: ClassOK,
			contains: []string{"index has a linux/amd64 variant", "layer " + layer + " downloads from redirect host BLOBHOST"}},
		{name: "redirect host unreachable", image: "app:1.2", docker: authCfg(goodPass), ecr: fakeECR{blob: "redirect"}, store: "closed",
			class: ClassOther, failStep: "layer", contains: []string{"manifest OK but layer download from BLOBHOST is blocked: allow HTTPS to BLOBHOST (S3 gateway endpoint / proxy)", "S3 gateway endpoint"}},
		{name: "redirect target refuses", image: "app:1.2", docker: authCfg(goodPass), ecr: fakeECR{blob: "redirect"}, store: "refuse",
			class: ClassOther, failStep: "layer", contains: []string{"manifest OK but layer download from BLOBHOST failed: it answered 403 AccessDenied: Access Denied", "presigned URLs expire"}},
		{name: "layer missing", image: "app:1.2", docker: authCfg(goodPass), ecr: fakeECR{blob: "missing"}, class: ClassNotFound, failStep: "layer",
			contains: []string{"manifest OK but layer " + layer + " is missing from the repository: the image was pushed incompletely or the blob was deleted; re-push the image", "404 BLOB_UNKNOWN"}},
		{name: "layer download denied by identity policy", image: "app:1.2", docker: authCfg(goodPass), tokens: fakeTokens{account: "222222222222"},
			ecr:   fakeECR{blob: "denied", blobMessage: "User: arn:aws:iam::222222222222:user/puller is not authorized to perform: ecr:GetDownloadUrlForLayer on resource: arn:aws:ecr:eu-west-2:222222222222:repository/app because no identity-based policy allows the ecr:GetDownloadUrlForLayer action"},
			class: ClassAuth, failStep: "layer", contains: []string{"arn:aws:iam::222222222222:user/puller may not download layer " + layer + ": ecr:GetDownloadUrlForLayer is denied by the identity policy",
				"must allow ecr:GetDownloadUrlForLayer alongside ecr:BatchGetImage"}},
		{name: "layer download denied by repository policy", image: "app:1.2", docker: authCfg(goodPass), tokens: fakeTokens{account: "111111111111"},
			ecr:   fakeECR{blob: "denied", blobMessage: "User: arn:aws:iam::111111111111:user/puller is not authorized to perform: ecr:GetDownloadUrlForLayer on resource: arn:aws:ecr:eu-west-2:222222222222:repository/app because no resource-based policy allows the ecr:GetDownloadUrlForLayer action"},
			class: ClassAuth, failStep: "layer", contains: []string{"denied by the repository policy of app in account 222222222222",
				"repository policy of app must allow arn:aws:iam::111111111111:root ecr:GetDownloadUrlForLayer alongside ecr:BatchGetImage"}},
		{name: "no credentials", image: "app:1.2", docker: `{}`, class: ClassAuth, failStep: "credentials (docker)",
			contains: []string{"no credential source matches", "berth login --helper"}},
		{name: "near key suggested", image: "app:1.2", docker: `{"auths":{"https://HOSTNAME:1/":{"auth":"` + dockercfg.EncodeAuth("AWS", goodPass) + `"}}}`,
			class: ClassAuth, failStep: "credentials (docker)", contains: []string{"closest key: https://127.0.0.1:1/"}},
		{name: "expired per registry", image: "app:1.2", docker: authCfg(goodPass), tokens: fakeTokens{account: "222222222222"},
			ecr:   fakeECR{denyStatus: 403, denyCode: "DENIED", denyMessage: "Your authorization token has expired. Reauthenticate and try again."},
			class: ClassAuth, failStep: "authorization", contains: []string{"has expired"}},
		{name: "expired per cache", image: "app:1.2", docker: authCfg(goodPass),
			cache: map[string]ecrclient.CacheEntry{"k": {AuthorizationToken: ecrclient.EncodeToken(goodPass), RequestedAt: now.Add(-13 * time.Hour), ExpiresAt: now.Add(-time.Hour), Region: "eu-west-2"}},
			class: ClassAuth, failStep: "token", contains: []string{"expired at 2026-05-01T11:00:00Z"}},
		{name: "wrong region", image: "app:1.2", docker: authCfg(goodPass),
			cache: map[string]ecrclient.CacheEntry{"k": {AuthorizationToken: ecrclient.EncodeToken(goodPass), RequestedAt: now.Add(-time.Hour), ExpiresAt: now.Add(11 * time.Hour), Region: "us-east-1"}},
			class: ClassAuth, failStep: "token", contains: []string{"token minted in us-east-1 but registry", "is in eu-west-2"}},
		{name: "cross-account repository policy", image: "app:1.2", docker: authCfg(goodPass), tokens: fakeTokens{account: "111111111111"},
			ecr:   fakeECR{denyStatus: 403, denyCode: "DENIED", denyMessage: "User: arn:aws:iam::111111111111:user/puller is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:eu-west-2:222222222222:repository/app because no resource-based policy allows the ecr:BatchGetImage action"},
			class: ClassAuth, failStep: "authorization", contains: []string{"cross-account pull from 222222222222", "repository policy of app in account 222222222222 does not allow arn:aws:iam::111111111111:user/puller to ecr:BatchGetImage", "arn:aws:iam::111111111111:root"}},
		{name: "identity policy", image: "app:1.2", docker: authCfg(goodPass), tokens: fakeTokens{account: "222222222222"},
			ecr:   fakeECR{denyStatus: 403, denyCode: "DENIED", denyMessage: "User: arn:aws:iam::222222222222:user/puller is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:eu-west-2:222222222222:repository/app because no identity-based policy allows the ecr:BatchGetImage action"},
			class: ClassAuth, failStep: "authorization", contains: []string{"identity policy of arn:aws:iam::222222222222:user/puller does not allow ecr:BatchGetImage"}},
		{name: "bad password", image: "app:1.2", docker: authCfg("wrong"), class: ClassAuth, failStep: "authorization", contains: []string{"rejected the credentials"}},
		{name: "repository missing", image: "missing:1", docker: authCfg(goodPass), class: ClassNotFound, failStep: "manifest",
			contains: []string{"repository missing does not exist in 222222222222/eu-west-2"}},
		{name: "tag missing", image: "app:1.3", docker: authCfg(goodPass), class: ClassNotFound, failStep: "manifest",
			contains: []string{"tag 1.3 not found", "nearest tags: 1.0, 1.2, 1.2.1, 2.0-rc1, latest"}},
		{name: "platform missing", image: "app:1.2", docker: authCfg(goodPass), ecr: fakeECR{index: true}, platform: "linux/amd64",
			class: ClassOther, failStep: "platform", contains: []string{"no linux/amd64 variant; available: linux/arm64"}},
		{name: "helper not on PATH", image: "app:1.2", docker: `{"credHelpers":{"HOST":"berth"}}`, class: ClassAuth, failStep: "credentials (docker)",
			contains: []string{"docker-credential-berth is not on PATH", "berth install-helper"}},
		{name: "helper not found answer", image: "app:1.2", docker: `{"credHelpers":{"HOST":"ecr-login"},"auths":{"HOST":{"auth":"` + dockercfg.EncodeAuth("AWS", goodPass) + `"}}}`,
			onPath: []string{"docker-credential-ecr-login"},
			helper: func(string, string, string) (string, error) {
				return "credentials not found in native keychain\n", errors.New("exit status 1")
			},
			class: ClassAuth, failStep: "credentials (docker)", contains: []string{"any auths entry for the host is ignored"}},
		{name: "helper AWS error", image: "app:1.2", docker: `{"credHelpers":{"HOST":"berth"}}`, onPath: []string{"docker-credential-berth"},
			helper: func(string, string, string) (string, error) {
				return "berth could not get a token for HOST: GetAuthorizationToken at x (region eu-west-2): no AWS credentials (looked in env…)\n", errors.New("exit status 1")
			},
			class: ClassAuth, failStep: "credentials (docker)", contains: []string{"give this machine AWS credentials"}},
		{name: "berth helper works", image: "app:1.2", docker: `{"credHelpers":{"HOST":"berth"}}`, onPath: []string{"docker-credential-berth"},
			helper: func(h, verb, stdin string) (string, error) {
				return `{"ServerURL":"` + stdin + `","Username":"AWS","Secret":"` + goodPass + `"}`, nil
			}, tokens: fakeTokens{account: "222222222222"}, class: ClassOK, contains: []string{"mints a fresh token on demand"}},
		{name: "berth helper without AWS identity", image: "app:1.2", docker: `{"credHelpers":{"HOST":"berth"}}`, onPath: []string{"docker-credential-berth"},
			helper: func(h, verb, stdin string) (string, error) {
				return `{"ServerURL":"` + stdin + `","Username":"AWS","Secret":"` + goodPass + `"}`, nil
			}, tokens: fakeTokens{err: &ecrclient.Error{Kind: ecrclient.KindNoCredentials, Message: "no AWS credentials"}}, class: ClassAuth, failStep: "aws identity"},
		{name: "invalid reference", image: "App:UPPER:x", docker: `{}`, class: ClassOther, failStep: "reference"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ecr := c.ecr
			store := &blobStore{refuse: c.store == "refuse"}
			switch c.store {
			case "ok", "refuse":
				s := httptest.NewServer(store)
				defer s.Close()
				ecr.blobURL = s.URL
			case "closed":
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				ecr.blobURL = "http://" + l.Addr().String()
				l.Close()
			}
			blobHost := strings.TrimPrefix(ecr.blobURL, "http://")
			srv := httptest.NewServer(&ecr)
			defer srv.Close()
			host := strings.TrimPrefix(srv.URL, "http://")
			dir := t.TempDir()
			cfg := strings.ReplaceAll(strings.ReplaceAll(c.docker, "HOSTNAME", "127.0.0.1"), "HOST", host)
			os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600)
			cache := ecrclient.Cache{Path: filepath.Join(dir, "tokens.json")}
			for k, e := range c.cache {
				if err := cache.Put(k, e, now.Add(-24*time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			envm := map[string]string{"HOME": dir, "BERTH_CONFIG_DIR": dir, "XDG_RUNTIME_DIR": dir,
				"BERTH_REGISTRY_MAP": `{"registries":{"` + host + `":{"region":"eu-west-2","registryId":"222222222222"}}}`}
			getenv := func(k string) string { return envm[k] }
			res, err := endpoint.New(getenv)
			if err != nil {
				t.Fatal(err)
			}
			helper := c.helper
			if helper == nil {
				helper = func(string, string, string) (string, error) { return "", errors.New("no helper expected") }
			}
			platform := c.platform
			if platform == "" {
				platform = "linux/amd64"
			}
			rep := Run(context.Background(), Options{
				Image: host + "/" + c.image, Platform: platform, DockerConfigDir: dir, Getenv: getenv,
				LookPath: func(n string) (string, error) {
					for _, p := range c.onPath {
						if p == n {
							return "/usr/bin/" + n, nil
						}
					}
					return "", errors.New("not found")
				},
				Resolver: res, Tokens: c.tokens, TokenCache: cache, Now: func() time.Time { return now },
				RunHelper: func(_ context.Context, h, verb, stdin string) (string, error) { return helper(h, verb, stdin) },
			})
			js, _ := json.MarshalIndent(rep, "", "  ")
			if rep.Class != c.class {
				t.Fatalf("class %s, want %s\n%s", rep.Class, c.class, js)
			}
			if c.failStep != "" {
				var got string
				for _, r := range rep.Results {
					if r.Status == Fail {
						got = r.Step
						break
					}
				}
				if got != c.failStep {
					t.Fatalf("first failing step %q, want %q\n%s", got, c.failStep, js)
				}
				if !strings.HasPrefix(rep.Summary, "Pull of "+host+"/"+c.image+" will FAIL: ") || rep.Fix == "" {
					t.Errorf("summary %q fix %q", rep.Summary, rep.Fix)
				}
			}
			all := string(js)
			for _, want := range c.contains {
				want = strings.ReplaceAll(strings.ReplaceAll(want, "BLOBHOST", blobHost), "HOST", host)
				if !strings.Contains(all, want) {
					t.Errorf("report lacks %q\n%s", want, js)
				}
			}
			if strings.Contains(all, goodPass) {
				t.Error("report contains the registry password")
			}
			for _, secret := range []string{"secret-sig", "AKIASECRETCRED"} {
				if strings.Contains(all, secret) {
					t.Errorf("report contains the presigned URL's %s", secret)
				}
			}
			hits, authSeen := store.seen()
			if authSeen {
				t.Error("the redirect target received the registry's Authorization header")
			}
			if (c.store == "ok" || c.store == "refuse") && hits == 0 {
				t.Error("the redirect target was never asked for the blob")
			}
		})
	}
}

func TestNotARegistry(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	dir := t.TempDir()
	getenv := func(k string) string { return map[string]string{"HOME": dir, "BERTH_CONFIG_DIR": dir}[k] }
	res, _ := endpoint.New(getenv)
	rep := Run(context.Background(), Options{Image: host + "/app:1", DockerConfigDir: dir, Getenv: getenv, Resolver: res})
	if rep.Class != ClassOther || !strings.Contains(rep.Summary, "does not speak the registry API (status 404 at /v2/") {
		t.Fatalf("%+v", rep)
	}
	// The credential-source step still ran.
	found := false
	for _, r := range rep.Results {
		found = found || r.Step == "credentials (docker)"
	}
	if !found {
		t.Fatal("credential source not reported after a network failure")
	}
}

func TestDNSFailure(t *testing.T) {
	dir := t.TempDir()
	getenv := func(k string) string { return map[string]string{"HOME": dir, "BERTH_CONFIG_DIR": dir}[k] }
	res, _ := endpoint.New(getenv)
	rep := Run(context.Background(), Options{Image: "registry.nonexistent.example/app:1", DockerConfigDir: dir, Getenv: getenv, Resolver: res,
		LookupHost: func(context.Context, string) ([]string, error) { return nil, errors.New("no such host") }})
	if rep.Class != ClassOther || !strings.Contains(rep.Summary, "cannot resolve registry.nonexistent.example (no such host)") {
		t.Fatalf("%+v", rep.Summary)
	}
}
