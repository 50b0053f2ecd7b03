package jobs

import (
	"strings"
	"testing"
	"time"

	"winnow/internal/dbtest"

	"winnow"
)

const (
	subjInvite   = "Your application for Backend Engineer at Acme"
	subjReminder = "Reminder: your next step for Backend Engineer at Acme"
	subjOptedOut = "Your application for Backend Engineer at Acme is closed"
)

// TestReminderCadence sends, through a real SMTP server on 127.0.0.1, the invitation,
// then, as the injected clock reaches each step of the default cadence, exactly the
// four reminders and the opted-out email at 17.5 days, in order, and nothing after. A
// candidate who submits on day 6 gets no reminder after that and is not opted out.
func TestReminderCadence(t *testing.T) {
	t.Parallel()
	type step struct {
		at   time.Duration
		do   string // "submit" to submit at this time
		want int    // messages received by then
	}
	cases := []struct {
		name   string
		steps  []step
		want   []string
		status winnow.ApplicantStatus
	}{
		{"no submission", []step{
			{0, "", 1},
			{2*day - time.Minute, "", 1}, {2 * day, "", 2},
			{5*day - time.Minute, "", 2}, {5 * day, "", 3},
			{9*day - time.Minute, "", 3}, {9 * day, "", 4},
			{14*day - time.Minute, "", 4}, {14 * day, "", 5},
			{420*time.Hour - time.Minute, "", 5}, {420 * time.Hour, "", 6},
			{60 * day, "", 6},
		}, []string{subjInvite, subjReminder, subjReminder, subjReminder, subjReminder, subjOptedOut}, winnow.StatusOptedOut},
		{"submits on day 6", []step{
			{0, "", 1}, {2 * day, "", 2}, {5 * day, "", 3},
			{6 * day, "submit", 3},
			{9 * day, "", 3}, {14 * day, "", 3}, {420 * time.Hour, "", 3}, {60 * day, "", 3},
		}, []string{subjInvite, subjReminder, subjReminder}, winnow.StatusSubmitted},
	}
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, e.URL(t), false)
				start := h.clock.Now()
				// Before the invitation: its email may be sent as soon as it is queued.
				if err := h.store.SetOrgReplyTo(h.ctx, h.org.ID, "hiring@acme.example"); err != nil {
					t.Fatal(err)
				}
				a := h.invite("Ada Lovelace", "ada@example.com")
				for _, s := range c.steps {
					if s.do == "submit" {
						h.clock.Set(start.Add(s.at))
						h.transition(a, func(x *winnow.Applicant, now time.Time) (winnow.Event, error) { return x.Start(now) })
						h.transition(a, func(x *winnow.Applicant, now time.Time) (winnow.Event, error) { return x.Submit(now) })
					}
					h.at(start, s.at)
					if got := len(h.smtp.Messages()); got != s.want {
						t.Fatalf("at %v: %d messages, want %d: %q", s.at, got, s.want, subjects(h.smtp.Messages()))
					}
				}
				msgs := h.smtp.Messages()
				if got := subjects(msgs); strings.Join(got, "|") != strings.Join(c.want, "|") {
					t.Fatalf("subjects in order:\n%q\nwant\n%q", got, c.want)
				}
				link := testBaseURL + "/c/" + a.Token
				for i, m := range msgs {
					if m.To[0] != "ada@example.com" || !strings.Contains(m.Text, "Hi Ada,") || !strings.Contains(m.HTML, "Hi Ada,") {
						t.Errorf("message %d: to %v text %q", i, m.To, m.Text)
					}
					if i < len(msgs)-1 || c.status != winnow.StatusOptedOut {
						if !strings.Contains(m.Text, link) || !strings.Contains(m.HTML, `href="`+link+`"`) {
							t.Errorf("message %d lacks the candidate link %s:\n%s", i, link, m.Text)
						}
					}
					if got := m.Header.Get("List-Unsubscribe"); got != "<"+link+"/opt-out>" {
						t.Errorf("message %d: List-Unsubscribe %q", i, got)
					}
					if got := m.Header.Get("Reply-To"); got != "<hiring@acme.example>" {
						t.Errorf("message %d: Reply-To %q, want the org's address", i, got)
					}
				}
				got, err := h.store.FindApplicantByID(h.ctx, a.OrgID, a.ID)
				if err != nil || got.Status != c.status {
					t.Fatalf("status %s (%v), want %s", got.Status, err, c.status)
				}
				tl := h.timeline(a)
				if n := count(tl, winnow.EventEmailSent); n != len(c.want) {
					t.Fatalf("timeline has %d sent emails, want %d: %v", n, len(c.want), tl)
				}
				if tl[1] != winnow.EventEmailQueued || tl[2] != winnow.EventEmailSent {
					t.Fatalf("the invitation shows queued, then sent: %v", tl)
				}
				statuses := map[winnow.EmailStatus]int{}
				for _, e := range h.emails(a) {
					statuses[e.Status]++
				}
				if c.status == winnow.StatusSubmitted && (statuses[winnow.EmailCancelled] != 2 || statuses[winnow.EmailSent] != 3) {
					t.Fatalf("after submission: %v; want the two later reminders cancelled", statuses)
				}
			})
		}
	})
}

// TestExtendReschedules moves the deadline and restarts the reminders from the moment
// of the extension: the reminders planned before do nothing when they come due, nor does
// the old opt-out.
func TestExtendReschedules(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		h := newHarness(t, e.URL(t), false)
		start := h.clock.Now()
		a := h.invite("Ada Lovelace", "ada@example.com")
		h.at(start, 3*day) // invitation, reminder 1
		ext := 3*day + time.Hour
		h.clock.Set(start.Add(ext))
		got, err := h.store.ExtendInvitation(h.ctx, a.OrgID, a.ID, "")
		if err != nil || !got.Deadline.Equal(start.Add(ext+420*time.Hour)) {
			t.Fatalf("extend: %v %v", got.Deadline, err)
		}
		steps := []struct {
			at   time.Duration
			want int
		}{
			{5 * day, 2}, {ext + 2*day, 3}, {9 * day, 4}, {ext + 9*day, 5}, {14 * day, 5},
			{ext + 14*day, 6}, {420 * time.Hour, 6}, {ext + 420*time.Hour - time.Minute, 6},
			{ext + 420*time.Hour, 7}, {60 * day, 7},
		}
		for _, s := range steps {
			h.at(start, s.at)
			if n := len(h.smtp.Messages()); n != s.want {
				t.Fatalf("at %v: %d messages, want %d: %q", s.at, n, s.want, subjects(h.smtp.Messages()))
			}
		}
		want := []string{subjInvite, subjReminder, subjReminder, subjReminder, subjReminder, subjReminder, subjOptedOut}
		if got := subjects(h.smtp.Messages()); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("subjects %q", got)
		}
		var seqs []int
		for _, e := range h.emails(a) {
			if e.Kind == winnow.EmailReminder && e.Status == winnow.EmailSent {
				seqs = append(seqs, e.Seq)
			}
		}
		if len(seqs) != 5 || seqs[0] != 1 || seqs[4] != 8 {
			t.Fatalf("sent reminders %v: 1 of the first round, then 5–8", seqs)
		}
	})
}
