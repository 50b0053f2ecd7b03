package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"winnow"
)

const reviewColumns = `id, org_id, applicant_id, reviewer_id, score, comment, created_at, updated_at`

// EventReviewed is the timeline entry SaveReview records. It is not a status change,
// so it carries no effects.
const EventReviewed winnow.EventKind = "reviewed"

// SaveReview stores the reviewer's review of the org's applicant, replacing their
// earlier one, and records it on the applicant's timeline, in one transaction. Only a
// submitted applicant can be reviewed: the decision closes the review, so any other
// status gives ECONFLICT. An applicant of another org gives ENOTFOUND; a reviewer who is
// not a user of the org, EINVALID. It fills in ID and the timestamps.
func (s *Store) SaveReview(ctx context.Context, r *winnow.Review) error {
	if err := r.Validate(); err != nil {
		return err
	}
	now := s.now()
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	var status string
	err = tx.QueryRowContext(ctx, `SELECT status FROM applicants WHERE org_id = $1 AND id = $2`+s.db.forUpdate(),
		r.OrgID, r.ApplicantID).Scan(&status)
	if err != nil {
		return lookupErr(err, msgApplicantNotFound, "find applicant")
	}
	if st := winnow.ApplicantStatus(status); st != winnow.StatusSubmitted {
		return winnow.Errorf(winnow.ECONFLICT, "Only submitted applicants can be reviewed; this one is %s.", strings.ToLower(st.Label()))
	}
	// The reviewer must be a user of the org. Reviews keep a removed member's ID, so this
	// is checked here rather than by a foreign key; the row lock makes a removal at the
	// same moment wait for this review (or this review see the removal).
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE org_id = $1 AND id = $2`+s.db.forUpdate(), r.OrgID, r.ReviewerID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return winnow.Errorf(winnow.EINVALID, "The reviewer must be a user of this organization.")
	} else if err != nil {
		return fmt.Errorf("find reviewer: %w", err)
	}
	var id string
	var created time.Time
	err = tx.QueryRowContext(ctx, `INSERT INTO reviews (`+reviewColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
		ON CONFLICT (org_id, applicant_id, reviewer_id)
		DO UPDATE SET score = excluded.score, comment = excluded.comment, updated_at = excluded.updated_at
		RETURNING id, created_at`,
		newID(), r.OrgID, r.ApplicantID, r.ReviewerID, r.Score, r.Comment, now).Scan(&id, &created)
	if err != nil {
		return fmt.Errorf("save review: %w", err)
	}
	msg := fmt.Sprintf("Reviewed: scored %d of 4 (%s)", r.Score, winnow.ScoreLabels[r.Score])
	if !created.Equal(now) {
		msg = fmt.Sprintf("Changed review: scored %d of 4 (%s)", r.Score, winnow.ScoreLabels[r.Score])
	}
	ev := winnow.Event{OrgID: r.OrgID, ApplicantID: r.ApplicantID, Kind: EventReviewed, Message: msg, ActorID: r.ReviewerID, At: now}
	if err := s.insertEvent(ctx, tx, &ev); err != nil {
		return err
	}
	if err := refreshInsight(ctx, tx, s.db.dialect, r.OrgID, r.ApplicantID); err != nil {
		return err
	}
	if err := commit(tx); err != nil {
		return err
	}
	r.ID, r.CreatedAt, r.UpdatedAt = id, created.UTC(), now
	return nil
}

// ListReviews returns the org's applicant's reviews, oldest first, or ENOTFOUND when
// the org has no such applicant.
func (s *Store) ListReviews(ctx context.Context, orgID, applicantID string) ([]*winnow.Review, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT `+reviewColumns+` FROM reviews
		WHERE org_id = $1 AND applicant_id = $2 ORDER BY created_at, id`, orgID, applicantID)
	if err != nil {
		return nil, fmt.Errorf("list reviews: %w", err)
	}
	defer rows.Close()
	var list []*winnow.Review
	for rows.Next() {
		var r winnow.Review
		if err := rows.Scan(&r.ID, &r.OrgID, &r.ApplicantID, &r.ReviewerID, &r.Score, &r.Comment, &r.CreatedAt, &r.UpdatedAt); err != nil {
			return nil, fmt.Errorf("list reviews: %w", err)
		}
		r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
		list = append(list, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list reviews: %w", err)
	}
	if len(list) == 0 {
		if _, err := s.FindApplicantByID(ctx, orgID, applicantID); err != nil {
			return nil, err
		}
	}
	return list, nil
}
