package sqlstore_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"winnow/internal/sqlstore"

	"winnow"
)

// TestEmailStore runs the email, invitation and template conformance cases on SQLite
// always and on PostgreSQL when WINNOW_TEST_POSTGRES_URL is set, each on a fresh
// database, like TestStore.
func TestEmailStore(t *testing.T) {
	runSuite(t, []suiteCase{
		{"AddEmails", testAddEmails},
		{"ClaimAndFinish", testClaimAndFinish},
		{"ClaimSkips", testClaimSkips},
		{"UnknownOutcome", testUnknownOutcome},
		{"ResendExtend", testResendExtend},
		{"RequestNewLink", testRequestNewLink},
		{"Templates", testTemplates},
		{"EmailIsolation", testEmailIsolation},
	})
}

// mustAddEmails adds emails in their own transaction, as an effects function would.
func mustAddEmails(t *testing.T, env *testEnv, emails ...*winnow.Email) []*winnow.Email {
	t.Helper()
	var added []*winnow.Email
	inTx(t, env, func(tx *sqlstore.Tx) error {
		var err error
		added, err = tx.AddEmails(t.Context(), emails)
		return err
	})
	return added
}

// inTx runs fn in a transaction's view and commits it.
func inTx(t *testing.T, env *testEnv, fn func(tx *sqlstore.Tx) error) {
	t.Helper()
	if err := env.Store.WithTx(t.Context(), fn); err != nil {
		t.Fatal(err)
	}
}

// queued is a queued email of kind for a.
func queued(a *winnow.Applicant, kind winnow.EmailKind) *winnow.Email {
	return &winnow.Email{OrgID: a.OrgID, ApplicantID: a.ID, FunnelID: a.FunnelID, Kind: kind, To: a.Email, Status: winnow.EmailQueued}
}

// eventKinds returns the kinds on a's timeline, in order.
func eventKinds(t *testing.T, env *testEnv, a *winnow.Applicant) []winnow.EventKind {
	t.Helper()
	evs, err := env.Store.ListEvents(t.Context(), a.OrgID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []winnow.EventKind
	for _, ev := range evs {
		kinds = append(kinds, ev.Kind)
	}
	return kinds
}

func testAddEmails(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	a := mustApplicant(t, env, mustFunnel(t, env, org, nil), "")
	deadline := a.Deadline
	inv := queued(a, winnow.EmailInvitation)
	inv.Seq = 1
	var plan []*winnow.Email
	for i := 1; i <= 4; i++ {
		plan = append(plan, &winnow.Email{OrgID: org.ID, ApplicantID: a.ID, FunnelID: a.FunnelID, Kind: winnow.EmailReminder, Seq: i,
			To: a.Email, Status: winnow.EmailScheduled, DueAt: a.InvitedAt.Add(time.Duration(i) * 24 * time.Hour), Deadline: &deadline})
	}
	added := mustAddEmails(t, env, append([]*winnow.Email{inv}, plan...)...)
	if len(added) != 5 || added[0].ID == "" {
		t.Fatalf("added %d emails", len(added))
	}
	// The same plan again (a repeated effect) adds nothing.
	again := queued(a, winnow.EmailInvitation)
	again.Seq = 1
	if n := len(mustAddEmails(t, env, again)); n != 0 {
		t.Fatalf("repeated invitation added %d", n)
	}
	// Seq 0 takes the next number of the kind.
	resent := mustAddEmails(t, env, queued(a, winnow.EmailInvitation))
	if len(resent) != 1 || resent[0].Seq != 2 {
		t.Fatalf("resend got %+v", resent)
	}
	if got := eventKinds(t, env, a); !reflect.DeepEqual(got, []winnow.EventKind{winnow.EventInvited, winnow.EventEmailQueued, winnow.EventEmailQueued}) {
		t.Fatalf("timeline %v: one queued entry per queued email, none for scheduled reminders", got)
	}

	list, err := env.Store.ListEmails(ctx, org.ID, winnow.EmailFilter{ApplicantID: a.ID, Statuses: []winnow.EmailStatus{winnow.EmailScheduled}})
	if err != nil || len(list) != 4 {
		t.Fatalf("scheduled reminders: %d, %v", len(list), err)
	}
	if list[0].Seq != 4 || list[0].Deadline == nil || !list[0].Deadline.Equal(deadline) || !list[0].DueAt.Equal(plan[3].DueAt) {
		t.Fatalf("newest first, with deadline and due time: %+v", list[0])
	}
	got, err := env.Store.FindEmailByID(ctx, org.ID, added[0].ID)
	if err != nil || got.Kind != winnow.EmailInvitation || got.Status != winnow.EmailQueued || got.To != a.Email {
		t.Fatalf("find: %+v %v", got, err)
	}
	counts, err := env.Store.CountEmails(ctx, org.ID)
	if err != nil || counts[winnow.EmailQueued] != 2 || counts[winnow.EmailScheduled] != 4 {
		t.Fatalf("counts %v %v", counts, err)
	}
	inTx(t, env, func(tx *sqlstore.Tx) error { return tx.CancelScheduledEmails(ctx, org.ID, a.ID) })
	counts, _ = env.Store.CountEmails(ctx, org.ID)
	if counts[winnow.EmailCancelled] != 4 || counts[winnow.EmailQueued] != 2 {
		t.Fatalf("after cancel %v", counts)
	}
	_, err = env.Store.FindEmailByID(ctx, org.ID, "nope")
	wantCode(t, err, winnow.ENOTFOUND)
}

func testClaimAndFinish(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	a := mustApplicant(t, env, mustFunnel(t, env, org, nil), "")
	em := mustAddEmails(t, env, queued(a, winnow.EmailInvitation))[0]
	content := &winnow.RenderedEmail{Subject: "Hi", Text: "Hello", HTML: "<p>Hello</p>"}

	got, send, err := env.Store.ClaimEmail(ctx, org.ID, em.ID, content)
	if err != nil || !send || got.Status != winnow.EmailSending || got.Attempts != 1 || got.Subject != "Hi" {
		t.Fatalf("claim: %+v %v %v", got, send, err)
	}
	// A temporary failure puts it back in the queue with a reason.
	err = env.Store.FinishEmail(ctx, org.ID, em.ID, winnow.EmailOutcome{Status: winnow.EmailQueued, Error: "The mail server could not be reached.",
		Event: winnow.EventEmailDelayed, Message: "Invitation email delayed"})
	if err != nil {
		t.Fatal(err)
	}
	// The second attempt keeps the first content.
	got, send, err = env.Store.ClaimEmail(ctx, org.ID, em.ID, &winnow.RenderedEmail{Subject: "Other"})
	if err != nil || !send || got.Attempts != 2 || got.Subject != "Hi" {
		t.Fatalf("second claim: %+v %v %v", got, send, err)
	}
	env.Clock.Advance(time.Minute)
	if err := env.Store.FinishEmail(ctx, org.ID, em.ID, winnow.EmailOutcome{Status: winnow.EmailSent, Event: winnow.EventEmailSent, Message: "sent"}); err != nil {
		t.Fatal(err)
	}
	got, _ = env.Store.FindEmailByID(ctx, org.ID, em.ID)
	if got.Status != winnow.EmailSent || got.SentAt == nil || !got.SentAt.Equal(env.Clock.Now().Truncate(time.Microsecond)) {
		t.Fatalf("after send: %+v", got)
	}
	// A retried job finds it sent: nothing to do, nothing recorded.
	before := eventKinds(t, env, a)
	got, send, err = env.Store.ClaimEmail(ctx, org.ID, em.ID, content)
	if err != nil || send || got.Status != winnow.EmailSent || got.Attempts != 2 {
		t.Fatalf("claim after send: %+v %v %v", got, send, err)
	}
	if err := env.Store.FinishEmail(ctx, org.ID, em.ID, winnow.EmailOutcome{Status: winnow.EmailFailed, Event: winnow.EventEmailFailed}); err != nil {
		t.Fatal(err)
	}
	if after := eventKinds(t, env, a); !reflect.DeepEqual(after, before) {
		t.Fatalf("a finished email changed the timeline: %v → %v", before, after)
	}
	want := []winnow.EventKind{winnow.EventInvited, winnow.EventEmailQueued, winnow.EventEmailDelayed, winnow.EventEmailSent}
	if !reflect.DeepEqual(before, want) {
		t.Fatalf("timeline %v, want %v", before, want)
	}
}

func testClaimSkips(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	f := mustFunnel(t, env, org, nil)
	cases := []struct {
		name    string
		prepare func(a *winnow.Applicant) *winnow.Email
		want    winnow.EmailStatus
		reason  string
	}{
		{"reminder after submission", func(a *winnow.Applicant) *winnow.Email {
			now := env.Clock.Now()
			for _, fn := range []func(x *winnow.Applicant) (winnow.Event, error){
				func(x *winnow.Applicant) (winnow.Event, error) { return x.Start(now) },
				func(x *winnow.Applicant) (winnow.Event, error) { return x.Submit(now) },
			} {
				if _, err := env.Store.TransitionApplicant(ctx, a.OrgID, a.ID, fn); err != nil {
					t.Fatal(err)
				}
			}
			return reminder(a, a.Deadline)
		}, winnow.EmailSkipped, "submitted"},
		{"reminder planned under an old deadline", func(a *winnow.Applicant) *winnow.Email {
			return reminder(a, a.Deadline.Add(-time.Hour))
		}, winnow.EmailSkipped, "extended"},
		{"reminder still due", func(a *winnow.Applicant) *winnow.Email { return reminder(a, a.Deadline) }, winnow.EmailSending, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := mustApplicant(t, env, f, "")
			em := mustAddEmails(t, env, c.prepare(a))[0]
			got, send, err := env.Store.ClaimEmail(ctx, org.ID, em.ID, &winnow.RenderedEmail{Subject: "x"})
			if err != nil || got.Status != c.want || send != (c.want == winnow.EmailSending) || !strings.Contains(got.LastError, c.reason) {
				t.Fatalf("claim: status %s send %v error %q (%v)", got.Status, send, got.LastError, err)
			}
			kinds := eventKinds(t, env, a)
			if queuedEntry := kinds[len(kinds)-1] == winnow.EventEmailQueued; queuedEntry != send {
				t.Fatalf("timeline %v: a reminder that comes due is queued on the timeline, a skipped one is not", kinds)
			}
		})
	}
}

// reminder is a scheduled reminder for a, planned under deadline.
func reminder(a *winnow.Applicant, deadline time.Time) *winnow.Email {
	return &winnow.Email{OrgID: a.OrgID, ApplicantID: a.ID, FunnelID: a.FunnelID, Kind: winnow.EmailReminder, To: a.Email,
		Status: winnow.EmailScheduled, DueAt: a.InvitedAt, Deadline: &deadline}
}

func testUnknownOutcome(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	a := mustApplicant(t, env, mustFunnel(t, env, org, nil), "")
	em := mustAddEmails(t, env, queued(a, winnow.EmailInvitation))[0]
	if _, send, err := env.Store.ClaimEmail(ctx, org.ID, em.ID, &winnow.RenderedEmail{Subject: "x"}); err != nil || !send {
		t.Fatalf("claim: %v %v", send, err)
	}
	// The worker died before recording the outcome: the next claim counts an unknown
	// outcome and tries once more; the one after gives up.
	got, send, err := env.Store.ClaimEmail(ctx, org.ID, em.ID, nil)
	if err != nil || !send || got.Uncertain != 1 || got.Attempts != 2 {
		t.Fatalf("retry after unknown outcome: %+v %v %v", got, send, err)
	}
	got, send, err = env.Store.ClaimEmail(ctx, org.ID, em.ID, nil)
	if err != nil || send || got.Status != winnow.EmailUnknown || got.Attempts != 2 {
		t.Fatalf("second unknown outcome: %+v %v %v", got, send, err)
	}
	want := []winnow.EventKind{winnow.EventInvited, winnow.EventEmailQueued, winnow.EventEmailUnknown, winnow.EventEmailUnknown}
	if kinds := eventKinds(t, env, a); !reflect.DeepEqual(kinds, want) {
		t.Fatalf("timeline %v, want %v", kinds, want)
	}
	// An outcome recorded as uncertain by the worker counts the same way.
	em2 := mustAddEmails(t, env, queued(a, winnow.EmailInvitation))[0]
	env.Store.ClaimEmail(ctx, org.ID, em2.ID, &winnow.RenderedEmail{Subject: "x"})
	if err := env.Store.FinishEmail(ctx, org.ID, em2.ID, winnow.EmailOutcome{Status: winnow.EmailQueued, Uncertain: true}); err != nil {
		t.Fatal(err)
	}
	got, _ = env.Store.FindEmailByID(ctx, org.ID, em2.ID)
	if got.Uncertain != 1 || got.Status != winnow.EmailQueued {
		t.Fatalf("uncertain outcome: %+v", got)
	}
}

func testResendExtend(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	user := mustUser(t, env, org, winnow.RoleAdmin)
	f := mustFunnel(t, env, org, func(f *winnow.Funnel) {
		f.Cadence = winnow.Cadence{Reminders: []time.Duration{time.Hour}, OptOutAfter: 10 * time.Hour}
	})
	a := mustApplicant(t, env, f, "")
	env.Clock.Advance(3 * time.Hour)
	got, err := env.Store.ResendInvitation(ctx, org.ID, a.ID, user.ID)
	if err != nil || !got.Deadline.Equal(a.Deadline) {
		t.Fatalf("resend: %+v %v", got, err)
	}
	got, err = env.Store.ExtendInvitation(ctx, org.ID, a.ID, user.ID)
	if want := env.Clock.Now().Add(10 * time.Hour).Truncate(time.Microsecond); err != nil || !got.Deadline.Equal(want) {
		t.Fatalf("extend: deadline %v, want %v (%v)", got.Deadline, want, err)
	}
	evs, _ := env.Store.ListEvents(ctx, org.ID, a.ID)
	if len(evs) != 3 || evs[1].Kind != winnow.EventInvitationResent || evs[2].Kind != winnow.EventInvitationExtended || evs[2].ActorID != user.ID {
		t.Fatalf("timeline %+v", evs)
	}
	if _, err := env.Store.TransitionApplicant(ctx, org.ID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) {
		return x.OptOut(env.Clock.Now(), "declined")
	}); err != nil {
		t.Fatal(err)
	}
	_, err = env.Store.ResendInvitation(ctx, org.ID, a.ID, user.ID)
	wantCode(t, err, winnow.ECONFLICT)
	_, err = env.Store.ExtendInvitation(ctx, org.ID, a.ID, user.ID)
	wantCode(t, err, winnow.ECONFLICT)
	_, err = env.Store.ExtendInvitation(ctx, org.ID, "nope", user.ID)
	wantCode(t, err, winnow.ENOTFOUND)
}

func testRequestNewLink(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	orgA, orgB := mustOrg(t, env), mustOrg(t, env)
	fa, fb := mustFunnel(t, env, orgA, nil), mustFunnel(t, env, orgB, nil)
	newApplicantAt := func(f *winnow.Funnel, email string, invited time.Time) *winnow.Applicant {
		a, err := winnow.NewApplicant(f, "Ada", email, randomHex(16), invited)
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Store.CreateApplicant(ctx, a, ""); err != nil {
			t.Fatal(err)
		}
		return a
	}
	newApplicant := func(f *winnow.Funnel, email string) *winnow.Applicant {
		return newApplicantAt(f, email, env.Clock.Now())
	}
	a1, a2 := newApplicant(fa, "ada@example.com"), newApplicant(fb, "ada@example.com")
	// The same address in other jobs of org A (one applicant per address and job).
	// Invited 500 h ago: the 420 h deadline has passed, the opt-out job not yet run.
	expired := newApplicantAt(mustFunnel(t, env, orgA, nil), "ada@example.com", env.Clock.Now().Add(-500*time.Hour))
	// Invited 60 days ago: ended too long ago to be told of.
	stale := newApplicantAt(mustFunnel(t, env, orgA, nil), "ada@example.com", env.Clock.Now().Add(-60*24*time.Hour))
	done := newApplicant(mustFunnel(t, env, orgA, nil), "ada@example.com")
	if _, err := env.Store.TransitionApplicant(ctx, orgA.ID, done.ID, func(x *winnow.Applicant) (winnow.Event, error) {
		return x.OptOut(env.Clock.Now(), "declined")
	}); err != nil {
		t.Fatal(err)
	}

	if err := env.Store.RequestNewLink(ctx, "  ADA@example.com "); err != nil {
		t.Fatal(err)
	}
	for _, a := range []*winnow.Applicant{a1, a2} {
		if kinds := eventKinds(t, env, a); kinds[len(kinds)-1] != winnow.EventNewLinkRequested {
			t.Fatalf("applicant in org %s: timeline %v", a.OrgID, kinds)
		}
	}
	// Ended invitations get no link, only a note of the late interest for the team.
	for _, a := range []*winnow.Applicant{done, expired} {
		if kinds := eventKinds(t, env, a); kinds[len(kinds)-1] != winnow.EventLateLinkRequested {
			t.Fatalf("ended invitation: timeline %v", kinds)
		}
	}
	if kinds := eventKinds(t, env, stale); kinds[len(kinds)-1] != winnow.EventInvited {
		t.Fatalf("an invitation ended long ago heard of the request: %v", kinds)
	}

	// Known and unknown addresses hit the same limit, so the answer reveals nothing.
	for _, addr := range []string{"ada@example.com", "nobody@example.com"} {
		t.Run(addr, func(t *testing.T) {
			n := 1
			if addr != "ada@example.com" {
				n = 0
			}
			for ; n < 3; n++ {
				if err := env.Store.RequestNewLink(ctx, addr); err != nil {
					t.Fatalf("request %d: %v", n+1, err)
				}
			}
			wantCode(t, env.Store.RequestNewLink(ctx, addr), winnow.ERATELIMITED)
		})
	}
	env.Clock.Advance(time.Hour + time.Second)
	if err := env.Store.RequestNewLink(ctx, "nobody@example.com"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	wantCode(t, env.Store.RequestNewLink(ctx, "not an address"), winnow.EINVALID)
}

func testTemplates(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	f := mustFunnel(t, env, org, nil)

	got, err := env.Store.FindTemplate(ctx, org.ID, f.ID, winnow.EmailInvitation)
	if err != nil || got.Source != winnow.SourceDefault || got.Subject != winnow.DefaultTemplate(org.ID, winnow.EmailInvitation).Subject {
		t.Fatalf("default: %+v %v", got, err)
	}
	orgT := &winnow.Template{OrgID: org.ID, Kind: winnow.EmailInvitation, Subject: "Org {{.JobTitle}}", Body: "Org body {{.Link}}", UpdatedBy: "u1"}
	if err := env.Store.SaveTemplate(ctx, orgT); err != nil {
		t.Fatal(err)
	}
	funnelT := &winnow.Template{OrgID: org.ID, FunnelID: f.ID, Kind: winnow.EmailInvitation, Subject: "Job", Body: "Job body"}
	if err := env.Store.SaveTemplate(ctx, funnelT); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		funnel string
		want   string
		source winnow.TemplateSource
	}{
		{"the job's own", f.ID, "Job", winnow.SourceFunnel},
		{"org level", "", "Org {{.JobTitle}}", winnow.SourceOrg},
		{"another job falls back to the org's", "other-job", "Org {{.JobTitle}}", winnow.SourceOrg},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := env.Store.FindTemplate(ctx, org.ID, c.funnel, winnow.EmailInvitation)
			if err != nil || got.Subject != c.want || got.Source != c.source {
				t.Fatalf("got %+v %v", got, err)
			}
		})
	}
	// Saving again replaces; closing messages stay off unless switched on.
	orgT.Body = "Second {{.Link}}"
	if err := env.Store.SaveTemplate(ctx, orgT); err != nil {
		t.Fatal(err)
	}
	closing := &winnow.Template{OrgID: org.ID, Kind: winnow.EmailQualified, Subject: "Yes", Body: "Welcome", Enabled: true}
	if err := env.Store.SaveTemplate(ctx, closing); err != nil {
		t.Fatal(err)
	}
	list, err := env.Store.ListTemplates(ctx, org.ID, "")
	if err != nil || len(list) != len(winnow.EmailKinds) {
		t.Fatalf("list: %d %v", len(list), err)
	}
	if list[0].Body != "Second {{.Link}}" || list[4].Kind != winnow.EmailQualified || !list[4].Enabled || list[5].Enabled {
		t.Fatalf("list %+v %+v %+v", list[0], list[4], list[5])
	}
	jobList, _ := env.Store.ListTemplates(ctx, org.ID, f.ID)
	candidateKinds := 0
	for _, k := range winnow.EmailKinds {
		if k.ForCandidates() {
			candidateKinds++
		}
	}
	if len(jobList) != candidateKinds || jobList[0].Source != winnow.SourceFunnel {
		t.Fatalf("job list has %d, first from %s", len(jobList), jobList[0].Source)
	}
	inTx(t, env, func(tx *sqlstore.Tx) error {
		for kind, want := range map[winnow.EmailKind]bool{winnow.EmailQualified: true, winnow.EmailUnqualified: false, winnow.EmailReminder: true} {
			if on, err := tx.TemplateEnabled(ctx, org.ID, f.ID, kind); err != nil || on != want {
				t.Errorf("%s enabled = %v (%v), want %v", kind, on, err, want)
			}
		}
		return nil
	})
	if err := env.Store.DeleteTemplate(ctx, org.ID, f.ID, winnow.EmailInvitation); err != nil {
		t.Fatal(err)
	}
	if got, _ := env.Store.FindTemplate(ctx, org.ID, f.ID, winnow.EmailInvitation); got.Source != winnow.SourceOrg {
		t.Fatalf("after deleting the job's own: %s", got.Source)
	}
	bad := &winnow.Template{OrgID: org.ID, Kind: winnow.EmailInvitation, Subject: "x", Body: "a\n{{.Nope}}"}
	err = env.Store.SaveTemplate(ctx, bad)
	wantCode(t, err, winnow.EINVALID)
	if !strings.Contains(winnow.ErrorMessage(err), "line 2") {
		t.Fatalf("message %q does not name the line", winnow.ErrorMessage(err))
	}
	err = env.Store.SaveTemplate(ctx, &winnow.Template{OrgID: org.ID, FunnelID: "nope", Kind: winnow.EmailInvitation, Subject: "x", Body: "y"})
	wantCode(t, err, winnow.ENOTFOUND)
}

func testEmailIsolation(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	a, b := mustTenant(t, env), mustTenant(t, env)
	emailOf := func(tn *tenant) *winnow.Email {
		return mustAddEmails(t, env, queued(tn.applicant, winnow.EmailInvitation), reminder(tn.applicant, tn.applicant.Deadline))[0]
	}
	ea, eb := emailOf(a), emailOf(b)
	for _, tn := range []*tenant{a, b} {
		err := env.Store.SaveTemplate(ctx, &winnow.Template{OrgID: tn.org.ID, FunnelID: tn.funnel.ID, Kind: winnow.EmailReminder,
			Subject: "Job of " + tn.org.Name, Body: "b"})
		if err != nil {
			t.Fatal(err)
		}
	}
	snap := func(tn *tenant) []any {
		emails, err1 := env.Store.ListEmails(ctx, tn.org.ID, winnow.EmailFilter{})
		counts, err2 := env.Store.CountEmails(ctx, tn.org.ID)
		tmpls, err3 := env.Store.ListTemplates(ctx, tn.org.ID, tn.funnel.ID)
		events, err4 := env.Store.ListEvents(ctx, tn.org.ID, tn.applicant.ID)
		for _, err := range []error{err1, err2, err3, err4} {
			if err != nil {
				t.Fatal(err)
			}
		}
		return []any{emails, counts, tmpls, events}
	}
	before := snap(b)

	notFound := []struct {
		name string
		run  func() error
	}{
		{"FindEmailByID", func() error { _, err := env.Store.FindEmailByID(ctx, a.org.ID, eb.ID); return err }},
		{"ClaimEmail", func() error { _, _, err := env.Store.ClaimEmail(ctx, a.org.ID, eb.ID, nil); return err }},
		{"FinishEmail", func() error {
			return env.Store.FinishEmail(ctx, a.org.ID, eb.ID, winnow.EmailOutcome{Status: winnow.EmailSent})
		}},
		{"ResendInvitation", func() error {
			_, err := env.Store.ResendInvitation(ctx, a.org.ID, b.applicant.ID, a.admin.ID)
			return err
		}},
		{"ExtendInvitation", func() error {
			_, err := env.Store.ExtendInvitation(ctx, a.org.ID, b.applicant.ID, a.admin.ID)
			return err
		}},
		{"SaveTemplate for their job", func() error {
			return env.Store.SaveTemplate(ctx, &winnow.Template{OrgID: a.org.ID, FunnelID: b.funnel.ID, Kind: winnow.EmailReminder, Subject: "x", Body: "y"})
		}},
	}
	for _, tt := range notFound {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.run(), winnow.ENOTFOUND) })
	}
	t.Run("FindTemplate of their job", func(t *testing.T) {
		got, err := env.Store.FindTemplate(ctx, a.org.ID, b.funnel.ID, winnow.EmailReminder)
		if err != nil || got.Source != winnow.SourceDefault || got.OrgID != a.org.ID {
			t.Fatalf("got %+v %v; want org A's default, never org B's job template", got, err)
		}
	})
	t.Run("ListEmails", func(t *testing.T) {
		list, err := env.Store.ListEmails(ctx, a.org.ID, winnow.EmailFilter{ApplicantID: b.applicant.ID})
		if err != nil || len(list) != 0 {
			t.Fatalf("org A sees %d of org B's emails (%v)", len(list), err)
		}
		list, _ = env.Store.ListEmails(ctx, a.org.ID, winnow.EmailFilter{})
		if len(list) != 2 || (list[0].ID != ea.ID && list[1].ID != ea.ID) {
			t.Fatalf("org A's list %+v", list)
		}
	})
	t.Run("EmailAddresses", func(t *testing.T) {
		if to, err := env.Store.EmailAddresses(ctx, a.org.ID, b.applicant.ID); err != nil || len(to) != 0 {
			t.Fatalf("org A sees where org B's emails went: %v (%v)", to, err)
		}
		if to, err := env.Store.EmailAddresses(ctx, b.org.ID, b.applicant.ID); err != nil || to[eb.ID] != b.applicant.Email {
			t.Fatalf("org B's own: %v (%v), want %s for %s", to, err, b.applicant.Email, eb.ID)
		}
	})
	t.Run("writes aimed at the other org", func(t *testing.T) {
		inTx(t, env, func(tx *sqlstore.Tx) error { return tx.CancelScheduledEmails(ctx, a.org.ID, b.applicant.ID) })
		if err := env.Store.DeleteTemplate(ctx, a.org.ID, b.funnel.ID, winnow.EmailReminder); err != nil {
			t.Fatal(err)
		}
		// An email for their applicant under our org breaks the composite key.
		forged := queued(b.applicant, winnow.EmailInvitation)
		forged.OrgID = a.org.ID
		err := env.Store.WithTx(ctx, func(tx *sqlstore.Tx) error {
			_, err := tx.AddEmails(ctx, []*winnow.Email{forged})
			return err
		})
		if err == nil {
			t.Fatal("an email for another org's applicant was stored")
		}
	})
	if after := snap(b); !reflect.DeepEqual(after, before) {
		t.Fatalf("org B changed:\nbefore %+v\n after %+v", before, after)
	}
}
