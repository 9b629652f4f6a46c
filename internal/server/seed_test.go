package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/berth-dev/berth/internal/params"
	"github.com/berth-dev/berth/internal/secrets"
	"github.com/berth-dev/berth/internal/seed"
	"github.com/berth-dev/berth/internal/storage"
)

const seedYAML = `version: 1
accounts:
  - rootAccessKeys: []
    policies:
      - name: pull-app
        document:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: [ecr:BatchGetImage, ecr:GetDownloadUrlForLayer, ecr:BatchCheckLayerAvailability, ecr:GetAuthorizationToken]
              Resource: "*"
    groups:
      - name: readers
        policies: [pull-app]
    users:
      - name: ci
        tags: {team: platform}
        groups: [readers]
        accessKeys:
          - id: AKIASEEDCIUSER000001
            secret: seedCiUserSecretAccessKey000000000000000
      - name: nobody
        accessKeys:
          - id: AKIASEEDNOBODY000001
            secret: seedNobodySecretAccessKey00000000000000
    roles:
      - name: deployer
        trustPolicy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}'
        policies: [arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser]
        inlinePolicies:
          - name: ssm
            document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "ssm:GetParameter", Resource: "*"}]}
    repositories:
      - name: team/app
        tagMutability: IMMUTABLE
        scanOnPush: true
        tags: {env: ci}
        lifecyclePolicy:
          rules:
            - rulePriority: 1
              selection: {tagStatus: untagged, countType: sinceImagePushed, countUnit: days, countNumber: 1}
              action: {type: expire}
        images:
          - ociLayout: layout
          - dockerArchive: image.tar
            tags: [from-docker]
    parameters:
      - name: /app/db/password
        type: SecureString
        value: hunter2
      - name: /app/url
        value: https://example.test
    secrets:
      - name: app/db
        value: {username: app, password: s3cret}
`

// writeSeedImages writes an OCI layout (tag v1) and a docker save tarball
// next to the seed file.
func writeSeedImages(t *testing.T, dir string) {
	t.Helper()
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	lp, err := layout.Write(filepath.Join(dir, "layout"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "v1"})); err != nil {
		t.Fatal(err)
	}
	img2, err := random.Image(300, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag("example.test/app:ignored")
	if err := tarball.WriteToFile(filepath.Join(dir, "image.tar"), tag, img2); err != nil {
		t.Fatal(err)
	}
}

func TestSeedAppliesEverythingIdempotently(t *testing.T) {
	dir := t.TempDir()
	writeSeedImages(t, dir)
	seedPath := filepath.Join(dir, "seed.yaml")
	if err := os.WriteFile(seedPath, []byte(seedYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	cfg := Config{DataDir: data, AccountID: "111111111111", Seeds: []string{seedPath}}
	s, err := New(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Seed(t.Context(), seedPath)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created < 10 {
		t.Fatalf("first seed created only %d entities: %+v", res.Created, res)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	get := func(user, pass, path string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, ref := range []string{"v1", "from-docker"} {
		if got := get("AKIASEEDCIUSER000001", "seedCiUserSecretAccessKey000000000000000", "/v2/team/app/manifests/"+ref); got != 200 {
			t.Errorf("seeded user with group policy: GET manifest %s = %d, want 200", ref, got)
		}
	}
	if got := get("AKIASEEDNOBODY000001", "seedNobodySecretAccessKey00000000000000", "/v2/team/app/manifests/v1"); got != 403 && got != 401 {
		t.Errorf("seeded user without policy: GET manifest = %d, want denied", got)
	}
	repo, err := s.Images().Repository(t.Context(), storage.RepoKey{Account: "111111111111", Region: "us-east-1", Name: "team/app"})
	if err != nil {
		t.Fatal(err)
	}
	if repo.TagMutability != "IMMUTABLE" || !repo.ScanOnPush || repo.Tags["env"] != "ci" || !strings.Contains(repo.LifecyclePolicy, `"rulePriority":1`) {
		t.Errorf("repository settings not seeded: %+v", repo)
	}
	p, err := s.params.Get(t.Context(), params.Scope{Account: "111111111111", Region: "us-east-1"}, params.Ref{Name: "/app/db/password"}, true)
	if err != nil || p.Value != "hunter2" || p.Type != "SecureString" {
		t.Errorf("parameter: %+v %v", p, err)
	}
	v, err := s.secrets.GetValue(t.Context(), secrets.Scope{Account: "111111111111", Region: "us-east-1"}, "app/db", "", "")
	if err != nil || v.String == nil {
		t.Fatalf("secret: %+v %v", v, err)
	}
	var creds map[string]string
	if err := json.Unmarshal([]byte(*v.String), &creds); err != nil || creds["password"] != "s3cret" {
		t.Errorf("secret value %q (%v)", *v.String, err)
	}
	// Sealed at rest: the plaintext is nowhere in the database file.
	s.Close()
	db, err := os.ReadFile(filepath.Join(data, "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{"hunter2", "s3cret", "seedCiUserSecretAccessKey"} {
		if strings.Contains(string(db), plain) {
			t.Errorf("%q stored in plaintext", plain)
		}
	}

	// Again on the persistent data directory: nothing new, nothing changed,
	// and the immutable tags do not trip.
	s2, err := New(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	res, err = s2.Seed(t.Context(), seedPath)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 0 {
		t.Errorf("second seed created %d entities, want 0 (%+v)", res.Created, res)
	}
}

func TestSeedDomainErrorsNameFileLineField(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"bad repository policy", "version: 1\naccounts:\n  - repositories:\n      - name: app\n        policy: '{\"Statement\":[{\"Effect\":\"Maybe\"}]}'\n",
			":4: accounts[0].repositories[0]: "},
		{"bad tag mutability", "version: 1\naccounts:\n  - repositories:\n      - name: app\n        tagMutability: SOMETIMES\n",
			":4: accounts[0].repositories[0]: "},
		{"bad policy document", "version: 1\naccounts:\n  - policies:\n      - name: p\n        document: 'not json'\n",
			":4: accounts[0].policies[0]: "},
		{"parameter with bad type", "version: 1\naccounts:\n  - parameters:\n      - name: /x\n        value: y\n        type: Number\n",
			":4: accounts[0].parameters[0]: "},
		{"key owned by another user", "version: 1\naccounts:\n  - users:\n      - name: a\n        accessKeys: [{id: AKIASAMEKEY000000001, secret: aaaaaaaaaaaaaaaaaaaa}]\n      - name: b\n        accessKeys: [{id: AKIASAMEKEY000000001, secret: aaaaaaaaaaaaaaaaaaaa}]\n",
			":7: accounts[0].users[1].accessKeys[0]: "},
		{"missing layout", "version: 1\naccounts:\n  - repositories:\n      - name: app\n        images: [{ociLayout: nowhere}]\n",
			":5: accounts[0].repositories[0].images[0]: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "seed.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := New(t.Context(), Config{DataDir: filepath.Join(dir, "data")}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			_, err = s.Seed(t.Context(), path)
			var se *seed.Error
			if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), path+tc.want) {
				t.Fatalf("error = %v, want prefix %q", err, path+tc.want)
			}
			t.Log(err)
		})
	}
}
