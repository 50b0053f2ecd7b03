package sqlstore_test

import (
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/riverqueue/river/rivermigrate"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/sqlstore"
)

func testMigrate(t *testing.T, e engine) {
	env := open(t, e) // migrated once
	if got := env.DB.Dialect(); got != e.Name {
		t.Fatalf("Dialect() = %q, want %q", got, e.Name)
	}
	gooseRows, riverRows := count(t, env, "goose_db_version", ""), count(t, env, "river_migration", "")
	if riverRows == 0 {
		t.Fatal("River's migrations were not applied")
	}
	if err := env.DB.Migrate(t.Context()); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if g, r := count(t, env, "goose_db_version", ""), count(t, env, "river_migration", ""); g != gooseRows || r != riverRows {
		t.Fatalf("second migrate changed versions: goose %d→%d, river %d→%d", gooseRows, g, riverRows, r)
	}
	// The River release in go.mod must have nothing left to apply; if this fails after
	// a River upgrade, add a goose Go migration that runs River's migrations again.
	m, err := rivermigrate.New(env.DB.RiverDriver(), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Validate(t.Context(), nil)
	if err != nil {
		t.Fatalf("validate river schema: %v", err)
	}
	if !res.OK {
		t.Fatalf("River schema is behind: %v", res.Messages)
	}
	if err := env.DB.Ping(t.Context()); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

func testMigrateConcurrently(t *testing.T, e engine) {
	if e.Name != sqlstore.DialectPostgres && runtime.GOOS == "windows" {
		t.Skip("SQLite migrations are serialised with a Unix file lock")
	}
	url := e.EmptyURL(t)
	// Four pools stand for four processes, such as serve and user create starting together.
	dbs := []*sqlstore.DB{dbtest.MustOpen(t, url), dbtest.MustOpen(t, url), dbtest.MustOpen(t, url), dbtest.MustOpen(t, url)}
	var wg sync.WaitGroup
	errs := make([]error, len(dbs))
	for i, db := range dbs {
		wg.Go(func() { errs[i] = db.Migrate(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("migrate %d: %v", i, err)
		}
	}
	store := sqlstore.NewStore(dbs[0], nil, nil)
	if err := store.CreateOrg(t.Context(), &winnow.Org{Name: "After racing migrations"}); err != nil {
		t.Fatalf("create org after migrating: %v", err)
	}
}

func TestOpenURLs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name     string
		url      string
		dataDir  string
		wantFile string
	}{
		{"empty URL uses the data folder", "", filepath.Join(dir, "data"), filepath.Join(dir, "data", "winnow.db")},
		{"sqlite URL", "sqlite://" + filepath.Join(dir, "a", "x.db"), "", filepath.Join(dir, "a", "x.db")},
		{"file URL", "file:" + filepath.Join(dir, "b.db") + "?cache=private", "", filepath.Join(dir, "b.db")},
		{"plain path", filepath.Join(dir, "c", "d.db"), "", filepath.Join(dir, "c", "d.db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, err := sqlstore.Open(t.Context(), tt.url, tt.dataDir)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer db.Close()
			if db.Dialect() != sqlstore.DialectSQLite {
				t.Fatalf("dialect = %q", db.Dialect())
			}
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			var file string
			if err := db.SQL().QueryRowContext(t.Context(), `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file); err != nil {
				t.Fatal(err)
			}
			if file != tt.wantFile {
				t.Fatalf("database file = %q, want %q", file, tt.wantFile)
			}
			pragmas := []struct{ name, want string }{
				{"journal_mode", "wal"}, {"synchronous", "2"}, {"foreign_keys", "1"}, {"busy_timeout", "10000"},
			}
			for _, p := range pragmas {
				var got string
				if err := db.SQL().QueryRowContext(t.Context(), `PRAGMA `+p.name).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if !strings.EqualFold(got, p.want) {
					t.Errorf("PRAGMA %s = %q, want %q", p.name, got, p.want)
				}
			}
		})
	}
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"mysql://localhost/winnow", "winnow", "http://example.com/x.db"} {
		if _, err := sqlstore.Open(t.Context(), u, t.TempDir()); winnow.ErrorCode(err) != winnow.EINVALID {
			t.Errorf("Open(%q) error = %v, want EINVALID", u, err)
		}
	}
}
