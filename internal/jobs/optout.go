package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"winnow"
)

// OptOutArgs opts an applicant out when their deadline passes without a submission.
// It is scheduled at the invitation for the deadline; if the applicant has moved on or
// the deadline was extended by then, it does nothing. Run before the deadline (by the
// injected clock), it snoozes until then.
type OptOutArgs struct {
	OrgID       string    `json:"org_id"`
	ApplicantID string    `json:"applicant_id"`
	Deadline    time.Time `json:"deadline"`
}

// Kind names the job in River's table.
func (OptOutArgs) Kind() string { return "applicant_opt_out" }

// InsertOpts makes the job unique per applicant and deadline, so a repeated invitation
// cannot schedule two, while an extended deadline schedules a new one.
func (OptOutArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// OptOutPlanner plans the opt-out job at the applicant's deadline when they are
// invited, and again when their invitation is extended or they are let through a
// knockout (the job planned before finds the deadline moved and does nothing; one for
// a deadline that did not move is the same job, which River keeps once).
type OptOutPlanner struct{}

var _ Planner = OptOutPlanner{}

// Plan returns the opt-out job an invitation or an extension calls for.
func (OptOutPlanner) Plan(ctx context.Context, tx Tx, c Change) ([]river.InsertManyParams, error) {
	if c.Event == nil || (c.Event.Kind != winnow.EventInvited && c.Event.Kind != winnow.EventInvitationExtended &&
		c.Event.Kind != winnow.EventKnockoutOverridden) {
		return nil, nil
	}
	return []river.InsertManyParams{optOutParams(c.Applicant)}, nil
}

// optOutParams is the opt-out job of applicant a, at their deadline.
func optOutParams(a *winnow.Applicant) river.InsertManyParams {
	return river.InsertManyParams{Args: OptOutArgs{OrgID: a.OrgID, ApplicantID: a.ID, Deadline: a.Deadline},
		InsertOpts: &river.InsertOpts{ScheduledAt: a.Deadline}}
}

type optOutWorker struct {
	river.WorkerDefaults[OptOutArgs]
	deps Deps
}

func (w *optOutWorker) Work(ctx context.Context, job *river.Job[OptOutArgs]) error {
	now := w.deps.Clock.Now()
	var early time.Duration
	a, err := w.deps.Applicants.TransitionApplicant(ctx, job.Args.OrgID, job.Args.ApplicantID, func(a *winnow.Applicant) (winnow.Event, error) {
		if !a.Deadline.Equal(job.Args.Deadline) || !a.AwaitsSubmission() {
			return winnow.Event{}, errNothingToDo
		}
		if !a.Expired(now) {
			early = a.Deadline.Sub(now)
			return winnow.Event{}, errNothingToDo
		}
		days := a.Deadline.Sub(a.InvitedAt).Hours() / 24
		return a.OptOut(now, fmt.Sprintf("no submission within %s days of the invitation", trimFloat(days)))
	})
	switch {
	case early > 0:
		// River's clock ran ahead of ours: come back at the deadline rather than drop it.
		return river.JobSnooze(early)
	case err == errNothingToDo || winnow.ErrorCode(err) == winnow.ENOTFOUND:
		return nil
	case err != nil:
		return fmt.Errorf("opt out applicant: %w", err)
	}
	w.deps.Logger.InfoContext(ctx, "applicant opted out at deadline", "org_id", a.OrgID, "applicant_id", a.ID, "funnel_id", a.FunnelID)
	return nil
}

// Timeout bounds one run; the work is a single small transaction.
func (w *optOutWorker) Timeout(*river.Job[OptOutArgs]) time.Duration { return 30 * time.Second }

var errNothingToDo = &winnow.Error{Code: winnow.ECONFLICT, Message: "nothing to do"}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.1f", f)
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		return s[:len(s)-2]
	}
	return s
}
