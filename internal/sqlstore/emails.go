package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"winnow"
)

var (
	_ winnow.EmailService    = (*Store)(nil)
	_ winnow.TemplateService = (*Store)(nil)
)

const emailColumns = `id, org_id, applicant_id, funnel_id, kind, seq, to_address, status, due_at, deadline,
	subject, body_text, body_html, attempts, uncertain, last_error, created_at, updated_at, sent_at, invite_id, sealed`

const msgEmailNotFound = "Email not found."

// ListEmails returns the org's emails, newest first, narrowed by filter.
func (s *Store) ListEmails(ctx context.Context, orgID string, filter winnow.EmailFilter) ([]*winnow.Email, error) {
	where, args := []string{`org_id = $1`}, []any{orgID}
	if filter.ApplicantID != "" {
		args = append(args, filter.ApplicantID)
		where = append(where, `applicant_id = $`+strconv.Itoa(len(args)))
	}
	if len(filter.Statuses) > 0 {
		in := make([]string, len(filter.Statuses))
		for i, st := range filter.Statuses {
			args = append(args, string(st))
			in[i] = `$` + strconv.Itoa(len(args))
		}
		where = append(where, `status IN (`+strings.Join(in, ", ")+`)`)
	}
	limit := filter.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	rows, err := s.db.db.QueryContext(ctx, `SELECT `+emailColumns+` FROM emails WHERE `+strings.Join(where, ` AND `)+
		` ORDER BY due_at DESC, created_at DESC, id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("list emails: %w", err)
	}
	defer rows.Close()
	var list []*winnow.Email
	for rows.Next() {
		e, err := scanEmail(rows)
		if err != nil {
			return nil, fmt.Errorf("list emails: %w", err)
		}
		list = append(list, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list emails: %w", err)
	}
	return list, nil
}

// FindEmailByID returns the org's email or ENOTFOUND.
func (s *Store) FindEmailByID(ctx context.Context, orgID, id string) (*winnow.Email, error) {
	e, err := scanEmail(s.db.db.QueryRowContext(ctx, `SELECT `+emailColumns+` FROM emails WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, lookupErr(err, msgEmailNotFound, "find email")
	}
	return e, nil
}

// CountEmails returns how many of the org's emails are in each status.
func (s *Store) CountEmails(ctx context.Context, orgID string) (map[winnow.EmailStatus]int, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT status, COUNT(*) FROM emails WHERE org_id = $1 GROUP BY status`, orgID)
	if err != nil {
		return nil, fmt.Errorf("count emails: %w", err)
	}
	defer rows.Close()
	counts := map[winnow.EmailStatus]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count emails: %w", err)
		}
		counts[winnow.EmailStatus(st)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count emails: %w", err)
	}
	return counts, nil
}

// EmailAddresses returns, by email ID, the address each of the org's applicant's emails
// went to.
func (s *Store) EmailAddresses(ctx context.Context, orgID, applicantID string) (map[string]string, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT id, to_address FROM emails WHERE org_id = $1 AND applicant_id = $2`, orgID, applicantID)
	if err != nil {
		return nil, fmt.Errorf("email addresses: %w", err)
	}
	defer rows.Close()
	to := map[string]string{}
	for rows.Next() {
		var id, addr string
		if err := rows.Scan(&id, &addr); err != nil {
			return nil, fmt.Errorf("email addresses: %w", err)
		}
		to[id] = addr
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("email addresses: %w", err)
	}
	return to, nil
}

func scanEmail(r scanner) (*winnow.Email, error) {
	var e winnow.Email
	var applicantID, inviteID sql.NullString
	var kind, status string
	var deadline, sentAt sql.NullTime
	if err := r.Scan(&e.ID, &e.OrgID, &applicantID, &e.FunnelID, &kind, &e.Seq, &e.To, &status, &e.DueAt, &deadline,
		&e.Subject, &e.Text, &e.HTML, &e.Attempts, &e.Uncertain, &e.LastError, &e.CreatedAt, &e.UpdatedAt, &sentAt,
		&inviteID, &e.Sealed); err != nil {
		return nil, err
	}
	e.ApplicantID, e.InviteID = applicantID.String, inviteID.String
	e.Kind, e.Status = winnow.EmailKind(kind), winnow.EmailStatus(status)
	e.DueAt, e.CreatedAt, e.UpdatedAt = e.DueAt.UTC(), e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	e.Deadline, e.SentAt = timePtr(deadline), timePtr(sentAt)
	return &e, nil
}

// nullString is an optional text as a query argument: NULL when empty.
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
