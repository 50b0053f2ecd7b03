package sqlstore_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/sqlstore"
)

// TestMain removes the template databases of dbtest when the tests end.
func TestMain(m *testing.M) { dbtest.Main(m) }

// engine is one database engine the conformance suite runs on.
type engine = dbtest.Engine

// suiteCase is one conformance case, run on each engine.
type suiteCase struct {
	name string
	fn   func(t *testing.T, e engine)
}

// runSuite runs every case on SQLite always and on PostgreSQL when
// WINNOW_TEST_POSTGRES_URL is set, each in parallel on its own database. The subtests
// are named for the engine, so that CI can tell that the PostgreSQL suite ran.
func runSuite(t *testing.T, cases []suiteCase) {
	dbtest.Engines(t, func(t *testing.T, e engine) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				c.fn(t, e)
			})
		}
	})
}

// TestStore runs the conformance suite of orgs, users, sessions, invitations, funnels
// and applicants.
func TestStore(t *testing.T) {
	runSuite(t, []suiteCase{
		{"Migrate", testMigrate},
		{"MigrateConcurrently", testMigrateConcurrently},
		{"MigrateEventAddresses", testMigrateEventAddresses},
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
	})
}

// testEnv is a migrated database with a store whose clock the test controls.
type testEnv struct {
	DB    *sqlstore.DB
	Store *sqlstore.Store
	Clock *dbtest.Clock
}

// open returns a fresh, migrated database of engine e and a store on it. The clock has
// nanoseconds, which the store must drop as both engines do.
func open(t *testing.T, e engine) *testEnv {
	t.Helper()
	db := e.Open(t)
	clock := dbtest.NewClock(time.Date(2026, 11, 28, 9, 30, 0, 123456789, time.UTC))
	return &testEnv{DB: db, Store: sqlstore.NewStore(db, clock, nil), Clock: clock}
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string { return dbtest.RandomHex(n) }

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
