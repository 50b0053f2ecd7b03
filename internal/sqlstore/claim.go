package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"winnow"
)

// claimable is one kind of row that carries an outbound effect of an applicant change
// and is claimed before each attempt to perform it: an email today, a Lever write next.
// Such rows share a lifecycle (queued → sending → done, failed or skipped, with
// attempts and the last error) and a table with org_id, id, applicant_id (NULL when
// the row concerns no applicant) and status columns, so their claim and finish
// transactions are written once, in claimRow and finishRow; the rules are the domain's.
type claimable[R any] struct {
	table    string // the rows' table
	notFound string // the message when the org has no such row
	sending  string // the status of a row whose attempt is under way
	columns  string // the columns scan reads
	scan     func(r scanner) (R, error)
	// decide asks the domain what this attempt may do (the row's Claim method) for
	// the row's applicant, nil when it has none; it may read more in tx first.
	decide func(ctx context.Context, tx *sql.Tx, row R, a *winnow.Applicant, now time.Time) (winnow.Claim, error)
	// save writes the row as decide changed it.
	save func(ctx context.Context, tx *sql.Tx, row R) error
}

// claimRow takes the org's row id for one attempt, in one transaction: it locks the
// row's applicant and then the row, in the order applicant changes (which cancel and
// plan effects) take them, asks the domain, saves the row when it changed and records
// the decision's event on the applicant's timeline.
func claimRow[R any](ctx context.Context, s *Store, c claimable[R], orgID, id string) (R, winnow.Claim, error) {
	var zero R
	now := s.now()
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return zero, winnow.Claim{}, err
	}
	defer rollback(tx)
	var applicantID sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT applicant_id FROM `+c.table+` WHERE org_id = $1 AND id = $2`, orgID, id).Scan(&applicantID)
	if err != nil {
		return zero, winnow.Claim{}, lookupErr(err, c.notFound, "find "+c.table)
	}
	var a *winnow.Applicant
	if applicantID.Valid {
		a, err = scanApplicant(tx.QueryRowContext(ctx, `SELECT `+applicantColumns+` FROM applicants
			WHERE org_id = $1 AND id = $2`+s.db.forUpdate(), orgID, applicantID.String))
		if err != nil {
			return zero, winnow.Claim{}, lookupErr(err, msgApplicantNotFound, "lock applicant")
		}
	}
	row, err := c.scan(tx.QueryRowContext(ctx, `SELECT `+c.columns+` FROM `+c.table+` WHERE org_id = $1 AND id = $2`+
		s.db.forUpdate(), orgID, id))
	if err != nil {
		return zero, winnow.Claim{}, lookupErr(err, c.notFound, "lock "+c.table)
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
	if err := commit(tx); err != nil {
		return zero, winnow.Claim{}, err
	}
	return row, claim, nil
}

// finishRow records the outcome of the attempt claimRow started on the org's row id,
// in one transaction: while the row is still sending, update writes the outcome and
// returns the timeline entry to record, if any; a row no longer sending (a duplicate
// or late finish) is left as it is. It locks the row's applicant before the row, as
// claimRow does: the timeline entry's insert needs a share of the applicant's row, so
// a finish that took the row first could deadlock with a claim of the same applicant's
// next row.
func finishRow[R any](ctx context.Context, s *Store, c claimable[R], orgID, id string,
	update func(ctx context.Context, tx *sql.Tx) (*winnow.Event, error)) error {
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	var applicantID sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT applicant_id FROM `+c.table+` WHERE org_id = $1 AND id = $2`, orgID, id).Scan(&applicantID)
	if err != nil {
		return lookupErr(err, c.notFound, "find "+c.table)
	}
	if applicantID.Valid {
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM applicants WHERE org_id = $1 AND id = $2`+s.db.forUpdate(),
			orgID, applicantID.String).Scan(&one)
		if err != nil {
			return lookupErr(err, msgApplicantNotFound, "lock applicant")
		}
	}
	var status string
	err = tx.QueryRowContext(ctx, `SELECT status FROM `+c.table+` WHERE org_id = $1 AND id = $2`+s.db.forUpdate(),
		orgID, id).Scan(&status)
	if err != nil {
		return lookupErr(err, c.notFound, "lock "+c.table)
	}
	if status != c.sending {
		return nil
	}
	ev, err := update(ctx, tx)
	if err != nil {
		return fmt.Errorf("finish %s: %w", c.table, err)
	}
	if ev != nil && applicantID.Valid {
		ev.OrgID, ev.ApplicantID = orgID, applicantID.String
		if err := s.insertEvent(ctx, tx, ev); err != nil {
			return err
		}
	}
	return commit(tx)
}
