package winnow

import (
	"context"
	"strings"
	"time"
)

// The event kinds of invitation changes that are not status transitions.
const (
	EventInvitationResent   EventKind = "invitation_resent"
	EventInvitationExtended EventKind = "invitation_extended"
	EventNewLinkRequested   EventKind = "new_link_requested"
	EventLateLinkRequested  EventKind = "late_link_requested"
)

// AwaitsSubmission reports whether the applicant may still submit: invited or in
// progress, and not archived or deleted in Lever. Only such applicants get
// invitations, reminders and new links.
func (a *Applicant) AwaitsSubmission() bool {
	return (a.Status == StatusInvited || a.Status == StatusInProgress) && !a.Closed()
}

// Resend records that the invitation is sent again with the same link. It changes
// nothing but the timeline; the email follows from the event.
func (a *Applicant) Resend(now time.Time, actorID string) (Event, error) {
	if err := a.canEmail("resent"); err != nil {
		return Event{}, err
	}
	a.UpdatedAt = now
	return Event{OrgID: a.OrgID, ApplicantID: a.ID, Kind: EventInvitationResent,
		Message: "Invitation resent with the same link", ActorID: actorID, At: now}, nil
}

// Extend gives the applicant a new deadline, c.OptOutAfter from now; the reminders of c
// start again from now. Earlier reminders and the earlier deadline lapse.
func (a *Applicant) Extend(now time.Time, c Cadence, actorID string) (Event, error) {
	if !a.AwaitsSubmission() {
		return Event{}, Errorf(ECONFLICT, "This applicant is %s; only an open invitation can be extended.", strings.ToLower(a.Status.Label()))
	}
	if err := c.Validate(); err != nil {
		return Event{}, err
	}
	a.Deadline = now.Add(c.OptOutAfter)
	a.UpdatedAt = now
	return Event{OrgID: a.OrgID, ApplicantID: a.ID, Kind: EventInvitationExtended,
		Message: "Invitation extended: reminders start again; new deadline " + FormatDeadline(a.Deadline), ActorID: actorID, At: now}, nil
}

// NewLinkRequested records that the candidate asked for their link again. A link whose
// deadline has passed is not sent: it would only lead to the "expired" page.
func (a *Applicant) NewLinkRequested(now time.Time) (Event, error) {
	if err := a.canEmail("sent a new link"); err != nil {
		return Event{}, err
	}
	if a.Expired(now) {
		return Event{}, Errorf(ECONFLICT, "This invitation has expired; its link is not sent again.")
	}
	a.UpdatedAt = now
	return Event{OrgID: a.OrgID, ApplicantID: a.ID, Kind: EventNewLinkRequested,
		Message: "The candidate asked for their link again", At: now}, nil
}

func (a *Applicant) canEmail(what string) error {
	if !a.AwaitsSubmission() {
		return Errorf(ECONFLICT, "This applicant is %s and cannot be %s.", strings.ToLower(a.Status.Label()), what)
	}
	if a.Email == "" {
		return Errorf(ECONFLICT, "This applicant has no email address.")
	}
	return nil
}

// FormatDeadline is how emails and pages write a deadline: "Tuesday 17 March 2026,
// 21:00 UTC".
func FormatDeadline(t time.Time) string { return t.UTC().Format("Monday 2 January 2006, 15:04 UTC") }

// LateLinkRequested records that a candidate whose invitation ended without a
// submission (the deadline passed, or they opted out) asked for a new link. Nothing is
// sent and the status stays: the timeline tells the job team the candidate is still
// interested, so that they can decide to invite them again.
func (a *Applicant) LateLinkRequested(now time.Time) (Event, error) {
	ended := a.Expired(now) || (a.Status == StatusOptedOut && a.SubmittedAt == nil)
	if !ended {
		return Event{}, Errorf(ECONFLICT, "This applicant's invitation has not ended.")
	}
	return Event{OrgID: a.OrgID, ApplicantID: a.ID, Kind: EventLateLinkRequested,
		Message: "The candidate asked for a new link after their invitation ended; they are still interested", At: now}, nil
}

// InvitationService acts on candidates' invitations beside the status machine. Each
// method records its event on the applicant's timeline and queues its emails in the
// same transaction.
type InvitationService interface {
	// ResendInvitation emails the invitation again with the same link. The applicant
	// must still owe a submission and have an address.
	ResendInvitation(ctx context.Context, orgID, applicantID, actorID string) (*Applicant, error)
	// ExtendInvitation gives the applicant a new deadline and a new round of reminders,
	// both counted from now with the job's cadence; reminders planned before become
	// no-ops.
	ExtendInvitation(ctx context.Context, orgID, applicantID, actorID string) (*Applicant, error)
	// RequestNewLink emails their link to every applicant with this address who still
	// owes a submission. It says nothing about whether there is any: it returns nil for
	// unknown addresses too. More than a few requests for one address within an hour
	// give ERATELIMITED, whether or not the address is known.
	RequestNewLink(ctx context.Context, email string) error
}
