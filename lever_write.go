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
	CreatedAt time.Time
	UpdatedAt time.Time
	DoneAt    *time.Time
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

// LeverAction is what a worker does with a claimed write.
type LeverAction int

// The actions a claim decides on.
const (
	LeverNothing LeverAction = iota // final already: a repeated job
	LeverPerform                    // call Lever
	LeverPause                      // the connection needs reconnecting: keep it, come back later
	LeverSkip                       // it no longer applies: record why and move on
)

// LeverClaim is the domain's decision on a write about to be performed.
type LeverClaim struct {
	Action LeverAction
	Reason string // for a skip: why, as the timeline says it
}

// Claim decides whether the write still goes out now, given its applicant (nil for a
// write without one) and the org's connection (nil when there is none).
func (w *LeverWrite) Claim(a *Applicant, c *LeverConnection) LeverClaim {
	switch {
	case w.Status.Final():
		return LeverClaim{Action: LeverNothing}
	case c == nil || !c.Active():
		return LeverClaim{Action: LeverSkip, Reason: "Not written: Lever was disconnected."}
	case c.State == LeverNeedsReconnecting:
		return LeverClaim{Action: LeverPause}
	case a != nil && a.ErasedAt != nil:
		return LeverClaim{Action: LeverSkip, Reason: "Not written: the candidate was deleted in Lever."}
	case a != nil && (w.Kind == LeverAddTags || w.Kind == LeverRemoveTags):
		now, _ := c.StatusTag(a.Status)
		then, _ := c.StatusTag(w.ForStatus)
		if a.Status != StatusOptedOut && now != then {
			return LeverClaim{Action: LeverSkip, Reason: "Not written: the candidate is " + strings.ToLower(a.Status.Label()) + " by now, and a later write sets the tag."}
		}
	case a != nil && w.Kind == LeverStage && a.Status != StatusQualified:
		return LeverClaim{Action: LeverSkip, Reason: "Not written: the candidate is no longer qualified."}
	}
	return LeverClaim{Action: LeverPerform}
}

// PlanLeverWrites returns the writes applicant change ev of applicant a in funnel f calls
// for on a's Lever opportunity, in the order they are performed, as spec'd per status:
//
//   - invited: add the Sent tag; note "Invitation sent to <email> for <job>";
//   - started: swap to the InProg tag; note with the applicant card's link;
//   - submitted: note "Submitted; in review by the job team" (the tag stays);
//   - unqualified: swap to the Unqual tag; note with the reason;
//   - qualified: swap to the Qual tag; note "Qualified"; move to the qualified stage;
//   - opted out: note "Opted out: <reason>" (the tag stays).
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
	Status LeverWriteStatus // done, queued (to retry), failed or skipped
	Error  string           // person-readable reason for a failure or a delay
	NoteID string           // a created note's id
	Call   *Call            // the Lever call, for the timeline; nil when none was made
	At     time.Time
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
