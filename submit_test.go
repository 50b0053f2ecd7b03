package winnow_test

import (
	"testing"
	"time"

	"winnow"
)

// TestSubmitAnswersJudgesKnockouts checks that submission judges every knockout again
// on the answers as they stand: passing answers submit, a failing or missing one ends
// the application as unqualified with its reason, and a closed applicant cannot
// submit either way.
func TestSubmitAnswersJudgesKnockouts(t *testing.T) {
	minYears := 2.0
	steps := []winnow.Step{{ID: "s1", Kind: winnow.StepQuestions, Questions: []winnow.Question{
		{ID: "q1", Type: winnow.QuestionYesNo, Knockout: &winnow.Knockout{Answer: "yes", Reason: "Needs a permit"}},
		{ID: "q2", Type: winnow.QuestionNumber, Knockout: &winnow.Knockout{Min: &minYears, Reason: "Needs two years"}},
	}}}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	answers := func(q1, q2 string) map[string]*winnow.StepAnswer {
		a := &winnow.StepAnswer{StepID: "s1", Questions: map[string][]string{}}
		if q1 != "" {
			a.Questions["q1"] = []string{q1}
		}
		if q2 != "" {
			a.Questions["q2"] = []string{q2}
		}
		return map[string]*winnow.StepAnswer{"s1": a}
	}
	tests := []struct {
		name    string
		answers map[string]*winnow.StepAnswer
		history []*winnow.Event
		status  winnow.ApplicantStatus
		reason  string
	}{
		{"all pass", answers("yes", "3"), nil, winnow.StatusSubmitted, ""},
		{"changed to fail", answers("no", "3"), nil, winnow.StatusUnqualified, "Needs a permit"},
		{"second fails", answers("yes", "1"), nil, winnow.StatusUnqualified, "Needs two years"},
		{"missing answer", answers("yes", ""), nil, winnow.StatusUnqualified, "Needs two years"},
		{"no answers at all", nil, nil, winnow.StatusUnqualified, "Needs a permit"},
		{"other events do not waive", answers("no", "3"), []*winnow.Event{{Kind: winnow.EventReopened}},
			winnow.StatusUnqualified, "Needs a permit"},
		{"an admin overrode the knockout", answers("no", "3"), []*winnow.Event{{Kind: winnow.EventInvited},
			{Kind: winnow.EventUnqualified}, {Kind: winnow.EventKnockoutOverridden}}, winnow.StatusSubmitted, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &winnow.Applicant{Status: winnow.StatusInProgress, Steps: winnow.CopySteps(steps)}
			ev, err := a.SubmitAnswers(now, tt.answers, tt.history)
			if err != nil || a.Status != tt.status || ev.To != tt.status || a.Reason != tt.reason {
				t.Fatalf("SubmitAnswers = %+v, %v; applicant %s %q, want %s %q", ev, err, a.Status, a.Reason, tt.status, tt.reason)
			}
			if (a.SubmittedAt != nil) != (tt.status == winnow.StatusSubmitted) {
				t.Fatalf("SubmittedAt = %v for %s", a.SubmittedAt, a.Status)
			}
		})
	}
	closed := &winnow.Applicant{Status: winnow.StatusInProgress, Steps: winnow.CopySteps(steps), ArchivedAt: &now}
	if _, err := closed.SubmitAnswers(now, answers("no", "1"), nil); winnow.ErrorCode(err) != winnow.ECONFLICT || closed.Status != winnow.StatusInProgress {
		t.Fatalf("a closed applicant: %v, status %s", err, closed.Status)
	}
}

// TestParseRecordingMs checks the recorder's reported length: empty is unknown, a
// whole number within the step's limit (plus a second) is kept, anything else refused.
func TestParseRecordingMs(t *testing.T) {
	tests := []struct {
		in      string
		max     int
		want    int64
		invalid bool
	}{
		{"", 60, 0, false},
		{" 1500 ", 60, 1500, false},
		{"61000", 60, 61000, false},
		{"61001", 60, 0, true},
		{"3600000", 0, 3600000, false},
		{"3600001", 0, 0, true},
		{"0", 60, 0, true},
		{"-4", 60, 0, true},
		{"Infinity", 60, 0, true},
		{"1.5", 60, 0, true},
	}
	for _, tt := range tests {
		got, err := winnow.ParseRecordingMs(tt.in, tt.max)
		if got != tt.want || (err != nil) != tt.invalid || (err != nil && winnow.ErrorCode(err) != winnow.EINVALID) {
			t.Errorf("ParseRecordingMs(%q, %d) = %d, %v; want %d, invalid %v", tt.in, tt.max, got, err, tt.want, tt.invalid)
		}
	}
}

// TestNormalizeReplyTo checks the org's reply-to address: trimmed and lower-cased,
// empty allowed, anything that is not one address refused.
func TestNormalizeReplyTo(t *testing.T) {
	for in, want := range map[string]string{"": "", "  ": "", " Jobs@Acme.Example ": "jobs@acme.example"} {
		if got, err := winnow.NormalizeReplyTo(in); err != nil || got != want {
			t.Errorf("NormalizeReplyTo(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"jobs", "Acme <jobs@acme.example>", "a@b.example, c@d.example", "jobs at acme"} {
		if _, err := winnow.NormalizeReplyTo(in); winnow.ErrorCode(err) != winnow.EINVALID {
			t.Errorf("NormalizeReplyTo(%q) = %v, want EINVALID", in, err)
		}
	}
}
