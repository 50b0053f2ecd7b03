package sqlstore_test

import (
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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

// testMigrateEventAddresses takes the recipient's address out of email timeline entries
// written before events had an email field, so that blind review holds on them too.
func testMigrateEventAddresses(t *testing.T, e engine) {
	ctx := t.Context()
	env, f := openAt(t, e, 7) // the last migration before events had fields
	db, now := env.DB, env.Clock.Now()
	id := insertOldApplicant(t, env, f, "ada@example.com")
	old := []struct{ kind, message, want string }{
		{"invited", "Invited to the job", "Invited to the job"},
		{"email_queued", "Invitation email queued for ada@example.com", "Invitation email queued"},
		{"email_sent", "Invitation email sent to ada@example.com", "Invitation email sent"},
		{"email_held", "Reminder 1 email to ada@example.com kept in the outbox: no SMTP server is configured, so it was not delivered",
			"Reminder 1 email kept in the outbox: no SMTP server is configured, so it was not delivered"},
		{"email_failed", "Invitation email to ada@example.com failed after 30 attempts: refused", "Invitation email failed after 30 attempts: refused"},
	}
	for i, ev := range old {
		if _, err := db.SQL().ExecContext(ctx, `INSERT INTO applicant_events (id, org_id, applicant_id, kind, message, at)
			VALUES ($1, $2, $3, $4, $5, $6)`, "ev"+strconv.Itoa(i), f.OrgID, id, ev.kind, ev.message, now.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	events, err := env.Store.ListEvents(ctx, f.OrgID, id)
	if err != nil || len(events) != len(old) {
		t.Fatalf("events %d (%v), want %d", len(events), err, len(old))
	}
	for i, ev := range events {
		if ev.Message != old[i].want || ev.EmailID != "" || ev.Call != nil {
			t.Errorf("%s: %q (email %q, call %v), want %q", ev.Kind, ev.Message, ev.EmailID, ev.Call, old[i].want)
		}
	}
}

// openAt returns a database of engine e migrated up to version only, with a store and
// an org with a funnel, for tests of what later migrations make of older rows. Rows
// other than orgs and funnels go in with SQL of their time (insertOldApplicant): the
// store writes today's columns.
func openAt(t *testing.T, e engine, version int64) (*testEnv, *winnow.Funnel) {
	t.Helper()
	db := dbtest.MustOpen(t, e.EmptyURL(t))
	if err := db.MigrateTo(t.Context(), version); err != nil {
		t.Fatalf("migrate to %d: %v", version, err)
	}
	clock := dbtest.NewClock(time.Time{})
	env := &testEnv{DB: db, Store: sqlstore.NewStore(db, clock, nil), Clock: clock}
	return env, mustFunnel(t, env, mustOrg(t, env), nil)
}

// insertOldApplicant inserts an invited applicant of f with address email, created at
// the clock's time, with the columns every version has, and returns its ID.
func insertOldApplicant(t *testing.T, env *testEnv, f *winnow.Funnel, email string) string {
	t.Helper()
	id, now := "old-"+randomHex(8), env.Clock.Now()
	if _, err := env.DB.SQL().ExecContext(t.Context(), `INSERT INTO applicants (id, org_id, funnel_id, name, email, status,
		token, invited_at, deadline, created_at, updated_at) VALUES ($1, $2, $3, 'Ada', $4, 'invited', $5, $6, $6, $6, $6)`,
		id, f.OrgID, f.ID, email, randomHex(16), now); err != nil {
		t.Fatalf("insert applicant: %v", err)
	}
	return id
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
