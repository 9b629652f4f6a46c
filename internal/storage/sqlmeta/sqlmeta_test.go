package sqlmeta

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/storage"
	"github.com/berth-dev/berth/internal/storage/storagetest"
)

func TestConformance(t *testing.T) {
	base := t.TempDir()
	storagetest.RunMetaStore(t, func(t *testing.T, ns string) storage.MetaStore {
		s, err := Open(context.Background(), filepath.Join(base, ns+".db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func openStore(t testing.TB) *Store {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPragmas(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	for _, db := range []*sql.DB{s.write, s.read} {
		var mode string
		var fk, sync int
		if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || fk != 1 || sync != 2 {
			t.Fatalf("journal_mode=%s foreign_keys=%d synchronous=%d", mode, fk, sync)
		}
	}
	if _, err := s.read.ExecContext(ctx, "CREATE TABLE x (a)"); err == nil {
		t.Fatal("reader pool accepted a write")
	}
	// Another package can keep its own tables on DB() and survive a reopen.
	if _, err := s.DB().ExecContext(ctx, "CREATE TABLE IF NOT EXISTS iam_test (id TEXT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := s.DB().QueryRowContext(ctx, "SELECT version FROM schema_migrations WHERE component = 'registry'").Scan(&v); err != nil || v != 2 {
		t.Fatalf("schema version = %d, %v", v, err)
	}
}

func TestWildcard(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"", "", true}, {"", "a", false}, {"*", "", true}, {"*", "anything", true},
		{"a*", "abc", true}, {"a*", "bac", false}, {"*c", "abc", true}, {"*c", "abcd", false},
		{"a*c*e", "abcde", true}, {"a*c*e", "acxe", true}, {"a*c*e", "ace", true}, {"a*c*e", "abde", false},
		{"**", "x", true}, {"v1.?", "v1.2", false}, {"*-rc*", "1.0-rc1", true}, {"latest", "latest", true},
		{"latest", "latest2", false}, {"*aab", "aaaab", true},
	} {
		if got := storage.WildcardMatch(tc.p, tc.s); got != tc.want {
			t.Errorf("wildcard(%q, %q) = %v, want %v", tc.p, tc.s, got, tc.want)
		}
	}
}

// seedTags creates a repository with n tags on 100 manifests in bulk.
func seedTags(b *testing.B, n int) (*Store, storage.RepoKey) {
	s := openStore(b)
	ctx := context.Background()
	k := storage.RepoKey{Account: "123456789012", Region: "us-east-1", Name: "big/repo"}
	if err := s.CreateRepository(ctx, &storage.Repository{Key: k}); err != nil {
		b.Fatal(err)
	}
	// Some unrelated repositories so the repository lookup is not trivial.
	for i := range 200 {
		if err := s.CreateRepository(ctx, &storage.Repository{Key: storage.RepoKey{Account: k.Account, Region: k.Region, Name: fmt.Sprintf("other/%d", i)}}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 100 {
		p := []byte(fmt.Sprintf(`{"schemaVersion":2,"n":%d,"pad":"%0600d"}`, i, 0))
		m := &storage.Manifest{Digest: digestOf(p), MediaType: "application/vnd.oci.image.manifest.v1+json", Payload: p, Size: int64(len(p))}
		if err := s.PutManifest(ctx, k, m, ""); err != nil {
			b.Fatal(err)
		}
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO tags (repo_id, tag, manifest_id, updated_at)
		SELECT r.id, ?, (SELECT id FROM manifests WHERE repo_id = r.id ORDER BY id LIMIT 1 OFFSET ?), 0
		FROM repositories r WHERE r.name = ?`)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if _, err := stmt.ExecContext(ctx, fmt.Sprintf("tag-%06d", i), i%100, k.Name); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return s, k
}

func BenchmarkResolveTag100k(b *testing.B) {
	s, k := seedTags(b, 100_000)
	ctx := context.Background()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		m, err := s.ResolveTag(ctx, k, fmt.Sprintf("tag-%06d", (i*7919)%100_000))
		if err != nil || len(m.Payload) == 0 {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkResolveTag100kParallel(b *testing.B) {
	s, k := seedTags(b, 100_000)
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.ResolveTag(ctx, k, fmt.Sprintf("tag-%06d", (i*7919)%100_000)); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

func BenchmarkListTags(b *testing.B) {
	s, k := seedTags(b, 100_000)
	ctx := context.Background()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		tags, err := s.ListTags(ctx, k, storage.Page{After: fmt.Sprintf("tag-%06d", (i*7919)%99_000), Limit: 100})
		if err != nil || len(tags) != 100 {
			b.Fatal(len(tags), err)
		}
		i++
	}
}

func BenchmarkPutManifestTagged(b *testing.B) {
	s := openStore(b)
	ctx := context.Background()
	k := storage.RepoKey{Account: "123456789012", Region: "us-east-1", Name: "put"}
	if err := s.CreateRepository(ctx, &storage.Repository{Key: k}); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		p := []byte(fmt.Sprintf(`{"schemaVersion":2,"n":%d}`, i))
		m := &storage.Manifest{Digest: digestOf(p), MediaType: "application/vnd.oci.image.manifest.v1+json", Payload: p, Size: int64(len(p))}
		if err := s.PutManifest(ctx, k, m, fmt.Sprintf("t%d", i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func digestOf(p []byte) digest.Digest { return digest.FromBytes(p) }
