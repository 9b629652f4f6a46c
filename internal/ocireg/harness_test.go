package ocireg_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/httpx"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/ocireg"
	"github.com/berth-dev/berth/internal/storage"
	"github.com/berth-dev/berth/internal/storage/fsblob"
	"github.com/berth-dev/berth/internal/storage/sqlmeta"
)

const (
	account = "111111111111"
	region  = "us-east-1"
)

// users the test authenticator knows: password and principal.
type testUser struct {
	password string
	p        *auth.Principal
}

type testAuthn map[string]testUser

func (a testAuthn) AuthenticateBasic(_ context.Context, user, password string, _ ecrhost.Registry) (*auth.Principal, error) {
	u, ok := a[user]
	if !ok || u.password != password {
		return nil, apierr.New(apierr.InvalidCredentials, "invalid username or password")
	}
	return u.p, nil
}

// testAuthz allows root everything; other principals get exactly the
// actions listed for them ("*" = any repository).
type testAuthz map[string]map[string]bool // principal ARN → "action" or "action repo" → allowed

func (a testAuthz) AuthorizeRepo(_ context.Context, p *auth.Principal, action string, k storage.RepoKey, _ auth.RequestInfo) error {
	if p.Type == auth.Root {
		return nil
	}
	if a[p.ARN][action] || a[p.ARN][action+" "+k.Name] {
		return nil
	}
	return apierr.New(apierr.AccessDenied, "User: %s is not authorized to perform: %s on resource: arn:aws:ecr:%s:%s:repository/%s", p.ARN, action, k.Region, k.Account, k.Name)
}

// InvalidateRepository has nothing to drop: testAuthz caches nothing.
func (testAuthz) InvalidateRepository(storage.RepoKey) {}

var (
	rootUser   = &auth.Principal{Type: auth.Root, Account: account, ARN: "arn:aws:iam::" + account + ":root"}
	readerUser = &auth.Principal{Type: auth.User, Account: account, ARN: "arn:aws:iam::" + account + ":user/reader", Name: "reader"}
	pusherUser = &auth.Principal{Type: auth.User, Account: account, ARN: "arn:aws:iam::" + account + ":user/pusher", Name: "pusher"}
	scopedUser = &auth.Principal{Type: auth.User, Account: account, ARN: "arn:aws:iam::" + account + ":user/scoped", Name: "scoped"}
)

type harness struct {
	dir    string
	img    *images.Service
	meta   *sqlmeta.Store
	h      http.Handler
	srv    *httptest.Server
	closed bool
}

type harnessOpts struct {
	maxManifest int64
	dir         string
	log         *slog.Logger // access log; default discards without formatting
}

func newHarness(t testing.TB, o harnessOpts) *harness {
	t.Helper()
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	blobs, err := fsblob.New(filepath.Join(o.dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	meta, err := sqlmeta.Open(context.Background(), filepath.Join(o.dir, "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	az := testAuthz{
		readerUser.ARN: {
			ocireg.ActionBatchGetImage: true, ocireg.ActionGetDownloadURLForLayer: true,
			ocireg.ActionBatchCheckLayerAvailability: true, ocireg.ActionListImages: true,
			ocireg.ActionDescribeRepositories + " test/repo": true,
		},
		pusherUser.ARN: {
			ocireg.ActionBatchGetImage: true, ocireg.ActionGetDownloadURLForLayer: true,
			ocireg.ActionBatchCheckLayerAvailability: true, ocireg.ActionInitiateLayerUpload: true,
			ocireg.ActionUploadLayerPart: true, ocireg.ActionCompleteLayerUpload: true, ocireg.ActionPutImage: true,
		},
		// scoped may push to dst/three and read nothing.
		scopedUser.ARN: {
			ocireg.ActionInitiateLayerUpload + " dst/three": true, ocireg.ActionUploadLayerPart + " dst/three": true,
			ocireg.ActionCompleteLayerUpload + " dst/three": true,
		},
	}
	opts := []images.Option{images.WithRegionHint(func(ctx context.Context, k storage.RepoKey) bool {
		p := auth.FromContext(ctx)
		return p != nil && az.AuthorizeRepo(ctx, p, ocireg.ActionDescribeRepositories, k, auth.RequestInfo{}) == nil
	})}
	if o.maxManifest > 0 {
		opts = append(opts, images.WithMaxManifestBytes(o.maxManifest))
	}
	img, err := images.New(blobs, meta, opts...)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := ocireg.New(ocireg.Deps{
		Images: img,
		Authenticator: testAuthn{
			"root":   {"rootpw", rootUser},
			"reader": {"readerpw", readerUser},
			"pusher": {"pusherpw", pusherUser},
			"scoped": {"scopedpw", scopedUser},
		},
		Authorizer: az,
		Default:    ecrhost.Registry{Account: account, Region: region},
	})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := httpx.NewIDGenerator()
	if err != nil {
		t.Fatal(err)
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	h := httpx.Middleware(reg, o.log, ids)
	hs := &harness{dir: o.dir, img: img, meta: meta, h: h}
	hs.srv = httptest.NewServer(h)
	t.Cleanup(hs.close)
	return hs
}

func (hs *harness) close() {
	if hs.closed {
		return
	}
	hs.closed = true
	hs.srv.Close()
	hs.meta.Close()
}

// do sends a request as user ("" = anonymous) and returns the response
// with its body read.
func (hs *harness) do(t testing.TB, user, method, path string, hdr map[string]string, body string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, hs.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, map[string]string{"root": "rootpw", "reader": "readerpw", "pusher": "pusherpw", "scoped": "scopedpw", "bad": "nope"}[user])
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}
