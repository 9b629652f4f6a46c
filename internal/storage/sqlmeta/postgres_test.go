package sqlmeta

import (
	"context"
	"os"
	"testing"

	"github.com/berth-dev/berth/internal/storage"
	"github.com/berth-dev/berth/internal/storage/sqldb/pgtest"
	"github.com/berth-dev/berth/internal/storage/storagetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

// The MetaStore suite on PostgreSQL: one fresh database per namespace.
func TestPostgresConformance(t *testing.T) {
	urls := map[string]string{} // a reopened namespace finds its database again
	storagetest.RunMetaStore(t, func(t *testing.T, ns string) storage.MetaStore {
		if urls[ns] == "" {
			urls[ns] = pgtest.DSN(t)
		}
		s, err := OpenPostgres(context.Background(), urls[ns], 8)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
