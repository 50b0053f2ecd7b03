package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"winnow"
)

// EmailStore is what email effects and the email worker need from the store;
// *sqlstore.Store implements it, and its methods of the same names document each. The
// Tx methods work inside the applicant change's transaction.
type EmailStore interface {
	AddEmailsTx(ctx context.Context, tx *sql.Tx, emails []*winnow.Email) ([]*winnow.Email, error)
	CancelScheduledEmailsTx(ctx context.Context, tx *sql.Tx, orgID, applicantID string) error
	FindFunnelTx(ctx context.Context, tx *sql.Tx, orgID, id string) (*winnow.Funnel, error)
	TemplateEnabledTx(ctx context.Context, tx *sql.Tx, orgID, funnelID string, kind winnow.EmailKind) (bool, error)

	FindEmailByID(ctx context.Context, orgID, id string) (*winnow.Email, error)
	ClaimEmail(ctx context.Context, orgID, id string, content *winnow.RenderedEmail) (*winnow.Email, bool, error)
	FinishEmail(ctx context.Context, orgID, id string, o winnow.EmailOutcome) error
	FindApplicantByID(ctx context.Context, orgID, id string) (*winnow.Applicant, error)
	FindFunnelByID(ctx context.Context, orgID, id string) (*winnow.Funnel, error)
	FindOrgByID(ctx context.Context, id string) (*winnow.Org, error)
	FindTemplate(ctx context.Context, orgID, funnelID string, kind winnow.EmailKind) (*winnow.Template, error)
}

// Effects returns the function the store calls inside each applicant change's
// transaction. It enqueues the jobs that carry the change's effects with InsertManyTx,
// so the change and its jobs commit together or not at all:
//
//   - invited: the invitation email now, a reminder per step of the job's cadence, and
//     the opt-out at the deadline;
//   - resent, new link requested: that email now;
//   - extended: the planned reminders are cancelled, a new round is planned from now,
//     and an opt-out at the new deadline (the old one finds the deadline moved);
//   - submitted: the planned reminders are cancelled;
//   - opted out, qualified, unqualified: the planned reminders are cancelled and the
//     opted-out or closing message queued (closing messages only when switched on).
//
// With emails nil only the opt-out is scheduled.
func Effects(client *Client, emails EmailStore) EffectsFunc {
	return func(ctx context.Context, tx *sql.Tx, a *winnow.Applicant, ev *winnow.Event) error {
		p := planner{client: client, emails: emails}
		var err error
		switch ev.Kind {
		case winnow.EventInvited:
			err = p.schedule(ctx, tx, []*winnow.Applicant{a}, nil, a.InvitedAt, true)
		case winnow.EventInvitationExtended:
			err = p.extend(ctx, tx, a, ev.At)
		case winnow.EventInvitationResent:
			err = p.queue(ctx, tx, a, winnow.EmailInvitation)
		case winnow.EventNewLinkRequested:
			err = p.queue(ctx, tx, a, winnow.EmailNewLink)
		case winnow.EventSubmitted:
			err = p.cancel(ctx, tx, a)
		case winnow.EventOptedOut:
			err = p.close(ctx, tx, a, winnow.EmailOptedOut)
		case winnow.EventQualified:
			err = p.close(ctx, tx, a, winnow.EmailQualified)
		case winnow.EventUnqualified:
			err = p.close(ctx, tx, a, winnow.EmailUnqualified)
		}
		if err != nil {
			return fmt.Errorf("%s effects: %w", ev.Kind, err)
		}
		return nil
	}
}

// planner turns applicant changes into email rows and River jobs inside a transaction.
type planner struct {
	client *Client
	emails EmailStore
}

// schedule plans, for each applicant (all of funnel f, or of their own funnels when f is
// nil), the invitation (when invite is set) and one reminder per cadence step counted
// from base, and the opt-out job at the applicant's deadline. It is the one path for a
// single invitation and for bulk scheduling.
func (p planner) schedule(ctx context.Context, tx *sql.Tx, as []*winnow.Applicant, f *winnow.Funnel, base time.Time, invite bool) error {
	var plan []*winnow.Email
	var params []river.InsertManyParams
	for _, a := range as {
		params = append(params, river.InsertManyParams{Args: OptOutArgs{OrgID: a.OrgID, ApplicantID: a.ID, Deadline: a.Deadline},
			InsertOpts: &river.InsertOpts{ScheduledAt: a.Deadline}})
		if p.emails == nil || a.Email == "" {
			continue
		}
		if f == nil || f.ID != a.FunnelID || f.OrgID != a.OrgID {
			var err error
			if f, err = p.emails.FindFunnelTx(ctx, tx, a.OrgID, a.FunnelID); err != nil {
				return err
			}
		}
		if invite {
			plan = append(plan, &winnow.Email{OrgID: a.OrgID, ApplicantID: a.ID, FunnelID: a.FunnelID, Kind: winnow.EmailInvitation,
				Seq: 1, To: a.Email, Status: winnow.EmailQueued, DueAt: base})
		}
		deadline := a.Deadline
		for i, after := range f.Cadence.Reminders {
			seq := 0 // after an extension: the next numbers
			if invite {
				seq = i + 1
			}
			plan = append(plan, &winnow.Email{OrgID: a.OrgID, ApplicantID: a.ID, FunnelID: a.FunnelID, Kind: winnow.EmailReminder,
				Seq: seq, To: a.Email, Status: winnow.EmailScheduled, DueAt: base.Add(after), Deadline: &deadline})
		}
	}
	if len(plan) > 0 {
		added, err := p.emails.AddEmailsTx(ctx, tx, plan)
		if err != nil {
			return err
		}
		params = append(params, sendParams(added)...)
	}
	return p.insert(ctx, tx, params)
}

// extend cancels the applicant's planned reminders and plans a new round from now.
func (p planner) extend(ctx context.Context, tx *sql.Tx, a *winnow.Applicant, now time.Time) error {
	if err := p.cancel(ctx, tx, a); err != nil {
		return err
	}
	return p.schedule(ctx, tx, []*winnow.Applicant{a}, nil, now, false)
}

// queue adds one email of kind for the applicant, due now.
func (p planner) queue(ctx context.Context, tx *sql.Tx, a *winnow.Applicant, kind winnow.EmailKind) error {
	if p.emails == nil || a.Email == "" {
		return nil
	}
	added, err := p.emails.AddEmailsTx(ctx, tx, []*winnow.Email{{OrgID: a.OrgID, ApplicantID: a.ID, FunnelID: a.FunnelID,
		Kind: kind, To: a.Email, Status: winnow.EmailQueued}})
	if err != nil {
		return err
	}
	return p.insert(ctx, tx, sendParams(added))
}

// cancel cancels the applicant's planned reminders.
func (p planner) cancel(ctx context.Context, tx *sql.Tx, a *winnow.Applicant) error {
	if p.emails == nil {
		return nil
	}
	return p.emails.CancelScheduledEmailsTx(ctx, tx, a.OrgID, a.ID)
}

// close cancels the planned reminders and queues the closing email of kind, if its
// template is switched on.
func (p planner) close(ctx context.Context, tx *sql.Tx, a *winnow.Applicant, kind winnow.EmailKind) error {
	if p.emails == nil {
		return nil
	}
	if err := p.cancel(ctx, tx, a); err != nil {
		return err
	}
	on, err := p.emails.TemplateEnabledTx(ctx, tx, a.OrgID, a.FunnelID, kind)
	if err != nil || !on {
		return err
	}
	return p.queue(ctx, tx, a, kind)
}

func (p planner) insert(ctx context.Context, tx *sql.Tx, params []river.InsertManyParams) error {
	if len(params) == 0 {
		return nil
	}
	if _, err := p.client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	return nil
}

// sendParams returns a send job per email: now for queued ones, at their time for
// scheduled reminders.
func sendParams(emails []*winnow.Email) []river.InsertManyParams {
	params := make([]river.InsertManyParams, 0, len(emails))
	for _, e := range emails {
		args := SendEmailArgs{OrgID: e.OrgID, EmailID: e.ID, ApplicantID: e.ApplicantID, EmailKind: string(e.Kind), Seq: e.Seq}
		var opts *river.InsertOpts
		if e.Status == winnow.EmailScheduled {
			args.Deadline = e.Deadline
			opts = &river.InsertOpts{ScheduledAt: e.DueAt}
		}
		params = append(params, river.InsertManyParams{Args: args, InsertOpts: opts})
	}
	return params
}
