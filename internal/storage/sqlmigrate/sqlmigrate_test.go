package sqlmigrate

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	_ "modernc.org/sqlite"
)

func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func files(m map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, body := range m {
		fsys["migrations/"+name] = &fstest.MapFile{Data: []byte(body)}
	}
	return fsys
}

func version(t *testing.T, db *sql.DB, component string) int {
	t.Helper()
	var v int
	err := db.QueryRow(`SELECT version FROM schema_migrations WHERE component = ?`, component).Scan(&v)
	if err == sql.ErrNoRows {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	// Without IF NOT EXISTS a re-run would fail: applied versions must be skipped.
	// 10 sorts before 2 by name; it must run after (it references table b).
	v1 := files(map[string]string{
		"1_a.sql":  `CREATE TABLE a (x INTEGER)`,
		"2_b.sql":  `CREATE TABLE b (y INTEGER)`,
		"10_c.sql": `CREATE VIEW c AS SELECT x, y FROM a, b`,
	})
	tests := []struct {
		name       string
		component  string
		files      fstest.MapFS
		wantErr    string
		wantVer    int
		otherVer   int // the "one" component's version afterwards
		wantTables []string
	}{
		{name: "fresh", component: "one", files: v1, wantVer: 10, otherVer: 10, wantTables: []string{"a", "b", "c"}},
		{name: "rerun is a no-op", component: "one", files: v1, wantVer: 10, otherVer: 10},
		{name: "other component counts separately", component: "two",
			files: files(map[string]string{"1_d.sql": `CREATE TABLE d (z INTEGER)`}), wantVer: 1, otherVer: 10, wantTables: []string{"d"}},
		{name: "failed migration rolls back", component: "two",
			files:   files(map[string]string{"1_d.sql": ``, "2_e.sql": `CREATE TABLE e (z INTEGER); CREATE TABLE a (x INTEGER)`}),
			wantErr: "migration 2_e.sql: ", wantVer: 1, otherVer: 10},
		{name: "numeric prefix required", component: "three",
			files: files(map[string]string{"x_f.sql": `CREATE TABLE f (z INTEGER)`}), wantErr: `migration "x_f.sql" lacks a numeric prefix`, otherVer: 10},
		{name: "missing directory", component: "three", files: fstest.MapFS{}, wantErr: "migrations", otherVer: 10},
	}
	db := openDB(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Apply(ctx, db, tc.component, tc.files)
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
			if got := version(t, db, tc.component); got != tc.wantVer {
				t.Errorf("%s version = %d, want %d", tc.component, got, tc.wantVer)
			}
			if got := version(t, db, "one"); got != tc.otherVer {
				t.Errorf("one version = %d, want %d", got, tc.otherVer)
			}
			for _, tbl := range tc.wantTables {
				if _, err := db.Exec(`SELECT * FROM ` + tbl); err != nil {
					t.Errorf("%s: %v", tbl, err)
				}
			}
			if _, err := db.Exec(`SELECT * FROM e`); err == nil {
				t.Error("table e of a failed migration exists")
			}
		})
	}
}
