// Package dbtest is the one harness for tests that run on Winnow's databases, modelled
// on River's riverdbtest: the engines to run on (SQLite always, PostgreSQL when
// WINNOW_TEST_POSTGRES_URL is set), a migrated database per test copied from a template
// that is migrated once per test binary, and a fake clock.
//
// A package that uses it declares
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
//
// so that the templates are removed when its tests end.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the admin connection

	"winnow/internal/sqlstore"
)

// EnvPostgresURL names the variable that holds the URL of a PostgreSQL server the tests
// may create databases on. Unset, PostgreSQL subtests are skipped.
const EnvPostgresURL = "WINNOW_TEST_POSTGRES_URL"

// Engine is one database engine a test runs on; Name is sqlstore.DialectSQLite or
// sqlstore.DialectPostgres.
type Engine struct {
	Name string
}

// SQLite and Postgres are the two engines.
var (
	SQLite   = Engine{Name: sqlstore.DialectSQLite}
	Postgres = Engine{Name: sqlstore.DialectPostgres}
)

// Engines runs fn once per engine, as parallel subtests named for the engine ("sqlite",
// "postgres"), so that CI can tell that the PostgreSQL cases ran rather than skipped.
// The PostgreSQL subtest is skipped when WINNOW_TEST_POSTGRES_URL is not set.
func Engines(t *testing.T, fn func(t *testing.T, e Engine)) {
	t.Helper()
	engines(t, true, fn)
}

// EnginesInTurn is Engines with the subtests one after the other, for tests that
// measure the whole process (its heap) and must not share it.
func EnginesInTurn(t *testing.T, fn func(t *testing.T, e Engine)) {
	t.Helper()
	engines(t, false, fn)
}

// Available returns the engines tests can run on here: SQLite, and PostgreSQL when
// WINNOW_TEST_POSTGRES_URL is set. It is for benchmarks and fuzz targets, which have no
// subtests to skip; tests use Engines.
func Available() []Engine {
	if os.Getenv(EnvPostgresURL) == "" {
		return []Engine{SQLite}
	}
	return []Engine{SQLite, Postgres}
}

func engines(t *testing.T, parallel bool, fn func(t *testing.T, e Engine)) {
	t.Helper()
	for _, e := range []Engine{SQLite, Postgres} {
		t.Run(e.Name, func(t *testing.T) {
			if parallel {
				t.Parallel()
			}
			if e == Postgres && os.Getenv(EnvPostgresURL) == "" {
				t.Skip("set " + EnvPostgresURL + " to run on PostgreSQL")
			}
			fn(t, e)
		})
	}
}

// URL returns the URL of a new database of engine e, migrated (a copy of the template),
// that is removed when the test ends.
func (e Engine) URL(t testing.TB) string {
	t.Helper()
	if e == SQLite {
		return copySQLite(t, t.TempDir())
	}
	u, drop, err := createPostgres(postgresTemplate(t))
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(drop)
	return u
}

// EmptyURL returns the URL of a new, empty database of engine e (no migrations
// applied), removed when the test ends; for tests of migrating itself.
func (e Engine) EmptyURL(t testing.TB) string {
	t.Helper()
	if e == SQLite {
		return "sqlite://" + filepath.Join(t.TempDir(), "winnow.db")
	}
	pgAdmin(t)
	u, drop, err := createPostgres("template0")
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(drop)
	return u
}

// Open returns a new migrated database of engine e, closed and removed when the test
// ends.
func (e Engine) Open(t testing.TB) *sqlstore.DB {
	t.Helper()
	return MustOpen(t, e.URL(t))
}

// Shared returns the one migrated database of engine e that every test of the binary
// shares, for tests that keep to orgs of their own and so cannot see each other's rows:
// it saves a copy per test. Main closes and removes it.
func (e Engine) Shared(t testing.TB) *sqlstore.DB {
	t.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if db := shared.dbs[e]; db != nil {
		return db
	}
	var u string
	if e == SQLite {
		u = copySQLite(t, "") // beside the template
	} else {
		var err error
		var drop func()
		if u, drop, err = createPostgres(postgresTemplate(t)); err != nil {
			t.Fatalf("create shared database: %v", err)
		}
		shared.drops = append(shared.drops, drop)
	}
	db, err := sqlstore.Open(context.Background(), u, "")
	if err != nil {
		t.Fatalf("open shared database: %v", err)
	}
	shared.dbs[e] = db
	return db
}

// MustOpen opens the database at dbURL and closes it when the test ends.
func MustOpen(t testing.TB, dbURL string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), dbURL, "")
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// templates are the databases migrated once per test binary; Main removes them.
var templates struct {
	sqliteOnce sync.Once
	sqliteDir  string
	sqliteErr  error

	pgOnce  sync.Once
	pgAdmin *sql.DB
	pgName  string
	pgErr   error
}

// shared are the databases Shared hands out; Main closes and removes them.
var shared = struct {
	mu    sync.Mutex
	dbs   map[Engine]*sqlstore.DB
	drops []func()
}{dbs: map[Engine]*sqlstore.DB{}}

// Main runs the package's tests and then removes the template and shared databases.
func Main(m *testing.M) {
	code := m.Run()
	for _, db := range shared.dbs {
		db.Close()
	}
	for _, drop := range shared.drops {
		drop()
	}
	if templates.sqliteDir != "" {
		os.RemoveAll(templates.sqliteDir)
	}
	if templates.pgName != "" {
		templates.pgAdmin.Exec("DROP DATABASE IF EXISTS " + templates.pgName + " WITH (FORCE)")
	}
	if templates.pgAdmin != nil {
		templates.pgAdmin.Close()
	}
	os.Exit(code)
}

// migrate opens dbURL, migrates it and closes it, so that a PostgreSQL template has no
// connection left when it is copied.
func migrate(dbURL string) error {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dbURL, "")
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Migrate(ctx)
}

// copySQLite returns the URL of a copy, in dir ("" for beside the template), of a
// SQLite database migrated once.
// Closing the template checkpointed its WAL, so the one file holds it all.
func copySQLite(t testing.TB, dir string) string {
	t.Helper()
	templates.sqliteOnce.Do(func() {
		if templates.sqliteDir, templates.sqliteErr = os.MkdirTemp("", "winnow-dbtest-"); templates.sqliteErr == nil {
			templates.sqliteErr = migrate("sqlite://" + filepath.Join(templates.sqliteDir, "template.db"))
		}
	})
	if templates.sqliteErr != nil {
		t.Fatalf("migrate the SQLite template: %v", templates.sqliteErr)
	}
	if dir == "" {
		dir = templates.sqliteDir
	}
	b, err := os.ReadFile(filepath.Join(templates.sqliteDir, "template.db"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(dir, "winnow-*.db")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	return "sqlite://" + f.Name()
}

// pgAdmin returns the process's connection to the PostgreSQL server, for creating and
// dropping databases.
func pgAdmin(t testing.TB) *sql.DB {
	t.Helper()
	admin := os.Getenv(EnvPostgresURL)
	if admin == "" {
		t.Fatalf("%s is not set", EnvPostgresURL)
	}
	templates.pgOnce.Do(func() {
		if templates.pgAdmin, templates.pgErr = sql.Open("pgx", admin); templates.pgErr != nil {
			return
		}
		name := "winnow_tpl_" + RandomHex(6)
		if _, templates.pgErr = templates.pgAdmin.Exec("CREATE DATABASE " + name + " TEMPLATE template0"); templates.pgErr != nil {
			return
		}
		templates.pgName = name
		templates.pgErr = migrate(withDatabase(admin, name))
	})
	if templates.pgErr != nil {
		t.Fatalf("migrate the PostgreSQL template: %v", templates.pgErr)
	}
	return templates.pgAdmin
}

// postgresTemplate returns the name of the PostgreSQL database migrated once.
func postgresTemplate(t testing.TB) string {
	t.Helper()
	pgAdmin(t)
	return templates.pgName
}

// createPostgres creates a database as a copy of template, so that a test's tables,
// River's included, and its advisory locks are its own, and returns its URL and the
// function that drops it. pgAdmin must have been called.
func createPostgres(template string) (string, func(), error) {
	admin := templates.pgAdmin
	name := "winnow_test_" + RandomHex(6)
	if _, err := admin.Exec("CREATE DATABASE " + name + " TEMPLATE " + template); err != nil {
		return "", nil, err
	}
	drop := func() {
		// WITH (FORCE) ends connections a failed test may have left behind.
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	}
	return withDatabase(os.Getenv(EnvPostgresURL), name), drop, nil
}

// withDatabase is the server URL admin with its database replaced by name.
func withDatabase(admin, name string) string {
	u, err := url.Parse(admin)
	if err != nil {
		panic(fmt.Sprintf("parse %s: %v", EnvPostgresURL, err))
	}
	u.Path = "/" + name
	return u.String()
}

// RandomHex returns n random bytes in hex, for unique names in tests.
func RandomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
