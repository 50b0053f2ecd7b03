package recruiter

import (
	"strings"
	"time"

	"winnow"
)

// Option is one choice of a select or a radio group.
type Option struct {
	Value string
	Label string
}

// questionTypes lists the question types in the order the editor offers them.
var questionTypes = []Option{
	{string(winnow.QuestionYesNo), "Yes / no"},
	{string(winnow.QuestionSingleChoice), "Single choice"},
	{string(winnow.QuestionMultipleChoice), "Multiple choice"},
	{string(winnow.QuestionNumber), "Number"},
	{string(winnow.QuestionShortText), "Short text"},
	{string(winnow.QuestionLongText), "Long text"},
}

// questionTypeLabel is a question type as people read it.
func questionTypeLabel(t winnow.QuestionType) string {
	for _, o := range questionTypes {
		if o.Value == string(t) {
			return o.Label
		}
	}
	return string(t)
}

// ApplicantView is an applicant as recruiter pages show them. Under blind review it
// carries no name and no email at all, so no template can leak them by mistake.
type ApplicantView struct {
	ID          string
	FunnelID    string
	Display     string // the name, or "Applicant #1a2b3c4d" under blind review
	Email       string // empty under blind review
	Blind       bool
	Status      winnow.ApplicantStatus
	Closed      string // "Archived in Lever" or "Deleted in Lever", else empty
	Reason      string
	InvitedAt   time.Time
	SubmittedAt *time.Time
	DecidedAt   *time.Time
}

// isBlind reports whether a's identity is hidden from everyone in the org: the job
// uses blind review (its default) and the applicant's way through it has not ended.
func isBlind(a *winnow.Applicant, f *winnow.Funnel) bool {
	return !f.OpenReview && !a.Status.Final()
}

// viewApplicant returns what pages may show of a, an applicant of f.
func viewApplicant(a *winnow.Applicant, f *winnow.Funnel) ApplicantView {
	v := ApplicantView{ID: a.ID, FunnelID: a.FunnelID, Display: a.Name, Email: a.Email, Status: a.Status,
		Closed: a.ClosedLabel(), Reason: a.Reason, InvitedAt: a.InvitedAt, SubmittedAt: a.SubmittedAt, DecidedAt: a.DecidedAt}
	if isBlind(a, f) {
		v.Blind, v.Display, v.Email = true, "Applicant #"+shortID(a.ID), ""
	}
	return v
}

// shortID is the random tail of an ID: the head of a UUIDv7 is its creation time, the
// same for applicants invited together.
func shortID(id string) string {
	id = strings.ReplaceAll(id, "-", "")
	if len(id) > 8 {
		return id[len(id)-8:]
	}
	return id
}

// userName is how a user is named on pages: their name, or their email without one.
func userName(u *winnow.User) string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}
