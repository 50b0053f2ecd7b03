package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"winnow"
)

var (
	_ winnow.EmailService      = (*Store)(nil)
	_ winnow.InvitationService = (*Store)(nil)
	_ winnow.TemplateService   = (*Store)(nil)
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

// AddEmailsTx stores new emails in tx, the transaction of the applicant change that
// calls for them, and returns those actually added with ID and timestamps filled in.
// An email whose (applicant, kind, seq) exists already is left out, so running the same
// change's effects twice adds nothing. Seq 0 means the next of the applicant's kind.
// A queued email (not a scheduled reminder) gets its "queued" timeline entry.
func (s *Store) AddEmailsTx(ctx context.Context, tx *sql.Tx, emails []*winnow.Email) ([]*winnow.Email, error) {
	now := s.now()
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
	if s.db.dialect == DialectPostgres {
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
			ev := winnow.Event{OrgID: ne.OrgID, ApplicantID: ne.ApplicantID, Kind: winnow.EventEmailQueued,
				Message: ne.Name() + " email queued for " + ne.To, At: now}
			if err := s.insertEvent(ctx, tx, &ev); err != nil {
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
	args := make([]any, 0, len(rows)*12)
	for j, e := range rows {
		if j > 0 {
			q.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d)",
			n+1, n+2, n+3, n+4, n+5, n+6, n+7, n+8, n+9, n+10, n+11, n+12)
		args = append(args, e.ID, e.OrgID, nullString(e.ApplicantID), e.FunnelID, string(e.Kind), e.Seq, e.To,
			string(e.Status), e.DueAt, nullTime(e.Deadline), e.CreatedAt, e.UpdatedAt)
	}
	q.WriteString(` ON CONFLICT (org_id, applicant_id, kind, seq) DO NOTHING RETURNING id`)
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
		ON CONFLICT (org_id, applicant_id, kind, seq) DO NOTHING`)
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

// CancelScheduledEmailsTx cancels the applicant's reminders that have not come due, in
// tx. Their jobs find them cancelled and do nothing.
func (s *Store) CancelScheduledEmailsTx(ctx context.Context, tx *sql.Tx, orgID, applicantID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE emails SET status = $1, updated_at = $2
		WHERE org_id = $3 AND applicant_id = $4 AND status = $5`,
		string(winnow.EmailCancelled), s.now(), orgID, applicantID, string(winnow.EmailScheduled))
	if err != nil {
		return fmt.Errorf("cancel scheduled emails: %w", err)
	}
	return nil
}

// FindFunnelTx returns the org's funnel, without its team, read in tx.
func (s *Store) FindFunnelTx(ctx context.Context, tx *sql.Tx, orgID, id string) (*winnow.Funnel, error) {
	f, err := scanFunnel(tx.QueryRowContext(ctx, `SELECT `+funnelColumns+` FROM funnels WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, lookupErr(err, msgFunnelNotFound, "find funnel")
	}
	return f, nil
}

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

// ResendInvitation records the resend on the applicant's timeline; the effects function
// queues the invitation again, with the same link.
func (s *Store) ResendInvitation(ctx context.Context, orgID, applicantID, actorID string) (*winnow.Applicant, error) {
	now := s.clock.Now()
	return s.TransitionApplicant(ctx, orgID, applicantID, func(a *winnow.Applicant) (winnow.Event, error) {
		return a.Resend(now, actorID)
	})
}

// ExtendInvitation gives the applicant a new deadline from now with the job's current
// cadence; the effects function cancels the planned reminders and plans a new round.
func (s *Store) ExtendInvitation(ctx context.Context, orgID, applicantID, actorID string) (*winnow.Applicant, error) {
	a, err := s.FindApplicantByID(ctx, orgID, applicantID)
	if err != nil {
		return nil, err
	}
	f, err := s.FindFunnelByID(ctx, orgID, a.FunnelID)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	return s.TransitionApplicant(ctx, orgID, applicantID, func(a *winnow.Applicant) (winnow.Event, error) {
		return a.Extend(now, f.Cadence, actorID)
	})
}

// The new-link rate limit: at most linkRequestLimit requests per address per window.
const (
	linkRequestLimit  = 3
	linkRequestWindow = time.Hour
	maxLinksPerEmail  = 10 // applicants one request can reach
	// lateLinkWindow is how long after its deadline an ended invitation still hears of
	// a request, so that the job team learns of late interest but not of years-old jobs.
	lateLinkWindow = 30 * 24 * time.Hour
)

// RequestNewLink records the request against the address's rate limit, then emails
// their link to each applicant with this address who still owes a submission, in any
// org: a candidate has no account and does not know the org, so this lookup, like the
// link token's, crosses orgs. Applicants whose invitation ended without a submission
// in the last 30 days get a timeline entry instead, so the job team hears of the late
// interest. It returns nil whether or not there was any.
func (s *Store) RequestNewLink(ctx context.Context, email string) error {
	addr, err := winnow.NormalizeEmail(email)
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(addr))
	hash := hex.EncodeToString(sum[:])
	now := s.now()
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	if _, err := tx.ExecContext(ctx, `DELETE FROM link_requests WHERE at <= $1`, now.Add(-linkRequestWindow)); err != nil {
		return fmt.Errorf("expire link requests: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM link_requests WHERE address_hash = $1`, hash).Scan(&n); err != nil {
		return fmt.Errorf("count link requests: %w", err)
	}
	if n >= linkRequestLimit {
		return winnow.Errorf(winnow.ERATELIMITED, "Too many requests for this address. Please try again in an hour.")
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO link_requests (address_hash, at) VALUES ($1, $2)`, hash, now); err != nil {
		return fmt.Errorf("record link request: %w", err)
	}
	if err := commit(tx); err != nil {
		return err
	}

	rows, err := s.db.db.QueryContext(ctx, `SELECT org_id, id FROM applicants WHERE email = $1 AND status IN ($2, $3, $4)
		AND deadline > $5 ORDER BY created_at DESC LIMIT $6`, addr, string(winnow.StatusInvited), string(winnow.StatusInProgress),
		string(winnow.StatusOptedOut), now.Add(-lateLinkWindow), maxLinksPerEmail)
	if err != nil {
		return fmt.Errorf("find applicants by email: %w", err)
	}
	type ref struct{ org, id string }
	var refs []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.org, &r.id); err != nil {
			rows.Close()
			return fmt.Errorf("find applicants by email: %w", err)
		}
		refs = append(refs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find applicants by email: %w", err)
	}
	for _, r := range refs {
		_, err := s.TransitionApplicant(ctx, r.org, r.id, func(a *winnow.Applicant) (winnow.Event, error) {
			now := s.clock.Now()
			if a.AwaitsSubmission() && !a.Expired(now) {
				return a.NewLinkRequested(now)
			}
			return a.LateLinkRequested(now)
		})
		// The applicant may have moved on since the lookup: nothing to send then.
		if err != nil && winnow.ErrorCode(err) != winnow.ECONFLICT && winnow.ErrorCode(err) != winnow.ENOTFOUND {
			return err
		}
	}
	return nil
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
