package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"winnow"
)

// EmailTx is what the email planner reads and writes inside a change's transaction;
// the methods of the same names on *sqlstore.Tx document each.
type EmailTx interface {
	AddEmails(ctx context.Context, emails []*winnow.Email) ([]*winnow.Email, error)
	CancelScheduledEmails(ctx context.Context, orgID, applicantID string) error
	FindFunnel(ctx context.Context, orgID, id string) (*winnow.Funnel, error)
	TemplateEnabled(ctx context.Context, orgID, funnelID string, kind winnow.EmailKind) (bool, error)
	ListAdmins(ctx context.Context, orgID string) ([]*winnow.User, error)
}

// EmailPlanner plans the emails of a change, as email rows and their send jobs:
//
//   - invited: the invitation now and a reminder per step of the job's cadence;
//   - resent, new link requested: that email now;
//   - extended: the planned reminders are cancelled and a new round is planned from now;
//   - submitted: the planned reminders are cancelled;
//   - opted out, qualified, unqualified: the planned reminders are cancelled and the
//     opted-out or closing message queued (closing messages only when switched on);
//   - reopened: anything still scheduled is cancelled (a closing message not yet sent
//     is skipped when its job runs: Email.StillApplies);
//   - knockout overridden: the same, then the invitation again, so that the candidate
//     learns they may go on, and a new round of reminders from now;
//   - a member invitation: the send job of its email, which the store has written;
//   - Lever needs reconnecting: one email to each admin of the org, numbered by the
//     incident, so that the same incident never emails an admin twice.
//
// Applicants without an address get no emails.
type EmailPlanner struct{}

var _ Planner = EmailPlanner{}

// Plan returns the send jobs of the emails c calls for, after adding their rows in tx.
func (p EmailPlanner) Plan(ctx context.Context, tx Tx, c Change) ([]river.InsertManyParams, error) {
	if c.Invite != nil {
		return sendParams([]*winnow.Email{c.Email}), nil
	}
	if c.Lever != nil {
		return p.leverReconnect(ctx, tx, c.Lever, c.Incident)
	}
	if c.Event == nil {
		return nil, nil
	}
	a := c.Applicant
	switch c.Event.Kind {
	case winnow.EventInvited:
		return p.schedule(ctx, tx, []*winnow.Applicant{a}, nil, a.InvitedAt, true)
	case winnow.EventInvitationExtended:
		if err := tx.CancelScheduledEmails(ctx, a.OrgID, a.ID); err != nil {
			return nil, err
		}
		return p.schedule(ctx, tx, []*winnow.Applicant{a}, nil, c.Event.At, false)
	case winnow.EventInvitationResent:
		return p.queue(ctx, tx, a, winnow.EmailInvitation)
	case winnow.EventNewLinkRequested:
		return p.queue(ctx, tx, a, winnow.EmailNewLink)
	case winnow.EventSubmitted, winnow.EventReopened:
		return nil, tx.CancelScheduledEmails(ctx, a.OrgID, a.ID)
	case winnow.EventKnockoutOverridden:
		return p.letThrough(ctx, tx, a, c.Event.At)
	case winnow.EventOptedOut:
		return p.close(ctx, tx, a, winnow.EmailOptedOut)
	case winnow.EventQualified:
		return p.close(ctx, tx, a, winnow.EmailQualified)
	case winnow.EventUnqualified:
		return p.close(ctx, tx, a, winnow.EmailUnqualified)
	}
	return nil, nil
}

// schedule plans, for each applicant with an address (all of funnel f, or of their own
// funnels when f is nil), the invitation (when invite is set) and one reminder per
// cadence step counted from base. It is the one path for a single invitation and for
// bulk scheduling.
func (p EmailPlanner) schedule(ctx context.Context, tx EmailTx, as []*winnow.Applicant, f *winnow.Funnel, base time.Time, invite bool) ([]river.InsertManyParams, error) {
	var plan []*winnow.Email
	for _, a := range as {
		if a.Email == "" {
			continue
		}
		if f == nil || f.ID != a.FunnelID || f.OrgID != a.OrgID {
			var err error
			if f, err = tx.FindFunnel(ctx, a.OrgID, a.FunnelID); err != nil {
				return nil, err
			}
		}
		if invite {
			plan = append(plan, &winnow.Email{OrgID: a.OrgID, ApplicantID: a.ID, FunnelID: a.FunnelID, Kind: winnow.EmailInvitation,
				Seq: 1, To: a.Email, Status: winnow.EmailQueued, DueAt: base})
		}
		deadline := a.Deadline
		for i, after := range f.Cadence.Reminders {
			if !base.Add(after).Before(deadline) {
				break // a round started late (a knockout let through) stops at the deadline
			}
			seq := 0 // after an extension: the next numbers
			if invite {
				seq = i + 1
			}
			plan = append(plan, &winnow.Email{OrgID: a.OrgID, ApplicantID: a.ID, FunnelID: a.FunnelID, Kind: winnow.EmailReminder,
				Seq: seq, To: a.Email, Status: winnow.EmailScheduled, DueAt: base.Add(after), Deadline: &deadline})
		}
	}
	if len(plan) == 0 {
		return nil, nil
	}
	added, err := tx.AddEmails(ctx, plan)
	if err != nil {
		return nil, err
	}
	return sendParams(added), nil
}

// letThrough plans the emails of a candidate let through a knockout at now: what was
// scheduled is cancelled (the closing message among it), the invitation goes again
// (the candidate left on a "not a fit" page and has no other way to hear that they
// may continue by their link), and the reminders start over from now, up to the
// applicant's deadline, as after an extension.
func (p EmailPlanner) letThrough(ctx context.Context, tx EmailTx, a *winnow.Applicant, now time.Time) ([]river.InsertManyParams, error) {
	if err := tx.CancelScheduledEmails(ctx, a.OrgID, a.ID); err != nil {
		return nil, err
	}
	invite, err := p.queue(ctx, tx, a, winnow.EmailInvitation)
	if err != nil {
		return nil, err
	}
	remind, err := p.schedule(ctx, tx, []*winnow.Applicant{a}, nil, now, false)
	if err != nil {
		return nil, err
	}
	return append(invite, remind...), nil
}

// queue adds one email of kind for the applicant, due now.
func (p EmailPlanner) queue(ctx context.Context, tx EmailTx, a *winnow.Applicant, kind winnow.EmailKind) ([]river.InsertManyParams, error) {
	if a.Email == "" {
		return nil, nil
	}
	added, err := tx.AddEmails(ctx, []*winnow.Email{{OrgID: a.OrgID, ApplicantID: a.ID, FunnelID: a.FunnelID,
		Kind: kind, To: a.Email, Status: winnow.EmailQueued}})
	if err != nil {
		return nil, err
	}
	return sendParams(added), nil
}

// close cancels the planned reminders and queues the closing email of kind, if its
// template is switched on.
func (p EmailPlanner) close(ctx context.Context, tx EmailTx, a *winnow.Applicant, kind winnow.EmailKind) ([]river.InsertManyParams, error) {
	if err := tx.CancelScheduledEmails(ctx, a.OrgID, a.ID); err != nil {
		return nil, err
	}
	on, err := tx.TemplateEnabled(ctx, a.OrgID, a.FunnelID, kind)
	if err != nil || !on {
		return nil, err
	}
	return p.queue(ctx, tx, a, kind)
}

// sendParams returns a send job per email: now for queued ones, at their time for
// scheduled reminders.
func sendParams(emails []*winnow.Email) []river.InsertManyParams {
	params := make([]river.InsertManyParams, 0, len(emails))
	for _, e := range emails {
		args := SendEmailArgs{OrgID: e.OrgID, EmailID: e.ID, ApplicantID: e.ApplicantID, InviteID: e.InviteID,
			EmailKind: string(e.Kind), Seq: e.Seq}
		var opts *river.InsertOpts
		if e.Status == winnow.EmailScheduled {
			args.Deadline = e.Deadline
			opts = &river.InsertOpts{ScheduledAt: e.DueAt}
		}
		params = append(params, river.InsertManyParams{Args: args, InsertOpts: opts})
	}
	return params
}

// leverReconnect queues, for each admin of the org of conn, the email saying that Lever
// needs reconnecting. Its content is rendered when it is sent, like candidate emails.
func (p EmailPlanner) leverReconnect(ctx context.Context, tx EmailTx, conn *winnow.LeverConnection, incident int) ([]river.InsertManyParams, error) {
	admins, err := tx.ListAdmins(ctx, conn.OrgID)
	if err != nil {
		return nil, err
	}
	var plan []*winnow.Email
	for _, u := range admins {
		plan = append(plan, &winnow.Email{OrgID: conn.OrgID, Kind: winnow.EmailLeverReconnect, Seq: incident, To: u.Email,
			Status: winnow.EmailQueued})
	}
	if len(plan) == 0 {
		return nil, nil
	}
	added, err := tx.AddEmails(ctx, plan)
	if err != nil {
		return nil, err
	}
	return sendParams(added), nil
}
