package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"winnow"
	"winnow/internal/dbtest"
)

// insightsJob creates an open job of org with a questions step (two knockouts and a
// plain question) and a homework step, reviewed by team.
func insightsJob(t testing.TB, m *Main, orgID, title string, team ...string) *winnow.Funnel {
	t.Helper()
	three := 3.0
	f := &winnow.Funnel{OrgID: orgID, Title: title, Status: winnow.FunnelOpen, Team: team, Cadence: winnow.DefaultCadence(),
		Steps: []winnow.Step{
			{Kind: winnow.StepQuestions, Title: "Basics", Questions: []winnow.Question{
				{Text: "Can you work in the US?", Type: winnow.QuestionYesNo,
					Knockout: &winnow.Knockout{Answer: "yes", Reason: "Requires work authorization in the US"}},
				{Text: "Years of field experience?", Type: winnow.QuestionNumber,
					Knockout: &winnow.Knockout{Min: &three, Reason: "Needs three years in the field"}},
				{Text: "Where did you hear about us?", Type: winnow.QuestionShortText},
			}},
			{Kind: winnow.StepHomework, Title: "Site plan", Homework: &winnow.Homework{Instructions: "Plan a site visit.", AcceptText: true}},
		}}
	if err := m.Store.CreateFunnel(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	return f
}

// seedInsights puts n applicants into f, invited over the days before now, who go
// through the job as real ones do (through the store's transitions, answers and
// reviews) and stop at every place the insights count: before starting, at a
// knockout, in the homework, at the deadline, or at the job team's decision.
func seedInsights(t *testing.T, m *Main, f *winnow.Funnel, n int, now time.Time, reviewers ...string) {
	t.Helper()
	ctx := context.Background()
	st := m.Store
	// The server's own workers run meanwhile: the deadline worker may opt out an
	// applicant invited weeks ago before the seed moves them on. Such an applicant
	// stays as the worker left them (gone), as a real one would.
	var gone bool
	settle := func(what string, err error) {
		t.Helper()
		switch {
		case err == nil:
		case winnow.ErrorCode(err) == winnow.ECONFLICT:
			gone = true
		default:
			t.Fatalf("seed %s: %v", what, err)
		}
	}
	move := func(a *winnow.Applicant, fn func(*winnow.Applicant) (winnow.Event, error)) {
		t.Helper()
		if !gone {
			_, err := st.TransitionApplicant(ctx, a.OrgID, a.ID, fn)
			settle("transition", err)
		}
	}
	answer := func(a *winnow.Applicant, step int, qs map[string][]string, at *time.Time) {
		t.Helper()
		ans := &winnow.StepAnswer{OrgID: a.OrgID, ApplicantID: a.ID, StepID: f.Steps[step].ID, Questions: qs, CompletedAt: at}
		if step == 1 {
			ans.Text = "A plan"
		}
		if !gone {
			_, err := st.SaveStepAnswer(ctx, ans)
			settle("answer", err)
		}
	}
	q := f.Steps[0].Questions
	for i := range n {
		invited := now.Add(-time.Duration(i*117%110+2) * 24 * time.Hour).Add(-time.Duration(i%7) * time.Hour)
		a, err := winnow.NewApplicant(f, fmt.Sprintf("Candidate %d", i), fmt.Sprintf("cand-%d-%s@example.com", i, dbtest.RandomHex(3)), dbtest.RandomHex(16), invited)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.CreateApplicant(ctx, a, ""); err != nil {
			t.Fatal(err)
		}
		gone = false
		kind := i % 10
		if kind == 0 { // never starts; the deadline passes if it has
			if now.After(a.Deadline) {
				move(a, func(x *winnow.Applicant) (winnow.Event, error) { return x.OptOut(a.Deadline, "no submission") })
			}
			continue
		}
		started := invited.Add(time.Duration(1+i%30) * time.Hour)
		move(a, func(x *winnow.Applicant) (winnow.Event, error) { return x.Start(started) })
		switch kind {
		case 1: // knocked out by the first question
			answer(a, 0, map[string][]string{q[0].ID: {"no"}}, nil)
			move(a, func(x *winnow.Applicant) (winnow.Event, error) {
				return x.Disqualify(started.Add(5*time.Minute), q[0].Knockout.Reason, "")
			})
			continue
		case 2: // knocked out by the second
			answer(a, 0, map[string][]string{q[0].ID: {"yes"}, q[1].ID: {"1"}}, nil)
			move(a, func(x *winnow.Applicant) (winnow.Event, error) {
				return x.Disqualify(started.Add(5*time.Minute), q[1].Knockout.Reason, "")
			})
			continue
		}
		done := started.Add(10 * time.Minute)
		answer(a, 0, map[string][]string{q[0].ID: {"yes"}, q[1].ID: {fmt.Sprint(3 + i%9)}, q[2].ID: {"A friend"}}, &done)
		switch kind {
		case 3: // declines in the homework
			move(a, func(x *winnow.Applicant) (winnow.Event, error) {
				return x.OptOut(done.Add(time.Hour), "changed my mind")
			})
			continue
		case 4: // still working on it, or out of time
			if now.After(a.Deadline) {
				move(a, func(x *winnow.Applicant) (winnow.Event, error) { return x.OptOut(a.Deadline, "no submission") })
			}
			continue
		}
		hw := done.Add(time.Duration(2+i%40) * time.Hour)
		answer(a, 1, nil, &hw)
		move(a, func(x *winnow.Applicant) (winnow.Event, error) { return x.Submit(hw) })
		for j, r := range reviewers {
			if !gone {
				settle("review", st.SaveReview(ctx, &winnow.Review{OrgID: a.OrgID, ApplicantID: a.ID, ReviewerID: r, Score: 1 + (i+j*(i%3))%4, Comment: "ok"}))
			}
		}
		if kind == 9 {
			continue // waits for a decision
		}
		outcome := "qualified"
		if kind%2 == 0 {
			outcome = "unqualified"
		}
		decided := hw.Add(time.Duration(3+i%50) * time.Hour)
		move(a, func(x *winnow.Applicant) (winnow.Event, error) {
			return x.Decide(decided, outcome, "Not enough field work", "")
		})
	}
}
