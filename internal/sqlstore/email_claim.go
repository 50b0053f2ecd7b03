package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"winnow"
)

// emailRows are emails as claimRowTx and finishRowTx see them.
var emailRows = claimable[*winnow.Email]{
	table:     "emails",
	notFound:  msgEmailNotFound,
	sending:   string(winnow.EmailSending),
	columns:   emailColumns,
	scan:      scanEmail,
	applicant: func(e *winnow.Email) string { return e.ApplicantID },
	status:    func(e *winnow.Email) string { return string(e.Status) },
	save: func(ctx context.Context, tx *sql.Tx, e *winnow.Email) error {
		_, err := tx.ExecContext(ctx, `UPDATE emails SET status = $1, attempts = $2, uncertain = $3, last_error = $4,
			subject = $5, body_text = $6, body_html = $7, updated_at = $8 WHERE org_id = $9 AND id = $10`,
			string(e.Status), e.Attempts, e.Uncertain, e.LastError, e.Subject, e.Text, e.HTML, dbTime(e.UpdatedAt), e.OrgID, e.ID)
		return err
	},
}

// emailClaimRows are emailRows deciding with the email's Claim method, storing content
// when the email has none yet.
func emailClaimRows(content *winnow.RenderedEmail) claimable[*winnow.Email] {
	rows := emailRows
	rows.decide = func(_ context.Context, _ *sql.Tx, e *winnow.Email, a *winnow.Applicant, now time.Time) (winnow.Claim, error) {
		return e.Claim(a, content, now), nil
	}
	return rows
}

// ClaimEmail takes the org's email for one attempt to send it: the email's Claim method
// decides, with its applicant locked (see winnow.Email.Claim). It returns the email as
// it now is and whether to send it; content is stored when the email has none yet.
func (s *Store) ClaimEmail(ctx context.Context, orgID, id string, content *winnow.RenderedEmail) (*winnow.Email, bool, error) {
	e, c, err := claimRow(ctx, s, emailClaimRows(content), orgID, id)
	if err != nil {
		return nil, false, err
	}
	return e, c.Send, nil
}

// KeepEmail claims the org's email as ClaimEmail does and, when the claim says send,
// records outcome o (an email kept in the outbox by a process with no mail server) in
// the same transaction: nothing is handed to anyone between the two, so one
// transaction does. It returns the email as it was claimed and whether o was recorded.
func (s *Store) KeepEmail(ctx context.Context, orgID, id string, content *winnow.RenderedEmail, o winnow.EmailOutcome) (*winnow.Email, bool, error) {
	var e *winnow.Email
	var send bool
	err := s.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := s.now()
		var c winnow.Claim
		var err error
		e, c, err = claimRowTx(ctx, s, tx, emailClaimRows(content), orgID, id, now, nil)
		if err != nil {
			return err
		}
		send = c.Changed && c.Send
		if !send {
			return nil
		}
		o := o
		if o.At.IsZero() {
			o.At = now
		}
		// The row is sending now, as this transaction just made it.
		ev, err := finishEmail(o)(ctx, tx, e)
		if err != nil {
			return fmt.Errorf("finish emails: %w", err)
		}
		if ev != nil && e.ApplicantID != "" {
			ev.OrgID, ev.ApplicantID = orgID, e.ApplicantID
			return s.insertEvent(ctx, tx, ev)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return e, send, nil
}

// FinishEmail records the outcome of the attempt ClaimEmail started, with its timeline
// entry. It does nothing to an email that is no longer sending.
func (s *Store) FinishEmail(ctx context.Context, orgID, id string, o winnow.EmailOutcome) error {
	if o.At.IsZero() {
		o.At = s.now()
	}
	return finishRow(ctx, s, emailRows, orgID, id, finishEmail(o))
}

// finishEmail writes outcome o on a sending email.
func finishEmail(o winnow.EmailOutcome) finishUpdate[*winnow.Email] {
	at := dbTime(o.At)
	return func(ctx context.Context, tx *sql.Tx, e *winnow.Email) (*winnow.Event, error) {
		var sentAt *time.Time
		if o.Status == winnow.EmailSent || o.Status == winnow.EmailOutbox {
			sentAt = &at
		}
		uncertain := 0
		if o.Uncertain {
			uncertain = 1
		}
		_, err := tx.ExecContext(ctx, `UPDATE emails SET status = $1, last_error = $2, uncertain = uncertain + $3,
			sent_at = COALESCE($4, sent_at), updated_at = $5 WHERE org_id = $6 AND id = $7`,
			string(o.Status), o.Error, uncertain, nullTime(sentAt), at, e.OrgID, e.ID)
		if err != nil || o.Event == "" {
			return nil, err
		}
		return &winnow.Event{Kind: o.Event, Message: o.Message, EmailID: e.ID, At: at}, nil
	}
}
