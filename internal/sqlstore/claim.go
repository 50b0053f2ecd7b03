package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"winnow"
)

// claimable is one kind of row that carries an outbound effect of an applicant change
// and is claimed before each attempt to perform it: an email or a Lever write. Such
// rows share a lifecycle (queued → sending → done, failed or skipped, with attempts
// and the last error) and a table with org_id, id, applicant_id (NULL when the row
// concerns no applicant) and status columns, so their claim and finish transactions
// are written once, in claimRowTx and finishRowTx; the rules are the domain's.
type claimable[R any] struct {
	table    string // the rows' table
	notFound string // the message when the org has no such row
	sending  string // the status of a row whose attempt is under way
	columns  string // the columns scan reads
	scan     func(r scanner) (R, error)
	// applicant and status read a scanned row's applicant ID ("" for none) and status.
	applicant func(R) string
	status    func(R) string
	// decide asks the domain what this attempt may do (the row's Claim method) for
	// the row's applicant, nil when it has none; it may read more in tx first.
	decide func(ctx context.Context, tx *sql.Tx, row R, a *winnow.Applicant, now time.Time) (winnow.Claim, error)
	// save writes the row as decide changed it.
	save func(ctx context.Context, tx *sql.Tx, row R) error
}

// lockRow reads the org's row id in tx for an update, after locking its applicant: the
// order applicant changes (which cancel and plan effects) take them, so that a claim or
// finish never deadlocks with a change of the same applicant. With full set the
// applicant is returned as it is, else only locked. On SQLite, whose immediate
// transaction holds the database's write lock already, nothing is locked row by row:
// the row is read once, then its applicant if wanted. held, when not nil, is an
// applicant tx has locked and read already: a row of theirs is only locked.
func lockRow[R any](ctx context.Context, s *Store, tx *sql.Tx, c claimable[R], orgID, id string, full bool, held *winnow.Applicant) (R, *winnow.Applicant, error) {
	var zero R
	if held != nil {
		row, err := c.scan(tx.QueryRowContext(ctx, `SELECT `+c.columns+` FROM `+c.table+` WHERE org_id = $1 AND id = $2`+
			s.db.forUpdate(), orgID, id))
		if err != nil {
			return zero, nil, lookupErr(err, c.notFound, "lock "+c.table)
		}
		if c.applicant(row) == held.ID {
			return row, held, nil
		}
		// Another applicant's row (the callers make sure it is not): lock as usual.
	}
	if s.db.dialect != DialectPostgres {
		row, err := c.scan(tx.QueryRowContext(ctx, `SELECT `+c.columns+` FROM `+c.table+` WHERE org_id = $1 AND id = $2`, orgID, id))
		if err != nil {
			return zero, nil, lookupErr(err, c.notFound, "find "+c.table)
		}
		applicantID := c.applicant(row)
		if !full || applicantID == "" {
			return row, nil, nil
		}
		a, err := scanApplicant(tx.QueryRowContext(ctx, `SELECT `+applicantColumns+` FROM applicants
			WHERE org_id = $1 AND id = $2`, orgID, applicantID))
		if err != nil {
			return zero, nil, lookupErr(err, msgApplicantNotFound, "find applicant")
		}
		return row, a, nil
	}
	var applicantID sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT applicant_id FROM `+c.table+` WHERE org_id = $1 AND id = $2`, orgID, id).Scan(&applicantID)
	if err != nil {
		return zero, nil, lookupErr(err, c.notFound, "find "+c.table)
	}
	var a *winnow.Applicant
	switch {
	case applicantID.Valid && full:
		a, err = scanApplicant(tx.QueryRowContext(ctx, `SELECT `+applicantColumns+` FROM applicants
			WHERE org_id = $1 AND id = $2 FOR UPDATE`, orgID, applicantID.String))
	case applicantID.Valid:
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM applicants WHERE org_id = $1 AND id = $2 FOR UPDATE`,
			orgID, applicantID.String).Scan(&one)
	}
	if err != nil {
		return zero, nil, lookupErr(err, msgApplicantNotFound, "lock applicant")
	}
	row, err := c.scan(tx.QueryRowContext(ctx, `SELECT `+c.columns+` FROM `+c.table+` WHERE org_id = $1 AND id = $2 FOR UPDATE`,
		orgID, id))
	if err != nil {
		return zero, nil, lookupErr(err, c.notFound, "lock "+c.table)
	}
	return row, a, nil
}

// claimRow takes the org's row id for one attempt, in one transaction (claimRowTx),
// shared on SQLite with other small ones (DB.inTx).
func claimRow[R any](ctx context.Context, s *Store, c claimable[R], orgID, id string) (R, winnow.Claim, error) {
	var row R
	var claim winnow.Claim
	err := s.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		row, claim, err = claimRowTx(ctx, s, tx, c, orgID, id, s.now(), nil)
		return err
	})
	if err != nil {
		var zero R
		return zero, winnow.Claim{}, err
	}
	return row, claim, nil
}

// claimRowTx takes the org's row id for one attempt in tx: it locks the row and its
// applicant (lockRow; held is an applicant tx holds already, or nil), asks the domain,
// saves the row when it changed and records the decision's event on the applicant's
// timeline.
func claimRowTx[R any](ctx context.Context, s *Store, tx *sql.Tx, c claimable[R], orgID, id string, now time.Time,
	held *winnow.Applicant) (R, winnow.Claim, error) {
	var zero R
	row, a, err := lockRow(ctx, s, tx, c, orgID, id, true, held)
	if err != nil {
		return zero, winnow.Claim{}, err
	}
	claim, err := c.decide(ctx, tx, row, a, now)
	if err != nil {
		return zero, winnow.Claim{}, err
	}
	if !claim.Changed {
		return row, claim, nil
	}
	if err := c.save(ctx, tx, row); err != nil {
		return zero, winnow.Claim{}, fmt.Errorf("claim %s: %w", c.table, err)
	}
	if ev := claim.Event; ev != nil && a != nil {
		ev.OrgID, ev.ApplicantID = orgID, a.ID
		if err := s.insertEvent(ctx, tx, ev); err != nil {
			return zero, winnow.Claim{}, err
		}
	}
	return row, claim, nil
}

// finishUpdate writes the outcome of an attempt on row, which is sending, and returns
// the timeline entry to record, if any.
type finishUpdate[R any] func(ctx context.Context, tx *sql.Tx, row R) (*winnow.Event, error)

// finishRow records the outcome of the attempt claimRow started on the org's row id, in
// one transaction (finishRowTx), shared on SQLite with other small ones (DB.inTx).
func finishRow[R any](ctx context.Context, s *Store, c claimable[R], orgID, id string, update finishUpdate[R]) error {
	return s.db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, _, err := finishRowTx(ctx, s, tx, c, orgID, id, false, update)
		return err
	})
}

// finishRowTx records in tx the outcome of the attempt claimRow started on the org's
// row id: while the row is still sending, update writes the outcome and returns the
// timeline entry to record, if any; a row no longer sending (a duplicate or late
// finish) is left as it is. It returns the row as it was read and, with full set, its
// applicant as read and locked (see lockRow). It locks the row's applicant before the
// row, as claims do: the timeline entry's insert needs a share of the applicant's row,
// so a finish that took the row first could deadlock with a claim of the same
// applicant's next row.
func finishRowTx[R any](ctx context.Context, s *Store, tx *sql.Tx, c claimable[R], orgID, id string, full bool,
	update finishUpdate[R]) (R, *winnow.Applicant, error) {
	var zero R
	row, a, err := lockRow(ctx, s, tx, c, orgID, id, full, nil)
	if err != nil {
		return zero, nil, err
	}
	if c.status(row) != c.sending {
		return row, a, nil
	}
	ev, err := update(ctx, tx, row)
	if err != nil {
		return zero, nil, fmt.Errorf("finish %s: %w", c.table, err)
	}
	if applicantID := c.applicant(row); ev != nil && applicantID != "" {
		ev.OrgID, ev.ApplicantID = orgID, applicantID
		if err := s.insertEvent(ctx, tx, ev); err != nil {
			return zero, nil, err
		}
	}
	return row, a, nil
}
