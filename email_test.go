package winnow_test

import (
	"strings"
	"testing"
	"time"

	"winnow"
)

// TestEmailStillApplies decides, when an email comes due, whether it still makes sense
// for the applicant as they are now.
func TestEmailStillApplies(t *testing.T) {
	t.Parallel()
	deadline := time.Date(2026, 3, 18, 9, 0, 0, 0, time.UTC)
	later := deadline.Add(48 * time.Hour)
	cases := []struct {
		name     string
		kind     winnow.EmailKind
		planned  *time.Time
		status   winnow.ApplicantStatus
		deadline time.Time
		want     bool
	}{
		{"reminder while invited", winnow.EmailReminder, &deadline, winnow.StatusInvited, deadline, true},
		{"reminder while in progress", winnow.EmailReminder, &deadline, winnow.StatusInProgress, deadline, true},
		{"reminder after submission", winnow.EmailReminder, &deadline, winnow.StatusSubmitted, deadline, false},
		{"reminder after qualification", winnow.EmailReminder, &deadline, winnow.StatusQualified, deadline, false},
		{"reminder after opt-out", winnow.EmailReminder, &deadline, winnow.StatusOptedOut, deadline, false},
		{"reminder after an extension", winnow.EmailReminder, &deadline, winnow.StatusInvited, later, false},
		{"invitation while invited", winnow.EmailInvitation, nil, winnow.StatusInvited, deadline, true},
		{"invitation after opt-out", winnow.EmailInvitation, nil, winnow.StatusOptedOut, deadline, false},
		{"opted-out message after opt-out", winnow.EmailOptedOut, nil, winnow.StatusOptedOut, deadline, true},
		{"opted-out message while invited", winnow.EmailOptedOut, nil, winnow.StatusInvited, deadline, false},
		{"qualified message when qualified", winnow.EmailQualified, nil, winnow.StatusQualified, deadline, true},
		{"unqualified message when qualified", winnow.EmailUnqualified, nil, winnow.StatusQualified, deadline, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := &winnow.Email{ApplicantID: "a1", Kind: c.kind, Seq: 1, Deadline: c.planned}
			a := &winnow.Applicant{ID: "a1", Status: c.status, Deadline: c.deadline}
			if got := e.StillApplies(a); got != c.want {
				t.Fatalf("StillApplies = %v, want %v", got, c.want)
			}
		})
	}
}

// TestEmailNames are what the timeline says.
func TestEmailNames(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		e    winnow.Email
		want string
	}{
		{"invitation", winnow.Email{Kind: winnow.EmailInvitation, Seq: 1}, "Invitation"},
		{"resent invitation", winnow.Email{Kind: winnow.EmailInvitation, Seq: 2}, "Invitation (resent)"},
		{"reminder", winnow.Email{Kind: winnow.EmailReminder, Seq: 3}, "Reminder 3"},
		{"opted out", winnow.Email{Kind: winnow.EmailOptedOut, Seq: 1}, "Opted out"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := c.e.Name(); got != c.want {
				t.Fatalf("Name = %q, want %q", got, c.want)
			}
		})
	}
	if winnow.EmailOutbox.Label() == winnow.EmailSent.Label() || !winnow.EmailOutbox.Final() || winnow.EmailQueued.Final() {
		t.Fatal("the outbox must never read as delivered, and must be final")
	}
}

// TestInvitationChanges covers Resend, Extend and NewLinkRequested: they work only while
// a submission is awaited, and Extend moves the deadline from now.
func TestInvitationChanges(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	c := winnow.DefaultCadence()
	changes := map[string]func(a *winnow.Applicant) (winnow.Event, error){
		"resend":   func(a *winnow.Applicant) (winnow.Event, error) { return a.Resend(now, "u1") },
		"extend":   func(a *winnow.Applicant) (winnow.Event, error) { return a.Extend(now, c, "u1") },
		"new link": func(a *winnow.Applicant) (winnow.Event, error) { return a.NewLinkRequested(now) },
	}
	kinds := map[string]winnow.EventKind{"resend": winnow.EventInvitationResent, "extend": winnow.EventInvitationExtended,
		"new link": winnow.EventNewLinkRequested}
	for _, status := range winnow.Statuses {
		for name, fn := range changes {
			t.Run(string(status)+"/"+name, func(t *testing.T) {
				t.Parallel()
				old := now.Add(time.Hour)
				a := &winnow.Applicant{ID: "a1", OrgID: "o1", Status: status, Email: "ada@example.com", Deadline: old}
				ev, err := fn(a)
				open := status == winnow.StatusInvited || status == winnow.StatusInProgress
				if !open {
					if winnow.ErrorCode(err) != winnow.ECONFLICT || !a.Deadline.Equal(old) {
						t.Fatalf("err = %v, deadline %v", err, a.Deadline)
					}
					return
				}
				if err != nil || ev.Kind != kinds[name] || ev.ApplicantID != "a1" || !ev.At.Equal(now) || a.Status != status {
					t.Fatalf("event %+v, err %v, status %s", ev, err, a.Status)
				}
				if name == "extend" && !a.Deadline.Equal(now.Add(420*time.Hour)) {
					t.Fatalf("deadline %v, want 17.5 days from now", a.Deadline)
				}
			})
		}
	}
	t.Run("resend without address", func(t *testing.T) {
		t.Parallel()
		a := &winnow.Applicant{Status: winnow.StatusInvited}
		if _, err := a.Resend(now, ""); winnow.ErrorCode(err) != winnow.ECONFLICT {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestLateLinkRequest checks that an ended invitation's link is never sent again and that
// the request is noted instead, while an open one is not "late".
func TestLateLinkRequest(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	submitted := now.Add(-48 * time.Hour)
	cases := []struct {
		name     string
		a        winnow.Applicant
		newLink  bool // NewLinkRequested succeeds
		lateNote bool // LateLinkRequested succeeds
	}{
		{"open", winnow.Applicant{Status: winnow.StatusInProgress, Deadline: now.Add(time.Hour)}, true, false},
		{"deadline passed", winnow.Applicant{Status: winnow.StatusInvited, Deadline: now.Add(-time.Hour)}, false, true},
		{"opted out", winnow.Applicant{Status: winnow.StatusOptedOut, Deadline: now.Add(time.Hour)}, false, true},
		{"submitted", winnow.Applicant{Status: winnow.StatusSubmitted, SubmittedAt: &submitted, Deadline: now.Add(-time.Hour)}, false, false},
		{"unqualified at a knockout", winnow.Applicant{Status: winnow.StatusUnqualified, Deadline: now.Add(time.Hour)}, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := c.a
			a.Email = "ada@example.com"
			if _, err := a.NewLinkRequested(now); (err == nil) != c.newLink {
				t.Errorf("NewLinkRequested err = %v", err)
			}
			ev, err := a.LateLinkRequested(now)
			if (err == nil) != c.lateNote {
				t.Errorf("LateLinkRequested err = %v", err)
			}
			if err == nil && (ev.Kind != winnow.EventLateLinkRequested || a.Status != c.a.Status) {
				t.Errorf("event %+v, status %s", ev, a.Status)
			}
		})
	}
}

// TestEmailClaim decides, for one attempt, whether an email goes out, what it becomes
// and what its timeline says.
func TestEmailClaim(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	deadline := now.Add(72 * time.Hour)
	invited := &winnow.Applicant{ID: "a1", OrgID: "o1", Status: winnow.StatusInvited, Deadline: deadline}
	submitted := &winnow.Applicant{ID: "a1", OrgID: "o1", Status: winnow.StatusSubmitted, Deadline: deadline}
	extended := &winnow.Applicant{ID: "a1", OrgID: "o1", Status: winnow.StatusInvited, Deadline: deadline.Add(time.Hour)}
	content := &winnow.RenderedEmail{Subject: "Hello", Text: "Hi", HTML: "<p>Hi</p>"}
	cases := []struct {
		name       string
		email      winnow.Email
		a          *winnow.Applicant
		wantSend   bool
		wantStatus winnow.EmailStatus
		wantEvent  winnow.EventKind
		wantError  string // LastError afterwards
	}{
		{"queued invitation", winnow.Email{Kind: winnow.EmailInvitation, Seq: 1, Status: winnow.EmailQueued}, invited,
			true, winnow.EmailSending, "", ""},
		{"scheduled reminder that is due", winnow.Email{Kind: winnow.EmailReminder, Seq: 1, Status: winnow.EmailScheduled, Deadline: &deadline}, invited,
			true, winnow.EmailSending, winnow.EventEmailQueued, ""},
		{"already sent", winnow.Email{Kind: winnow.EmailInvitation, Seq: 1, Status: winnow.EmailSent}, invited,
			false, winnow.EmailSent, "", ""},
		{"reminder after submission", winnow.Email{Kind: winnow.EmailReminder, Seq: 2, Status: winnow.EmailScheduled, Deadline: &deadline}, submitted,
			false, winnow.EmailSkipped, "", "Not sent: the candidate is submitted by now."},
		{"reminder after an extension", winnow.Email{Kind: winnow.EmailReminder, Seq: 2, Status: winnow.EmailScheduled, Deadline: &deadline}, extended,
			false, winnow.EmailSkipped, "", "Not sent: the invitation was extended since it was planned."},
		{"found sending once", winnow.Email{Kind: winnow.EmailInvitation, Seq: 1, Status: winnow.EmailSending}, invited,
			true, winnow.EmailSending, winnow.EventEmailUnknown, ""},
		{"found sending after a retry", winnow.Email{Kind: winnow.EmailInvitation, Seq: 1, Status: winnow.EmailSending, Uncertain: 1}, invited,
			false, winnow.EmailUnknown, winnow.EventEmailUnknown,
			"Lost contact with the mail server twice after handing the message over; it may or may not have arrived."},
		{"member invitation", winnow.Email{Kind: winnow.EmailMemberInvite, Seq: 1, Status: winnow.EmailQueued, InviteID: "i1"}, nil,
			true, winnow.EmailSending, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := c.email
			e.ID, e.OrgID, e.To = "e1", "o1", "ada@example.com"
			if c.a != nil {
				e.ApplicantID = c.a.ID
			}
			before := e
			claim := e.Claim(c.a, content, now)
			if claim.Send != c.wantSend || e.Status != c.wantStatus || e.LastError != c.wantError {
				t.Fatalf("send %v, status %s, error %q; want %v, %s, %q", claim.Send, e.Status, e.LastError, c.wantSend, c.wantStatus, c.wantError)
			}
			switch {
			case c.wantEvent == "" && claim.Event != nil:
				t.Fatalf("unexpected event %+v", claim.Event)
			case c.wantEvent != "" && (claim.Event == nil || claim.Event.Kind != c.wantEvent):
				t.Fatalf("event %+v, want %s", claim.Event, c.wantEvent)
			case claim.Event != nil && (claim.Event.EmailID != "e1" || claim.Event.ApplicantID != "a1" || !claim.Event.At.Equal(now) ||
				strings.Contains(claim.Event.Message, "ada@")):
				t.Fatalf("event %+v: want it about e1 at %v, without the address", claim.Event, now)
			}
			if before.Status.Final() {
				if claim.Changed || e != before {
					t.Fatalf("a final email changed: %+v", e)
				}
				return
			}
			if !claim.Changed || !e.UpdatedAt.Equal(now) {
				t.Fatalf("changed %v, updated %v", claim.Changed, e.UpdatedAt)
			}
			if c.wantSend && (e.Attempts != before.Attempts+1 || e.Subject != "Hello") {
				t.Fatalf("attempts %d, subject %q after a claim that sends", e.Attempts, e.Subject)
			}
		})
	}
}
