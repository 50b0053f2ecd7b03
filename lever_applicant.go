package winnow

import (
	"strings"
	"time"
)

// The event kinds Lever adds to applicants' timelines.
const (
	EventArchived      EventKind = "archived"      // archived in Lever: reminders stop
	EventUnarchived    EventKind = "unarchived"    // restored in Lever
	EventErased        EventKind = "erased"        // deleted in Lever: personal data erased
	EventLeverWebhook  EventKind = "lever_webhook" // a webhook about the applicant arrived
	EventLeverCall     EventKind = "lever_call"    // Winnow called Lever for the applicant
	EventLeverFailed   EventKind = "lever_failed"  // a write to Lever failed for good
	EventLeverSkipped  EventKind = "lever_skipped" // a planned write to Lever no longer applied
	EventLeverStage    EventKind = "lever_stage"   // moved to another stage in Lever
	erasedApplicantTag           = "Deleted in Lever"
)

// ErasedName is the name an applicant deleted in Lever keeps in Winnow.
const ErasedName = erasedApplicantTag

// Archive records that the applicant's opportunity was archived in Lever (reason is
// Lever's archive reason). The status stays, but an archived applicant no longer owes a
// submission: reminders stop and the link shows the application as closed.
func (a *Applicant) Archive(now time.Time, reason string) (Event, error) {
	if a.ErasedAt != nil {
		return Event{}, Errorf(ECONFLICT, "This candidate was deleted in Lever.")
	}
	if a.ArchivedAt != nil {
		return Event{}, Errorf(ECONFLICT, "This candidate is already archived in Lever.")
	}
	a.ArchivedAt, a.UpdatedAt = &now, now
	msg := "Archived in Lever"
	if reason = strings.TrimSpace(reason); reason != "" {
		msg += " (" + reason + ")"
	}
	return Event{OrgID: a.OrgID, ApplicantID: a.ID, Kind: EventArchived, Message: msg + "; no more reminders", At: now}, nil
}

// Unarchive records that the opportunity was restored in Lever. Reminders stopped at
// the archive do not come back on their own: the team may extend the invitation.
func (a *Applicant) Unarchive(now time.Time) (Event, error) {
	if a.ArchivedAt == nil || a.ErasedAt != nil {
		return Event{}, Errorf(ECONFLICT, "This candidate is not archived in Lever.")
	}
	a.ArchivedAt, a.UpdatedAt = nil, now
	return Event{OrgID: a.OrgID, ApplicantID: a.ID, Kind: EventUnarchived,
		Message: "Restored in Lever; extend the invitation to send reminders again", At: now}, nil
}

// Erase removes the applicant's name and email after the candidate was deleted in Lever;
// the store removes their answers and files in the same change. An anonymous record
// stays, so the job's counts and the timeline still add up.
func (a *Applicant) Erase(now time.Time) (Event, error) {
	if a.ErasedAt != nil {
		return Event{}, Errorf(ECONFLICT, "This candidate's data is already erased.")
	}
	a.Name, a.Email, a.ErasedAt, a.UpdatedAt = ErasedName, "", &now, now
	return Event{OrgID: a.OrgID, ApplicantID: a.ID, Kind: EventErased,
		Message: "Deleted in Lever: name, email, answers and files erased", At: now}, nil
}

// Closed reports whether the applicant left the funnel from Lever's side: archived or
// deleted there.
func (a *Applicant) Closed() bool { return a.ArchivedAt != nil || a.ErasedAt != nil }

// closedInLever refuses the candidate's own steps (start, submit, opt out) once the
// application was archived or deleted in Lever.
func (a *Applicant) closedInLever() error {
	if a.Closed() {
		return Errorf(ECONFLICT, "This application was closed in Lever.")
	}
	return nil
}

// ClosedLabel is how lists and the card name an applicant closed from Lever's side,
// "Archived in Lever" or "Deleted in Lever", and "" for an open one.
func (a *Applicant) ClosedLabel() string {
	switch {
	case a.ErasedAt != nil:
		return erasedApplicantTag
	case a.ArchivedAt != nil:
		return "Archived in Lever"
	}
	return ""
}
