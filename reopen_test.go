package winnow_test

import (
	"strings"
	"testing"
	"time"

	"winnow"
)

// TestReopenAndOverride checks who may take a decision back and from where: admins
// reopen decisions on submissions (back to submitted) and override failed knockouts
// (back to in progress); members, other statuses and applicants closed in Lever are
// refused and left as they were.
func TestReopenAndOverride(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	admin := &winnow.User{ID: "u-admin", Role: winnow.RoleAdmin}
	member := &winnow.User{ID: "u-member", Role: winnow.RoleMember}
	sub, archived := now.Add(-time.Hour), now.Add(-time.Minute)
	cases := []struct {
		name     string
		a        winnow.Applicant
		u        *winnow.User
		override bool
		to       winnow.ApplicantStatus // "" when refused
		code     string
	}{
		{"admin reopens qualified", winnow.Applicant{Status: winnow.StatusQualified, SubmittedAt: &sub}, admin, false, winnow.StatusSubmitted, ""},
		{"admin reopens unqualified", winnow.Applicant{Status: winnow.StatusUnqualified, SubmittedAt: &sub, Reason: "weak"}, admin, false, winnow.StatusSubmitted, ""},
		{"member may not reopen", winnow.Applicant{Status: winnow.StatusQualified, SubmittedAt: &sub}, member, false, "", winnow.EFORBIDDEN},
		{"nothing to reopen", winnow.Applicant{Status: winnow.StatusSubmitted, SubmittedAt: &sub}, admin, false, "", winnow.ECONFLICT},
		{"knockout is not reopened", winnow.Applicant{Status: winnow.StatusUnqualified, Reason: "No visa"}, admin, false, "", winnow.ECONFLICT},
		{"opted out stays", winnow.Applicant{Status: winnow.StatusOptedOut}, admin, false, "", winnow.ECONFLICT},
		{"closed in Lever", winnow.Applicant{Status: winnow.StatusQualified, SubmittedAt: &sub, ArchivedAt: &archived}, admin, false, "", winnow.ECONFLICT},
		{"admin overrides a knockout", winnow.Applicant{Status: winnow.StatusUnqualified, Reason: "No visa"}, admin, true, winnow.StatusInProgress, ""},
		{"member may not override", winnow.Applicant{Status: winnow.StatusUnqualified, Reason: "No visa"}, member, true, "", winnow.EFORBIDDEN},
		{"a team decision is no knockout", winnow.Applicant{Status: winnow.StatusUnqualified, SubmittedAt: &sub}, admin, true, "", winnow.ECONFLICT},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := c.a
			decided := now.Add(-time.Minute)
			if a.Status.Final() {
				a.DecidedAt = &decided
			}
			before := a
			may := a.MayReopen(c.u)
			fn := a.Reopen
			if c.override {
				may = a.MayOverrideKnockout(c.u)
				fn = func(now time.Time, u *winnow.User) (winnow.Event, error) {
					return a.OverrideKnockout(now, u, winnow.DefaultCadence())
				}
			}
			ev, err := fn(now, c.u)
			if may != (c.to != "") {
				t.Errorf("May… says %v, want %v", may, c.to != "")
			}
			if c.to == "" {
				if winnow.ErrorCode(err) != c.code || a.Status != before.Status || a.DecidedAt != before.DecidedAt {
					t.Fatalf("refused with %v (code %q), applicant %+v; want %s and no change", err, winnow.ErrorCode(err), a, c.code)
				}
				return
			}
			if err != nil || a.Status != c.to || ev.From != before.Status || ev.To != c.to || ev.ActorID != c.u.ID ||
				a.DecidedAt != nil || a.Reason != "" {
				t.Fatalf("got %+v, event %+v, %v; want %s with the decision cleared", a, ev, err, c.to)
			}
		})
	}
}

// TestKnockoutAnswer finds the step whose saved answer knocked the applicant out.
func TestKnockoutAnswer(t *testing.T) {
	t.Parallel()
	done := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	a := &winnow.Applicant{Steps: []winnow.Step{
		{ID: "s1", Kind: winnow.StepQuestions, Questions: []winnow.Question{{ID: "q1", Type: winnow.QuestionYesNo}}},
		{ID: "s2", Kind: winnow.StepQuestions, Questions: []winnow.Question{{ID: "q2", Type: winnow.QuestionYesNo,
			Knockout: &winnow.Knockout{Answer: "yes", Reason: "No visa"}}}},
	}}
	first := &winnow.StepAnswer{StepID: "s1", Questions: map[string][]string{"q1": {"no"}}, CompletedAt: &done}
	failed := &winnow.StepAnswer{StepID: "s2", Questions: map[string][]string{"q2": {"no"}}}
	if got := a.KnockoutAnswer([]*winnow.StepAnswer{first, failed}); got != failed {
		t.Fatalf("knockout answer %+v, want step s2's", got)
	}
	passed := &winnow.StepAnswer{StepID: "s2", Questions: map[string][]string{"q2": {"yes"}}}
	if got := a.KnockoutAnswer([]*winnow.StepAnswer{first, passed}); got != nil {
		t.Fatalf("knockout answer %+v, want none", got)
	}
}

// TestOverrideKnockoutRenewsAnExpiredDeadline: an applicant let through after their
// deadline gets a new one with the job's cadence, since their link would lead only to
// the "expired" page; one let through in time keeps theirs.
func TestOverrideKnockoutRenewsAnExpiredDeadline(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	admin := &winnow.User{ID: "u1", Role: winnow.RoleAdmin}
	c := winnow.DefaultCadence()
	for _, tc := range []struct {
		name     string
		deadline time.Time
		want     time.Time
	}{
		{"in time", now.Add(time.Hour), now.Add(time.Hour)},
		{"at the deadline", now, now.Add(c.OptOutAfter)},
		{"after it", now.Add(-72 * time.Hour), now.Add(c.OptOutAfter)},
	} {
		a := winnow.Applicant{Status: winnow.StatusUnqualified, Reason: "No visa", Deadline: tc.deadline}
		ev, err := a.OverrideKnockout(now, admin, c)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !a.Deadline.Equal(tc.want) || a.Expired(now) {
			t.Errorf("%s: deadline %s (expired %v), want %s", tc.name, a.Deadline, a.Expired(now), tc.want)
		}
		if renewed := strings.Contains(ev.Message, "new deadline"); renewed != !tc.deadline.Equal(tc.want) {
			t.Errorf("%s: timeline says %q", tc.name, ev.Message)
		}
	}
}
