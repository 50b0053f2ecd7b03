package winnow

import (
	"strings"
	"time"
)

// The event kinds of decisions taken back by an admin.
const (
	EventReopened           EventKind = "reopened"            // a decision taken back: in review again
	EventKnockoutOverridden EventKind = "knockout_overridden" // a failed knockout waived: the candidate continues
)

// KnockedOut reports whether the application ended at a knockout question: unqualified
// before anything was submitted.
func (a *Applicant) KnockedOut() bool {
	return a.Status == StatusUnqualified && a.SubmittedAt == nil
}

// reopenable reports whether a decision on a submission stands to be taken back.
func (a *Applicant) reopenable() bool {
	return (a.Status == StatusQualified || a.Status == StatusUnqualified) && a.SubmittedAt != nil
}

// MayReopen reports whether u may take back the decision on the applicant: admins
// only, for a decision on a submission, while the applicant is not closed in Lever.
// A job team member's decision is final for them, so that a decision stays with the
// person who answers for the org's settings.
func (a *Applicant) MayReopen(u *User) bool {
	return u != nil && u.IsAdmin() && a.reopenable() && !a.Closed()
}

// MayOverrideKnockout reports whether u may waive the knockout that ended the
// application, so that the candidate continues: admins only, while the applicant is
// not closed in Lever.
func (a *Applicant) MayOverrideKnockout(u *User) bool {
	return u != nil && u.IsAdmin() && a.KnockedOut() && !a.Closed()
}

// Reopen takes back the decision on a submitted applicant: qualified or unqualified →
// submitted, in review again, with the decision's time and reason cleared. Only an
// admin may (MayReopen); the timeline keeps the decision and its reopening.
func (a *Applicant) Reopen(now time.Time, u *User) (Event, error) {
	if u == nil || !u.IsAdmin() {
		return Event{}, Errorf(EFORBIDDEN, "Only admins reopen decisions.")
	}
	if err := a.closedInLever(); err != nil {
		return Event{}, err
	}
	if !a.reopenable() {
		if a.KnockedOut() {
			return Event{}, Errorf(ECONFLICT, "This applicant failed a knockout question; override the knockout instead.")
		}
		return Event{}, Errorf(ECONFLICT, "Only a decision can be reopened; this applicant is %s.", strings.ToLower(a.Status.Label()))
	}
	was := a.Status
	ev, err := a.move(StatusSubmitted, EventReopened, "Decision reopened ("+strings.ToLower(was.Label())+" before): in review again",
		u.ID, now, StatusQualified, StatusUnqualified)
	if err == nil {
		a.DecidedAt, a.Reason = nil, ""
	}
	return ev, err
}

// OverrideKnockout waives the knockout that made the applicant unqualified before
// submitting: unqualified → in progress, so that the candidate goes on with the next
// steps by the same link. Only an admin may (MayOverrideKnockout). An applicant whose
// deadline has passed gets a new one from now with the job's cadence c, as an
// extension gives: their link would otherwise lead only to the "expired" page.
func (a *Applicant) OverrideKnockout(now time.Time, u *User, c Cadence) (Event, error) {
	if u == nil || !u.IsAdmin() {
		return Event{}, Errorf(EFORBIDDEN, "Only admins override a knockout.")
	}
	if err := a.closedInLever(); err != nil {
		return Event{}, err
	}
	if !a.KnockedOut() {
		return Event{}, Errorf(ECONFLICT, "Only an applicant who failed a knockout question can be let through; this one is %s.",
			strings.ToLower(a.Status.Label()))
	}
	if err := c.Validate(); err != nil {
		return Event{}, err
	}
	reason := a.Reason
	msg := "Knockout overridden (" + reason + "): the candidate continues"
	renew := !now.Before(a.Deadline)
	if renew {
		msg += "; new deadline " + FormatDeadline(now.Add(c.OptOutAfter))
	}
	ev, err := a.move(StatusInProgress, EventKnockoutOverridden, msg, u.ID, now, StatusUnqualified)
	if err == nil {
		a.DecidedAt, a.Reason = nil, ""
		if renew {
			a.Deadline = now.Add(c.OptOutAfter)
		}
	}
	return ev, err
}

// KnockoutAnswer returns the answer, among the applicant's answers, of the questions
// step whose knockout ended the application: the first step not completed whose saved
// answers knock out. It returns nil when there is none. Overriding the knockout marks
// this answer completed, so that the candidate goes on with the next step rather than
// meeting the same question again.
func (a *Applicant) KnockoutAnswer(answers []*StepAnswer) *StepAnswer {
	byStep := make(map[string]*StepAnswer, len(answers))
	for _, ans := range answers {
		byStep[ans.StepID] = ans
	}
	for _, s := range a.Steps {
		ans := byStep[s.ID]
		if s.Kind != StepQuestions || ans == nil || ans.CompletedAt != nil {
			continue
		}
		for i := range s.Questions {
			if q := &s.Questions[i]; q.KnocksOut(ans.Questions[q.ID]) {
				return ans
			}
		}
	}
	return nil
}
