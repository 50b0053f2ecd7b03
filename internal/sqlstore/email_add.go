package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"winnow"
)

// AddEmails stores new emails in the transaction of the applicant change that calls for
// them, and returns those actually added with ID and timestamps filled in.
// An email whose (applicant, kind, seq) exists already, or for an email to an admin
// about the org (no applicant), whose (kind, seq, address) does, is left out, so running
// the same change's effects twice adds nothing. Seq 0 means the next of the applicant's
// kind.
// A queued email (not a scheduled reminder) gets its "queued" timeline entry.
func (t *Tx) AddEmails(ctx context.Context, emails []*winnow.Email) ([]*winnow.Email, error) {
	now, tx := t.s.now(), t.tx
	next := map[string]int{} // applicant and kind → next free seq, for Seq 0
	rows := make([]*winnow.Email, 0, len(emails))
	for _, e := range emails {
		if e.OrgID == "" || e.To == "" || !e.Kind.Valid() || (e.Status != winnow.EmailQueued && e.Status != winnow.EmailScheduled) {
			return nil, fmt.Errorf("add email: incomplete email %+v", e)
		}
		ne := *e
		if ne.Seq == 0 && ne.ApplicantID == "" {
			ne.Seq = 1
		} else if ne.Seq == 0 {
			key := ne.OrgID + "/" + ne.ApplicantID + "/" + string(ne.Kind)
			if next[key] == 0 {
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM emails
					WHERE org_id = $1 AND applicant_id = $2 AND kind = $3`, ne.OrgID, ne.ApplicantID, string(ne.Kind)).Scan(&n); err != nil {
					return nil, fmt.Errorf("next email sequence: %w", err)
				}
				next[key] = n
			}
			ne.Seq = next[key]
			next[key]++
		}
		ne.ID, ne.CreatedAt, ne.UpdatedAt = newID(), now, now
		ne.DueAt, ne.Deadline = dbTime(ne.DueAt), dbTimePtr(ne.Deadline)
		if ne.DueAt.IsZero() {
			ne.DueAt = now
		}
		rows = append(rows, &ne)
	}
	// Scheduling an invitation writes five rows, bulk scheduling thousands. On
	// PostgreSQL, where each statement is a round trip, many rows go in one statement;
	// on SQLite one prepared statement per row is fastest, because its lookup of $n
	// parameters grows with their number (measured by BenchmarkScheduleReminders).
	inserted := make(map[string]bool, len(rows))
	if t.s.db.dialect == DialectPostgres {
		for i := 0; i < len(rows); i += 100 {
			if err := insertEmails(ctx, tx, rows[i:min(i+100, len(rows))], inserted); err != nil {
				return nil, err
			}
		}
	} else if err := insertEmailsOneByOne(ctx, tx, rows, inserted); err != nil {
		return nil, err
	}
	var added []*winnow.Email
	for i, ne := range rows {
		if !inserted[ne.ID] {
			continue
		}
		if ne.Status == winnow.EmailQueued && ne.ApplicantID != "" {
			if err := t.s.insertEvent(ctx, tx, ne.Event(winnow.EventEmailQueued, ne.Name()+" email queued", now)); err != nil {
				return nil, err
			}
		}
		*emails[i] = *ne
		added = append(added, emails[i])
	}
	return added, nil
}

// insertEmails inserts rows with one statement and marks in inserted the IDs of those
// that were new.
func insertEmails(ctx context.Context, tx *sql.Tx, rows []*winnow.Email, inserted map[string]bool) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO emails (id, org_id, applicant_id, funnel_id, kind, seq, to_address,
		status, due_at, deadline, created_at, updated_at) VALUES `)
	q.WriteString(valuesList(len(rows), 12))
	args := make([]any, 0, len(rows)*12)
	for _, e := range rows {
		args = append(args, e.ID, e.OrgID, nullString(e.ApplicantID), e.FunnelID, string(e.Kind), e.Seq, e.To,
			string(e.Status), e.DueAt, nullTime(e.Deadline), e.CreatedAt, e.UpdatedAt)
	}
	q.WriteString(` ON CONFLICT DO NOTHING RETURNING id`)
	res, err := tx.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return fmt.Errorf("insert emails: %w", err)
	}
	defer res.Close()
	for res.Next() {
		var id string
		if err := res.Scan(&id); err != nil {
			return fmt.Errorf("insert emails: %w", err)
		}
		inserted[id] = true
	}
	if err := res.Err(); err != nil {
		return fmt.Errorf("insert emails: %w", err)
	}
	return nil
}

// insertEmailsOneByOne inserts rows with one prepared statement and marks in inserted
// the IDs of those that were new.
func insertEmailsOneByOne(ctx context.Context, tx *sql.Tx, rows []*winnow.Email, inserted map[string]bool) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO emails (id, org_id, applicant_id, funnel_id, kind, seq, to_address,
		status, due_at, deadline, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT DO NOTHING`)
	if err != nil {
		return fmt.Errorf("prepare email insert: %w", err)
	}
	defer stmt.Close()
	for _, e := range rows {
		res, err := stmt.ExecContext(ctx, e.ID, e.OrgID, nullString(e.ApplicantID), e.FunnelID, string(e.Kind), e.Seq, e.To,
			string(e.Status), e.DueAt, nullTime(e.Deadline), e.CreatedAt, e.UpdatedAt)
		if err != nil {
			return fmt.Errorf("insert email: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("insert email: %w", err)
		} else if n == 1 {
			inserted[e.ID] = true
		}
	}
	return nil
}

// CancelScheduledEmails cancels the applicant's reminders that have not come due. Their
// jobs find them cancelled and do nothing.
func (t *Tx) CancelScheduledEmails(ctx context.Context, orgID, applicantID string) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE emails SET status = $1, updated_at = $2
		WHERE org_id = $3 AND applicant_id = $4 AND status = $5`,
		string(winnow.EmailCancelled), t.s.now(), orgID, applicantID, string(winnow.EmailScheduled))
	if err != nil {
		return fmt.Errorf("cancel scheduled emails: %w", err)
	}
	return nil
}
