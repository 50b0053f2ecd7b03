package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"winnow"
)

// ClaimEmail takes the org's email for one attempt to send it, in one transaction that
// also locks its applicant. It returns send false, with the email as it is, when there
// is nothing to send: the email is final (sent, held, … — a retried job lands here), or
// it no longer applies to the applicant (then it becomes skipped), or an earlier attempt
// ended with an unknown outcome and was already retried once (then it becomes unknown).
// Otherwise the email becomes sending, its attempt is counted, content is stored if it
// has none yet, and send is true. An email found sending is an attempt that died before
// its outcome was recorded: that counts as an unknown outcome.
func (s *Store) ClaimEmail(ctx context.Context, orgID, id string, content *winnow.RenderedEmail) (e *winnow.Email, send bool, err error) {
	now := s.now()
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return nil, false, err
	}
	defer rollback(tx)
	// Lock the applicant before the email, in the order applicant changes (which cancel
	// emails) take them.
	var applicantID sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT applicant_id FROM emails WHERE org_id = $1 AND id = $2`, orgID, id).Scan(&applicantID)
	if err != nil {
		return nil, false, lookupErr(err, msgEmailNotFound, "find email")
	}
	var a *winnow.Applicant
	if applicantID.Valid {
		a, err = scanApplicant(tx.QueryRowContext(ctx, `SELECT `+applicantColumns+` FROM applicants
			WHERE org_id = $1 AND id = $2`+s.db.forUpdate(), orgID, applicantID.String))
		if err != nil {
			return nil, false, lookupErr(err, msgApplicantNotFound, "lock applicant")
		}
	}
	e, err = scanEmail(tx.QueryRowContext(ctx, `SELECT `+emailColumns+` FROM emails WHERE org_id = $1 AND id = $2`+s.db.forUpdate(), orgID, id))
	if err != nil {
		return nil, false, lookupErr(err, msgEmailNotFound, "lock email")
	}
	if e.Status.Final() {
		return e, false, nil
	}
	var ev *winnow.Event
	switch {
	case !e.StillApplies(a):
		e.Status, e.LastError = winnow.EmailSkipped, "Not sent: the candidate is "+strings.ToLower(a.Status.Label())+" by now."
		if e.Kind == winnow.EmailReminder && a.AwaitsSubmission() {
			e.LastError = "Not sent: the invitation was extended since it was planned."
		}
	case e.Status == winnow.EmailSending && e.Uncertain >= 1:
		e.Status, e.LastError = winnow.EmailUnknown, "Lost contact with the mail server twice after handing the message over; it may or may not have arrived."
		ev = &winnow.Event{Kind: winnow.EventEmailUnknown, Message: e.Name() + " email: delivery unknown after one retry; not sent again"}
	case e.Status == winnow.EmailSending:
		e.Uncertain++
		ev = &winnow.Event{Kind: winnow.EventEmailUnknown, Message: e.Name() + " email: the last attempt stopped before its outcome was known; trying once more"}
	case e.Status == winnow.EmailScheduled:
		ev = &winnow.Event{Kind: winnow.EventEmailQueued, Message: e.Name() + " email queued for " + e.To}
	}
	if e.Status != winnow.EmailSkipped && e.Status != winnow.EmailUnknown {
		e.Status, send = winnow.EmailSending, true
		e.Attempts++
		if !e.Rendered() && content != nil {
			e.Subject, e.Text, e.HTML = content.Subject, content.Text, content.HTML
		}
	}
	e.UpdatedAt = now
	_, err = tx.ExecContext(ctx, `UPDATE emails SET status = $1, attempts = $2, uncertain = $3, last_error = $4,
		subject = $5, body_text = $6, body_html = $7, updated_at = $8 WHERE org_id = $9 AND id = $10`,
		string(e.Status), e.Attempts, e.Uncertain, e.LastError, e.Subject, e.Text, e.HTML, e.UpdatedAt, orgID, id)
	if err != nil {
		return nil, false, fmt.Errorf("claim email: %w", err)
	}
	if ev != nil && a != nil {
		ev.OrgID, ev.ApplicantID, ev.At = orgID, a.ID, now
		if err := s.insertEvent(ctx, tx, ev); err != nil {
			return nil, false, err
		}
	}
	if err := commit(tx); err != nil {
		return nil, false, err
	}
	return e, send, nil
}

// FinishEmail records the outcome of the attempt ClaimEmail started, with its timeline
// entry. It does nothing to an email that is no longer sending.
func (s *Store) FinishEmail(ctx context.Context, orgID, id string, o winnow.EmailOutcome) error {
	at := dbTime(o.At)
	if o.At.IsZero() {
		at = s.now()
	}
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	var applicantID sql.NullString
	var status string
	err = tx.QueryRowContext(ctx, `SELECT applicant_id, status FROM emails WHERE org_id = $1 AND id = $2`+s.db.forUpdate(), orgID, id).
		Scan(&applicantID, &status)
	if err != nil {
		return lookupErr(err, msgEmailNotFound, "find email")
	}
	if winnow.EmailStatus(status) != winnow.EmailSending {
		return nil
	}
	var sentAt *time.Time
	if o.Status == winnow.EmailSent || o.Status == winnow.EmailOutbox {
		sentAt = &at
	}
	uncertain := 0
	if o.Uncertain {
		uncertain = 1
	}
	_, err = tx.ExecContext(ctx, `UPDATE emails SET status = $1, last_error = $2, uncertain = uncertain + $3,
		sent_at = COALESCE($4, sent_at), updated_at = $5 WHERE org_id = $6 AND id = $7`,
		string(o.Status), o.Error, uncertain, nullTime(sentAt), at, orgID, id)
	if err != nil {
		return fmt.Errorf("finish email: %w", err)
	}
	if o.Event != "" && applicantID.Valid {
		ev := winnow.Event{OrgID: orgID, ApplicantID: applicantID.String, Kind: o.Event, Message: o.Message, At: at}
		if err := s.insertEvent(ctx, tx, &ev); err != nil {
			return err
		}
	}
	return commit(tx)
}
