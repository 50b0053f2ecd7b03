package sqlstore_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"winnow"
)

// TestStoreInsights runs the insights conformance cases on both engines.
func TestStoreInsights(t *testing.T) {
	runSuite(t, []suiteCase{
		{"JobInsights", testJobInsights},
		{"JobInsightsEmptyAndOne", testJobInsightsEmptyAndOne},
		{"OrgInsights", testOrgInsights},
		{"InsightsIsolation", testInsightsIsolation},
		{"MigrateInsights", testMigrateInsights},
	})
}

// insightsFunnel is an open job with a questions step (two knockouts, one plain
// question) and a homework step.
func insightsFunnel(t *testing.T, env *testEnv, org *winnow.Org) *winnow.Funnel {
	three := 3.0
	return mustFunnel(t, env, org, func(f *winnow.Funnel) {
		f.Cadence = winnow.DefaultCadence()
		f.Steps = []winnow.Step{
			{ID: "s1", Kind: winnow.StepQuestions, Title: "Basics", Questions: []winnow.Question{
				{ID: "q1", Text: "Can you work in the EU?", Type: winnow.QuestionYesNo,
					Knockout: &winnow.Knockout{Answer: "yes", Reason: "Needs EU work permit"}},
				{ID: "q2", Text: "Years of Go?", Type: winnow.QuestionNumber,
					Knockout: &winnow.Knockout{Min: &three, Reason: "Needs three years of Go"}},
				{ID: "q3", Text: "Anything else?", Type: winnow.QuestionShortText},
			}},
			{ID: "s2", Kind: winnow.StepHomework, Title: "Homework",
				Homework: &winnow.Homework{Instructions: "Write a parser.", AcceptText: true}},
		}
	})
}

// insightsWorld drives applicants of a job through the store as the candidate and
// recruiter pages do, on a clock the test moves.
type insightsWorld struct {
	t   *testing.T
	env *testEnv
	f   *winnow.Funnel
}

func (w insightsWorld) invite(at time.Time) *winnow.Applicant {
	w.env.Clock.Set(at)
	return mustApplicant(w.t, w.env, w.f, "")
}

func (w insightsWorld) move(a *winnow.Applicant, at time.Time, fn func(*winnow.Applicant, time.Time) (winnow.Event, error)) {
	w.t.Helper()
	w.env.Clock.Set(at)
	if _, err := w.env.Store.TransitionApplicant(w.t.Context(), a.OrgID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) {
		return fn(x, at)
	}); err != nil {
		w.t.Fatalf("move applicant at %s: %v", at, err)
	}
}

func (w insightsWorld) start(a *winnow.Applicant, at time.Time) {
	w.move(a, at, func(x *winnow.Applicant, now time.Time) (winnow.Event, error) { return x.Start(now) })
}

func (w insightsWorld) submit(a *winnow.Applicant, at time.Time) {
	w.move(a, at, func(x *winnow.Applicant, now time.Time) (winnow.Event, error) { return x.Submit(now) })
}

func (w insightsWorld) decide(a *winnow.Applicant, at time.Time, outcome string) {
	w.move(a, at, func(x *winnow.Applicant, now time.Time) (winnow.Event, error) {
		return x.Decide(now, outcome, "Not a fit", "")
	})
}

func (w insightsWorld) optOut(a *winnow.Applicant, at time.Time) {
	w.move(a, at, func(x *winnow.Applicant, now time.Time) (winnow.Event, error) {
		return x.OptOut(now, "changed my mind")
	})
}

// answer saves the applicant's step; completed says whether the step was completed.
func (w insightsWorld) answer(a *winnow.Applicant, at time.Time, step string, qs map[string][]string, completed bool) {
	w.t.Helper()
	w.env.Clock.Set(at)
	ans := &winnow.StepAnswer{OrgID: a.OrgID, ApplicantID: a.ID, StepID: step, Questions: qs}
	if step == "s2" {
		ans.Text = "My parser"
	}
	if completed {
		ans.CompletedAt = &at
	}
	if _, err := w.env.Store.SaveStepAnswer(w.t.Context(), ans); err != nil {
		w.t.Fatalf("save answer: %v", err)
	}
}

// passBasics completes the questions step with answers that pass.
func (w insightsWorld) passBasics(a *winnow.Applicant, at time.Time) {
	w.answer(a, at, "s1", map[string][]string{"q1": {"yes"}, "q2": {"5"}}, true)
}

func (w insightsWorld) review(a *winnow.Applicant, reviewer *winnow.User, score int) {
	w.t.Helper()
	if err := w.env.Store.SaveReview(w.t.Context(), &winnow.Review{OrgID: a.OrgID, ApplicantID: a.ID,
		ReviewerID: reviewer.ID, Score: score, Comment: "ok"}); err != nil {
		w.t.Fatalf("save review: %v", err)
	}
}

// sentReminder records a reminder email sent to the applicant at at, as the email
// worker leaves it.
func (w insightsWorld) sentReminder(a *winnow.Applicant, seq int, at time.Time) {
	w.t.Helper()
	_, err := w.env.DB.SQL().ExecContext(w.t.Context(), `INSERT INTO emails (id, org_id, applicant_id, funnel_id, kind, seq,
		to_address, status, due_at, created_at, updated_at, sent_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9, $9)`,
		randomHex(8), a.OrgID, a.ID, a.FunnelID, string(winnow.EmailReminder), seq, a.Email, string(winnow.EmailSent), at.UTC())
	if err != nil {
		w.t.Fatalf("record reminder: %v", err)
	}
}

// mustJobInsights returns the job's insights for p.
func mustJobInsights(t *testing.T, env *testEnv, f *winnow.Funnel, p winnow.Period) *winnow.JobInsights {
	t.Helper()
	in, err := env.Store.JobInsights(t.Context(), f.OrgID, f, p)
	if err != nil {
		t.Fatalf("job insights: %v", err)
	}
	return in
}

func wantEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v\nwant %+v", what, got, want)
	}
}

func testJobInsights(t *testing.T, e engine) {
	env := open(t, e)
	org := mustOrg(t, env)
	r1, r2 := mustUser(t, env, org, winnow.RoleMember), mustUser(t, env, org, winnow.RoleMember)
	f := insightsFunnel(t, env, org)
	w := insightsWorld{t, env, f}
	day := 24 * time.Hour
	t0 := time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC)
	deadline := t0.Add(420 * time.Hour)

	// A never starts; the deadline passes.
	a := w.invite(t0)
	w.optOut(a, deadline.Add(time.Minute))
	// B completes the questions, then declines in the homework.
	b := w.invite(t0)
	w.start(b, t0.Add(time.Hour))
	w.passBasics(b, t0.Add(2*time.Hour))
	w.optOut(b, t0.Add(3*time.Hour))
	// C fails the first knockout.
	c := w.invite(t0)
	w.start(c, t0.Add(2*time.Hour))
	w.answer(c, t0.Add(3*time.Hour), "s1", map[string][]string{"q1": {"no"}}, false)
	w.move(c, t0.Add(3*time.Hour), func(x *winnow.Applicant, now time.Time) (winnow.Event, error) {
		return x.Disqualify(now, "Needs EU work permit", "")
	})
	// D starts after a reminder, submits, splits the reviewers and is turned down
	// although they averaged 3 of 4.
	d := w.invite(t0)
	w.sentReminder(d, 1, t0.Add(2*day))
	w.start(d, t0.Add(3*day))
	w.answer(d, t0.Add(3*day+time.Hour), "s1", map[string][]string{"q1": {"yes"}, "q2": {"4"}, "q3": {"Hi"}}, true)
	w.answer(d, t0.Add(3*day+time.Hour), "s2", nil, true)
	w.submit(d, t0.Add(3*day+2*time.Hour))
	w.review(d, r1, 4)
	w.review(d, r2, 2)
	w.decide(d, t0.Add(4*day+2*time.Hour), "unqualified")
	// E completes the questions and lets the deadline pass in the homework.
	e2 := w.invite(t0)
	w.start(e2, t0.Add(4*time.Hour))
	w.passBasics(e2, t0.Add(5*time.Hour))
	w.answer(e2, t0.Add(6*time.Hour), "s2", nil, false)
	w.optOut(e2, deadline)
	// F goes through quickly and is qualified.
	g := w.invite(t0)
	w.start(g, t0.Add(time.Hour))
	w.passBasics(g, t0.Add(time.Hour+10*time.Minute))
	w.answer(g, t0.Add(time.Hour+20*time.Minute), "s2", nil, true)
	w.submit(g, t0.Add(time.Hour+30*time.Minute))
	w.review(g, r1, 3)
	w.decide(g, t0.Add(2*day+time.Hour+30*time.Minute), "qualified")
	// Invited outside the period: counted in the previous one only.
	before := w.invite(t0.Add(-3 * day))
	w.start(before, t0.Add(-2*day))

	p := winnow.Period{From: t0.Truncate(day), To: t0.Truncate(day).Add(day)}
	in := mustJobInsights(t, env, f, p)
	wantEqual(t, "funnel", in.Funnel, winnow.FunnelCounts{Invited: 6, Started: 5, Submitted: 2, Decided: 2,
		Qualified: 1, KnockedOut: 1, Declined: 1, DeadlinePassed: 2})
	wantEqual(t, "steps", in.Steps, []winnow.StepInsight{
		{ID: "s1", Title: "Basics", Reached: 5, KnockedOut: 1},
		{ID: "s2", Title: "Homework", Reached: 4, StoppedHere: 2, Declined: 1, DeadlinePassed: 1},
	})
	wantEqual(t, "questions", in.Questions, []winnow.QuestionInsight{
		{ID: "q1", StepID: "s1", Text: "Can you work in the EU?", Knockout: true, Answered: 5, KnockedOut: 1},
		{ID: "q2", StepID: "s1", Text: "Years of Go?", Knockout: true, Answered: 4},
		{ID: "q3", StepID: "s1", Text: "Anything else?", Answered: 1},
	})
	// Starts after 1h, 1h, 2h, 4h and 3 days; submissions 30 min and 2h after the
	// start; decisions 1 and 2 days after the submission.
	wantEqual(t, "time to start", in.TimeToStart, winnow.Durations{Count: 5, Median: 7200, P90: 259200})
	wantEqual(t, "time to submit", in.TimeToSubmit, winnow.Durations{Count: 2, Median: 1800, P90: 7200})
	wantEqual(t, "time to decide", in.TimeToDecide, winnow.Durations{Count: 2, Median: 86400, P90: 172800})
	wantEqual(t, "starts after reminders", in.StartsAfterReminders, []winnow.ReminderStarts{{Reminders: 0, Started: 4}, {Reminders: 1, Started: 1}})
	wantEqual(t, "reviews", in.Reviews, winnow.ReviewInsights{
		Reviewers: []winnow.ReviewerInsight{
			{ID: r1.ID, Name: r1.Name, Scores: 2, AverageScore: 3.5},
			{ID: r2.ID, Name: r2.Name, Scores: 1, AverageScore: 2},
		},
		Reviewed:         2,
		Disagreements:    []winnow.SpreadCount{{Spread: 2, Applicants: 1}},
		DecisionsAgainst: 1,
	})

	prev := mustJobInsights(t, env, f, winnow.Period{From: p.From.Add(-3 * day), To: p.From})
	wantEqual(t, "previous funnel", prev.Funnel, winnow.FunnelCounts{Invited: 1, Started: 1})
	wantEqual(t, "previous time to start", prev.TimeToStart, winnow.Durations{Count: 1, Median: 86400, P90: 86400})

	// A range is counted by the days it touches: an hour of the day counts its day.
	hour := mustJobInsights(t, env, f, winnow.Period{From: t0, To: t0.Add(time.Hour)})
	wantEqual(t, "an hour's funnel", hour.Funnel, in.Funnel)
	wantEqual(t, "an hour's period", hour.Period, p)

	// Past exactLimit timed applicants, percentiles come from the buckets: at most 5 %
	// below the exact figures.
	env.Store.SetInsightsExactLimit(-1)
	approx := mustJobInsights(t, env, f, p)
	for _, c := range []struct {
		name      string
		got, want winnow.Durations
	}{{"start", approx.TimeToStart, in.TimeToStart}, {"submit", approx.TimeToSubmit, in.TimeToSubmit}, {"decide", approx.TimeToDecide, in.TimeToDecide}} {
		for _, v := range [][2]int64{{c.got.Median, c.want.Median}, {c.got.P90, c.want.P90}} {
			if c.got.Count != c.want.Count || v[0] > v[1] || float64(v[0]) < 0.95*float64(v[1]) {
				t.Errorf("time to %s from buckets = %+v; want within 5 %% below %+v", c.name, c.got, c.want)
			}
		}
	}
	env.Store.SetInsightsExactLimit(0)
	wantEqual(t, "funnel after the buckets", approx.Funnel, in.Funnel)

	// Recounting the days from the per-applicant rows gives the same figures.
	if err := env.Store.RebuildInsightDays(t.Context(), org.ID, f.ID); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	wantEqual(t, "after a rebuild", mustJobInsights(t, env, f, p), in)

	for _, bad := range []winnow.Period{{}, {From: t0, To: t0}, {From: t0, To: t0.Add(-time.Hour)}} {
		_, err := env.Store.JobInsights(t.Context(), org.ID, f, bad)
		wantCode(t, err, winnow.EINVALID)
	}
}

func testJobInsightsEmptyAndOne(t *testing.T, e engine) {
	env := open(t, e)
	org := mustOrg(t, env)
	empty := insightsFunnel(t, env, org)
	t0 := time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC)
	p := winnow.Period{From: t0.Truncate(24 * time.Hour), To: t0.Truncate(24 * time.Hour).Add(24 * time.Hour)}
	in := mustJobInsights(t, env, empty, p)
	wantEqual(t, "empty", in, &winnow.JobInsights{Period: p,
		Steps: []winnow.StepInsight{{ID: "s1", Title: "Basics"}, {ID: "s2", Title: "Homework"}},
		Questions: []winnow.QuestionInsight{
			{ID: "q1", StepID: "s1", Text: "Can you work in the EU?", Knockout: true},
			{ID: "q2", StepID: "s1", Text: "Years of Go?", Knockout: true},
			{ID: "q3", StepID: "s1", Text: "Anything else?"},
		},
		StartsAfterReminders: []winnow.ReminderStarts{},
		Reviews:              winnow.ReviewInsights{Reviewers: []winnow.ReviewerInsight{}, Disagreements: []winnow.SpreadCount{}},
	})

	one := insightsFunnel(t, env, org)
	w := insightsWorld{t, env, one}
	a := w.invite(t0)
	in = mustJobInsights(t, env, one, p)
	wantEqual(t, "one invited", in.Funnel, winnow.FunnelCounts{Invited: 1})
	wantEqual(t, "one invited, time to start", in.TimeToStart, winnow.Durations{})
	w.start(a, t0.Add(90*time.Second))
	w.passBasics(a, t0.Add(2*time.Minute))
	in = mustJobInsights(t, env, one, p)
	wantEqual(t, "one started", in.Funnel, winnow.FunnelCounts{Invited: 1, Started: 1})
	wantEqual(t, "one started, time to start", in.TimeToStart, winnow.Durations{Count: 1, Median: 90, P90: 90})
	wantEqual(t, "one started, steps", in.Steps, []winnow.StepInsight{
		{ID: "s1", Title: "Basics", Reached: 1}, {ID: "s2", Title: "Homework", Reached: 1}})
}

func testOrgInsights(t *testing.T, e engine) {
	env := open(t, e)
	org := mustOrg(t, env)
	fast, slow, hidden := insightsFunnel(t, env, org), insightsFunnel(t, env, org), insightsFunnel(t, env, org)
	// Monday 5 October 2026 and the week after.
	wk1 := time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC)
	wk2 := wk1.AddDate(0, 0, 7)
	wf, ws, wh := insightsWorld{t, env, fast}, insightsWorld{t, env, slow}, insightsWorld{t, env, hidden}
	for i := 0; i < 2; i++ {
		a := wf.invite(wk1)
		wf.start(a, wk1.Add(time.Hour))
		wf.passBasics(a, wk1.Add(2*time.Hour))
		wf.answer(a, wk1.Add(2*time.Hour), "s2", nil, true)
		wf.submit(a, wk2.Add(time.Hour)) // submitted in the second week
		if i == 0 {
			wf.decide(a, wk2.Add(5*time.Hour), "qualified")
		}
	}
	ws.invite(wk1)
	b := ws.invite(wk2)
	ws.start(b, wk2.Add(3*time.Hour))
	wh.invite(wk2) // on a job the user may not see

	// From Wednesday of the first week: the weeks start on its Monday, and count what
	// happened in them; the jobs and stages count the applicants invited in the range.
	p := winnow.Period{From: wk1.AddDate(0, 0, 2), To: time.Date(2026, 10, 19, 0, 0, 0, 0, time.UTC)}
	in, err := env.Store.OrgInsights(t.Context(), org.ID, []*winnow.Funnel{fast, slow}, p)
	if err != nil {
		t.Fatalf("org insights: %v", err)
	}
	monday := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
	wantEqual(t, "weeks", in.Weeks, []winnow.WeekCounts{
		{Week: monday, Invited: 3},
		{Week: monday.AddDate(0, 0, 7), Invited: 1, Completed: 2, Qualified: 1},
	})
	wantEqual(t, "jobs from Wednesday", in.Jobs, []winnow.JobRate{{FunnelID: slow.ID, Title: slow.Title, Invited: 1}})
	p.From = wk1
	in, err = env.Store.OrgInsights(t.Context(), org.ID, []*winnow.Funnel{fast, slow}, p)
	if err != nil {
		t.Fatalf("org insights: %v", err)
	}
	wantEqual(t, "jobs", in.Jobs, []winnow.JobRate{
		{FunnelID: fast.ID, Title: fast.Title, Invited: 2, Completed: 2},
		{FunnelID: slow.ID, Title: slow.Title, Invited: 2},
	})
	wantEqual(t, "stages", in.Stages, []winnow.StageTime{
		{Stage: "start", Label: "Invitation to start", Times: winnow.Durations{Count: 3, Median: 3600, P90: 10800}},
		{Stage: "submit", Label: "Start to submission", Times: winnow.Durations{Count: 2, Median: 7 * 86400, P90: 7 * 86400}},
		{Stage: "decide", Label: "Submission to decision", Times: winnow.Durations{Count: 1, Median: 4 * 3600, P90: 4 * 3600}},
	})
	if in.Slowest != "submit" {
		t.Errorf("slowest = %q, want submit", in.Slowest)
	}
	none, err := env.Store.OrgInsights(t.Context(), org.ID, nil, p)
	if err != nil || len(none.Jobs) != 0 || none.Weeks[0].Invited != 0 || none.Slowest != "" {
		t.Fatalf("no jobs: %+v, %v; want nothing counted", none, err)
	}
}

func testInsightsIsolation(t *testing.T, e engine) {
	env := open(t, e)
	org, other := mustOrg(t, env), mustOrg(t, env)
	f := insightsFunnel(t, env, org)
	t0 := time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC)
	insightsWorld{t, env, f}.invite(t0)
	p := winnow.Period{From: t0.Add(-time.Hour), To: t0.Add(time.Hour)}
	_, err := env.Store.JobInsights(t.Context(), other.ID, f, p)
	wantCode(t, err, winnow.ENOTFOUND)
	in, err := env.Store.OrgInsights(t.Context(), other.ID, []*winnow.Funnel{f}, p)
	if err != nil || len(in.Jobs) != 0 || in.Weeks[0].Invited != 0 {
		t.Fatalf("other org's overview: %+v, %v; want nothing of this org", in, err)
	}
	// A job passed with the wrong org is not counted even if its ID is known.
	forged := *f
	forged.OrgID = other.ID
	in2, err := env.Store.JobInsights(t.Context(), other.ID, &forged, p)
	if err != nil || in2.Funnel.Invited != 0 {
		t.Fatalf("forged job: %+v, %v; want nothing counted", in2, err)
	}
}

// testMigrateInsights checks that the insights migration counts the applicants an
// older database already holds, as the store would have.
func testMigrateInsights(t *testing.T, e engine) {
	ctx := t.Context()
	env, f := openAt(t, e, 13) // the last migration before the rollup
	reviewer := mustUser(t, env, &winnow.Org{ID: f.OrgID}, winnow.RoleMember)
	steps, err := json.Marshal(f.Steps)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC)
	h := time.Hour
	db := env.DB.SQL()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	insert := `INSERT INTO applicants (id, org_id, funnel_id, name, email, status, token, invited_at, started_at,
		submitted_at, decided_at, deadline, created_at, updated_at, steps) VALUES ($1, $2, $3, 'Ada', $4, $5, $6, $7, $8, $9, $10, $11, $7, $12, $13)`
	exec(insert, "old-qualified", f.OrgID, f.ID, "a@example.com", "qualified", randomHex(16), t0, t0.Add(h), t0.Add(2*h), t0.Add(3*h),
		t0.Add(420*h), t0.Add(3*h), string(steps))
	exec(`INSERT INTO step_answers (org_id, applicant_id, step_id, questions, completed_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
		f.OrgID, "old-qualified", f.Steps[0].ID, `{"q1": ["yes"]}`, t0.Add(90*time.Minute))
	exec(`INSERT INTO reviews (id, org_id, applicant_id, reviewer_id, score, created_at, updated_at) VALUES ($1, $2, $3, $4, 3, $5, $5)`,
		randomHex(8), f.OrgID, "old-qualified", reviewer.ID, t0.Add(2*h))
	exec(insert, "old-late", f.OrgID, f.ID, "b@example.com", "opted_out", randomHex(16), t0, nil, nil, nil,
		t0.Add(420*h), t0.Add(420*h), string(steps))
	exec(`INSERT INTO applicant_events (id, org_id, applicant_id, kind, from_status, to_status, at) VALUES ($1, $2, $3, 'opted_out', 'invited', 'opted_out', $4)`,
		randomHex(8), f.OrgID, "old-late", t0.Add(420*h))
	if err := env.DB.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	day := t0.Truncate(24 * h)
	in := mustJobInsights(t, env, f, winnow.Period{From: day, To: day.Add(24 * h)})
	wantEqual(t, "funnel", in.Funnel, winnow.FunnelCounts{Invited: 2, Started: 1, Submitted: 1, Decided: 1, Qualified: 1, DeadlinePassed: 1})
	wantEqual(t, "questions", in.Questions, []winnow.QuestionInsight{{ID: "q1", StepID: "s1", Text: "Can you work in the EU?", Knockout: true, Answered: 1}})
	wantEqual(t, "time to start", in.TimeToStart, winnow.Durations{Count: 1, Median: 3600, P90: 3600})
	wantEqual(t, "reviewers", in.Reviews.Reviewers, []winnow.ReviewerInsight{{ID: reviewer.ID, Name: reviewer.Name, Scores: 1, AverageScore: 3}})
}
