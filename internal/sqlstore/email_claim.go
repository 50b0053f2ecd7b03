package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"winnow"
)

// emailRows are emails as claimRow and finishRow see them.
var emailRows = claimable[*winnow.Email]{
	table:    "emails",
	notFound: msgEmailNotFound,
	sending:  string(winnow.EmailSending),
	columns:  emailColumns,
	scan:     scanEmail,
	save: func(ctx context.Context, tx *sql.Tx, e *winnow.Email) error {
		_, err := tx.ExecContext(ctx, `UPDATE emails SET status = $1, attempts = $2, uncertain = $3, last_error = $4,
			subject = $5, body_text = $6, body_html = $7, updated_at = $8 WHERE org_id = $9 AND id = $10`,
			string(e.Status), e.Attempts, e.Uncertain, e.LastError, e.Subject, e.Text, e.HTML, dbTime(e.UpdatedAt), e.OrgID, e.ID)
		return err
	},
}

// ClaimEmail takes the org's email for one attempt to send it: the email's Claim method
// decides, with its applicant locked (see winnow.Email.Claim). It returns the email as
// it now is and whether to send it; content is stored when the email has none yet.
func (s *Store) ClaimEmail(ctx context.Context, orgID, id string, content *winnow.RenderedEmail) (*winnow.Email, bool, error) {
	rows := emailRows
	rows.decide = func(_ context.Context, _ *sql.Tx, e *winnow.Email, a *winnow.Applicant, now time.Time) (winnow.Claim, error) {
		return e.Claim(a, content, now), nil
	}
	e, c, err := claimRow(ctx, s, rows, orgID, id)
	if err != nil {
		return nil, false, err
	}
	return e, c.Send, nil
}

// FinishEmail records the outcome of the attempt ClaimEmail started, with its timeline
// entry. It does nothing to an email that is no longer sending.
func (s *Store) FinishEmail(ctx context.Context, orgID, id string, o winnow.EmailOutcome) error {
	at := dbTime(o.At)
	if o.At.IsZero() {
		at = s.now()
	}
	return finishRow(ctx, s, emailRows, orgID, id, func(ctx context.Context, tx *sql.Tx) (*winnow.Event, error) {
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
			string(o.Status), o.Error, uncertain, nullTime(sentAt), at, orgID, id)
		if err != nil || o.Event == "" {
			return nil, err
		}
		return &winnow.Event{Kind: o.Event, Message: o.Message, EmailID: id, At: at}, nil
	})
}
