package sqlstore_test

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"winnow"
)

func testApplicants(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	admin := mustUser(t, env, org, winnow.RoleAdmin)
	f1, f2 := mustFunnel(t, env, org, nil), mustFunnel(t, env, org, nil)

	a, err := winnow.NewApplicant(f1, "Grace Hopper", "Grace@Example.com", randomHex(16), env.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	a.LeverOpportunityID = "opp-1"
	if err := env.Store.CreateApplicant(ctx, a, admin.ID); err != nil {
		t.Fatalf("create: %v", err)
	}
	now := env.Clock.Now().Truncate(time.Microsecond)
	if a.ID == "" || !a.CreatedAt.Equal(now) || !a.InvitedAt.Equal(now) || !a.Deadline.Equal(now.Add(f1.Cadence.OptOutAfter)) {
		t.Fatalf("created applicant = %+v", a)
	}
	byID, err := env.Store.FindApplicantByID(ctx, org.ID, a.ID)
	if err != nil || !reflect.DeepEqual(byID, a) {
		t.Fatalf("FindApplicantByID = %+v, %v; want %+v", byID, err, a)
	}
	byToken, err := env.Store.FindApplicantByToken(ctx, a.Token)
	if err != nil || !reflect.DeepEqual(byToken, a) {
		t.Fatalf("FindApplicantByToken = %+v, %v; want %+v", byToken, err, a)
	}
	events, err := env.Store.ListEvents(ctx, org.ID, a.ID)
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	want := a.InvitedEvent(admin.ID)
	want.ID = events[0].ID
	if len(events) != 1 || !reflect.DeepEqual(*events[0], want) {
		t.Fatalf("events = %+v, want [%+v]", events, want)
	}

	env.Clock.Advance(time.Minute)
	b := mustApplicant(t, env, f1, "")
	env.Clock.Advance(time.Minute)
	c := mustApplicant(t, env, f2, "")
	if _, err := env.Store.TransitionApplicant(ctx, org.ID, b.ID, func(x *winnow.Applicant) (winnow.Event, error) {
		return x.Start(env.Clock.Now())
	}); err != nil {
		t.Fatalf("start: %v", err)
	}
	b, _ = env.Store.FindApplicantByID(ctx, org.ID, b.ID)

	lists := []struct {
		name   string
		filter winnow.ApplicantFilter
		want   []*winnow.Applicant
	}{
		{"all, newest first", winnow.ApplicantFilter{}, []*winnow.Applicant{c, b, a}},
		{"one funnel", winnow.ApplicantFilter{FunnelID: f1.ID}, []*winnow.Applicant{b, a}},
		{"one status", winnow.ApplicantFilter{Status: winnow.StatusInvited}, []*winnow.Applicant{c, a}},
		{"funnel and status", winnow.ApplicantFilter{FunnelID: f1.ID, Status: winnow.StatusInProgress}, []*winnow.Applicant{b}},
		{"nobody", winnow.ApplicantFilter{Status: winnow.StatusQualified}, nil},
	}
	for _, tt := range lists {
		t.Run(tt.name, func(t *testing.T) {
			got, err := env.Store.ListApplicants(ctx, org.ID, tt.filter)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ListApplicants = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	counts, err := env.Store.CountApplicants(ctx, org.ID)
	if err != nil {
		t.Fatalf("count: %v", err)
	}
	wantCounts := map[string]map[winnow.ApplicantStatus]int{
		f1.ID: {winnow.StatusInvited: 1, winnow.StatusInProgress: 1},
		f2.ID: {winnow.StatusInvited: 1},
	}
	if !reflect.DeepEqual(counts, wantCounts) {
		t.Fatalf("CountApplicants = %v, want %v", counts, wantCounts)
	}

	notFound := []struct {
		name string
		run  func() error
	}{
		{"unknown id", func() error { _, err := env.Store.FindApplicantByID(ctx, org.ID, "nope"); return err }},
		{"unknown token", func() error { _, err := env.Store.FindApplicantByToken(ctx, randomHex(16)); return err }},
		{"short token", func() error { _, err := env.Store.FindApplicantByToken(ctx, ""); return err }},
		{"events of unknown applicant", func() error { _, err := env.Store.ListEvents(ctx, org.ID, "nope"); return err }},
	}
	for _, tt := range notFound {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.run(), winnow.ENOTFOUND) })
	}
}

func testApplicantConflicts(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	f1, f2 := mustFunnel(t, env, org, nil), mustFunnel(t, env, org, nil)
	first := mustApplicant(t, env, f1, "opp-1")
	mustApplicant(t, env, f2, "opp-1") // the same opportunity in another funnel is fine
	mustApplicant(t, env, f1, "")      // so are any number without an opportunity
	mustApplicant(t, env, f1, "")

	tests := []struct {
		name  string
		build func() *winnow.Applicant
	}{
		{"same funnel and opportunity", func() *winnow.Applicant {
			a, _ := winnow.NewApplicant(f1, "Again", "", randomHex(16), env.Clock.Now())
			a.LeverOpportunityID = "opp-1"
			return a
		}},
		{"same token", func() *winnow.Applicant {
			a, _ := winnow.NewApplicant(f2, "Copy", "", first.Token, env.Clock.Now())
			return a
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.build()
			wantCode(t, env.Store.CreateApplicant(ctx, a, ""), winnow.ECONFLICT)
			if a.ID != "" {
				t.Fatal("a rejected applicant got an ID")
			}
		})
	}
	if n, m := count(t, env, "applicants", ""), count(t, env, "applicant_events", ""); n != 4 || m != 4 {
		t.Fatalf("applicants = %d, events = %d; want 4 and 4", n, m)
	}
}

func testApplicantValidation(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org, other := mustOrg(t, env), mustOrg(t, env)
	f := mustFunnel(t, env, org, nil)
	theirs := mustFunnel(t, env, other, nil)
	valid := func() *winnow.Applicant {
		a, err := winnow.NewApplicant(f, "Valid", "", randomHex(16), env.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	tests := []struct {
		name string
		edit func(*winnow.Applicant)
		code string
	}{
		{"no name", func(a *winnow.Applicant) { a.Name = " " }, winnow.EINVALID},
		{"short token", func(a *winnow.Applicant) { a.Token = "abc" }, winnow.EINVALID},
		{"unknown status", func(a *winnow.Applicant) { a.Status = "hired" }, winnow.EINVALID},
		{"not invited", func(a *winnow.Applicant) { a.Status = winnow.StatusQualified }, winnow.EINVALID},
		{"no funnel", func(a *winnow.Applicant) { a.FunnelID = "" }, winnow.EINVALID},
		{"no deadline", func(a *winnow.Applicant) { a.Deadline = time.Time{} }, winnow.EINVALID},
		{"unknown funnel", func(a *winnow.Applicant) { a.FunnelID = "nope" }, winnow.ENOTFOUND},
		{"funnel of another org", func(a *winnow.Applicant) { a.FunnelID = theirs.ID }, winnow.ENOTFOUND},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := valid()
			tt.edit(a)
			wantCode(t, env.Store.CreateApplicant(ctx, a, ""), tt.code)
		})
	}
	if n, m := count(t, env, "applicants", ""), count(t, env, "applicant_events", ""); n != 0 || m != 0 {
		t.Fatalf("applicants = %d, events = %d; want none", n, m)
	}
}

func testTransitions(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	reviewer := mustUser(t, env, org, winnow.RoleMember)
	f := mustFunnel(t, env, org, nil)
	a := mustApplicant(t, env, f, "opp-7")

	steps := []struct {
		name string
		fn   func(a *winnow.Applicant, now time.Time) (winnow.Event, error)
		want winnow.ApplicantStatus
		kind winnow.EventKind
	}{
		{"start", func(a *winnow.Applicant, now time.Time) (winnow.Event, error) { return a.Start(now) }, winnow.StatusInProgress, winnow.EventStarted},
		{"submit", func(a *winnow.Applicant, now time.Time) (winnow.Event, error) { return a.Submit(now) }, winnow.StatusSubmitted, winnow.EventSubmitted},
		{"qualify", func(a *winnow.Applicant, now time.Time) (winnow.Event, error) { return a.Qualify(now, reviewer.ID) }, winnow.StatusQualified, winnow.EventQualified},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			now := env.Clock.Advance(time.Hour + 7*time.Nanosecond)
			got, err := env.Store.TransitionApplicant(ctx, org.ID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) {
				return st.fn(x, now)
			})
			if err != nil {
				t.Fatalf("transition: %v", err)
			}
			if got.Status != st.want || !got.UpdatedAt.Equal(now.Truncate(time.Microsecond)) {
				t.Fatalf("after %s: status %s, updated %v", st.name, got.Status, got.UpdatedAt)
			}
			stored, err := env.Store.FindApplicantByID(ctx, org.ID, a.ID)
			if err != nil || !reflect.DeepEqual(stored, got) {
				t.Fatalf("stored %+v, %v; want %+v", stored, err, got)
			}
		})
	}
	final, err := env.Store.FindApplicantByID(ctx, org.ID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if final.StartedAt == nil || final.SubmittedAt == nil || final.DecidedAt == nil || !final.StartedAt.Before(*final.SubmittedAt) {
		t.Fatalf("milestone times not stored: %+v", final)
	}
	events, err := env.Store.ListEvents(ctx, org.ID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []winnow.EventKind
	for _, ev := range events {
		kinds = append(kinds, ev.Kind)
	}
	wantKinds := []winnow.EventKind{winnow.EventInvited, winnow.EventStarted, winnow.EventSubmitted, winnow.EventQualified}
	if !reflect.DeepEqual(kinds, wantKinds) {
		t.Fatalf("timeline = %v, want %v", kinds, wantKinds)
	}
	if last := events[3]; last.From != winnow.StatusSubmitted || last.To != winnow.StatusQualified || last.ActorID != reviewer.ID ||
		last.OrgID != org.ID || last.ApplicantID != a.ID || !last.At.Equal(final.DecidedAt.UTC()) {
		t.Fatalf("qualified event = %+v", last)
	}

	// Failures change nothing: no status change, no event.
	sentinel := errors.New("the caller's own failure")
	failures := []struct {
		name string
		id   string
		fn   func(*winnow.Applicant) (winnow.Event, error)
		is   error
		code string
	}{
		{"fn error returned unchanged", a.ID, func(x *winnow.Applicant) (winnow.Event, error) {
			x.Status = winnow.StatusOptedOut
			return winnow.Event{Kind: winnow.EventOptedOut}, sentinel
		}, sentinel, winnow.EINTERNAL},
		{"illegal move", a.ID, func(x *winnow.Applicant) (winnow.Event, error) { return x.Start(env.Clock.Now()) }, nil, winnow.ECONFLICT},
		{"unknown applicant", "nope", func(x *winnow.Applicant) (winnow.Event, error) { return x.Start(env.Clock.Now()) }, nil, winnow.ENOTFOUND},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			got, err := env.Store.TransitionApplicant(ctx, org.ID, tt.id, tt.fn)
			if got != nil {
				t.Fatalf("a failed transition returned %+v", got)
			}
			if tt.is != nil && err != tt.is {
				t.Fatalf("error = %v, want exactly %v", err, tt.is)
			}
			wantCode(t, err, tt.code)
			stored, _ := env.Store.FindApplicantByID(ctx, org.ID, a.ID)
			if !reflect.DeepEqual(stored, final) {
				t.Fatalf("a failed transition changed the applicant: %+v", stored)
			}
			if n := count(t, env, "applicant_events", "applicant_id = $1", a.ID); n != 4 {
				t.Fatalf("events = %d, want 4", n)
			}
		})
	}
}

// testConcurrentTransitions races several transitions of one applicant: the row lock
// (FOR UPDATE on PostgreSQL, the immediate transaction on SQLite) lets exactly one win.
func testConcurrentTransitions(t *testing.T, e engine) {
	env := open(t, e)
	org := mustOrg(t, env)
	a := mustApplicant(t, env, mustFunnel(t, env, org, nil), "")
	const racers = 4
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			_, errs[i] = env.Store.TransitionApplicant(t.Context(), org.ID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) {
				return x.Start(env.Clock.Now())
			})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch winnow.ErrorCode(err) {
		case "":
			won++
		case winnow.ECONFLICT:
		default:
			t.Fatalf("racing transition failed: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d racing starts succeeded, want exactly 1", won, racers)
	}
	if n := count(t, env, "applicant_events", "applicant_id = $1", a.ID); n != 2 {
		t.Fatalf("events = %d, want invited and one started", n)
	}
}

// testApplicantEmailRace invites one address to one job from many goroutines at once:
// exactly one invitation succeeds and the others are refused with a conflict that says
// why, leaving one applicant and one invited event. The same address in another job,
// and applicants without an address (Lever opportunities may have none), are fine.
func testApplicantEmailRace(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	f, other := mustFunnel(t, env, org, nil), mustFunnel(t, env, org, nil)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			a, err := winnow.NewApplicant(f, "Ada Lovelace", "Ada@Example.com", randomHex(16), env.Clock.Now())
			if err != nil {
				errs[i] = err
				return
			}
			<-start
			errs[i] = env.Store.CreateApplicant(ctx, a, "")
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case winnow.ErrorCode(err) != winnow.ECONFLICT || winnow.ErrorMessage(err) != "ada@example.com is already invited to this job.":
			t.Fatalf("err = %v, want the already-invited conflict", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d simultaneous invitations of one address succeeded, want 1", ok, n)
	}
	if got := count(t, env, "applicants", "funnel_id = $1", f.ID); got != 1 {
		t.Fatalf("applicants = %d, want 1", got)
	}
	if got := count(t, env, "applicant_events", "org_id = $1", org.ID); got != 1 {
		t.Fatalf("events = %d, want 1", got)
	}
	for _, tt := range []struct {
		name, email string
		f           *winnow.Funnel
	}{
		{"same address in another job", "ada@example.com", other},
		{"no address", "", f},
		{"no address again", "", f},
	} {
		a, err := winnow.NewApplicant(tt.f, "Ada Lovelace", tt.email, randomHex(16), env.Clock.Now())
		if err == nil {
			err = env.Store.CreateApplicant(ctx, a, "")
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
	}
}

// testMigrateDuplicateEmails checks that the migration adding the one-invitation-per-
// address index succeeds on a database that already holds duplicates, keeps every
// applicant, and refuses new duplicates of the addresses it found.
func testMigrateDuplicateEmails(t *testing.T, e engine) {
	ctx := t.Context()
	const before = 6 // the last migration without the index
	env, f := openAt(t, e, before)
	var dups []string
	for range 3 {
		dups = append(dups, insertOldApplicant(t, env, f, "ada@example.com"))
		env.Clock.Advance(time.Second)
	}
	if err := env.DB.Migrate(ctx); err != nil {
		t.Fatalf("migrate with duplicates in place: %v", err)
	}
	if got := count(t, env, "applicants", "funnel_id = $1", f.ID); got != 3 {
		t.Fatalf("applicants after the migration = %d, want the 3 there were", got)
	}
	if got := count(t, env, "applicants", "funnel_id = $1 AND NOT duplicate_email", f.ID); got != 1 ||
		count(t, env, "applicants", "id = $1 AND NOT duplicate_email", dups[0]) != 1 {
		t.Fatal("the oldest applicant of the address is not the one kept in the index")
	}
	a, err := winnow.NewApplicant(f, "Ada Again", "ada@example.com", randomHex(16), env.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, env.Store.CreateApplicant(ctx, a, ""), winnow.ECONFLICT)
}
