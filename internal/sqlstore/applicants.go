package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"winnow"
)

const applicantColumns = `id, org_id, funnel_id, name, email, status, token, lever_opportunity_id,
	reason, invited_at, started_at, submitted_at, decided_at, deadline, created_at, updated_at, steps,
	archived_at, erased_at`

const eventColumns = `id, org_id, applicant_id, kind, from_status, to_status, message, actor_id, at,
	email_id, call_method, call_path, call_status, call_duration_ms`

// CreateApplicant stores a new applicant (built with winnow.NewApplicant) with its
// invited event, filling in ID and timestamps, and runs the effects function in the
// same transaction. A funnel not in the applicant's org gives ENOTFOUND; a second
// applicant for the same funnel and email address or Lever opportunity, or a token in
// use, ECONFLICT. The database's unique indexes decide, so of two invitations racing
// exactly one succeeds.
func (s *Store) CreateApplicant(ctx context.Context, a *winnow.Applicant, actorID string) error {
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	na, err := s.createApplicantTx(ctx, tx, a, actorID)
	if err != nil {
		return err
	}
	if err := commit(tx); err != nil {
		return err
	}
	*a = *na
	return nil
}

// createApplicantTx is CreateApplicant in tx, which the caller commits; it returns the
// applicant as stored and leaves a as it was.
func (s *Store) createApplicantTx(ctx context.Context, tx *sql.Tx, a *winnow.Applicant, actorID string) (*winnow.Applicant, error) {
	return s.createApplicantIn(ctx, tx, nil, a, actorID)
}

// createApplicantIn is createApplicantTx as one change of the batch b, when set (see
// applicationBatcher): the funnel the batch has read already is not read again, and
// the effects' jobs and the counts are left to b, which writes the batch's at once.
func (s *Store) createApplicantIn(ctx context.Context, tx *sql.Tx, b *txBatch, a *winnow.Applicant, actorID string) (*winnow.Applicant, error) {
	if err := validateApplicant(a); err != nil {
		return nil, err
	}
	na := *a
	na.ID, na.CreatedAt = newID(), s.now()
	na.UpdatedAt = na.CreatedAt
	normalizeApplicantTimes(&na)
	ev := na.InvitedEvent(actorID)
	steps, err := encodeSteps(na.Steps)
	if err != nil {
		return nil, err
	}
	if b == nil || b.funnels[[2]string{na.OrgID, na.FunnelID}] == nil {
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM funnels WHERE org_id = $1 AND id = $2`, na.OrgID, na.FunnelID).Scan(&one)
		if err != nil {
			return nil, lookupErr(err, msgFunnelNotFound, "find funnel")
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO applicants (`+applicantColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		na.ID, na.OrgID, na.FunnelID, na.Name, na.Email, string(na.Status), na.Token, na.LeverOpportunityID,
		na.Reason, na.InvitedAt, nullTime(na.StartedAt), nullTime(na.SubmittedAt), nullTime(na.DecidedAt),
		na.Deadline, na.CreatedAt, na.UpdatedAt, steps, nullTime(na.ArchivedAt), nullTime(na.ErasedAt))
	switch {
	case isUnique(err, "token"):
		return nil, winnow.Errorf(winnow.ECONFLICT, "This candidate link is already in use.")
	case isUnique(err, "email"):
		return nil, winnow.Errorf(winnow.ECONFLICT, "%s is already invited to this job.", na.Email)
	case isUnique(err):
		return nil, winnow.Errorf(winnow.ECONFLICT, "This candidate is already in the job.")
	case isForeignKey(err):
		return nil, winnow.Errorf(winnow.ENOTFOUND, msgFunnelNotFound)
	case err != nil:
		return nil, fmt.Errorf("insert applicant: %w", err)
	}
	if err := s.insertEventIn(ctx, tx, b, &ev); err != nil {
		return nil, err
	}
	if err := s.plan("applicant", func(fx Effects) error { return fx.ApplicantChanged(ctx, s.viewIn(tx, b), &na, &ev) }); err != nil {
		return nil, err
	}
	// Late, as the count below: on PostgreSQL the day count's row lock is then held
	// for a short while.
	if err := newApplicantInsight(ctx, tx, b, s.db.dialect, &na); err != nil {
		return nil, err
	}
	// Last, so that on PostgreSQL the count's row lock is held only until the commit.
	if b != nil {
		b.count(s.countRowOf(&na, string(na.Status)), 1)
		for _, st := range reachedStatuses(&na, nil) {
			b.count(s.countRowOf(&na, reachedPrefix+string(st)), 1)
		}
		return &na, nil
	}
	if err := s.countStatus(ctx, tx, &na, na.Status, 1); err != nil {
		return nil, err
	}
	if err := s.countReached(ctx, tx, &na, nil); err != nil {
		return nil, err
	}
	return &na, nil
}

// validateApplicant checks what the store relies on; winnow.NewApplicant has already
// checked the rest for applicants it built.
func validateApplicant(a *winnow.Applicant) error {
	switch {
	case a.OrgID == "" || a.FunnelID == "":
		return winnow.Errorf(winnow.EINVALID, "A candidate must belong to a job.")
	case strings.TrimSpace(a.Name) == "":
		return winnow.Errorf(winnow.EINVALID, "Candidate name is required.")
	case a.Status != winnow.StatusInvited:
		// The first event on every timeline is the invitation; later statuses are
		// reached only through TransitionApplicant.
		return winnow.Errorf(winnow.EINVALID, "A new candidate starts as invited, not %q.", a.Status)
	case len(a.Token) < winnow.MinTokenLength:
		return winnow.Errorf(winnow.EINVALID, "Candidate link token is too short.")
	case a.InvitedAt.IsZero() || a.Deadline.IsZero():
		return winnow.Errorf(winnow.EINVALID, "A candidate needs an invitation time and a deadline.")
	}
	return nil
}

// normalizeApplicantTimes makes every time of a as the database stores it.
func normalizeApplicantTimes(a *winnow.Applicant) {
	a.InvitedAt, a.Deadline = dbTime(a.InvitedAt), dbTime(a.Deadline)
	a.CreatedAt, a.UpdatedAt = dbTime(a.CreatedAt), dbTime(a.UpdatedAt)
	a.StartedAt, a.SubmittedAt, a.DecidedAt = dbTimePtr(a.StartedAt), dbTimePtr(a.SubmittedAt), dbTimePtr(a.DecidedAt)
	a.ArchivedAt, a.ErasedAt = dbTimePtr(a.ArchivedAt), dbTimePtr(a.ErasedAt)
}

// FindApplicantByID returns the org's applicant or ENOTFOUND.
func (s *Store) FindApplicantByID(ctx context.Context, orgID, id string) (*winnow.Applicant, error) {
	row := s.db.db.QueryRowContext(ctx, `SELECT `+applicantColumns+` FROM applicants WHERE org_id = $1 AND id = $2`, orgID, id)
	a, err := scanApplicant(row)
	if err != nil {
		return nil, lookupErr(err, msgApplicantNotFound, "find applicant")
	}
	return a, nil
}

// FindApplicantByToken returns the applicant whose link carries token, or ENOTFOUND.
// It crosses orgs because the token is the candidate's only credential.
func (s *Store) FindApplicantByToken(ctx context.Context, token string) (*winnow.Applicant, error) {
	if len(token) < winnow.MinTokenLength {
		return nil, winnow.Errorf(winnow.ENOTFOUND, msgApplicantNotFound)
	}
	row := s.db.db.QueryRowContext(ctx, `SELECT `+applicantColumns+` FROM applicants WHERE token = $1`, token)
	a, err := scanApplicant(row)
	if err != nil {
		return nil, lookupErr(err, msgApplicantNotFound, "find applicant by token")
	}
	return a, nil
}

// ListApplicants returns every applicant of the org that filter keeps, newest first.
// Its cost grows with the list; pages use ListApplicantPage.
func (s *Store) ListApplicants(ctx context.Context, orgID string, filter winnow.ApplicantFilter) ([]*winnow.Applicant, error) {
	where, args := applicantWhere("applicants", orgID, filter, true)
	rows, err := s.db.db.QueryContext(ctx, `SELECT `+applicantColumns+` FROM applicants WHERE `+
		strings.Join(where, ` AND `)+` ORDER BY created_at DESC, id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("list applicants: %w", err)
	}
	defer rows.Close()
	var list []*winnow.Applicant
	for rows.Next() {
		a, err := scanApplicant(rows)
		if err != nil {
			return nil, fmt.Errorf("list applicants: %w", err)
		}
		list = append(list, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list applicants: %w", err)
	}
	return list, nil
}

// TransitionApplicant loads the org's applicant, applies fn (one of the transition
// methods), and stores the result with fn's event and the effects function's jobs, all
// in one transaction. An error from fn changes nothing and is returned as it is.
// fn cannot move the applicant to another org, funnel or token: those are kept.
func (s *Store) TransitionApplicant(ctx context.Context, orgID, id string, fn func(*winnow.Applicant) (winnow.Event, error)) (*winnow.Applicant, error) {
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer rollback(tx)
	a, _, err := s.transitionTx(ctx, tx, orgID, id, fn)
	if err != nil {
		return nil, err
	}
	if err := commit(tx); err != nil {
		return nil, err
	}
	return a, nil
}

// transitionTx is TransitionApplicant in tx, which the caller commits. When fn erases
// the applicant (deleted in Lever), their answers and upload rows go in tx too, and
// their emails keep no address or content; it returns the uploads' file paths, for the
// caller to remove once tx has committed (the upload sweep removes any it misses).
func (s *Store) transitionTx(ctx context.Context, tx *sql.Tx, orgID, id string, fn func(*winnow.Applicant) (winnow.Event, error)) (*winnow.Applicant, []string, error) {
	row := tx.QueryRowContext(ctx, `SELECT `+applicantColumns+` FROM applicants
		WHERE org_id = $1 AND id = $2`+s.db.forUpdate(), orgID, id)
	a, err := scanApplicant(row)
	if err != nil {
		return nil, nil, lookupErr(err, msgApplicantNotFound, "load applicant")
	}
	orig := *a
	ev, err := fn(a)
	if err != nil {
		return nil, nil, err
	}
	if ev.Kind == "" {
		return nil, nil, fmt.Errorf("transition applicant %s: the transition returned no event", id)
	}
	if !a.Status.Valid() {
		return nil, nil, fmt.Errorf("transition applicant %s: unknown status %q", id, a.Status)
	}
	a.ID, a.OrgID, a.FunnelID, a.Token, a.CreatedAt = orig.ID, orig.OrgID, orig.FunnelID, orig.Token, orig.CreatedAt
	a.Steps = orig.Steps // the snapshot taken at invitation never changes
	if a.UpdatedAt.Equal(orig.UpdatedAt) {
		a.UpdatedAt = s.clock.Now()
	}
	normalizeApplicantTimes(a)
	_, err = tx.ExecContext(ctx, `UPDATE applicants SET name = $1, email = $2, status = $3,
		lever_opportunity_id = $4, reason = $5, invited_at = $6, started_at = $7, submitted_at = $8,
		decided_at = $9, deadline = $10, updated_at = $11, archived_at = $12, erased_at = $13
		WHERE org_id = $14 AND id = $15`,
		a.Name, a.Email, string(a.Status), a.LeverOpportunityID, a.Reason, a.InvitedAt,
		nullTime(a.StartedAt), nullTime(a.SubmittedAt), nullTime(a.DecidedAt), a.Deadline, a.UpdatedAt,
		nullTime(a.ArchivedAt), nullTime(a.ErasedAt), orgID, id)
	switch {
	case isUnique(err):
		return nil, nil, winnow.Errorf(winnow.ECONFLICT, "This candidate is already in the job.")
	case err != nil:
		return nil, nil, fmt.Errorf("update applicant: %w", err)
	}
	var files []string
	if orig.ErasedAt == nil && a.ErasedAt != nil {
		if files, err = s.eraseApplicantData(ctx, tx, orgID, id); err != nil {
			return nil, nil, err
		}
	}
	ev.OrgID, ev.ApplicantID = orgID, id
	if ev.At.IsZero() {
		ev.At = a.UpdatedAt
	}
	if err := s.insertEvent(ctx, tx, &ev); err != nil {
		return nil, nil, err
	}
	if err := s.applicantChanged(ctx, tx, a, &ev); err != nil {
		return nil, nil, err
	}
	if err := refreshInsight(ctx, tx, s.db.dialect, orgID, id); err != nil {
		return nil, nil, err
	}
	if err := s.countMove(ctx, tx, a, &orig); err != nil {
		return nil, nil, err
	}
	return a, files, nil
}

// eraseApplicantData removes in tx what an erased applicant told us or was sent: their
// answers and upload rows, the addresses and content of their emails (those not yet
// sent are cancelled) and the text of their notes to Lever. It returns the uploads'
// file paths. Reviews, the timeline (which names no one) and the Lever writes' outcomes
// stay, so that the job's history still adds up.
func (s *Store) eraseApplicantData(ctx context.Context, tx *sql.Tx, orgID, id string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT path FROM uploads WHERE org_id = $1 AND applicant_id = $2`, orgID, id)
	if err != nil {
		return nil, fmt.Errorf("erase applicant: list uploads: %w", err)
	}
	var files []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return nil, fmt.Errorf("erase applicant: list uploads: %w", err)
		}
		files = append(files, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("erase applicant: list uploads: %w", err)
	}
	now := s.now()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM step_answers WHERE org_id = $1 AND applicant_id = $2`, nil},
		{`DELETE FROM uploads WHERE org_id = $1 AND applicant_id = $2`, nil},
		{`UPDATE emails SET status = $3, updated_at = $4 WHERE org_id = $1 AND applicant_id = $2 AND status IN ($5, $6)`,
			[]any{string(winnow.EmailCancelled), now, string(winnow.EmailScheduled), string(winnow.EmailQueued)}},
		{`UPDATE emails SET to_address = '', subject = '', body_text = '', body_html = '', updated_at = $3
			WHERE org_id = $1 AND applicant_id = $2`, []any{now}},
		{`UPDATE lever_writes SET note = '' WHERE org_id = $1 AND applicant_id = $2`, nil},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, append([]any{orgID, id}, q.args...)...); err != nil {
			return nil, fmt.Errorf("erase applicant: %w", err)
		}
	}
	return files, nil
}

// insertEvent stores ev on tx, filling in its ID and normalising its time.
func (s *Store) insertEvent(ctx context.Context, tx *sql.Tx, ev *winnow.Event) error {
	return s.insertEventIn(ctx, tx, nil, ev)
}

// insertEventIn is insertEvent as one change of the batch b, when set, which inserts
// the batch's entries together before its commit: nothing in the batch reads them.
func (s *Store) insertEventIn(ctx context.Context, tx *sql.Tx, b *txBatch, ev *winnow.Event) error {
	ev.ID, ev.At = newID(), dbTime(ev.At)
	var call winnow.Call
	if ev.Call != nil {
		call = *ev.Call
	}
	args := []any{ev.ID, ev.OrgID, ev.ApplicantID, string(ev.Kind), string(ev.From), string(ev.To), ev.Message, ev.ActorID, ev.At,
		ev.EmailID, call.Method, call.Path, call.Status, call.Duration.Milliseconds()}
	if b != nil {
		b.curEvents = append(b.curEvents, args)
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO applicant_events (`+eventColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, args...)
	if err != nil {
		return fmt.Errorf("insert applicant event: %w", err)
	}
	return nil
}

// ListEvents returns the org's applicant's timeline, oldest first, or ENOTFOUND when
// the org has no such applicant.
func (s *Store) ListEvents(ctx context.Context, orgID, applicantID string) ([]*winnow.Event, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT `+eventColumns+` FROM applicant_events
		WHERE org_id = $1 AND applicant_id = $2 ORDER BY at, id`, orgID, applicantID)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var events []*winnow.Event
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		events = append(events, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	if len(events) == 0 {
		// Every stored applicant has its invited event, so no events means no such
		// applicant in this org; make sure before saying so.
		if _, err := s.FindApplicantByID(ctx, orgID, applicantID); err != nil {
			return nil, err
		}
	}
	return events, nil
}

func scanEvent(r scanner) (*winnow.Event, error) {
	var ev winnow.Event
	var kind, from, to string
	var call winnow.Call
	var ms int64
	if err := r.Scan(&ev.ID, &ev.OrgID, &ev.ApplicantID, &kind, &from, &to, &ev.Message, &ev.ActorID, &ev.At,
		&ev.EmailID, &call.Method, &call.Path, &call.Status, &ms); err != nil {
		return nil, err
	}
	ev.Kind, ev.From, ev.To, ev.At = winnow.EventKind(kind), winnow.ApplicantStatus(from), winnow.ApplicantStatus(to), ev.At.UTC()
	if call.Method != "" {
		call.Duration = time.Duration(ms) * time.Millisecond
		ev.Call = &call
	}
	return &ev, nil
}

func scanApplicant(r scanner) (*winnow.Applicant, error) {
	var a winnow.Applicant
	var status string
	var started, submitted, decided, archived, erased sql.NullTime
	var steps []byte
	if err := r.Scan(&a.ID, &a.OrgID, &a.FunnelID, &a.Name, &a.Email, &status, &a.Token, &a.LeverOpportunityID,
		&a.Reason, &a.InvitedAt, &started, &submitted, &decided, &a.Deadline, &a.CreatedAt, &a.UpdatedAt, &steps,
		&archived, &erased); err != nil {
		return nil, err
	}
	var err error
	if a.Steps, err = decodeSteps(steps); err != nil {
		return nil, fmt.Errorf("applicant %s: %w", a.ID, err)
	}
	a.Status = winnow.ApplicantStatus(status)
	a.InvitedAt, a.Deadline, a.CreatedAt, a.UpdatedAt = a.InvitedAt.UTC(), a.Deadline.UTC(), a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	a.StartedAt, a.SubmittedAt, a.DecidedAt = timePtr(started), timePtr(submitted), timePtr(decided)
	a.ArchivedAt, a.ErasedAt = timePtr(archived), timePtr(erased)
	return &a, nil
}
