package authz_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/authz"
	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/iamsvc/iamsvctest"
	"github.com/berth-dev/berth/internal/storage"
)

const (
	owner    = "222222222222"
	consumer = "111111111111"
	readOnly = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	adminDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
)

// repos is a MetaStore-shaped repository table: only the policy and tags
// matter to authorization.
type repos struct {
	mu sync.Mutex
	m  map[storage.RepoKey]*storage.Repository
}

func (r *repos) GetRepository(_ context.Context, k storage.RepoKey) (*storage.Repository, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if x, ok := r.m[k]; ok {
		c := *x
		return &c, nil
	}
	return nil, storage.ErrNotFound
}

func (r *repos) put(x *storage.Repository) {
	r.mu.Lock()
	r.m[x.Key] = x
	r.mu.Unlock()
}

type world struct {
	env   *iamsvctest.Env
	repos *repos
	authn *auth.Authenticator
	authz *authz.Authorizer
}

func newWorld(t testing.TB) *world {
	t.Helper()
	env := iamsvctest.New(t, "", nil)
	rs := &repos{m: map[storage.RepoKey]*storage.Repository{}}
	authn, err := auth.NewAuthenticator(env.Svc, env.Keys.TokenMACKey())
	if err != nil {
		t.Fatal(err)
	}
	az, err := authz.New(env.Svc, rs)
	if err != nil {
		t.Fatal(err)
	}
	return &world{env: env, repos: rs, authn: authn, authz: az}
}

// login does what docker does after `aws ecr get-login-password | docker login`:
// the token is issued to the key's principal and presented as Basic AWS:<token>.
func (w *world) login(t testing.TB, k *iamsvc.AccessKey, region string) *auth.Principal {
	t.Helper()
	c, err := w.env.Svc.ResolveAccessKey(k.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := w.authn.IssueToken(context.Background(), c.Principal(), region)
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.authn.AuthenticateBasic(context.Background(), "AWS", tok, ecrhost.Registry{Region: region})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type check struct {
	who    *auth.Principal
	action string
	repo   storage.RepoKey
	msg    string // "" = allowed; otherwise the exact AccessDenied message
}

func (w *world) run(t *testing.T, checks []check) {
	t.Helper()
	for _, c := range checks {
		err := w.authz.AuthorizeRepo(context.Background(), c.who, c.action, c.repo, auth.RequestInfo{SourceIP: "127.0.0.1"})
		switch {
		case c.msg == "" && err != nil:
			t.Errorf("%s %s on %s: denied: %v", c.who.ARN, c.action, c.repo.Name, err)
		case c.msg != "" && (!apierr.HasCode(err, apierr.AccessDenied) || err.(*apierr.Error).Message != c.msg):
			t.Errorf("%s %s on %s:\n got %v\nwant %s", c.who.ARN, c.action, c.repo.Name, err, c.msg)
		}
	}
}

// Seed 004: 222222222222 owns app in eu-west-2; 111111111111's read-only user pulls it cross-account.
func TestSeed004CrossAccountPull(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	ownerRoot := w.env.Account(t, owner)
	w.env.Account(t, consumer)
	admin := w.env.UserWithKey(t, owner, "admin", nil, adminDoc)
	release := w.env.UserWithKey(t, consumer, "release", []string{readOnly})
	app := storage.RepoKey{Account: owner, Region: "eu-west-2", Name: "app"}
	w.repos.put(&storage.Repository{Key: app})

	rel := w.login(t, release, "eu-west-2")
	adm := w.login(t, admin, "eu-west-2")
	root := w.login(t, ownerRoot, "eu-west-2")
	const relARN = "arn:aws:iam::111111111111:user/release"
	const appARN = "arn:aws:ecr:eu-west-2:222222222222:repository/app"

	t.Run("before any repository policy", func(t *testing.T) {
		w.run(t, []check{
			{rel, "ecr:BatchGetImage", app, "User: " + relARN + " is not authorized to perform: ecr:BatchGetImage on resource: " + appARN + " because no resource-based policy allows the ecr:BatchGetImage action"},
			{adm, "ecr:BatchGetImage", app, ""},
			{adm, "ecr:PutImage", app, ""},
			{root, "ecr:PutImage", app, ""},
		})
		if err := w.authz.AuthorizeRegistry(ctx, rel, "ecr:GetAuthorizationToken", consumer, "eu-west-2", auth.RequestInfo{}); err != nil {
			t.Errorf("GetAuthorizationToken: %v", err)
		}
	})

	pull := `{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},
	  "Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]}]}`
	w.repos.put(&storage.Repository{Key: app, Policy: pull})
	w.authz.InvalidateRepository(app)
	t.Run("after the pull grant", func(t *testing.T) {
		w.run(t, []check{
			{rel, "ecr:BatchGetImage", app, ""},
			{rel, "ecr:GetDownloadUrlForLayer", app, ""},
			{rel, "ecr:BatchCheckLayerAvailability", app, ""},
			{rel, "ecr:PutImage", app, "User: " + relARN + " is not authorized to perform: ecr:PutImage on resource: " + appARN + " because no identity-based policy allows the ecr:PutImage action"},
			{rel, "ecr:InitiateLayerUpload", app, "User: " + relARN + " is not authorized to perform: ecr:InitiateLayerUpload on resource: " + appARN + " because no identity-based policy allows the ecr:InitiateLayerUpload action"},
			// ListImages is in ReadOnly but not in the grant.
			{rel, "ecr:ListImages", app, "User: " + relARN + " is not authorized to perform: ecr:ListImages on resource: " + appARN + " because no resource-based policy allows the ecr:ListImages action"},
			// Same name, other region: another repository, no grant.
			{rel, "ecr:BatchGetImage", storage.RepoKey{Account: owner, Region: "eu-west-1", Name: "app"}, "User: " + relARN + " is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:eu-west-1:222222222222:repository/app because no resource-based policy allows the ecr:BatchGetImage action"},
		})
	})

	deny := `{"Version":"2012-10-17","Statement":[
	  {"Sid":"pull","Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]},
	  {"Sid":"freeze","Effect":"Deny","Principal":"*","Action":["ecr:PutImage","ecr:BatchDeleteImage"]}]}`
	w.repos.put(&storage.Repository{Key: app, Policy: deny})
	w.authz.InvalidateRepository(app)
	t.Run("explicit deny beats the owner's admin and root", func(t *testing.T) {
		w.run(t, []check{
			{adm, "ecr:PutImage", app, "User: arn:aws:iam::222222222222:user/admin is not authorized to perform: ecr:PutImage on resource: " + appARN + " with an explicit deny in a resource-based policy"},
			{root, "ecr:BatchDeleteImage", app, "User: arn:aws:iam::222222222222:root is not authorized to perform: ecr:BatchDeleteImage on resource: " + appARN + " with an explicit deny in a resource-based policy"},
			{adm, "ecr:BatchGetImage", app, ""},
			{rel, "ecr:BatchGetImage", app, ""},
		})
	})

	// Revoking the consumer's identity policy closes the cross-account path at once.
	if err := w.env.Svc.DetachPolicy(ctx, consumer, iamsvc.UserEntity, "release", readOnly); err != nil {
		t.Fatal(err)
	}
	w.run(t, []check{{rel, "ecr:BatchGetImage", app, "User: " + relARN + " is not authorized to perform: ecr:BatchGetImage on resource: " + appARN + " because no identity-based policy allows the ecr:BatchGetImage action"}})
}

// Seed 000: a custom policy that allows pulling exactly one repository.
func TestSeed000SingleRepositoryPolicy(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	const acct = "123456789012"
	w.env.Account(t, acct)
	doc := `{
"Version": "2012-10-17",
"Statement": [
{"Sid": "AllowEbAuth", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]},
{"Sid": "AllowPull", "Effect": "Allow",
 "Resource": ["arn:aws:ecr:us-east-2:123456789012:repository/repository-name"],
 "Action": ["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:GetRepositoryPolicy","ecr:DescribeRepositories","ecr:ListImages","ecr:BatchGetImage"]}
]}`
	mp, err := w.env.Svc.CreatePolicy(ctx, acct, iamsvc.CreatePolicyInput{PolicyName: "eb-pull-one", PolicyDocument: doc})
	if err != nil {
		t.Fatal(err)
	}
	k := w.env.UserWithKey(t, acct, "eb", []string{mp.ARN})
	eb := w.login(t, k, "us-east-2")
	one := storage.RepoKey{Account: acct, Region: "us-east-2", Name: "repository-name"}
	other := storage.RepoKey{Account: acct, Region: "us-east-2", Name: "other"}
	w.repos.put(&storage.Repository{Key: one})
	w.repos.put(&storage.Repository{Key: other})
	const who = "User: arn:aws:iam::123456789012:user/eb is not authorized to perform: "
	w.run(t, []check{
		{eb, "ecr:BatchGetImage", one, ""},
		{eb, "ecr:GetDownloadUrlForLayer", one, ""},
		{eb, "ecr:ListImages", one, ""},
		{eb, "ecr:PutImage", one, who + "ecr:PutImage on resource: arn:aws:ecr:us-east-2:123456789012:repository/repository-name because no identity-based policy allows the ecr:PutImage action"},
		{eb, "ecr:BatchGetImage", other, who + "ecr:BatchGetImage on resource: arn:aws:ecr:us-east-2:123456789012:repository/other because no identity-based policy allows the ecr:BatchGetImage action"},
		{eb, "ecr:BatchGetImage", storage.RepoKey{Account: acct, Region: "us-west-2", Name: "repository-name"}, who + "ecr:BatchGetImage on resource: arn:aws:ecr:us-west-2:123456789012:repository/repository-name because no identity-based policy allows the ecr:BatchGetImage action"},
	})
	if err := w.authz.AuthorizeRegistry(ctx, eb, "ecr:GetAuthorizationToken", acct, "us-east-2", auth.RequestInfo{}); err != nil {
		t.Fatalf("GetAuthorizationToken: %v", err)
	}
	if err := w.authz.AuthorizeRegistry(ctx, eb, "ecr:DescribeRepositories", acct, "us-east-2", auth.RequestInfo{}); !apierr.HasCode(err, apierr.AccessDenied) ||
		!strings.HasSuffix(err.Error(), "ecr:DescribeRepositories on resource: * because no identity-based policy allows the ecr:DescribeRepositories action") {
		t.Fatalf("DescribeRepositories on *: %v", err)
	}
}

func TestConditionsFromRequestAndTags(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	const acct = "123456789012"
	w.env.Account(t, acct)
	doc := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*","Condition":{"StringEquals":{"ecr:ResourceTag/team":"${aws:PrincipalTag/team}"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
	 {"Effect":"Deny","Action":"ecr:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	if _, err := w.env.Svc.CreateUser(ctx, acct, iamsvc.CreateUserInput{UserName: "dev", Tags: []iamsvc.Tag{{Key: "team", Value: "blue"}}}); err != nil {
		t.Fatal(err)
	}
	if err := w.env.Svc.PutInlinePolicy(ctx, acct, iamsvc.UserEntity, "dev", "tagged", doc); err != nil {
		t.Fatal(err)
	}
	k, err := w.env.Svc.CreateAccessKey(ctx, acct, "dev")
	if err != nil {
		t.Fatal(err)
	}
	dev := w.login(t, k, "us-east-1")
	blue := storage.RepoKey{Account: acct, Region: "us-east-1", Name: "blue"}
	red := storage.RepoKey{Account: acct, Region: "us-east-1", Name: "red"}
	w.repos.put(&storage.Repository{Key: blue, Tags: map[string]string{"team": "blue"}})
	w.repos.put(&storage.Repository{Key: red, Tags: map[string]string{"team": "red"}})
	cases := []struct {
		repo    storage.RepoKey
		ip      string
		secure  bool
		allowed bool
	}{
		{blue, "10.1.2.3", true, true},
		{red, "10.1.2.3", true, false},
		{blue, "192.168.1.1", true, false},
		{blue, "10.1.2.3", false, false},
	}
	for _, c := range cases {
		err := w.authz.AuthorizeRepo(ctx, dev, "ecr:BatchGetImage", c.repo, auth.RequestInfo{SourceIP: c.ip, Secure: c.secure, Now: time.Now()})
		if (err == nil) != c.allowed {
			t.Errorf("%s from %s secure=%v: err=%v, want allowed=%v", c.repo.Name, c.ip, c.secure, err, c.allowed)
		}
	}
}

// BenchmarkAuthorizeManifestGET is the registry hot path: Basic AWS:<token>
// → principal → may it ecr:BatchGetImage this repository, with everything cached.
func BenchmarkAuthorizeManifestGET(b *testing.B) {
	w := newWorld(b)
	w.env.Account(b, owner)
	w.env.Account(b, consumer)
	k := w.env.UserWithKey(b, consumer, "release", []string{readOnly})
	app := storage.RepoKey{Account: owner, Region: "eu-west-2", Name: "app"}
	w.repos.put(&storage.Repository{Key: app, Tags: map[string]string{"env": "prod"}, Policy: `{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]}]}`})
	c, _ := w.env.Svc.ResolveAccessKey(k.AccessKeyID)
	tok, _, err := w.authn.IssueToken(context.Background(), c.Principal(), "eu-west-2")
	if err != nil {
		b.Fatal(err)
	}
	reg := ecrhost.Registry{Account: owner, Region: "eu-west-2"}
	// A long TTL keeps the repository cached for the whole run, as a hot repository would be.
	az, _ := authz.New(w.env.Svc, w.repos, authz.WithRepoTTL(time.Hour))
	ctx := context.Background()
	info := auth.RequestInfo{SourceIP: "127.0.0.1", Now: time.Now()}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p, err := w.authn.AuthenticateBasic(ctx, "AWS", tok, reg)
			if err != nil {
				b.Fatal(err)
			}
			if err := az.AuthorizeRepo(ctx, p, "ecr:BatchGetImage", app, info); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Authorization stays consistent while identities change underneath it.
func TestConcurrentAuthorizeAndIAMWrites(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	w.env.Account(t, owner)
	k := w.env.UserWithKey(t, owner, "dev", nil)
	p := w.login(t, k, "us-east-1")
	repo := storage.RepoKey{Account: owner, Region: "us-east-1", Name: "app"}
	w.repos.put(&storage.Repository{Key: repo})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := w.authz.AuthorizeRepo(ctx, p, "ecr:BatchGetImage", repo, auth.RequestInfo{})
				if err != nil && !apierr.HasCode(err, apierr.AccessDenied) {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := 0; i < 20; i++ {
		if err := w.env.Svc.AttachPolicy(ctx, owner, iamsvc.UserEntity, "dev", readOnly); err != nil {
			t.Fatal(err)
		}
		if err := w.authz.AuthorizeRepo(ctx, p, "ecr:BatchGetImage", repo, auth.RequestInfo{}); err != nil {
			t.Fatalf("after attach: %v", err)
		}
		if err := w.env.Svc.DetachPolicy(ctx, owner, iamsvc.UserEntity, "dev", readOnly); err != nil {
			t.Fatal(err)
		}
		if err := w.authz.AuthorizeRepo(ctx, p, "ecr:BatchGetImage", repo, auth.RequestInfo{}); !apierr.HasCode(err, apierr.AccessDenied) {
			t.Fatalf("after detach: %v", err)
		}
	}
	close(stop)
	wg.Wait()
}
