package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"winnow"
)

const leverDeliveryColumns = `id, org_id, event, token, dedup_key, triggered_at, opportunity_id, application_id,
	to_stage_id, from_stage_id, archived, archive_reason, status, outcome, applicant_id, received_at, processed_at`

const msgLeverDeliveryNotFound = "This webhook delivery was not found."

// RecordLeverDelivery stores a webhook delivery that verified, the org's time of the
// last webhook, and (for a delivery to process, status received) its processing job,
// all in one transaction: once it returns, the delivery is durable and will be
// processed. A delivery whose dedup key the org has already seen is not stored again
// and enqueues nothing; stored reports which happened. It fills in ID and ReceivedAt.
// At high rates an IntakeBatcher writes many deliveries in one such transaction.
func (s *Store) RecordLeverDelivery(ctx context.Context, d *winnow.LeverDelivery) (stored bool, err error) {
	if err := checkLeverDelivery(d); err != nil {
		return false, err
	}
	nd := *d
	got, err := s.recordLeverDeliveries(ctx, []*winnow.LeverDelivery{&nd}, nil)
	if err != nil {
		return false, err
	}
	if got[0] {
		*d = nd
	}
	return got[0], nil
}

// checkLeverDelivery refuses a delivery that lacks what every stored one has.
func checkLeverDelivery(d *winnow.LeverDelivery) error {
	if d.OrgID == "" || d.Event == "" || d.Token == "" || d.Status == "" {
		return fmt.Errorf("record lever delivery: incomplete delivery %+v", d)
	}
	return nil
}

// FindLeverDelivery returns the org's delivery, or ENOTFOUND.
func (s *Store) FindLeverDelivery(ctx context.Context, orgID, id string) (*winnow.LeverDelivery, error) {
	d, err := scanLeverDelivery(s.db.db.QueryRowContext(ctx, `SELECT `+leverDeliveryColumns+` FROM lever_deliveries
		WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, lookupErr(err, msgLeverDeliveryNotFound, "find lever delivery")
	}
	return d, nil
}

// ListLeverDeliveries returns the org's latest deliveries, newest first, at most limit
// (0 means 100).
func (s *Store) ListLeverDeliveries(ctx context.Context, orgID string, limit int) ([]*winnow.LeverDelivery, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.db.QueryContext(ctx, `SELECT `+leverDeliveryColumns+` FROM lever_deliveries WHERE org_id = $1
		ORDER BY received_at DESC, id DESC LIMIT $2`, orgID, limit)
	if err != nil {
		return nil, fmt.Errorf("list lever deliveries: %w", err)
	}
	defer rows.Close()
	var list []*winnow.LeverDelivery
	for rows.Next() {
		d, err := scanLeverDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("list lever deliveries: %w", err)
		}
		list = append(list, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list lever deliveries: %w", err)
	}
	return list, nil
}

// FinishLeverDelivery records what became of a delivery that needed no change in
// Winnow (status ignored or failed, with the outcome in words). A delivery processed
// already is left as it is.
func (s *Store) FinishLeverDelivery(ctx context.Context, orgID, id string, status winnow.LeverDeliveryStatus, outcome string) error {
	_, err := s.db.db.ExecContext(ctx, `UPDATE lever_deliveries SET status = $1, outcome = $2, processed_at = $3
		WHERE org_id = $4 AND id = $5 AND status = $6`, string(status), outcome, s.now(), orgID, id,
		string(winnow.LeverDeliveryReceived))
	if err != nil {
		return fmt.Errorf("finish lever delivery: %w", err)
	}
	return nil
}

// lockDelivery locks the org's delivery in tx; processed reports that it was acted on
// already (a repeated job), in which case nothing is to change.
func (s *Store) lockDelivery(ctx context.Context, tx *sql.Tx, orgID, id string) (d *winnow.LeverDelivery, processed bool, err error) {
	d, err = scanLeverDelivery(tx.QueryRowContext(ctx, `SELECT `+leverDeliveryColumns+` FROM lever_deliveries
		WHERE org_id = $1 AND id = $2`+s.db.forUpdate(), orgID, id))
	if err != nil {
		return nil, false, lookupErr(err, msgLeverDeliveryNotFound, "lock lever delivery")
	}
	return d, d.Status != winnow.LeverDeliveryReceived, nil
}

// markDelivery records in tx what processing did with d.
func (s *Store) markDelivery(ctx context.Context, tx *sql.Tx, d *winnow.LeverDelivery, status winnow.LeverDeliveryStatus, outcome, applicantID string) error {
	now := s.now()
	d.Status, d.Outcome, d.ApplicantID, d.ProcessedAt = status, outcome, applicantID, &now
	_, err := tx.ExecContext(ctx, `UPDATE lever_deliveries SET status = $1, outcome = $2, applicant_id = $3, processed_at = $4
		WHERE org_id = $5 AND id = $6`, string(status), outcome, applicantID, now, d.OrgID, d.ID)
	if err != nil {
		return fmt.Errorf("mark lever delivery: %w", err)
	}
	return nil
}

// processApplicationTx is ProcessLeverApplication in tx, which the caller commits,
// as one delivery of the batch b (see applicationBatcher).
func (s *Store) processApplicationTx(ctx context.Context, tx *sql.Tx, b *txBatch, orgID, deliveryID string, c winnow.LeverCandidate, token string) (*winnow.LeverDelivery, error) {
	d, processed, err := s.lockDelivery(ctx, tx, orgID, deliveryID)
	if err != nil || processed {
		return d, err
	}
	f, err := funnelOfPosting(ctx, tx, b, orgID, c.PostingID)
	switch {
	case err != nil:
		return nil, err
	case f == nil:
		return d, s.markDelivery(ctx, tx, d, winnow.LeverDeliveryIgnored, winnow.LeverOutcomeNotLinked, "")
	}
	if c.Email == "" {
		if err := s.noEmailNote(ctx, tx, orgID, c.OpportunityID, f); err != nil {
			return nil, err
		}
		return d, s.markDelivery(ctx, tx, d, winnow.LeverDeliveryProcessed, winnow.LeverOutcomeNoEmail, "")
	}
	email, err := winnow.NormalizeEmail(c.Email)
	if err != nil {
		return d, s.markDelivery(ctx, tx, d, winnow.LeverDeliveryFailed, "Lever's email address for the candidate is not valid; not invited.", "")
	}
	// Also an earlier delivery of the same batch: the transaction sees its rows. Two
	// lookups, each in the unique index that refuses a second such applicant: with
	// "opportunity OR email" both engines read every applicant of the job instead,
	// which made each invitation slower than the last. The partial indexes' own
	// conditions are spelled out so that the planners may use them; the oldest
	// applicant of an address is always in its index (migration 7).
	var existing string
	var at time.Time
	err = tx.QueryRowContext(ctx, `SELECT id, created_at FROM applicants WHERE org_id = $1 AND funnel_id = $2
			AND lever_opportunity_id = $3 AND lever_opportunity_id <> ''
		UNION ALL
		SELECT id, created_at FROM applicants WHERE org_id = $1 AND funnel_id = $2
			AND email = $4 AND email <> '' AND NOT duplicate_email
		ORDER BY 2 LIMIT 1`, orgID, f.ID, c.OpportunityID, email).Scan(&existing, &at)
	switch {
	case err == nil:
		return d, s.markDelivery(ctx, tx, d, winnow.LeverDeliveryProcessed, winnow.LeverOutcomeAlreadyInvited, existing)
	case err != sql.ErrNoRows:
		return nil, fmt.Errorf("find applicant of opportunity: %w", err)
	}
	a, err := winnow.NewApplicant(f, c.Name, email, token, s.now())
	if err != nil {
		return d, s.markDelivery(ctx, tx, d, winnow.LeverDeliveryFailed, "Not invited: "+winnow.ErrorMessage(err), "")
	}
	a.LeverOpportunityID = c.OpportunityID
	na, err := s.createApplicantIn(ctx, tx, b, a, "")
	if err != nil {
		return nil, err
	}
	ev := &winnow.Event{OrgID: orgID, ApplicantID: na.ID, Kind: winnow.EventLeverWebhook, At: d.ReceivedAt,
		Message: "Application received from Lever (" + d.Event + ")"}
	if err := s.insertEventIn(ctx, tx, b, ev); err != nil {
		return nil, err
	}
	return d, s.markDelivery(ctx, tx, d, winnow.LeverDeliveryProcessed, winnow.LeverOutcomeInvited, na.ID)
}

// noEmailNote adds in tx, with its job, the note telling Lever that an opportunity
// without an email address was not invited to f, while the org's connection is active.
func (s *Store) noEmailNote(ctx context.Context, tx *sql.Tx, orgID, opportunityID string, f *winnow.Funnel) error {
	c, err := findLeverConnectionTx(ctx, tx, orgID)
	if winnow.ErrorCode(err) == winnow.ENOTFOUND || (err == nil && !c.Active()) {
		return nil
	} else if err != nil {
		return err
	}
	ws, err := s.view(tx).AddLeverWrites(ctx, []*winnow.LeverWrite{winnow.NoEmailLeverNote(orgID, opportunityID, f, s.now())})
	if err != nil {
		return err
	}
	return s.leverWritesAdded(ctx, tx, ws)
}

// ApplyLeverDelivery applies fn (an applicant change: Archive, Unarchive, Erase, or an
// entry that records the webhook) to each of the org's applicants on the delivery's
// opportunity, and marks the delivery processed (ignored when no applicant has that
// opportunity), all in one transaction, each change with its effects as in
// TransitionApplicant. An applicant for whom fn answers ECONFLICT (archived already, …)
// is left as it is. It returns the delivery and the file paths of the uploads an
// erase removed, for the caller to delete once this has returned.
func (s *Store) ApplyLeverDelivery(ctx context.Context, orgID, deliveryID string, fn func(*winnow.Applicant) (winnow.Event, error)) (*winnow.LeverDelivery, []string, error) {
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer rollback(tx)
	d, processed, err := s.lockDelivery(ctx, tx, orgID, deliveryID)
	if err != nil || processed {
		return d, nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM applicants WHERE org_id = $1 AND lever_opportunity_id = $2
		AND lever_opportunity_id <> '' ORDER BY created_at, id`, orgID, d.OpportunityID)
	if err != nil {
		return nil, nil, fmt.Errorf("find applicants of opportunity: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("find applicants of opportunity: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("find applicants of opportunity: %w", err)
	}
	if len(ids) == 0 {
		if err := s.markDelivery(ctx, tx, d, winnow.LeverDeliveryIgnored, winnow.LeverOutcomeNoApplicant, ""); err != nil {
			return nil, nil, err
		}
		return d, nil, commit(tx)
	}
	var files []string
	changed := 0
	for _, id := range ids {
		_, removed, err := s.transitionTx(ctx, tx, orgID, id, fn)
		if winnow.ErrorCode(err) == winnow.ECONFLICT {
			continue
		} else if err != nil {
			return nil, nil, err
		}
		files = append(files, removed...)
		changed++
	}
	outcome := "Applied to " + strconv.Itoa(changed) + " applicant(s)."
	if changed == 0 {
		outcome = "Nothing to change."
	}
	if err := s.markDelivery(ctx, tx, d, winnow.LeverDeliveryProcessed, outcome, ids[0]); err != nil {
		return nil, nil, err
	}
	if err := commit(tx); err != nil {
		return nil, nil, err
	}
	return d, files, nil
}

func scanLeverDelivery(r scanner) (*winnow.LeverDelivery, error) {
	var d winnow.LeverDelivery
	var dedup, status string
	var archived sql.NullBool
	var processed sql.NullTime
	if err := r.Scan(&d.ID, &d.OrgID, &d.Event, &d.Token, &dedup, &d.TriggeredAt, &d.OpportunityID, &d.ApplicationID,
		&d.ToStageID, &d.FromStageID, &archived, &d.ArchiveReason, &status, &d.Outcome, &d.ApplicantID, &d.ReceivedAt,
		&processed); err != nil {
		return nil, err
	}
	d.Status = winnow.LeverDeliveryStatus(status)
	if archived.Valid {
		v := archived.Bool
		d.Archived = &v
	}
	d.TriggeredAt, d.ReceivedAt, d.ProcessedAt = d.TriggeredAt.UTC(), d.ReceivedAt.UTC(), timePtr(processed)
	return &d, nil
}
