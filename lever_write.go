package winnow

import (
	"context"
	"strings"
	"time"
)

// LeverWriteKind is what one write to Lever does: one call to Lever's API each.
type LeverWriteKind string

// The Lever write kinds, in the order one transition performs them: tags before note
// before stage move.
const (
	LeverRemoveTags LeverWriteKind = "remove_tags"
	LeverAddTags    LeverWriteKind = "add_tags"
	LeverNote       LeverWriteKind = "note"
	LeverStage      LeverWriteKind = "stage"
)

// Label is the kind as the timeline and the status panel name it.
func (k LeverWriteKind) Label() string {
	switch k {
	case LeverRemoveTags:
		return "Remove tags"
	case LeverAddTags:
		return "Add tags"
	case LeverNote:
		return "Note"
	case LeverStage:
		return "Stage move"
	}
	return string(k)
}

// LeverWriteStatus is where a write to Lever is.
type LeverWriteStatus string

// The Lever write statuses. Done, failed and skipped are final until an admin retries a
// failed one.
const (
	LeverWriteQueued  LeverWriteStatus = "queued"  // waiting for a worker, a retry, or a reconnection
	LeverWriteSending LeverWriteStatus = "sending" // a worker is calling Lever
	LeverWriteDone    LeverWriteStatus = "done"    // Lever took it
	LeverWriteFailed  LeverWriteStatus = "failed"  // Lever refused it for good; an admin may retry
	LeverWriteSkipped LeverWriteStatus = "skipped" // no longer applies (the candidate moved on, was deleted, …)
)

// Final reports whether nothing more happens to a write in status s by itself.
func (s LeverWriteStatus) Final() bool {
	return s == LeverWriteDone || s == LeverWriteFailed || s == LeverWriteSkipped
}

// LeverWrite is one effect of one applicant change on the applicant's Lever opportunity:
// a tag change, a note or a stage move. Like an Email, it is a row that a worker claims,
// performs and finishes, so that a repeated job never writes twice. An applicant's writes
// are performed one at a time in Seq order, which keeps exactly one status tag on the
// opportunity whatever the timing.
type LeverWrite struct {
	ID            string
	OrgID         string
	ApplicantID   string // empty for a note about an opportunity that never became an applicant
	OpportunityID string
	EventID       string // the timeline event that called for it
	Seq           int    // order among the applicant's (or opportunity's) writes, from 1
	Kind          LeverWriteKind
	// ForStatus is the applicant status the write was planned for: a tag or stage write
	// whose applicant has moved on by the time it is performed no longer applies.
	ForStatus ApplicantStatus
	Tags      []string  // add_tags, remove_tags
	Note      string    // note: the text, plain
	NoteAt    time.Time // note: the time it speaks of; also how a retry finds a note Lever stored
	StageID   string    // stage
	Status    LeverWriteStatus
	Attempts  int
	LastError string // person-readable
	NoteID    string // the note Lever created, once known
	// LeaseUntil holds the write until then: a worker is performing it, or a retry
	// waits for its backoff. Other workers of the opportunity wait for it.
	LeaseUntil *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
	DoneAt     *time.Time
}

// Name is how the timeline and panel describe the write: "Add tag CP-Sent", "Note",
// "Move to stage".
func (w *LeverWrite) Name() string {
	switch w.Kind {
	case LeverAddTags:
		return "Add tag " + strings.Join(w.Tags, ", ")
	case LeverRemoveTags:
		return "Remove tags " + strings.Join(w.Tags, ", ")
	case LeverStage:
		return "Move to stage " + w.StageID
	}
	return w.Kind.Label()
}

// LeverWriteLease is how long a worker holds a write it claimed: another worker on
// the same opportunity waits until then before it takes the write over, which it does
// only when the first worker died mid-call. The worker gives up its call before the
// lease ends (LeverWriteCallLimit), so two workers never perform one write at once.
const LeverWriteLease = 45 * time.Second

// LeverWriteCallLimit bounds how long a worker spends performing a claimed write (the
// calls and the client's own retries), leaving time to record the outcome within
// LeverWriteLease.
const LeverWriteCallLimit = 30 * time.Second

// Claim decides whether the write goes out now, given its applicant (nil for a write
// without one), the org's connection (nil when there is none) and the time, and
// changes w to match:
//
//   - a final write (a repeated job lands here) stays as it is and is not performed;
//   - a write held until later (a worker performing it, or a retry waiting for its
//     backoff) is left alone and claimed again later;
//   - a write whose org disconnected Lever, whose candidate was deleted in Lever, or
//     that no longer applies (a tag or stage for a status the candidate has left) is
//     skipped, with the reason;
//   - while the connection needs reconnecting, the write waits (kept, never failed);
//   - otherwise w becomes sending with one more attempt, held for LeverWriteLease.
//
// Opted-out candidates keep their status tag, so a tag planned before the opt-out
// still goes out.
func (w *LeverWrite) Claim(a *Applicant, c *LeverConnection, now time.Time) Claim {
	switch {
	case w.Status.Final():
		return Claim{}
	case w.LeaseUntil != nil && now.Before(*w.LeaseUntil):
		return Claim{Later: true}
	case c == nil || !c.Active():
		return w.skip("Not written: Lever was disconnected.", now)
	case c.State == LeverNeedsReconnecting:
		return Claim{Later: true}
	case a != nil && a.ErasedAt != nil:
		return w.skip("Not written: the candidate was deleted in Lever.", now)
	case a != nil && (w.Kind == LeverAddTags || w.Kind == LeverRemoveTags):
		current, _ := c.StatusTag(a.Status)
		then, _ := c.StatusTag(w.ForStatus)
		if a.Status != StatusOptedOut && current != then {
			return w.skip("Not written: the candidate is "+strings.ToLower(a.Status.Label())+" by now, and a later write sets the tag.", now)
		}
	case a != nil && w.Kind == LeverStage && a.Status != StatusQualified:
		return w.skip("Not written: the candidate is no longer qualified.", now)
	}
	lease := now.Add(LeverWriteLease)
	w.Status, w.Attempts, w.LeaseUntil, w.UpdatedAt = LeverWriteSending, w.Attempts+1, &lease, now
	return Claim{Send: true, Changed: true}
}

// skip makes w skipped for reason and returns the claim that records it.
func (w *LeverWrite) skip(reason string, now time.Time) Claim {
	w.Status, w.LastError, w.LeaseUntil, w.UpdatedAt = LeverWriteSkipped, reason, nil, now
	return Claim{Changed: true, Event: w.event(EventLeverSkipped, w.Name()+": "+reason, nil, now)}
}

// MayHaveReachedLever reports whether an earlier attempt at w may have reached Lever
// without its outcome being known: a note is then looked for before it is written
// again, since Lever's note create is not idempotent.
func (w *LeverWrite) MayHaveReachedLever() bool { return w.Attempts > 1 }

// event is a timeline entry about w.
func (w *LeverWrite) event(kind EventKind, msg string, call *Call, at time.Time) *Event {
	return &Event{OrgID: w.OrgID, ApplicantID: w.ApplicantID, Kind: kind, Message: msg, Call: call, At: at}
}

// Finish records on w the outcome of the attempt its claim started, and returns the
// timeline entries: one per call made to Lever, each with the call, the last saying
// how the attempt ended (the entries hold no name, email or note text, so that blind
// review holds). A write to retry is held until o.RetryAt, so that other workers of
// the opportunity wait for its backoff too.
func (w *LeverWrite) Finish(o LeverWriteOutcome) []Event {
	at := o.At
	w.Status, w.LastError, w.UpdatedAt, w.LeaseUntil = o.Status, o.Error, at, nil
	if o.NoteID != "" {
		w.NoteID = o.NoteID
	}
	var kind EventKind
	var msg string
	switch o.Status {
	case LeverWriteDone:
		w.DoneAt, w.LastError = &at, ""
		kind, msg = EventLeverCall, w.Name()+": done in Lever"
		if o.Found {
			msg = w.Name() + ": found in Lever, written by an earlier attempt"
		}
	case LeverWriteFailed:
		kind, msg = EventLeverFailed, w.Name()+" failed: "+o.Error
	case LeverWriteSkipped:
		kind, msg = EventLeverSkipped, w.Name()+": "+o.Error
	default: // queued again: a retry, or a pause
		w.Status = LeverWriteQueued
		if !o.RetryAt.IsZero() {
			t := o.RetryAt
			w.LeaseUntil = &t
		}
		kind, msg = EventLeverCall, w.Name()+": "+o.Error
	}
	var evs []Event
	for i, c := range o.Calls {
		call := c
		if i < len(o.Calls)-1 {
			evs = append(evs, *w.event(EventLeverCall, w.Name()+": call to Lever", &call, at))
			continue
		}
		evs = append(evs, *w.event(kind, msg, &call, at))
	}
	if len(o.Calls) == 0 {
		evs = append(evs, *w.event(kind, msg, nil, at))
	}
	return evs
}

// PlanLeverWrites returns the writes applicant change ev of applicant a in funnel f calls
// for on a's Lever opportunity, in the order they are performed, as spec'd per status:
//
//   - invited: add the Sent tag; note "Invitation sent to <email> for <job>";
//   - started: swap to the InProg tag; note with the applicant card's link;
//   - submitted: note "Submitted; in review by the job team" (the tag stays);
//   - unqualified: swap to the Unqual tag; note with the reason;
//   - qualified: swap to the Qual tag; note "Qualified"; move to the qualified stage;
//   - opted out: note "Opted out: <reason>" (the tag stays);
//   - reopened, knockout overridden (an admin took a decision back): swap back to the
//     InProg tag; note saying so.
//
// Every note names the job, links the applicant card (cardURL, absolute) and says when.
// It returns nothing for applicants that did not come from Lever and for orgs whose
// connection is not active. Seq, IDs and times are the store's to fill in.
func PlanLeverWrites(c *LeverConnection, f *Funnel, a *Applicant, ev *Event, cardURL string) []*LeverWrite {
	if !c.Active() || a.LeverOpportunityID == "" || a.ErasedAt != nil {
		return nil
	}
	var note string
	swap, stage := false, ""
	switch ev.Kind {
	case EventInvited:
		note = "Invitation sent to " + a.Email + " for " + f.Title + "."
	case EventStarted:
		swap, note = true, "Started the qualification for "+f.Title+"."
	case EventSubmitted:
		note = "Submitted for " + f.Title + "; in review by the job team."
	case EventUnqualified:
		swap, note = true, "Unqualified for "+f.Title+": "+a.Reason
	case EventQualified:
		swap, note, stage = true, "Qualified for "+f.Title+".", c.StageFor(f)
	case EventOptedOut:
		note = "Opted out of " + f.Title + ": " + a.Reason
	case EventReopened:
		// The status tag goes back to in progress and a note says why. A qualified
		// applicant moved to the qualified stage stays there: Winnow does not know the
		// stage they came from, so moving them back is left to the recruiter in Lever.
		swap, note = true, "Decision reopened for "+f.Title+"; in review by the job team again."
	case EventKnockoutOverridden:
		swap, note = true, "Knockout overridden for "+f.Title+"; the candidate continues."
	default:
		return nil
	}
	base := LeverWrite{OrgID: a.OrgID, ApplicantID: a.ID, OpportunityID: a.LeverOpportunityID, EventID: ev.ID,
		ForStatus: a.Status, Status: LeverWriteQueued}
	var ws []*LeverWrite
	add := func(w LeverWrite) { ws = append(ws, &w) }
	tag, tagged := c.StatusTag(a.Status)
	if tagged && (swap || ev.Kind == EventInvited) {
		if swap {
			var others []string
			for _, t := range c.StatusTags() {
				if t != tag {
					others = append(others, t)
				}
			}
			w := base
			w.Kind, w.Tags = LeverRemoveTags, others
			add(w)
		}
		w := base
		w.Kind, w.Tags = LeverAddTags, []string{tag}
		add(w)
	}
	w := base
	w.Kind, w.NoteAt = LeverNote, ev.At
	w.Note = "Winnow: " + note + "\nApplicant card: " + cardURL + "\n" + FormatLeverTime(ev.At)
	add(w)
	if stage != "" {
		w := base
		w.Kind, w.StageID = LeverStage, stage
		add(w)
	}
	return ws
}

// NoEmailLeverNote is the write that tells Lever an application was not invited because
// the opportunity has no email address.
func NoEmailLeverNote(orgID, opportunityID string, f *Funnel, at time.Time) *LeverWrite {
	return &LeverWrite{OrgID: orgID, OpportunityID: opportunityID, Kind: LeverNote, Status: LeverWriteQueued, NoteAt: at,
		Note: "Winnow: no email address; not invited to " + f.Title + ".\n" + FormatLeverTime(at)}
}

// FormatLeverTime is how notes in Lever write a time: "2026-12-03 14:05 UTC".
func FormatLeverTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// LeverWriteOutcome is what became of one attempt to perform a write.
type LeverWriteOutcome struct {
	Status  LeverWriteStatus // done, queued (to retry or paused), failed or skipped
	Error   string           // person-readable reason for a failure, a skip or a delay
	NoteID  string           // a created (or found) note's id
	Found   bool             // the note was found in Lever, written by an earlier attempt
	Calls   []Call           // the calls made to Lever, for the timeline; none when no call was made
	RetryAt time.Time        // queued: not to be tried again before then; zero means at once
	At      time.Time
}

// LeverWriteFilter narrows ListLeverWrites.
type LeverWriteFilter struct {
	ApplicantID string
	Status      LeverWriteStatus
	Limit       int // at most this many, newest first; 0 means 100
}

// LeverWriteService reads an org's writes to Lever and retries the failed ones.
type LeverWriteService interface {
	// ListLeverWrites returns the org's writes, newest first.
	ListLeverWrites(ctx context.Context, orgID string, filter LeverWriteFilter) ([]*LeverWrite, error)
	// RetryLeverWrite puts a write that failed for good back in the queue, with its job;
	// it is claimed again under the same rules, so one that no longer applies is skipped.
	// A write that has not failed gives ECONFLICT.
	RetryLeverWrite(ctx context.Context, orgID, id string) error
}
