package winnow_test

import (
	"testing"
	"time"

	"winnow"
)

// TestApplicantTransitions tries every transition from every status: the legal ones move
// the applicant and return a matching event, the illegal ones return ECONFLICT and
// change nothing.
func TestApplicantTransitions(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	transitions := map[string]struct {
		fn   func(a *winnow.Applicant) (winnow.Event, error)
		to   winnow.ApplicantStatus
		kind winnow.EventKind
	}{
		"start":      {func(a *winnow.Applicant) (winnow.Event, error) { return a.Start(now) }, winnow.StatusInProgress, winnow.EventStarted},
		"submit":     {func(a *winnow.Applicant) (winnow.Event, error) { return a.Submit(now) }, winnow.StatusSubmitted, winnow.EventSubmitted},
		"qualify":    {func(a *winnow.Applicant) (winnow.Event, error) { return a.Qualify(now, "u1") }, winnow.StatusQualified, winnow.EventQualified},
		"disqualify": {func(a *winnow.Applicant) (winnow.Event, error) { return a.Disqualify(now, "No visa", "u1") }, winnow.StatusUnqualified, winnow.EventUnqualified},
		"opt out":    {func(a *winnow.Applicant) (winnow.Event, error) { return a.OptOut(now, "declined") }, winnow.StatusOptedOut, winnow.EventOptedOut},
	}
	legal := map[winnow.ApplicantStatus][]string{
		winnow.StatusInvited:     {"start", "opt out"},
		winnow.StatusInProgress:  {"submit", "disqualify", "opt out"},
		winnow.StatusSubmitted:   {"qualify", "disqualify"},
		winnow.StatusQualified:   nil,
		winnow.StatusUnqualified: nil,
		winnow.StatusOptedOut:    nil,
	}
	for _, from := range winnow.Statuses {
		for name, tr := range transitions {
			t.Run(string(from)+"/"+name, func(t *testing.T) {
				t.Parallel()
				a := &winnow.Applicant{ID: "a1", OrgID: "o1", Status: from}
				ev, err := tr.fn(a)
				ok := false
				for _, l := range legal[from] {
					ok = ok || l == name
				}
				if !ok {
					if winnow.ErrorCode(err) != winnow.ECONFLICT {
						t.Fatalf("illegal move: err = %v, want conflict", err)
					}
					if a.Status != from {
						t.Fatalf("illegal move changed status to %s", a.Status)
					}
					return
				}
				if err != nil {
					t.Fatalf("legal move failed: %v", err)
				}
				if a.Status != tr.to || ev.To != tr.to || ev.From != from || ev.Kind != tr.kind {
					t.Fatalf("status %s, event %+v; want %s", a.Status, ev, tr.to)
				}
				if ev.OrgID != "o1" || ev.ApplicantID != "a1" || !ev.At.Equal(now) {
					t.Fatalf("event not attributed: %+v", ev)
				}
			})
		}
	}
}

func TestDisqualifyNeedsReason(t *testing.T) {
	t.Parallel()
	a := &winnow.Applicant{Status: winnow.StatusSubmitted}
	if _, err := a.Disqualify(time.Now(), "  ", "u"); winnow.ErrorCode(err) != winnow.EINVALID {
		t.Fatalf("err = %v, want invalid", err)
	}
	if a.Status != winnow.StatusSubmitted {
		t.Fatalf("status changed to %s", a.Status)
	}
}

func TestFinalStatuses(t *testing.T) {
	t.Parallel()
	for _, s := range winnow.Statuses {
		want := s == winnow.StatusQualified || s == winnow.StatusUnqualified || s == winnow.StatusOptedOut
		if s.Final() != want {
			t.Errorf("%s.Final() = %v", s, s.Final())
		}
	}
}

func TestNewApplicant(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	open := &winnow.Funnel{ID: "f", OrgID: "o", Title: "Dev", Status: winnow.FunnelOpen, Cadence: winnow.DefaultCadence()}
	token := "abcdefghijklmnopqrstuvwxyz"
	a, err := winnow.NewApplicant(open, " Ada ", "ADA@Example.com", token, now)
	if err != nil {
		t.Fatal(err)
	}
	if a.Email != "ada@example.com" || a.Name != "Ada" || a.Status != winnow.StatusInvited {
		t.Fatalf("got %+v", a)
	}
	if want := now.Add(420 * time.Hour); !a.Deadline.Equal(want) {
		t.Fatalf("deadline %v, want %v", a.Deadline, want)
	}
	cases := []struct {
		name, who, email, token string
		funnel                  *winnow.Funnel
		code                    string
	}{
		{"draft job", "Ada", "a@b.co", token, &winnow.Funnel{Title: "X", Status: winnow.FunnelDraft}, winnow.ECONFLICT},
		{"bad email", "Ada", "not-an-email", token, open, winnow.EINVALID},
		{"no name", " ", "a@b.co", token, open, winnow.EINVALID},
		{"short token", "Ada", "a@b.co", "short", open, winnow.EINVALID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if _, err := winnow.NewApplicant(c.funnel, c.who, c.email, c.token, now); winnow.ErrorCode(err) != c.code {
				t.Fatalf("err = %v, want %s", err, c.code)
			}
		})
	}
}

func TestNewApplicantSnapshotsSteps(t *testing.T) {
	t.Parallel()
	min := 3.0
	f := &winnow.Funnel{ID: "f", OrgID: "o", Title: "Dev", Status: winnow.FunnelOpen, Cadence: winnow.DefaultCadence(), Steps: []winnow.Step{
		{ID: "s1", Kind: winnow.StepQuestions, Questions: []winnow.Question{{ID: "q1", Text: "Years?", Type: winnow.QuestionNumber,
			Knockout: &winnow.Knockout{Min: &min, Reason: "Needs 3 years"}}}},
		{ID: "s2", Kind: winnow.StepVideo, Video: &winnow.Video{Prompts: []string{"Hello"}}},
	}}
	a, err := winnow.NewApplicant(f, "Ada", "", "abcdefghijklmnopqrstuvwxyz", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f.Steps[0].Questions[0].Text = "changed"
	*f.Steps[0].Questions[0].Knockout.Min = 10
	f.Steps[1].Video.Prompts[0] = "changed"
	f.Steps = append(f.Steps, winnow.Step{ID: "s3"})
	if len(a.Steps) != 2 || a.Steps[0].Questions[0].Text != "Years?" || *a.Steps[0].Questions[0].Knockout.Min != 3 || a.Steps[1].Video.Prompts[0] != "Hello" {
		t.Fatalf("snapshot follows the funnel's edits: %+v", a.Steps)
	}
}

// TestApplicantDecide takes the team's decision only on a submitted applicant, with a
// reason when unqualified.
func TestApplicantDecide(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name            string
		status          winnow.ApplicantStatus
		outcome, reason string
		want            winnow.ApplicantStatus // "" for an error
		code            string
	}{
		{"qualified", winnow.StatusSubmitted, "qualified", "", winnow.StatusQualified, ""},
		{"unqualified with a reason", winnow.StatusSubmitted, "unqualified", "Too junior", winnow.StatusUnqualified, ""},
		{"unqualified without a reason", winnow.StatusSubmitted, "unqualified", " ", "", winnow.EINVALID},
		{"no outcome", winnow.StatusSubmitted, "", "", "", winnow.EINVALID},
		{"unknown outcome", winnow.StatusSubmitted, "maybe", "", "", winnow.EINVALID},
		{"in progress", winnow.StatusInProgress, "unqualified", "No", "", winnow.ECONFLICT},
		{"already decided", winnow.StatusQualified, "unqualified", "No", "", winnow.ECONFLICT},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := &winnow.Applicant{ID: "a1", OrgID: "o1", Status: c.status}
			ev, err := a.Decide(now, c.outcome, c.reason, "u1")
			if c.want == "" {
				if winnow.ErrorCode(err) != c.code || a.Status != c.status {
					t.Fatalf("error %v (status %s), want code %s and no change", err, a.Status, c.code)
				}
				return
			}
			if err != nil || a.Status != c.want || ev.ActorID != "u1" || a.DecidedAt == nil {
				t.Fatalf("status %s, event %+v, %v; want %s decided by u1", a.Status, ev, err, c.want)
			}
		})
	}
}
