package sqlstore_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"winnow"
	"winnow/internal/dbtest"
)

// TestApplicantPages runs the cases of keyset pages, status counts and bulk
// invitations on each engine.
func TestApplicantPages(t *testing.T) {
	runSuite(t, []suiteCase{
		{"WalkPages", testWalkPages},
		{"PageFilters", testPageFilters},
		{"WaitingOrder", testWaitingOrder},
		{"PageErrors", testPageErrors},
		{"CountStatuses", testCountStatuses},
		{"CreateApplicants", testCreateApplicants},
		{"CountsKept", testCountsKept},
		{"MigrateCounts", testMigrateCounts},
	})
}

// ids returns the IDs of apps, to compare lists.
func ids(apps []*winnow.Applicant) []string {
	var out []string
	for _, a := range apps {
		out = append(out, a.ID)
	}
	return out
}

// walk reads every page of q forward from the first and returns the pages.
func walk(t *testing.T, env *testEnv, orgID string, q winnow.ApplicantQuery) []*winnow.ApplicantPage {
	t.Helper()
	var pages []*winnow.ApplicantPage
	for {
		p, err := env.Store.ListApplicantPage(t.Context(), orgID, q)
		if err != nil {
			t.Fatalf("page %d: %v", len(pages)+1, err)
		}
		pages = append(pages, p)
		if p.Next == "" {
			return pages
		}
		if len(pages) > 100 {
			t.Fatal("the pages do not end")
		}
		q.Cursor = p.Next
	}
}

// testWalkPages reads a job's applicants three at a time forward, then back again
// from the last page, and finds the same pages, in the order ListApplicants gives;
// applicants invited at the same instant are ordered by ID. Another job's and another
// org's applicants never show.
func testWalkPages(t *testing.T, e engine) {
	env := open(t, e)
	org := mustOrg(t, env)
	f, other := mustFunnel(t, env, org, nil), mustFunnel(t, env, org, nil)
	for i := range 8 {
		if i%3 != 0 { // some applicants share their creation time
			env.Clock.Advance(time.Second)
		}
		mustApplicant(t, env, f, "")
		mustApplicant(t, env, other, "")
	}
	stranger := mustFunnel(t, env, mustOrg(t, env), nil)
	mustApplicant(t, env, stranger, "")
	all, err := env.Store.ListApplicants(t.Context(), org.ID, winnow.ApplicantFilter{FunnelID: f.ID})
	if err != nil || len(all) != 8 {
		t.Fatalf("ListApplicants: %d, %v", len(all), err)
	}

	pages := walk(t, env, org.ID, winnow.ApplicantQuery{ApplicantFilter: winnow.ApplicantFilter{FunnelID: f.ID}, Limit: 3})
	if len(pages) != 3 {
		t.Fatalf("%d pages of 3 for 8 applicants", len(pages))
	}
	var got []*winnow.Applicant
	for i, p := range pages {
		if (p.Prev == "") != (i == 0) {
			t.Fatalf("page %d: Prev %q", i+1, p.Prev)
		}
		got = append(got, p.Applicants...)
	}
	if !reflect.DeepEqual(got, all) {
		t.Fatalf("pages hold %v, want %v", ids(got), ids(all))
	}
	// Back from the last page, by Prev, to the first.
	q := winnow.ApplicantQuery{ApplicantFilter: winnow.ApplicantFilter{FunnelID: f.ID}, Limit: 3}
	for i := len(pages) - 1; i > 0; i-- {
		q.Cursor = pages[i].Prev
		p, err := env.Store.ListApplicantPage(t.Context(), org.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ids(p.Applicants), ids(pages[i-1].Applicants)) || (p.Prev == "") != (i == 1) || p.Next == "" {
			t.Fatalf("back to page %d: %v (prev %q, next %q), want %v", i, ids(p.Applicants), p.Prev, p.Next, ids(pages[i-1].Applicants))
		}
	}
	// The default page holds everything here, and says there is nothing more.
	p, err := env.Store.ListApplicantPage(t.Context(), org.ID, winnow.ApplicantQuery{ApplicantFilter: winnow.ApplicantFilter{FunnelID: f.ID}})
	if err != nil || len(p.Applicants) != 8 || p.Next != "" || p.Prev != "" {
		t.Fatalf("default page: %d, next %q, prev %q, %v", len(p.Applicants), p.Next, p.Prev, err)
	}
}

// testPageFilters checks status, job and visibility filters on pages and that a
// limited member's pages hold only their teams' jobs.
func testPageFilters(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	limited := mustUser(t, env, org, winnow.RoleLimited)
	admin := mustUser(t, env, org, winnow.RoleAdmin)
	team := mustFunnel(t, env, org, func(f *winnow.Funnel) { f.Team = []string{limited.ID} })
	offTeam := mustFunnel(t, env, org, nil)
	var started []*winnow.Applicant
	for i := range 4 {
		env.Clock.Advance(time.Second)
		a := mustApplicant(t, env, team, "")
		mustApplicant(t, env, offTeam, "")
		if i%2 == 0 {
			a, err := env.Store.TransitionApplicant(ctx, org.ID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) { return x.Start(env.Clock.Now()) })
			if err != nil {
				t.Fatal(err)
			}
			started = append([]*winnow.Applicant{a}, started...)
		}
	}
	tests := []struct {
		name   string
		filter winnow.ApplicantFilter
		want   int
	}{
		{"org", winnow.ApplicantFilter{}, 8},
		{"org, one status", winnow.ApplicantFilter{Status: winnow.StatusInProgress}, 2},
		{"job and status", winnow.ApplicantFilter{FunnelID: team.ID, Status: winnow.StatusInvited}, 2},
		{"an admin sees every job", winnow.ApplicantFilter{VisibleTo: admin}, 8},
		{"a limited member sees their team's", winnow.ApplicantFilter{VisibleTo: limited}, 4},
		{"a limited member, off their team", winnow.ApplicantFilter{FunnelID: offTeam.ID, VisibleTo: limited}, 0},
		{"a user of another org", winnow.ApplicantFilter{VisibleTo: &winnow.User{ID: admin.ID, OrgID: "another", Role: winnow.RoleAdmin}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n int
			for _, p := range walk(t, env, org.ID, winnow.ApplicantQuery{ApplicantFilter: tt.filter, Limit: 3}) {
				for _, a := range p.Applicants {
					if (tt.filter.Status != "" && a.Status != tt.filter.Status) || (tt.filter.VisibleTo == limited && a.FunnelID != team.ID) {
						t.Fatalf("%+v is not in the list", a)
					}
				}
				n += len(p.Applicants)
			}
			if n != tt.want {
				t.Fatalf("%d applicants, want %d", n, tt.want)
			}
		})
	}
	p, err := env.Store.ListApplicantPage(ctx, org.ID, winnow.ApplicantQuery{ApplicantFilter: winnow.ApplicantFilter{Status: winnow.StatusInProgress}})
	if err != nil || !reflect.DeepEqual(ids(p.Applicants), ids(started)) {
		t.Fatalf("in progress: %v, %v; want %v", ids(p.Applicants), err, ids(started))
	}
}

// testWaitingOrder checks the review queue's order: submitted applicants only, those
// who submitted first first, whatever order they were invited in.
func testWaitingOrder(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	f := mustFunnel(t, env, org, nil)
	var apps []*winnow.Applicant
	for range 5 {
		env.Clock.Advance(time.Second)
		apps = append(apps, mustApplicant(t, env, f, ""))
	}
	var want []string
	for _, i := range []int{3, 0, 4, 1} { // submitted in this order; 2 never starts
		env.Clock.Advance(time.Minute)
		for _, step := range []func(*winnow.Applicant) (winnow.Event, error){
			func(x *winnow.Applicant) (winnow.Event, error) { return x.Start(env.Clock.Now()) },
			func(x *winnow.Applicant) (winnow.Event, error) { return x.Submit(env.Clock.Now()) },
		} {
			if _, err := env.Store.TransitionApplicant(ctx, org.ID, apps[i].ID, step); err != nil {
				t.Fatal(err)
			}
		}
		want = append(want, apps[i].ID)
	}
	var got []string
	for _, p := range walk(t, env, org.ID, winnow.ApplicantQuery{ApplicantFilter: winnow.ApplicantFilter{FunnelID: f.ID, Status: winnow.StatusSubmitted},
		Order: winnow.OrderWaiting, Limit: 3}) {
		got = append(got, ids(p.Applicants)...)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("queue = %v, want %v", got, want)
	}
}

// testPageErrors refuses what no page can be: a cursor Winnow did not make, one of
// another order, a page size out of range, an unknown order.
func testPageErrors(t *testing.T, e engine) {
	env := open(t, e)
	org := mustOrg(t, env)
	f := mustFunnel(t, env, org, nil)
	for range 3 {
		mustApplicant(t, env, f, "")
	}
	first, err := env.Store.ListApplicantPage(t.Context(), org.ID, winnow.ApplicantQuery{Limit: 1})
	if err != nil || first.Next == "" {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	tests := []struct {
		name string
		q    winnow.ApplicantQuery
	}{
		{"not base64", winnow.ApplicantQuery{Cursor: "%%%"}},
		{"not a cursor", winnow.ApplicantQuery{Cursor: "bm90IGEgY3Vyc29y"}},
		{"no time", winnow.ApplicantQuery{Cursor: winnow.Cursor{Order: "newest", Key: "yesterday", ID: "x"}.Encode()}},
		{"too long", winnow.ApplicantQuery{Cursor: strings.Repeat("A", 2000)}},
		{"another order's", winnow.ApplicantQuery{Cursor: first.Next, Order: winnow.OrderWaiting}},
		{"limit 0 is the default, -1 is not", winnow.ApplicantQuery{Limit: -1}},
		{"limit over the maximum", winnow.ApplicantQuery{Limit: winnow.MaxPageSize + 1}},
		{"unknown order", winnow.ApplicantQuery{Order: "alphabetical"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := env.Store.ListApplicantPage(t.Context(), org.ID, tt.q)
			wantCode(t, err, winnow.EINVALID)
		})
	}
	if p, err := env.Store.ListApplicantPage(t.Context(), org.ID, winnow.ApplicantQuery{Limit: winnow.MaxPageSize}); err != nil || len(p.Applicants) != 3 {
		t.Fatalf("the largest page: %v", err)
	}
}

// testCountStatuses counts a job's applicants per status, and the org's for a limited
// member, in the database.
func testCountStatuses(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	limited := mustUser(t, env, org, winnow.RoleLimited)
	team := mustFunnel(t, env, org, func(f *winnow.Funnel) { f.Team = []string{limited.ID} })
	other := mustFunnel(t, env, org, nil)
	for i := range 3 {
		a := mustApplicant(t, env, team, "")
		mustApplicant(t, env, other, "")
		if i == 0 {
			if _, err := env.Store.TransitionApplicant(ctx, org.ID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) { return x.Start(env.Clock.Now()) }); err != nil {
				t.Fatal(err)
			}
		}
	}
	mustApplicant(t, env, mustFunnel(t, env, mustOrg(t, env), nil), "")
	tests := []struct {
		name   string
		filter winnow.ApplicantFilter
		want   map[winnow.ApplicantStatus]int
	}{
		{"one job", winnow.ApplicantFilter{FunnelID: team.ID}, map[winnow.ApplicantStatus]int{winnow.StatusInvited: 2, winnow.StatusInProgress: 1}},
		{"the org", winnow.ApplicantFilter{}, map[winnow.ApplicantStatus]int{winnow.StatusInvited: 5, winnow.StatusInProgress: 1}},
		{"status is ignored", winnow.ApplicantFilter{Status: winnow.StatusQualified}, map[winnow.ApplicantStatus]int{winnow.StatusInvited: 5, winnow.StatusInProgress: 1}},
		{"a limited member's jobs", winnow.ApplicantFilter{VisibleTo: limited}, map[winnow.ApplicantStatus]int{winnow.StatusInvited: 2, winnow.StatusInProgress: 1}},
		{"a job of nobody", winnow.ApplicantFilter{FunnelID: "none"}, map[winnow.ApplicantStatus]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := env.Store.CountStatuses(ctx, org.ID, tt.filter)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("CountStatuses = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// testCreateApplicants invites more than a batch at once: addresses already in the
// job, and repeated within the list, are refused one by one and the rest are stored
// with their invited events, in as many transactions as batches; a job of another org
// fails its lines only.
func testCreateApplicants(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	f := mustFunnel(t, env, org, nil)
	existing := mustApplicant(t, env, f, "")
	foreign := mustFunnel(t, env, mustOrg(t, env), nil)
	var apps []*winnow.Applicant
	newApp := func(f *winnow.Funnel, email string) {
		a, err := winnow.NewApplicant(f, "Candidate", email, randomHex(16), env.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		a.OrgID = org.ID // the foreign job's applicant claims this org
		apps = append(apps, a)
	}
	const n = 130 // more than one batch
	for i := range n {
		switch i {
		case 7:
			newApp(f, existing.Email)
		case 50:
			newApp(f, "c-10@example.com") // invited earlier in this list, in this batch
		case 120:
			newApp(f, "c-3@example.com") // invited earlier in this list, in the batch before
		case 125:
			newApp(foreign, "c-125@example.com")
		default:
			newApp(f, fmt.Sprintf("c-%d@example.com", i))
		}
	}
	errs := env.Store.CreateApplicants(ctx, apps, "")
	if len(errs) != n {
		t.Fatalf("%d errors for %d applicants", len(errs), n)
	}
	for i, err := range errs {
		switch i {
		case 7, 50, 120:
			wantCode(t, err, winnow.ECONFLICT)
		case 125:
			wantCode(t, err, winnow.ENOTFOUND)
		default:
			if err != nil || apps[i].ID == "" {
				t.Fatalf("applicant %d: %v (id %q)", i, err, apps[i].ID)
			}
		}
	}
	if got := count(t, env, "applicants", "org_id = $1 AND funnel_id = $2", org.ID, f.ID); got != n-4+1 {
		t.Fatalf("%d applicants in the job, want %d", got, n-4+1)
	}
	if got := count(t, env, "applicant_events", "org_id = $1 AND kind = $2", org.ID, string(winnow.EventInvited)); got != n-4+1 {
		t.Fatalf("%d invited events, want %d", got, n-4+1)
	}
}

// TestPagesUseIndexes checks on SQLite that a page of a job of many applicants is read
// through an index in the page's order: no full scan, no sort of the whole list.
func TestPagesUseIndexes(t *testing.T) {
	t.Parallel()
	db := dbtest.SQLite.Open(t)
	ctx := context.Background()
	if _, err := db.SQL().ExecContext(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, where, order string }{
		{"job, newest", `org_id = $1 AND funnel_id = $2 AND (created_at, id) < ($3, $4)`, `created_at DESC, id DESC`},
		{"job and status, newest", `org_id = $1 AND funnel_id = $2 AND status = $5 AND (created_at, id) < ($3, $4)`, `created_at DESC, id DESC`},
		{"job, back", `org_id = $1 AND funnel_id = $2 AND (created_at, id) > ($3, $4)`, `created_at ASC, id ASC`},
		{"org, newest", `org_id = $1 AND $2 = $2 AND (created_at, id) < ($3, $4)`, `created_at DESC, id DESC`},
		{"org and status, newest", `org_id = $1 AND $2 = $2 AND status = $5 AND (created_at, id) < ($3, $4)`, `created_at DESC, id DESC`},
		{"review queue", `org_id = $1 AND funnel_id = $2 AND status = $5 AND submitted_at IS NOT NULL AND (submitted_at, id) > ($3, $4)`, `submitted_at ASC, id ASC`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := db.SQL().QueryContext(ctx, `EXPLAIN QUERY PLAN SELECT id FROM applicants WHERE `+tt.where+
				` ORDER BY `+tt.order+` LIMIT 51`, "org", "job", time.Now(), "id", "submitted")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			p := strings.Join(plan, "; ")
			if !strings.Contains(p, "USING INDEX") && !strings.Contains(p, "USING COVERING INDEX") || strings.Contains(p, "TEMP B-TREE") {
				t.Fatalf("plan: %s", p)
			}
		})
	}
}

// counted returns the org's applicants per job and status as the database reads them
// from the applicants themselves, to check the kept counts against.
func counted(t *testing.T, env *testEnv, orgID string) map[string]map[winnow.ApplicantStatus]int {
	t.Helper()
	rows, err := env.DB.SQL().QueryContext(t.Context(), `SELECT funnel_id, status, COUNT(*) FROM applicants WHERE org_id = $1
		GROUP BY funnel_id, status`, orgID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]map[winnow.ApplicantStatus]int{}
	for rows.Next() {
		var f, s string
		var n int
		if err := rows.Scan(&f, &s, &n); err != nil {
			t.Fatal(err)
		}
		if out[f] == nil {
			out[f] = map[winnow.ApplicantStatus]int{}
		}
		out[f][winnow.ApplicantStatus(s)] = n
	}
	return out
}

// testCountsKept checks that the kept counts follow every change: invitations one by
// one and in bulk (refused lines counting nothing), transitions, transitions that fail
// and transitions racing each other.
func testCountsKept(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	f1, f2 := mustFunnel(t, env, org, nil), mustFunnel(t, env, org, nil)
	var apps []*winnow.Applicant
	for range 6 {
		apps = append(apps, mustApplicant(t, env, f1, ""))
	}
	bulk := []*winnow.Applicant{}
	for i := range 12 {
		email := fmt.Sprintf("b-%d@example.com", i)
		if i == 5 {
			email = apps[0].Email // already in f1
		}
		a, err := winnow.NewApplicant(f1, "B", email, randomHex(16), env.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		bulk = append(bulk, a)
	}
	errs := env.Store.CreateApplicants(ctx, bulk, "")
	wantCode(t, errs[5], winnow.ECONFLICT)
	mustApplicant(t, env, f2, "")
	start := func(x *winnow.Applicant) (winnow.Event, error) { return x.Start(env.Clock.Now()) }
	for _, a := range apps[:4] {
		if _, err := env.Store.TransitionApplicant(ctx, org.ID, a.ID, start); err != nil {
			t.Fatal(err)
		}
	}
	// A transition that fails changes no count.
	_, err := env.Store.TransitionApplicant(ctx, org.ID, apps[0].ID, start)
	wantCode(t, err, winnow.ECONFLICT)
	// Transitions that do not change the status (an extension) change no count.
	if _, err := env.Store.TransitionApplicant(ctx, org.ID, apps[1].ID, func(x *winnow.Applicant) (winnow.Event, error) {
		return x.Extend(env.Clock.Now(), f1.Cadence, "")
	}); err != nil {
		t.Fatal(err)
	}
	// Submissions racing each other, and the same submission twice at once.
	var wg sync.WaitGroup
	for _, a := range []*winnow.Applicant{apps[0], apps[1], apps[2], apps[2]} {
		wg.Go(func() {
			env.Store.TransitionApplicant(context.Background(), org.ID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) {
				return x.Submit(env.Clock.Now())
			})
		})
	}
	wg.Wait()
	want := counted(t, env, org.ID)
	if want[f1.ID][winnow.StatusSubmitted] != 3 || want[f1.ID][winnow.StatusInvited] != 2+11 {
		t.Fatalf("the test did not do what it meant to: %v", want)
	}
	got, err := env.Store.CountApplicants(ctx, org.ID)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("CountApplicants = %v, %v; the applicants say %v", got, err, want)
	}
	one, err := env.Store.CountStatuses(ctx, org.ID, winnow.ApplicantFilter{FunnelID: f1.ID})
	if err != nil || !reflect.DeepEqual(one, want[f1.ID]) {
		t.Fatalf("CountStatuses = %v, %v; the applicants say %v", one, err, want[f1.ID])
	}
}

// testMigrateCounts checks that migration 00013 counts the applicants that are there.
func testMigrateCounts(t *testing.T, e engine) {
	env, f := openAt(t, e, 12)
	other := mustFunnel(t, env, mustOrg(t, env), nil)
	for i := range 3 {
		insertOldApplicant(t, env, f, fmt.Sprintf("a-%d@example.com", i))
	}
	insertOldApplicant(t, env, other, "b@example.com")
	if err := env.DB.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := env.Store.CountStatuses(t.Context(), f.OrgID, winnow.ApplicantFilter{})
	if err != nil || !reflect.DeepEqual(got, map[winnow.ApplicantStatus]int{winnow.StatusInvited: 3}) {
		t.Fatalf("counts after migrating: %v, %v", got, err)
	}
}
