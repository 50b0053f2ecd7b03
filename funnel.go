package winnow

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FunnelStatus is whether a funnel takes applicants.
type FunnelStatus string

// The funnel statuses.
const (
	FunnelDraft  FunnelStatus = "draft"  // being built; takes no applicants
	FunnelOpen   FunnelStatus = "open"   // takes applicants
	FunnelClosed FunnelStatus = "closed" // no new applicants; those inside may finish
)

// Valid reports whether s is a known funnel status.
func (s FunnelStatus) Valid() bool {
	return s == FunnelDraft || s == FunnelOpen || s == FunnelClosed
}

// Cadence is when an invited applicant is reminded and when an applicant who never
// submits is deemed opted out, both counted from the invitation.
type Cadence struct {
	Reminders   []time.Duration
	OptOutAfter time.Duration
}

// DefaultCadence reminds after 2, 5, 9 and 14 days and opts out after 17.5 days (420 h).
func DefaultCadence() Cadence {
	day := 24 * time.Hour
	return Cadence{Reminders: []time.Duration{2 * day, 5 * day, 9 * day, 14 * day}, OptOutAfter: 420 * time.Hour}
}

// Validate reports whether the cadence makes sense: reminders strictly increasing, all
// before the opt-out.
func (c Cadence) Validate() error {
	if c.OptOutAfter <= 0 {
		return Errorf(EINVALID, "The opt-out deadline must be after the invitation.")
	}
	var prev time.Duration
	for _, r := range c.Reminders {
		if r <= prev {
			return Errorf(EINVALID, "Reminders must come after the invitation, in increasing order.")
		}
		if r >= c.OptOutAfter {
			return Errorf(EINVALID, "Every reminder must come before the opt-out deadline.")
		}
		prev = r
	}
	return nil
}

// Funnel is a qualification funnel; the UI calls it a "Job". Applicants go through its
// ordered steps; its team reviews them.
type Funnel struct {
	ID               string
	OrgID            string
	Title            string
	Description      string
	Status           FunnelStatus
	Steps            []Step
	Team             []string // user IDs of the job team
	LeverPostingID   string   // the linked Lever posting, if any
	QualifiedStageID string   // overrides the org's qualified stage, if set
	OpenReview       bool     // reviewers see name and email before the decision (blind review when false)
	Cadence          Cadence
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Limits of a funnel's own texts.
const (
	MaxFunnelTitleLength       = 200
	MaxFunnelDescriptionLength = 20000
)

// Validate normalises the funnel and reports whether it can be stored: a draft may be
// incomplete, but every step must be one a candidate can finish, with IDs unique in
// the funnel, and an open job needs at least one step (with none, every candidate
// would qualify the moment they start). Messages name the step and question at fault.
func (f *Funnel) Validate() error {
	f.Title = strings.TrimSpace(f.Title)
	if f.Status == "" {
		f.Status = FunnelDraft
	}
	if f.Cadence.OptOutAfter == 0 && len(f.Cadence.Reminders) == 0 {
		f.Cadence = DefaultCadence()
	}
	switch {
	case f.OrgID == "":
		return Errorf(EINVALID, "A job must belong to an organization.")
	case f.Title == "":
		return Errorf(EINVALID, "Job title is required.")
	case tooLong(f.Title, MaxFunnelTitleLength):
		return Errorf(EINVALID, "Job title must be at most %d characters.", MaxFunnelTitleLength)
	case tooLong(f.Description, MaxFunnelDescriptionLength):
		return Errorf(EINVALID, "Job description must be at most %s characters.", thousands(MaxFunnelDescriptionLength))
	case !f.Status.Valid():
		return Errorf(EINVALID, "Unknown job status %q: use draft, open or closed.", clip(string(f.Status)))
	case len(f.Steps) > MaxStepsPerFunnel:
		return Errorf(EINVALID, "A job may have at most %d steps.", MaxStepsPerFunnel)
	case f.Status == FunnelOpen && len(f.Steps) == 0:
		return Errorf(EINVALID, "An open job needs at least one step: add one, or keep the job a draft.")
	}
	if err := f.Cadence.Validate(); err != nil {
		return err
	}
	steps := make(map[string]int, len(f.Steps))
	type place struct{ step, question int }
	questions := map[string]place{}
	for i := range f.Steps {
		s := &f.Steps[i]
		s.assignIDs()
		at := "Step " + strconv.Itoa(i+1)
		if err := s.validate(at); err != nil {
			return err
		}
		if j, dup := steps[s.ID]; dup {
			return invalidAt(at, "The step ID %q is already used by step %d.", s.ID, j+1)
		}
		steps[s.ID] = i
		// Question IDs are unique in the whole funnel, not only in their step: the
		// editor shows every step on one page, where they are element IDs.
		for k, q := range s.Questions {
			if p, dup := questions[q.ID]; dup && p.step != i {
				return invalidAt(questionAt(at, k), "The question ID %q is already used by step %d, question %d.", q.ID, p.step+1, p.question+1)
			}
			questions[q.ID] = place{i, k}
		}
	}
	return nil
}

// OnTeam reports whether the user is on the funnel's job team.
func (f *Funnel) OnTeam(userID string) bool { return slices.Contains(f.Team, userID) }

// VisibleTo reports whether the user may see and review the funnel: admins and members
// see every funnel of their org, limited members only those whose team they are on.
func (f *Funnel) VisibleTo(u *User) bool {
	if u == nil || u.OrgID != f.OrgID {
		return false
	}
	switch u.Role {
	case RoleAdmin, RoleMember:
		return true
	case RoleLimited:
		return f.OnTeam(u.ID)
	}
	return false
}

// MayDecide reports whether u may review and decide on the funnel's applicants:
// admins, and the job team (limited members on it included). Members off the team may
// look but not score or decide, so that a job's decision stays with the people it
// names.
func (f *Funnel) MayDecide(u *User) bool {
	return f.VisibleTo(u) && (u.IsAdmin() || f.OnTeam(u.ID))
}

// NeedsReview reports whether a submitted applicant waits for the job team: true when
// the funnel has Homework or Video steps, false when it has only Questions.
func (f *Funnel) NeedsReview() bool {
	for _, s := range f.Steps {
		if s.Kind != StepQuestions {
			return true
		}
	}
	return false
}

// FunnelFilter narrows ListFunnels.
type FunnelFilter struct {
	// VisibleTo, when set, keeps only funnels that user may see.
	VisibleTo *User
	// Status, when set, keeps only funnels with this status.
	Status FunnelStatus
}

// FunnelService stores funnels.
type FunnelService interface {
	// CreateFunnel validates and stores a new funnel, filling in ID and timestamps.
	CreateFunnel(ctx context.Context, f *Funnel) error
	// FindFunnelByID returns the org's funnel or ENOTFOUND.
	FindFunnelByID(ctx context.Context, orgID, id string) (*Funnel, error)
	// ListFunnels returns the org's funnels, newest first.
	ListFunnels(ctx context.Context, orgID string, filter FunnelFilter) ([]*Funnel, error)
	// UpdateFunnel validates and stores changes to an existing funnel.
	UpdateFunnel(ctx context.Context, f *Funnel) error
}
