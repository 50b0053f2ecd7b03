package jobs

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"winnow/internal/dbtest"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"winnow"
)

// TestInvitationJobRunTwice runs the invitation's job again after it sent the email,
// through River (a retried job), directly through the worker, and as a fresh insert of
// the same args: the candidate gets one email.
func TestInvitationJobRunTwice(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		h := newHarness(t, e.URL(t), false)
		a := h.invite("Ada Lovelace", "ada@example.com")
		h.runDue()
		h.smtp.Wait(1, 5*time.Second)
		res, err := h.client.JobList(h.ctx, river.NewJobListParams().Kinds(SendEmailArgs{}.Kind()).
			States(rivertype.JobStateCompleted))
		if err != nil || len(res.Jobs) != 1 {
			t.Fatalf("completed send jobs: %d (%v)", len(res.Jobs), err)
		}
		row := res.Jobs[0]

		if _, err := h.client.JobRetry(h.ctx, row.ID); err != nil {
			t.Fatal(err)
		}
		h.waitIdle()
		again, err := h.client.JobGet(h.ctx, row.ID)
		if err != nil || again.Attempt != 2 || again.State != rivertype.JobStateCompleted {
			t.Fatalf("the job ran again: attempt %d state %s (%v)", again.Attempt, again.State, err)
		}

		w := &sendEmailWorker{deps: h.deps}
		job := &river.Job[SendEmailArgs]{JobRow: again}
		if err := decodeArgs(again, &job.Args); err != nil {
			t.Fatal(err)
		}
		if err := w.Work(h.ctx, job); err != nil {
			t.Fatalf("direct run: %v", err)
		}

		ins, err := h.client.Insert(h.ctx, job.Args, nil)
		if err != nil || !ins.UniqueSkippedAsDuplicate {
			t.Fatalf("the same args inserted again: %+v %v", ins, err)
		}
		h.runDue()

		if n := len(h.smtp.Messages()); n != 1 {
			t.Fatalf("%d messages, want 1", n)
		}
		if tl := h.timeline(a); count(tl, winnow.EventEmailSent) != 1 {
			t.Fatalf("timeline %v", tl)
		}
	})
}

// TestSMTPDownForAnHour keeps emails while the mail server refuses connections for an
// hour of injected time, retrying on the injected clock, and sends each exactly once
// when it is back.
func TestSMTPDownForAnHour(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		h := newHarness(t, e.URL(t), false)
		h.smtp.Stop()
		start := h.clock.Now()
		var as []*winnow.Applicant
		for _, n := range []string{"ada", "grace", "linus"} {
			as = append(as, h.invite(n, n+"@example.com"))
		}
		for d := time.Duration(0); d < time.Hour; d += 10 * time.Minute {
			h.at(start, d)
			if n := len(h.smtp.Messages()); n != 0 {
				t.Fatalf("at %v: %d messages while down", d, n)
			}
		}
		for _, a := range as {
			e := h.emails(a)[0]
			if e.Status != winnow.EmailQueued || e.Attempts < 3 || !strings.Contains(e.LastError, "Could not connect") {
				t.Fatalf("while down: %+v", e)
			}
			if tl := h.timeline(a); count(tl, winnow.EventEmailDelayed) != 1 || count(tl, winnow.EventEmailSent) != 0 {
				t.Fatalf("timeline while down: %v (one delay entry, not one per retry)", tl)
			}
		}
		h.smtp.Restart()
		for d := time.Hour; len(h.smtp.Messages()) < 3 && d < 3*time.Hour; d += 10 * time.Minute {
			h.at(start, d)
		}
		h.at(start, 24*time.Hour)
		var to []string
		for _, m := range h.smtp.Messages() {
			to = append(to, m.To[0])
		}
		slices.Sort(to)
		if strings.Join(to, " ") != "ada@example.com grace@example.com linus@example.com" {
			t.Fatalf("received %v, want each invitation once", to)
		}
		for _, a := range as {
			if e := h.emails(a)[0]; e.Status != winnow.EmailSent {
				t.Fatalf("after the outage: %+v", e)
			}
			tl := h.timeline(a)
			if want := []winnow.EventKind{winnow.EventInvited, winnow.EventEmailQueued, winnow.EventEmailDelayed, winnow.EventEmailSent}; !slices.Equal(tl, want) {
				t.Fatalf("timeline %v, want %v", tl, want)
			}
		}
	})
}

// TestUnknownOutcome retries once a send whose connection dropped after the message was
// handed over, and gives up, saying so, when the retry ends the same way.
func TestUnknownOutcome(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		drops    int
		status   winnow.EmailStatus
		messages int
		timeline []winnow.EventKind
	}{
		{"retry delivers", 1, winnow.EmailSent, 1, []winnow.EventKind{winnow.EventInvited, winnow.EventEmailQueued,
			winnow.EventEmailUnknown, winnow.EventEmailSent}},
		{"retry unknown too", 2, winnow.EmailUnknown, 0, []winnow.EventKind{winnow.EventInvited, winnow.EventEmailQueued,
			winnow.EventEmailUnknown, winnow.EventEmailUnknown}},
	}
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, e.URL(t), false)
				h.smtp.DropAfterData(c.drops)
				start := h.clock.Now()
				a := h.invite("Ada Lovelace", "ada@example.com")
				for _, d := range []time.Duration{0, time.Minute, 10 * time.Minute, 5 * time.Hour} {
					h.at(start, d)
				}
				e := h.emails(a)[0]
				if e.Status != c.status || e.Attempts != 2 || e.Uncertain < 1 || len(h.smtp.Messages()) != c.messages {
					t.Fatalf("email %+v, %d messages", e, len(h.smtp.Messages()))
				}
				if tl := h.timeline(a); !slices.Equal(tl, c.timeline) {
					t.Fatalf("timeline %v, want %v", tl, c.timeline)
				}
			})
		}
	})
}

// TestRefusedRecipient stops at a permanent refusal and shows it on the timeline.
func TestRefusedRecipient(t *testing.T) {
	t.Parallel()
	h := newHarness(t, dbtest.SQLite.URL(t), false)
	h.smtp.Reject("nobody@example.com", 550)
	start := h.clock.Now()
	a := h.invite("Nobody", "nobody@example.com")
	h.at(start, 0)
	h.at(start, 2*time.Hour)
	e := h.emails(a)[0]
	if e.Status != winnow.EmailFailed || e.Attempts != 1 || !strings.Contains(e.LastError, "550") {
		t.Fatalf("email %+v", e)
	}
	if tl := h.timeline(a); tl[len(tl)-1] != winnow.EventEmailFailed {
		t.Fatalf("timeline %v", tl)
	}
}

// TestOutboxMode keeps every email in the database without a mail server and never
// calls it delivered.
func TestOutboxMode(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		h := newHarness(t, e.URL(t), true)
		start := h.clock.Now()
		a := h.invite("Ada Lovelace", "ada@example.com")
		h.at(start, 2*day)
		list := h.emails(a)
		if len(list) != 5 || list[0].Status != winnow.EmailOutbox || list[1].Status != winnow.EmailOutbox || list[2].Status != winnow.EmailScheduled {
			t.Fatalf("emails: %v %v %v", list[0].Status, list[1].Status, list[2].Status)
		}
		inv := list[0]
		if inv.Subject != subjInvite || !strings.Contains(inv.Text, testBaseURL+"/c/"+a.Token) || !strings.Contains(inv.HTML, "<p") || inv.SentAt == nil {
			t.Fatalf("outbox copy: %+v", inv)
		}
		tl := h.timeline(a)
		if count(tl, winnow.EventEmailHeld) != 2 || count(tl, winnow.EventEmailSent) != 0 {
			t.Fatalf("timeline %v", tl)
		}
		evs, _ := h.store.ListEvents(h.ctx, a.OrgID, a.ID)
		if msg := evs[len(evs)-1].Message; !strings.Contains(msg, "not delivered") {
			t.Fatalf("held entry says %q", msg)
		}
	})
}

// TestResendNewLinkAndClosing sends a resent invitation and a new link with the same
// link, and the closing messages only when an org switches them on.
func TestResendNewLinkAndClosing(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		h := newHarness(t, e.URL(t), false)
		a := h.invite("Ada Lovelace", "ada@example.com")
		h.runDue()
		if _, err := h.store.ResendInvitation(h.ctx, a.OrgID, a.ID, "u1"); err != nil {
			t.Fatal(err)
		}
		h.runDue()
		if err := h.store.RequestNewLink(h.ctx, "ADA@example.com"); err != nil {
			t.Fatal(err)
		}
		if err := h.store.RequestNewLink(h.ctx, "stranger@example.com"); err != nil {
			t.Fatal(err)
		}
		h.runDue()
		msgs := h.smtp.Wait(3, 5*time.Second)
		link := testBaseURL + "/c/" + a.Token
		for _, m := range msgs {
			if !strings.Contains(m.Text, link) {
				t.Fatalf("message without the same link: %s", m.Text)
			}
		}
		if got := subjects(msgs); got[1] != subjInvite || got[2] != "Your link for Backend Engineer at Acme" {
			t.Fatalf("subjects %q", got)
		}

		// Closing messages are off by default: unqualifying sends nothing.
		b := h.invite("Bob", "bob@example.com")
		h.runDue()
		h.transition(b, func(x *winnow.Applicant, now time.Time) (winnow.Event, error) { return x.Start(now) })
		h.transition(b, func(x *winnow.Applicant, now time.Time) (winnow.Event, error) {
			return x.Disqualify(now, "No visa", "u1")
		})
		h.runDue()
		if n := len(h.smtp.Messages()); n != 4 {
			t.Fatalf("%d messages after unqualifying with closing messages off", n)
		}
		err := h.store.SaveTemplate(h.ctx, &winnow.Template{OrgID: h.org.ID, FunnelID: h.funnel.ID, Kind: winnow.EmailQualified,
			Subject: "Good news, {{.FirstName}}", Body: "See you soon.", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		c := h.invite("Cleo", "cleo@example.com")
		h.runDue()
		h.transition(c, func(x *winnow.Applicant, now time.Time) (winnow.Event, error) { return x.Start(now) })
		h.transition(c, func(x *winnow.Applicant, now time.Time) (winnow.Event, error) { return x.Submit(now) })
		h.transition(c, func(x *winnow.Applicant, now time.Time) (winnow.Event, error) { return x.Qualify(now, "u1") })
		h.runDue()
		msgs = h.smtp.Wait(6, 5*time.Second)
		if got := subjects(msgs); got[5] != "Good news, Cleo" || len(got) != 6 {
			t.Fatalf("subjects %q", got)
		}
	})
}

// decodeArgs fills args from the job row, as River does before Work.
func decodeArgs(row *rivertype.JobRow, args *SendEmailArgs) error {
	return json.Unmarshal(row.EncodedArgs, args)
}
