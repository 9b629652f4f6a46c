package iamsvc_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/berth-dev/berth/internal/storage/sqldb"
)

func pgtestOpen(t *testing.T, url string) *sql.DB {
	db, err := sqldb.OpenPostgres(context.Background(), url, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
