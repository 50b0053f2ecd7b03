package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"winnow"
)

var _ winnow.LeverWriteService = (*Store)(nil)

const leverWriteColumns = `id, org_id, applicant_id, opportunity_id, event_id, seq, kind, for_status, tags, note,
	note_at, stage_id, status, attempts, last_error, note_id, lease_until, created_at, updated_at, done_at`

const msgLeverWriteNotFound = "This write to Lever was not found."

// AddLeverWrites stores new writes to Lever in the transaction of the change that calls
// for them and returns them with ID, Seq and timestamps filled in: each takes the next
// seq of its org and opportunity, which is the order writes to one opportunity are
// performed in.
func (t *Tx) AddLeverWrites(ctx context.Context, ws []*winnow.LeverWrite) ([]*winnow.LeverWrite, error) {
	now, tx := t.s.now(), t.tx
	next := map[string]int{} // org and opportunity → next seq
	for _, w := range ws {
		if w.OrgID == "" || w.OpportunityID == "" || w.Kind == "" {
			return nil, fmt.Errorf("add lever write: incomplete write %+v", w)
		}
		key := w.OrgID + "/" + w.OpportunityID
		if next[key] == 0 {
			var seq int
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM lever_writes
				WHERE org_id = $1 AND opportunity_id = $2`, w.OrgID, w.OpportunityID).Scan(&seq); err != nil {
				return nil, fmt.Errorf("next lever write sequence: %w", err)
			}
			next[key] = seq
		}
		w.ID, w.Seq, w.CreatedAt, w.UpdatedAt = newID(), next[key], now, now
		next[key]++
		if w.Status == "" {
			w.Status = winnow.LeverWriteQueued
		}
		tags, err := json.Marshal(nonNilStrings(w.Tags))
		if err != nil {
			return nil, fmt.Errorf("encode lever write tags: %w", err)
		}
		var noteAt *time.Time
		if !w.NoteAt.IsZero() {
			w.NoteAt = dbTime(w.NoteAt)
			noteAt = &w.NoteAt
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO lever_writes (`+leverWriteColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
			w.ID, w.OrgID, nullString(w.ApplicantID), w.OpportunityID, w.EventID, w.Seq, string(w.Kind), string(w.ForStatus),
			string(tags), w.Note, nullTime(noteAt), w.StageID, string(w.Status), w.Attempts, w.LastError, w.NoteID,
			nullTime(nil), w.CreatedAt, w.UpdatedAt, nullTime(nil))
		if err != nil {
			return nil, fmt.Errorf("insert lever write: %w", err)
		}
	}
	return ws, nil
}

// FindLeverConnection returns the org's Lever connection as the transaction sees it,
// or ENOTFOUND when the org never had one.
func (t *Tx) FindLeverConnection(ctx context.Context, orgID string) (*winnow.LeverConnection, error) {
	if t.b != nil {
		return t.b.leverConnection(ctx, t.tx, orgID)
	}
	return findLeverConnectionTx(ctx, t.tx, orgID)
}

func findLeverConnectionTx(ctx context.Context, q querier, orgID string) (*winnow.LeverConnection, error) {
	c, err := scanLeverConnection(q.QueryRowContext(ctx, `SELECT `+leverConnectionColumns+`
		FROM lever_connections WHERE org_id = $1`, orgID))
	if err != nil {
		return nil, lookupErr(err, msgLeverNotFound, "find lever connection")
	}
	return c, nil
}

// leverWriteRows are Lever writes as claimRowTx and finishRowTx see them.
var leverWriteRows = claimable[*winnow.LeverWrite]{
	table:     "lever_writes",
	notFound:  msgLeverWriteNotFound,
	sending:   string(winnow.LeverWriteSending),
	columns:   leverWriteColumns,
	scan:      scanLeverWrite,
	applicant: func(w *winnow.LeverWrite) string { return w.ApplicantID },
	status:    func(w *winnow.LeverWrite) string { return string(w.Status) },
	save:      saveLeverWrite,
}

// leverWriteClaimRows are leverWriteRows deciding with the write's Claim method, for
// its applicant and the org's connection as tx sees them.
func leverWriteClaimRows(orgID string) claimable[*winnow.LeverWrite] {
	rows := leverWriteRows
	rows.decide = func(ctx context.Context, tx *sql.Tx, w *winnow.LeverWrite, a *winnow.Applicant, now time.Time) (winnow.Claim, error) {
		c, err := findLeverConnectionTx(ctx, tx, orgID)
		if winnow.ErrorCode(err) == winnow.ENOTFOUND {
			c, err = nil, nil
		}
		if err != nil {
			return winnow.Claim{}, err
		}
		return w.Claim(a, c, now), nil
	}
	return rows
}

// saveLeverWrite writes w's state (not what it does, which never changes).
func saveLeverWrite(ctx context.Context, tx *sql.Tx, w *winnow.LeverWrite) error {
	_, err := tx.ExecContext(ctx, `UPDATE lever_writes SET status = $1, attempts = $2, last_error = $3, note_id = $4,
		lease_until = $5, updated_at = $6, done_at = $7 WHERE org_id = $8 AND id = $9`,
		string(w.Status), w.Attempts, w.LastError, w.NoteID, nullTime(dbTimePtr(w.LeaseUntil)), dbTime(w.UpdatedAt),
		nullTime(dbTimePtr(w.DoneAt)), w.OrgID, w.ID)
	return err
}

// nextLeverWrite returns the earliest write of the org's opportunity that is not
// final, and its applicant; "" when there is none.
func nextLeverWrite(ctx context.Context, q querier, orgID, opportunityID string) (id, applicantID string, err error) {
	var applicant sql.NullString
	err = q.QueryRowContext(ctx, `SELECT id, applicant_id FROM lever_writes WHERE org_id = $1 AND opportunity_id = $2
		AND status IN ($3, $4) ORDER BY seq LIMIT 1`, orgID, opportunityID,
		string(winnow.LeverWriteQueued), string(winnow.LeverWriteSending)).Scan(&id, &applicant)
	if err == sql.ErrNoRows {
		return "", "", nil
	} else if err != nil {
		return "", "", fmt.Errorf("find next lever write: %w", err)
	}
	return id, applicant.String, nil
}

// ClaimLeverWrite takes the next write to Lever of the org's opportunity for one
// attempt: the earliest by seq that is not final. Its Claim method decides, with its
// applicant locked and the org's connection read in the same transaction (see
// winnow.LeverWrite.Claim). It returns the write as it now is and the decision; a nil
// write means the opportunity has nothing left to write.
func (s *Store) ClaimLeverWrite(ctx context.Context, orgID, opportunityID string) (*winnow.LeverWrite, winnow.Claim, error) {
	id, _, err := nextLeverWrite(ctx, s.db.db, orgID, opportunityID)
	if err != nil || id == "" {
		return nil, winnow.Claim{}, err
	}
	return claimRow(ctx, s, leverWriteClaimRows(orgID), orgID, id)
}

// FinishLeverWriteClaimNext records the outcome of the attempt on the org's write id
// (as FinishLeverWrite) and claims its opportunity's next write (as ClaimLeverWrite)
// in the same transaction, saving the worker that goes on from one write to the next a
// transaction per write.
//
// On SQLite, whose transaction holds the database's write lock, that is one
// transaction whoever's the next write is, shared with other small ones (DB.inTx). On
// PostgreSQL the finish reads and locks the applicant in full, for the claim of their
// next write to use; when the next write is another applicant's (whose lock the
// finished write's must not be held with), the outcome is committed first and the
// next write claimed in a transaction of its own.
func (s *Store) FinishLeverWriteClaimNext(ctx context.Context, orgID, id string, o winnow.LeverWriteOutcome) (*winnow.LeverWrite, winnow.Claim, error) {
	o = leverWriteOutcome(s, o)
	postgres := s.db.dialect == DialectPostgres
	var next *winnow.LeverWrite
	var claim winnow.Claim
	var nextOfOther string // PostgreSQL: the next write, when another applicant's
	err := s.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		next, claim, nextOfOther = nil, winnow.Claim{}, ""
		done, held, err := finishRowTx(ctx, s, tx, leverWriteRows, orgID, id, postgres, s.finishLeverWrite(o))
		if err != nil {
			return err
		}
		nextID, applicantID, err := nextLeverWrite(ctx, tx, orgID, done.OpportunityID)
		if err != nil || nextID == "" {
			return err
		}
		if postgres && applicantID != done.ApplicantID {
			nextOfOther = nextID
			return nil
		}
		next, claim, err = claimRowTx(ctx, s, tx, leverWriteClaimRows(orgID), orgID, nextID, s.now(), held)
		return err
	})
	if err != nil {
		return nil, winnow.Claim{}, err
	}
	if nextOfOther != "" {
		return claimRow(ctx, s, leverWriteClaimRows(orgID), orgID, nextOfOther)
	}
	return next, claim, nil
}

// FindLeverWrite returns the org's write to Lever, or ENOTFOUND.
func (s *Store) FindLeverWrite(ctx context.Context, orgID, id string) (*winnow.LeverWrite, error) {
	w, err := scanLeverWrite(s.db.db.QueryRowContext(ctx, `SELECT `+leverWriteColumns+` FROM lever_writes
		WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, lookupErr(err, msgLeverWriteNotFound, "find lever write")
	}
	return w, nil
}

// FinishLeverWrite records the outcome of the attempt ClaimLeverWrite started (see
// winnow.LeverWrite.Finish), with its timeline entries. It does nothing to a write
// that is no longer sending.
func (s *Store) FinishLeverWrite(ctx context.Context, orgID, id string, o winnow.LeverWriteOutcome) error {
	return finishRow(ctx, s, leverWriteRows, orgID, id, s.finishLeverWrite(leverWriteOutcome(s, o)))
}

// leverWriteOutcome is o timed as the database keeps times, now when o has no time.
func leverWriteOutcome(s *Store, o winnow.LeverWriteOutcome) winnow.LeverWriteOutcome {
	if o.At.IsZero() {
		o.At = s.now()
	}
	o.At = dbTime(o.At)
	return o
}

// finishLeverWrite writes outcome o on a sending write, with its timeline entries.
func (s *Store) finishLeverWrite(o winnow.LeverWriteOutcome) finishUpdate[*winnow.LeverWrite] {
	return func(ctx context.Context, tx *sql.Tx, w *winnow.LeverWrite) (*winnow.Event, error) {
		evs := w.Finish(o)
		if err := saveLeverWrite(ctx, tx, w); err != nil {
			return nil, err
		}
		if w.ApplicantID == "" {
			return nil, nil
		}
		for i := range evs {
			if err := s.insertEvent(ctx, tx, &evs[i]); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
}

// ListLeverWrites returns the org's writes to Lever, newest first, narrowed by filter.
func (s *Store) ListLeverWrites(ctx context.Context, orgID string, filter winnow.LeverWriteFilter) ([]*winnow.LeverWrite, error) {
	where, args := []string{`org_id = $1`}, []any{orgID}
	if filter.ApplicantID != "" {
		args = append(args, filter.ApplicantID)
		where = append(where, `applicant_id = $`+strconv.Itoa(len(args)))
	}
	if filter.Status != "" {
		args = append(args, string(filter.Status))
		where = append(where, `status = $`+strconv.Itoa(len(args)))
	}
	limit := filter.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	rows, err := s.db.db.QueryContext(ctx, `SELECT `+leverWriteColumns+` FROM lever_writes WHERE `+strings.Join(where, ` AND `)+
		` ORDER BY created_at DESC, seq DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("list lever writes: %w", err)
	}
	defer rows.Close()
	var list []*winnow.LeverWrite
	for rows.Next() {
		w, err := scanLeverWrite(rows)
		if err != nil {
			return nil, fmt.Errorf("list lever writes: %w", err)
		}
		list = append(list, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list lever writes: %w", err)
	}
	return list, nil
}

// RetryLeverWrite puts the org's write that failed for good back in the queue and
// enqueues a new job for it, in one transaction; it is claimed again under the same
// rules, so one that no longer applies is skipped. A write that has not failed is
// ECONFLICT.
func (s *Store) RetryLeverWrite(ctx context.Context, orgID, id string) error {
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	w, err := scanLeverWrite(tx.QueryRowContext(ctx, `SELECT `+leverWriteColumns+` FROM lever_writes
		WHERE org_id = $1 AND id = $2`+s.db.forUpdate(), orgID, id))
	if err != nil {
		return lookupErr(err, msgLeverWriteNotFound, "lock lever write")
	}
	if w.Status != winnow.LeverWriteFailed {
		return winnow.Errorf(winnow.ECONFLICT, "Only a write that failed can be retried; this one is %s.", w.Status)
	}
	w.Status, w.LastError, w.LeaseUntil, w.UpdatedAt = winnow.LeverWriteQueued, "", nil, s.now()
	if err := saveLeverWrite(ctx, tx, w); err != nil {
		return fmt.Errorf("retry lever write: %w", err)
	}
	if err := s.leverWritesAdded(ctx, tx, []*winnow.LeverWrite{w}); err != nil {
		return err
	}
	return commit(tx)
}

// ClearLeverPerformAs stops attributing the org's notes and stage moves to the Lever
// user performAs, who Lever says cannot act (deactivated), with warning for the
// admins. It does nothing when an admin has chosen someone else meanwhile.
func (s *Store) ClearLeverPerformAs(ctx context.Context, orgID, performAs, warning string) error {
	_, err := s.db.db.ExecContext(ctx, `UPDATE lever_connections SET perform_as = '', perform_as_name = '',
		perform_as_warning = $1, updated_at = $2 WHERE org_id = $3 AND perform_as = $4`, warning, s.now(), orgID, performAs)
	if err != nil {
		return fmt.Errorf("clear lever perform_as: %w", err)
	}
	return nil
}

// leverWritesAdded enqueues in tx the jobs of writes stored in tx, if the store has
// effects.
func (s *Store) leverWritesAdded(ctx context.Context, tx *sql.Tx, ws []*winnow.LeverWrite) error {
	if len(ws) == 0 {
		return nil
	}
	return s.plan("lever write", func(fx Effects) error { return fx.LeverWritesAdded(ctx, s.view(tx), ws) })
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func scanLeverWrite(r scanner) (*winnow.LeverWrite, error) {
	var w winnow.LeverWrite
	var applicantID sql.NullString
	var kind, forStatus, status, tags string
	var noteAt, lease, done sql.NullTime
	if err := r.Scan(&w.ID, &w.OrgID, &applicantID, &w.OpportunityID, &w.EventID, &w.Seq, &kind, &forStatus, &tags,
		&w.Note, &noteAt, &w.StageID, &status, &w.Attempts, &w.LastError, &w.NoteID, &lease, &w.CreatedAt, &w.UpdatedAt,
		&done); err != nil {
		return nil, err
	}
	w.ApplicantID = applicantID.String
	w.Kind, w.ForStatus, w.Status = winnow.LeverWriteKind(kind), winnow.ApplicantStatus(forStatus), winnow.LeverWriteStatus(status)
	if err := json.Unmarshal([]byte(tags), &w.Tags); err != nil {
		return nil, fmt.Errorf("decode tags of lever write %s: %w", w.ID, err)
	}
	if len(w.Tags) == 0 {
		w.Tags = nil
	}
	if t := timePtr(noteAt); t != nil {
		w.NoteAt = *t
	}
	w.LeaseUntil, w.DoneAt = timePtr(lease), timePtr(done)
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	return &w, nil
}
