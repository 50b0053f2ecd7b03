package sqlstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"winnow"
)

var _ winnow.InvitationService = (*Store)(nil)

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
