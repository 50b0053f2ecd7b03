package jobs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"winnow"
	"winnow/internal/mail"
)

// EmailStore is what the email worker needs from the store; *sqlstore.Store implements
// it, and its methods of the same names document each.
type EmailStore interface {
	FindEmailByID(ctx context.Context, orgID, id string) (*winnow.Email, error)
	FindEmailToSend(ctx context.Context, orgID, id string) (*winnow.Email, *winnow.Applicant, string, *winnow.Org, error)
	ClaimEmail(ctx context.Context, orgID, id string, content *winnow.RenderedEmail) (*winnow.Email, bool, error)
	KeepEmail(ctx context.Context, orgID, id string, content *winnow.RenderedEmail, o winnow.EmailOutcome) (*winnow.Email, bool, error)
	FinishEmail(ctx context.Context, orgID, id string, o winnow.EmailOutcome) error
	FindApplicantByID(ctx context.Context, orgID, id string) (*winnow.Applicant, error)
	FindFunnelByID(ctx context.Context, orgID, id string) (*winnow.Funnel, error)
	FindOrgByID(ctx context.Context, id string) (*winnow.Org, error)
	FindTemplate(ctx context.Context, orgID, funnelID string, kind winnow.EmailKind) (*winnow.Template, error)
	FindLeverConnection(ctx context.Context, orgID string) (*winnow.LeverConnection, error)
}

// SendEmailArgs sends one email row. The row is the authority: the job is unique per
// email (hence per applicant, kind and sequence), and a job that finds its email final
// (sent, held, skipped, cancelled, …) does nothing, so a retried or duplicated job sends
// nothing twice. Deadline, for reminders, is the deadline they were planned under; an
// extension moves the applicant's deadline and the reminder becomes a no-op.
type SendEmailArgs struct {
	OrgID       string     `json:"org_id"`
	EmailID     string     `json:"email_id"`
	ApplicantID string     `json:"applicant_id,omitempty"`
	InviteID    string     `json:"invite_id,omitempty"` // member invitations
	EmailKind   string     `json:"email_kind"`
	Seq         int        `json:"seq"`
	Deadline    *time.Time `json:"deadline,omitempty"`
}

// Kind names the job in River's table.
func (SendEmailArgs) Kind() string { return "email_send" }

// InsertOpts makes the job unique per email, and gives it enough attempts, with the
// backoff of NextRetry, to outlast a mail server that is down for about a day.
func (SendEmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: emailMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

const (
	emailMaxAttempts = 30
	emailMaxBackoff  = time.Hour
)

type sendEmailWorker struct {
	river.WorkerDefaults[SendEmailArgs]
	deps Deps
}

// Timeout bounds one attempt: a connection is bounded by the SMTP timeout.
func (w *sendEmailWorker) Timeout(*river.Job[SendEmailArgs]) time.Duration { return 2 * time.Minute }

// NextRetry backs off 1, 2, 4, … minutes up to an hour, counted on the injected clock.
func (w *sendEmailWorker) NextRetry(job *river.Job[SendEmailArgs]) time.Time {
	return w.deps.Clock.Now().Add(emailBackoff(job.Attempt))
}

func emailBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 7 {
		return emailMaxBackoff
	}
	return min(time.Duration(1<<(attempt-1))*time.Minute, emailMaxBackoff)
}

func (w *sendEmailWorker) Work(ctx context.Context, job *river.Job[SendEmailArgs]) error {
	d, args := w.deps, job.Args
	if d.Emails == nil {
		return river.JobCancel(errors.New("email is not configured in this process"))
	}
	log := d.Logger.With("org_id", args.OrgID, "email_id", args.EmailID, "applicant_id", args.ApplicantID, "job_id", job.ID)
	if args.InviteID != "" {
		log = log.With("invite_id", args.InviteID)
	}
	now := d.Clock.Now()
	e, a, org, err := w.load(ctx, args)
	switch {
	case winnow.ErrorCode(err) == winnow.ENOTFOUND:
		return nil // the applicant is gone, and their emails with them
	case err != nil:
		return err
	case e.Status.Final():
		return nil
	case e.Status == winnow.EmailScheduled && now.Before(e.DueAt):
		// River's clock ran ahead of ours; come back when it is due.
		return river.JobSnooze(e.DueAt.Sub(now))
	}
	var content *winnow.RenderedEmail
	switch {
	case e.Rendered():
	case a == nil && e.Kind == winnow.EmailLeverReconnect:
		if content, err = w.renderLeverReconnect(ctx, e); err != nil {
			return err
		}
	case a == nil:
		return river.JobCancel(fmt.Errorf("email %s has no content and no applicant to render it for", e.ID))
	default:
		if content, err = w.render(ctx, e, a, org); err != nil {
			return err
		}
	}
	if d.Sender == nil {
		// Outbox mode: the claim and its outcome are one transaction, since nothing is
		// sent between them.
		kept, held, err := d.Emails.KeepEmail(ctx, e.OrgID, e.ID, content, winnow.EmailOutcome{Status: winnow.EmailOutbox,
			Event: winnow.EventEmailHeld, At: d.Clock.Now(),
			Message: e.Name() + " email kept in the outbox: no SMTP server is configured, so it was not delivered"})
		if err != nil {
			return fmt.Errorf("keep email: %w", err)
		}
		if !held {
			log.InfoContext(ctx, "email not sent", "kind", string(kept.Kind), "status", string(kept.Status), "reason", kept.LastError)
		}
		return nil
	}
	e, send, err := d.Emails.ClaimEmail(ctx, e.OrgID, e.ID, content)
	if err != nil {
		return fmt.Errorf("claim email: %w", err)
	}
	if !send {
		log.InfoContext(ctx, "email not sent", "kind", string(e.Kind), "status", string(e.Status), "reason", e.LastError)
		return nil
	}
	// Sealed content (a member invitation's link) is opened only now, after the claim's
	// transaction, and only in memory; it is never logged.
	plain, err := w.unseal(e)
	if err != nil {
		log.ErrorContext(ctx, "email not sent: its content does not open", "kind", string(e.Kind), "error", err)
		if ferr := w.finish(ctx, e, winnow.EmailOutcome{Status: winnow.EmailFailed, Error: msgUnsealFailed,
			Event: winnow.EventEmailFailed, Message: e.Name() + " email failed. " + msgUnsealFailed}); ferr != nil {
			return ferr
		}
		return river.JobCancel(err)
	}
	msg := &mail.Message{ID: e.ID, From: d.From, To: e.To, Subject: plain.Subject, Text: plain.Text, HTML: plain.HTML, Date: d.Clock.Now()}
	if a != nil {
		msg.ListUnsubscribe = d.BaseURL() + winnow.OptOutPath(a.Token)
		// A candidate's reply goes to the org's reply-to address when it set one.
		if org != nil {
			msg.ReplyTo = org.ReplyTo
		} else if o, err := d.Emails.FindOrgByID(ctx, e.OrgID); err == nil {
			msg.ReplyTo = o.ReplyTo
		} else {
			log.WarnContext(ctx, "email sent without the org's reply-to: org not found", "error", err)
		}
	}
	sendErr := d.Sender.Send(ctx, msg)
	o, jobErr := outcome(e, sendErr, job)
	o.At = d.Clock.Now()
	if err := w.finish(ctx, e, o); err != nil {
		return err
	}
	switch o.Status {
	case winnow.EmailSent:
		log.InfoContext(ctx, "email sent", "kind", string(e.Kind), "seq", e.Seq)
	default:
		log.WarnContext(ctx, "email not delivered", "kind", string(e.Kind), "seq", e.Seq, "status", string(o.Status),
			"attempt", job.Attempt, "error", sendErr)
	}
	return jobErr
}

// outcome decides what a send's result means for the email and for River: retry
// (return an error), stop (JobCancel) or done (nil).
func outcome(e *winnow.Email, err error, job *river.Job[SendEmailArgs]) (winnow.EmailOutcome, error) {
	name := e.Name() + " email"
	if err == nil {
		return winnow.EmailOutcome{Status: winnow.EmailSent, Event: winnow.EventEmailSent, Message: name + " sent"}, nil
	}
	reason := mail.Reason(err)
	switch mail.OutcomeOf(err) {
	case mail.Unknown:
		if e.Uncertain >= 1 {
			return winnow.EmailOutcome{Status: winnow.EmailUnknown, Uncertain: true, Error: reason, Event: winnow.EventEmailUnknown,
				Message: name + ": delivery unknown again after one retry; not sent again. " + reason}, river.JobCancel(err)
		}
		return winnow.EmailOutcome{Status: winnow.EmailQueued, Uncertain: true, Error: reason, Event: winnow.EventEmailUnknown,
			Message: name + ": " + reason + " Trying once more."}, err
	case mail.Refused:
		return winnow.EmailOutcome{Status: winnow.EmailFailed, Error: reason, Event: winnow.EventEmailFailed,
			Message: name + " failed: " + reason}, river.JobCancel(err)
	}
	if job.Attempt >= job.MaxAttempts {
		return winnow.EmailOutcome{Status: winnow.EmailFailed, Error: reason, Event: winnow.EventEmailFailed,
			Message: name + " failed after " + strconv.Itoa(job.Attempt) + " attempts: " + reason}, err
	}
	o := winnow.EmailOutcome{Status: winnow.EmailQueued, Error: reason}
	if e.LastError == "" {
		// One timeline entry when the trouble starts, not one per retry.
		o.Event, o.Message = winnow.EventEmailDelayed, name+" delayed: "+reason+" Retrying."
	}
	return o, err
}

// msgUnsealFailed is the person-readable reason for an email whose sealed content does
// not open.
const msgUnsealFailed = "Not sent: the message is encrypted with another secret key (WINNOW_SECRET_KEY changed since it was written)."

// unseal returns e with its content opened when it is sealed.
func (w *sendEmailWorker) unseal(e *winnow.Email) (*winnow.Email, error) {
	if !e.Sealed {
		return e, nil
	}
	if w.deps.Sealer == nil {
		return nil, errors.New("the email is sealed and this process has no key to open it")
	}
	return e.Unseal(w.deps.Sealer.Open)
}

func (w *sendEmailWorker) finish(ctx context.Context, e *winnow.Email, o winnow.EmailOutcome) error {
	if o.At.IsZero() {
		o.At = w.deps.Clock.Now()
	}
	if err := w.deps.Emails.FinishEmail(ctx, e.OrgID, e.ID, o); err != nil {
		return fmt.Errorf("record email outcome: %w", err)
	}
	return nil
}

// emailOrg is the org of an email to an applicant with their funnel's title, as the
// email worker reads them with the email.
type emailOrg struct {
	*winnow.Org
	jobTitle string
}

// load reads the job's email and, when it has one, its applicant (ENOTFOUND when
// either is gone). An email to an applicant comes with their funnel's title and the
// org in the same read; when that read finds nothing (the applicant may be gone), or
// the email has no applicant, they are read one by one and org is nil.
func (w *sendEmailWorker) load(ctx context.Context, args SendEmailArgs) (*winnow.Email, *winnow.Applicant, *emailOrg, error) {
	d := w.deps
	if args.ApplicantID != "" {
		e, a, title, o, err := d.Emails.FindEmailToSend(ctx, args.OrgID, args.EmailID)
		switch {
		case err == nil:
			return e, a, &emailOrg{Org: o, jobTitle: title}, nil
		case winnow.ErrorCode(err) != winnow.ENOTFOUND:
			return nil, nil, nil, fmt.Errorf("load email: %w", err)
		}
	}
	e, err := d.Emails.FindEmailByID(ctx, args.OrgID, args.EmailID)
	if winnow.ErrorCode(err) == winnow.ENOTFOUND {
		return nil, nil, nil, err
	} else if err != nil {
		return nil, nil, nil, fmt.Errorf("load email: %w", err)
	}
	if e.ApplicantID == "" {
		return e, nil, nil, nil
	}
	a, err := d.Emails.FindApplicantByID(ctx, e.OrgID, e.ApplicantID)
	if winnow.ErrorCode(err) == winnow.ENOTFOUND {
		return nil, nil, nil, err
	} else if err != nil {
		return nil, nil, nil, fmt.Errorf("load applicant: %w", err)
	}
	return e, a, nil, nil
}

// render fills in the template in force for the email's kind and job, with the job's
// title and the org from org when the worker read them with the email. A stored
// template that no longer renders falls back to the built-in one rather than sending
// nothing.
func (w *sendEmailWorker) render(ctx context.Context, e *winnow.Email, a *winnow.Applicant, org *emailOrg) (*winnow.RenderedEmail, error) {
	d := w.deps
	if org == nil {
		f, err := d.Emails.FindFunnelByID(ctx, a.OrgID, a.FunnelID)
		if err != nil {
			return nil, fmt.Errorf("load funnel: %w", err)
		}
		o, err := d.Emails.FindOrgByID(ctx, a.OrgID)
		if err != nil {
			return nil, fmt.Errorf("load org: %w", err)
		}
		org = &emailOrg{Org: o, jobTitle: f.Title}
	}
	t, err := d.Emails.FindTemplate(ctx, a.OrgID, a.FunnelID, e.Kind)
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}
	// CandidateData reads only the funnel's title.
	f := &winnow.Funnel{ID: a.FunnelID, OrgID: a.OrgID, Title: org.jobTitle}
	data := CandidateData(a, f, org.Org, d.BaseURL())
	data.ReminderNumber = strconv.Itoa(e.Seq)
	r, err := renderTemplate(ctx, d.Logger.With("org_id", a.OrgID, "funnel_id", a.FunnelID), t, data)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// renderLeverReconnect fills in the org's template telling an admin that Lever needs
// reconnecting, with what Lever said, if the connection still needs reconnecting.
func (w *sendEmailWorker) renderLeverReconnect(ctx context.Context, e *winnow.Email) (*winnow.RenderedEmail, error) {
	d := w.deps
	o, err := d.Emails.FindOrgByID(ctx, e.OrgID)
	if err != nil {
		return nil, fmt.Errorf("load org: %w", err)
	}
	data := winnow.TemplateData{Company: o.Name, Link: d.BaseURL() + winnow.LeverPanelPath}
	if c, err := d.Emails.FindLeverConnection(ctx, e.OrgID); err == nil && c.State == winnow.LeverNeedsReconnecting {
		data.Reason = c.StateReason
	} else if err != nil && winnow.ErrorCode(err) != winnow.ENOTFOUND {
		return nil, fmt.Errorf("load lever connection: %w", err)
	}
	t, err := d.Emails.FindTemplate(ctx, e.OrgID, "", e.Kind)
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}
	r, err := renderTemplate(ctx, d.Logger.With("org_id", e.OrgID), t, data)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// CandidateData is the template data of an email to applicant a of funnel f at org o.
func CandidateData(a *winnow.Applicant, f *winnow.Funnel, o *winnow.Org, baseURL string) winnow.TemplateData {
	first, _, _ := strings.Cut(strings.TrimSpace(a.Name), " ")
	return winnow.TemplateData{FirstName: first, CandidateName: a.Name, JobTitle: f.Title, Company: o.Name,
		Link: baseURL + winnow.CandidatePath(a.Token), OptOutLink: baseURL + winnow.OptOutPath(a.Token),
		Deadline: winnow.FormatDeadline(a.Deadline)}
}
