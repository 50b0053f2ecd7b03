package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"winnow"
	"winnow/internal/sqlstore"
)

// envPostgresURL names the admin URL of a PostgreSQL server for the PostgreSQL suite.
// Each test creates its own database there and drops it afterwards.
const envPostgresURL = "WINNOW_TEST_POSTGRES_URL"

// engine is one database engine the conformance suite runs on. newURL returns the URL
// of a fresh, empty database that is removed when the test ends.
type engine struct {
	name   string
	newURL func(t *testing.T) string
}

// TestStore runs the conformance suite on SQLite always and on PostgreSQL when
// WINNOW_TEST_POSTGRES_URL is set. The subtests are named for the engine, so that CI can
// tell that the PostgreSQL suite ran rather than skipped.
func TestStore(t *testing.T) {
	t.Run(sqlstore.DialectSQLite, func(t *testing.T) {
		t.Parallel()
		t.Log("running the conformance suite on SQLite")
		testStore(t, engine{name: sqlstore.DialectSQLite, newURL: func(t *testing.T) string {
			return "sqlite://" + t.TempDir() + "/winnow.db"
		}})
	})
	t.Run(sqlstore.DialectPostgres, func(t *testing.T) {
		t.Parallel()
		admin := os.Getenv(envPostgresURL)
		if admin == "" {
			t.Skip("set " + envPostgresURL + " to run the PostgreSQL suite")
		}
		t.Log("running the conformance suite on PostgreSQL")
		testStore(t, engine{name: sqlstore.DialectPostgres, newURL: func(t *testing.T) string {
			return newPostgresDatabase(t, admin)
		}})
	})
}

// testStore runs every conformance test on e, each on its own fresh database.
func testStore(t *testing.T, e engine) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e engine)
	}{
		{"Migrate", testMigrate},
		{"MigrateConcurrently", testMigrateConcurrently},
		{"Orgs", testOrgs},
		{"Users", testUsers},
		{"UserValidation", testUserValidation},
		{"Sessions", testSessions},
		{"Invites", testInvites},
		{"AcceptInvite", testAcceptInvite},
		{"InviteWithEmail", testInviteWithEmail},
		{"InviteWithEmailRollback", testInviteWithEmailRollback},
		{"InviteEmailIsolation", testInviteEmailIsolation},
		{"FunnelRoundTrip", testFunnelRoundTrip},
		{"FunnelUpdate", testFunnelUpdate},
		{"FunnelValidation", testFunnelValidation},
		{"ListFunnels", testListFunnels},
		{"Applicants", testApplicants},
		{"ApplicantConflicts", testApplicantConflicts},
		{"ApplicantEmailRace", testApplicantEmailRace},
		{"MigrateDuplicateEmails", testMigrateDuplicateEmails},
		{"ReplacedUploads", testReplacedUploads},
		{"UploadBudget", testUploadBudget},
		{"UnusedUploads", testUnusedUploads},
		{"ApplicantValidation", testApplicantValidation},
		{"Transitions", testTransitions},
		{"ConcurrentTransitions", testConcurrentTransitions},
		{"TenantIsolation", testTenantIsolation},
		{"RiverEffects", testRiverEffects},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, e)
		})
	}
}

// testEnv is a migrated database with a store whose clock the test controls.
type testEnv struct {
	DB    *sqlstore.DB
	Store *sqlstore.Store
	Clock *fakeClock
}

// open returns a fresh, migrated database of engine e and a store on it.
func (e engine) open(t *testing.T) *testEnv {
	t.Helper()
	db := mustOpen(t, e.newURL(t))
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	clock := &fakeClock{now: time.Date(2026, 11, 28, 9, 30, 0, 123456789, time.UTC)}
	return &testEnv{DB: db, Store: sqlstore.NewStore(db, clock), Clock: clock}
}

// mustOpen opens url and closes it when the test ends.
func mustOpen(t *testing.T, url string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), url, "")
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var (
	pgAdminOnce sync.Once
	pgAdmin     *sql.DB
	pgAdminErr  error
)

// newPostgresDatabase creates an empty database winnow_test_<random> on the server of
// adminURL, so that the test's tables, River's included, and its advisory locks are its
// own, and drops it when the test ends.
func newPostgresDatabase(t *testing.T, adminURL string) string {
	t.Helper()
	pgAdminOnce.Do(func() { pgAdmin, pgAdminErr = sql.Open("pgx", adminURL) })
	if pgAdminErr != nil {
		t.Fatalf("open admin connection: %v", pgAdminErr)
	}
	name := "winnow_test_" + randomHex(8)
	if _, err := pgAdmin.ExecContext(t.Context(), `CREATE DATABASE `+name+` TEMPLATE template0`); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		// WITH (FORCE) ends connections a failed test may have left behind.
		if _, err := pgAdmin.ExecContext(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatalf("parse %s: %v", envPostgresURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

// fakeClock is a winnow.Clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and returns the new time.
func (c *fakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// wantCode fails the test unless err carries the winnow error code want.
func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := winnow.ErrorCode(err); got != want {
		t.Fatalf("error code = %q, want %q (err: %v)", got, want, err)
	}
	var e *winnow.Error
	if want != "" && want != winnow.EINTERNAL && (!errors.As(err, &e) || strings.TrimSpace(e.Message) == "") {
		t.Fatalf("error %v has no person-readable message", err)
	}
}

// count returns the number of rows of table matching where (a condition with $n
// arguments), read through the pool outside any transaction.
func count(t *testing.T, env *testEnv, table, where string, args ...any) int {
	t.Helper()
	q := `SELECT COUNT(*) FROM ` + table
	if where != "" {
		q += ` WHERE ` + where
	}
	var n int
	if err := env.DB.SQL().QueryRowContext(t.Context(), q, args...).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// mustOrg creates an org with a unique name.
func mustOrg(t *testing.T, env *testEnv) *winnow.Org {
	t.Helper()
	o := &winnow.Org{Name: "Org " + randomHex(4)}
	if err := env.Store.CreateOrg(t.Context(), o); err != nil {
		t.Fatalf("create org: %v", err)
	}
	return o
}

// mustUser creates a user of org with role and a unique email.
func mustUser(t *testing.T, env *testEnv, org *winnow.Org, role winnow.Role) *winnow.User {
	t.Helper()
	u := &winnow.User{OrgID: org.ID, Email: "u-" + randomHex(4) + "@example.com", Name: "User", Role: role, PasswordHash: "hash"}
	if err := env.Store.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
}

// mustFunnel creates an open funnel of org with one questions step, after edit (if
// any) has changed it.
func mustFunnel(t *testing.T, env *testEnv, org *winnow.Org, edit func(*winnow.Funnel)) *winnow.Funnel {
	t.Helper()
	f := &winnow.Funnel{OrgID: org.ID, Title: "Engineer " + randomHex(2), Status: winnow.FunnelOpen,
		Steps: []winnow.Step{{ID: "s1", Kind: winnow.StepQuestions, Questions: []winnow.Question{
			{ID: "q1", Text: "Can you work in the EU?", Type: winnow.QuestionYesNo,
				Knockout: &winnow.Knockout{Answer: "yes", Reason: "Needs EU work permit"}}}}}}
	if edit != nil {
		edit(f)
	}
	if err := env.Store.CreateFunnel(t.Context(), f); err != nil {
		t.Fatalf("create funnel: %v", err)
	}
	return f
}

// mustApplicant creates an invited applicant in f for the Lever opportunity opp ("" for
// none).
func mustApplicant(t *testing.T, env *testEnv, f *winnow.Funnel, opp string) *winnow.Applicant {
	t.Helper()
	a, err := winnow.NewApplicant(f, "Ada Lovelace", "ada-"+randomHex(3)+"@example.com", randomHex(16), env.Clock.Now())
	if err != nil {
		t.Fatalf("new applicant: %v", err)
	}
	a.LeverOpportunityID = opp
	if err := env.Store.CreateApplicant(t.Context(), a, ""); err != nil {
		t.Fatalf("create applicant: %v", err)
	}
	return a
}
