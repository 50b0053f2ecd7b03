package winnow_test

import (
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
