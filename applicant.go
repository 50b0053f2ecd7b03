package winnow

import (
	"context"
	"strings"
	"time"
)

// ApplicantStatus is where an applicant is in a funnel.
type ApplicantStatus string

// The applicant statuses. Qualified, unqualified and opted out are final.
const (
	StatusInvited     ApplicantStatus = "invited"
	StatusInProgress  ApplicantStatus = "in_progress"
	StatusSubmitted   ApplicantStatus = "submitted"
	StatusQualified   ApplicantStatus = "qualified"
	StatusUnqualified ApplicantStatus = "unqualified"
	StatusOptedOut    ApplicantStatus = "opted_out"
)

// Statuses lists every applicant status in lifecycle order.
var Statuses = []ApplicantStatus{StatusInvited, StatusInProgress, StatusSubmitted, StatusQualified, StatusUnqualified, StatusOptedOut}

// Valid reports whether s is a known status.
func (s ApplicantStatus) Valid() bool {
	for _, v := range Statuses {
		if v == s {
			return true
		}
	}
	return false
}

// Final reports whether no further transition leaves s.
func (s ApplicantStatus) Final() bool {
	return s == StatusQualified || s == StatusUnqualified || s == StatusOptedOut
}

// Label is the status as people read it.
func (s ApplicantStatus) Label() string {
	switch s {
	case StatusInvited:
		return "Invited"
	case StatusInProgress:
		return "In progress"
	case StatusSubmitted:
		return "Submitted"
	case StatusQualified:
		return "Qualified"
	case StatusUnqualified:
		return "Unqualified"
	case StatusOptedOut:
		return "Opted out"
	}
	return string(s)
}

// Applicant is a candidate's way through one funnel. Candidates have no account: they
// reach their funnel through Token, an unguessable value sent by email.
type Applicant struct {
	ID                 string
	OrgID              string
	FunnelID           string
	Name               string
	Email              string
	Status             ApplicantStatus
	Token              string
	LeverOpportunityID string
	Steps              []Step // the funnel's steps when invited: later edits never change them
	Reason             string // why unqualified or opted out
	InvitedAt          time.Time
	StartedAt          *time.Time
	SubmittedAt        *time.Time
	DecidedAt          *time.Time
	Deadline           time.Time  // opted out if not submitted by then
	ArchivedAt         *time.Time // archived in Lever: no more reminders
	ErasedAt           *time.Time // deleted in Lever: personal data erased
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// EventKind names a thing that happened to an applicant.
type EventKind string

// The event kinds recorded by the status transitions. Adapters record more kinds
// (emails, Lever writes) on the same timeline.
const (
	EventInvited     EventKind = "invited"
	EventStarted     EventKind = "started"
	EventSubmitted   EventKind = "submitted"
	EventQualified   EventKind = "qualified"
	EventUnqualified EventKind = "unqualified"
	EventOptedOut    EventKind = "opted_out"
)

// Event is one entry on an applicant's timeline. Message is for people and holds no
// contact details; what an entry is about is in its structured fields, so that pages
// can show it or hold it back (blind review).
type Event struct {
	ID          string
	OrgID       string
	ApplicantID string
	Kind        EventKind
	From        ApplicantStatus // status before, for transitions
	To          ApplicantStatus // status after, for transitions
	Message     string
	ActorID     string // the user who caused it, if any
	EmailID     string // the email an email event is about
	Call        *Call  // the outbound API call an integration event records (Lever)
	At          time.Time
}

// Call is one outbound API call as a timeline records it: what was asked of another
// service and what it answered.
type Call struct {
	Method   string
	Path     string // the path only: never a query string or a credential
	Status   int    // the HTTP status; 0 when no answer came
	Duration time.Duration
}

// MinTokenLength is the shortest candidate link token accepted: a shorter one could be
// guessed. Winnow's own are 43 characters (keyring.Token).
const MinTokenLength = 20

// NewApplicant returns an invited applicant for the funnel, with its deadline set from
// the funnel's cadence. The caller supplies the link token.
func NewApplicant(f *Funnel, name, email, token string, now time.Time) (*Applicant, error) {
	a := &Applicant{
		OrgID:     f.OrgID,
		FunnelID:  f.ID,
		Name:      strings.TrimSpace(name),
		Email:     strings.TrimSpace(email),
		Status:    StatusInvited,
		Token:     token,
		InvitedAt: now,
		Deadline:  now.Add(f.Cadence.OptOutAfter),
		Steps:     CopySteps(f.Steps),
	}
	if f.Status != FunnelOpen {
		return nil, Errorf(ECONFLICT, "Job %q is %s; only open jobs take candidates.", f.Title, f.Status)
	}
	if a.Email != "" {
		e, err := NormalizeEmail(a.Email)
		if err != nil {
			return nil, err
		}
		a.Email = e
	}
	if a.Name == "" {
		return nil, Errorf(EINVALID, "Candidate name is required.")
	}
	if tooLong(a.Name, MaxNameLength) {
		return nil, Errorf(EINVALID, "Candidate name must be at most %d characters.", MaxNameLength)
	}
	if len(token) < MinTokenLength {
		return nil, Errorf(EINVALID, "Candidate link token is too short.")
	}
	return a, nil
}

// CopySteps returns a deep copy of steps, so a snapshot shares nothing with the funnel.
func CopySteps(steps []Step) []Step {
	if steps == nil {
		return nil
	}
	out := make([]Step, len(steps))
	for i, s := range steps {
		c := s
		c.Questions = make([]Question, len(s.Questions))
		for j, q := range s.Questions {
			q.Choices = append([]string(nil), q.Choices...)
			if q.Knockout != nil {
				k := *q.Knockout
				k.Allowed = append([]string(nil), k.Allowed...)
				if k.Min != nil {
					v := *k.Min
					k.Min = &v
				}
				if k.Max != nil {
					v := *k.Max
					k.Max = &v
				}
				q.Knockout = &k
			}
			c.Questions[j] = q
		}
		if s.Questions == nil {
			c.Questions = nil
		}
		if s.Homework != nil {
			h := *s.Homework
			h.FileTypes = append([]string(nil), h.FileTypes...)
			c.Homework = &h
		}
		if s.Video != nil {
			v := *s.Video
			v.Prompts = append([]string(nil), v.Prompts...)
			c.Video = &v
		}
		out[i] = c
	}
	return out
}

// InvitedEvent is the first entry of a new applicant's timeline.
func (a *Applicant) InvitedEvent(actorID string) Event {
	return Event{OrgID: a.OrgID, ApplicantID: a.ID, Kind: EventInvited, To: StatusInvited,
		Message: "Invited to the job", ActorID: actorID, At: a.InvitedAt}
}

func (a *Applicant) move(to ApplicantStatus, kind EventKind, msg, actor string, now time.Time, from ...ApplicantStatus) (Event, error) {
	allowed := false
	for _, s := range from {
		if a.Status == s {
			allowed = true
		}
	}
	if !allowed {
		return Event{}, Errorf(ECONFLICT, "This applicant is %s and cannot become %s.", strings.ToLower(a.Status.Label()), strings.ToLower(to.Label()))
	}
	ev := Event{OrgID: a.OrgID, ApplicantID: a.ID, Kind: kind, From: a.Status, To: to, Message: msg, ActorID: actor, At: now}
	a.Status = to
	a.UpdatedAt = now
	return ev, nil
}

// Start records that the candidate opened the link and began: invited → in progress.
func (a *Applicant) Start(now time.Time) (Event, error) {
	if err := a.closedInLever(); err != nil {
		return Event{}, err
	}
	ev, err := a.move(StatusInProgress, EventStarted, "Started the funnel", "", now, StatusInvited)
	if err == nil {
		a.StartedAt = &now
	}
	return ev, err
}

// Submit records the candidate's submission: in progress → submitted.
func (a *Applicant) Submit(now time.Time) (Event, error) {
	if err := a.closedInLever(); err != nil {
		return Event{}, err
	}
	ev, err := a.move(StatusSubmitted, EventSubmitted, "Submitted; in review by the job team", "", now, StatusInProgress)
	if err == nil {
		a.SubmittedAt = &now
	}
	return ev, err
}

// Qualify records a positive decision: submitted → qualified. actorID is empty when the
// funnel decided by itself.
func (a *Applicant) Qualify(now time.Time, actorID string) (Event, error) {
	ev, err := a.move(StatusQualified, EventQualified, "Qualified", actorID, now, StatusSubmitted)
	if err == nil {
		a.DecidedAt, a.Reason = &now, ""
	}
	return ev, err
}

// Disqualify records a negative decision with its reason: from in progress (a failed
// knockout) or submitted (the job team's decision) → unqualified.
func (a *Applicant) Disqualify(now time.Time, reason, actorID string) (Event, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Event{}, Errorf(EINVALID, "A reason is required to mark an applicant unqualified.")
	}
	ev, err := a.move(StatusUnqualified, EventUnqualified, "Unqualified: "+reason, actorID, now, StatusInProgress, StatusSubmitted)
	if err == nil {
		a.DecidedAt, a.Reason = &now, reason
	}
	return ev, err
}

// Decide records the job team's decision on a submitted applicant: outcome is
// "qualified", or "unqualified" with a reason. A knockout may end an application in
// progress (Disqualify), but a decision is taken only on what was submitted.
func (a *Applicant) Decide(now time.Time, outcome, reason, actorID string) (Event, error) {
	if a.Status != StatusSubmitted {
		return Event{}, Errorf(ECONFLICT, "Only submitted applicants wait for a decision; this one is %s.", strings.ToLower(a.Status.Label()))
	}
	switch ApplicantStatus(outcome) {
	case StatusQualified:
		return a.Qualify(now, actorID)
	case StatusUnqualified:
		return a.Disqualify(now, reason, actorID)
	case "":
		return Event{}, Errorf(EINVALID, "Choose qualified or unqualified.")
	}
	return Event{}, Errorf(EINVALID, "Unknown outcome %q: choose qualified or unqualified.", outcome)
}

// OptOut records that the candidate declined or let the deadline pass: invited or in
// progress → opted out. reason says which.
func (a *Applicant) OptOut(now time.Time, reason string) (Event, error) {
	if err := a.closedInLever(); err != nil {
		return Event{}, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		reason = "no reason given"
	}
	ev, err := a.move(StatusOptedOut, EventOptedOut, "Opted out: "+reason, "", now, StatusInvited, StatusInProgress)
	if err == nil {
		a.Reason = reason
	}
	return ev, err
}

// Expired reports whether the applicant's time to submit has run out.
func (a *Applicant) Expired(now time.Time) bool {
	return a.AwaitsSubmission() && !now.Before(a.Deadline)
}

// ApplicantFilter narrows a list of applicants.
type ApplicantFilter struct {
	FunnelID string
	Status   ApplicantStatus
	// VisibleTo, when set, keeps the applicants of the jobs that user may see (see
	// Funnel.VisibleTo): a limited member's teams' jobs only.
	VisibleTo *User
	// Search, when set, keeps the applicants whose name or email contains it (letter
	// case aside) and whose identity pages may show: under blind review a name search
	// must not tell who "Applicant #1a2b3c4d" is. It also keeps every applicant of the
	// jobs in SearchFunnelIDs (those whose title matched). Lists only; counts ignore it.
	Search          string
	SearchFunnelIDs []string
}

// ApplicantService stores applicants and their timelines. Every method that changes an
// applicant writes the change, its timeline event and the background jobs that carry its
// effects in one transaction.
type ApplicantService interface {
	// CreateApplicant stores a new applicant with its invited event and fills in ID and
	// timestamps. A second applicant for the same funnel and email address, or the same
	// funnel and Lever opportunity, is an ECONFLICT error, however close together the
	// two invitations arrive.
	CreateApplicant(ctx context.Context, a *Applicant, actorID string) error
	// FindApplicantByID returns the org's applicant or ENOTFOUND.
	FindApplicantByID(ctx context.Context, orgID, id string) (*Applicant, error)
	// FindApplicantByToken returns the applicant whose link carries token, or ENOTFOUND.
	FindApplicantByToken(ctx context.Context, token string) (*Applicant, error)
	// CreateApplicants stores new applicants as CreateApplicant does, a batch in each
	// transaction, and returns one error per applicant (nil for those stored): ECONFLICT
	// for an address already in the job, which leaves the others of its batch alone.
	CreateApplicants(ctx context.Context, apps []*Applicant, actorID string) []error
	// ListApplicants returns every applicant of the org that filter keeps, newest
	// first. Its cost grows with the list: pages use ListApplicantPage.
	ListApplicants(ctx context.Context, orgID string, filter ApplicantFilter) ([]*Applicant, error)
	// ListApplicantPage returns one page of the org's applicants that q keeps, in q's
	// order, with the cursors of the pages beside it.
	ListApplicantPage(ctx context.Context, orgID string, q ApplicantQuery) (*ApplicantPage, error)
	// CountApplicants returns, per funnel ID, how many of the org's applicants are in each status.
	CountApplicants(ctx context.Context, orgID string) (map[string]map[ApplicantStatus]int, error)
	// CountStatuses returns how many of the org's applicants that filter keeps are in
	// each status; filter.Status is ignored.
	CountStatuses(ctx context.Context, orgID string, filter ApplicantFilter) (map[ApplicantStatus]int, error)
	// CountReached returns how many of the org's applicants that filter keeps ever
	// reached invited, in progress and submitted (whatever their status now), so that
	// "Invited" counts every invitation, not only those still unopened.
	CountReached(ctx context.Context, orgID string, filter ApplicantFilter) (map[ApplicantStatus]int, error)
	// CountReachedByJob returns CountReached per funnel ID, for the whole org.
	CountReachedByJob(ctx context.Context, orgID string) (map[string]map[ApplicantStatus]int, error)
	// TransitionApplicant loads the applicant, applies fn (one of the transition methods),
	// and stores the result with fn's event, all in one transaction. An error from fn
	// changes nothing and is returned as it is.
	TransitionApplicant(ctx context.Context, orgID, id string, fn func(*Applicant) (Event, error)) (*Applicant, error)
	// ListEvents returns the applicant's timeline, oldest first.
	ListEvents(ctx context.Context, orgID, applicantID string) ([]*Event, error)
}
