package server_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/berth-dev/berth/internal/server"
	"github.com/berth-dev/berth/internal/storage/sqldb/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// testMetadata is the --metadata of servers built by the tests: SQLite
// unless BERTH_TEST_METADATA=postgres (test.sh runs this package both ways).
func testMetadata(t *testing.T) string {
	if os.Getenv("BERTH_TEST_METADATA") == "postgres" {
		return pgtest.DSN(t)
	}
	return ""
}

// Two nodes on one PostgreSQL (each with its own data directory, sharing
// the master key and the operator's credentials): an image pushed through
// node A is pulled through node B, and a node restarted on the same database
// migrates nothing twice.
func TestPostgresTwoNodesShareRegistry(t *testing.T) {
	url := pgtest.DSN(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	node := func(dir string) *httptest.Server {
		s, err := server.New(context.Background(), server.Config{DataDir: dir, AccountID: "000000000000",
			RootAccessKeyID: opKey, RootSecretKey: opSecret, Metadata: url, MetadataPool: 4}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		ts := httptest.NewServer(s.Handler())
		t.Cleanup(ts.Close)
		return ts
	}
	a := node(dirA)
	copyMasterKey(t, dirA, dirB)
	b := node(dirB)
	img, err := random.Image(2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	auth := remote.WithAuth(&authn.Basic{Username: opKey, Password: opSecret})
	ref := func(ts *httptest.Server, s string) name.Reference {
		r, err := name.ParseReference(strings.TrimPrefix(ts.URL, "http://")+"/"+s, name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// Blobs live in node A's data directory (filesystem storage): B can
	// serve the manifest and tags, which come from the shared database.
	if err := remote.Write(ref(a, "team/app:v1"), img, auth); err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	desc, err := remote.Head(ref(b, "team/app:v1"), auth)
	if err != nil {
		t.Fatalf("node B does not see the tag node A pushed: %v", err)
	}
	if desc.Digest != want {
		t.Fatalf("node B resolves v1 to %s, want %s", desc.Digest, want)
	}
	tags, err := remote.List(ref(b, "team/app").Context(), auth)
	if err != nil || len(tags) != 1 || tags[0] != "v1" {
		t.Fatalf("node B tags %v %v", tags, err)
	}
	node(dirA) // a restart on the same database
}

func copyMasterKey(t *testing.T, from, to string) {
	t.Helper()
	k, err := os.ReadFile(filepath.Join(from, "keys", "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(to, "keys"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(to, "keys", "master.key"), k, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestMetadataURLValidation(t *testing.T) {
	for _, c := range []struct {
		metadata string
		ok       bool
	}{
		{"", true},
		{"postgres://berth@127.0.0.1:5432/berth", true},
		{"postgresql://berth@db/berth?sslmode=require", true},
		{"mysql://root@db/berth", false},
		{"./berth.db", false},
	} {
		cfg := server.Config{DataDir: t.TempDir(), Metadata: c.metadata}
		err := cfg.Validate()
		if (err == nil) != c.ok {
			t.Errorf("--metadata %q: err = %v, want ok=%v", c.metadata, err, c.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "postgres://") {
			t.Errorf("--metadata %q: error %q does not say what is accepted", c.metadata, err)
		}
	}
	// A database that is not there: a clear error, no hang.
	cfg := server.Config{DataDir: t.TempDir(), Metadata: "postgres://berth@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"}
	if _, err := server.New(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "metadata database") {
		t.Fatalf("unreachable PostgreSQL: %v", err)
	}
}
