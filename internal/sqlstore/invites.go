package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"winnow"
)

const inviteColumns = `id, org_id, email, role, token_hash, invited_by, created_at, expires_at, accepted_at`

// CreateInvite validates and stores a new invitation, filling in ID and CreatedAt, and
// ExpiresAt (winnow.InviteTTL later) when zero. An unknown org gives ENOTFOUND.
func (s *Store) CreateInvite(ctx context.Context, inv *winnow.Invite) error {
	if err := inv.Validate(); err != nil {
		return err
	}
	id, now := newID(), s.now()
	expires := dbTime(inv.ExpiresAt)
	if inv.ExpiresAt.IsZero() {
		expires = now.Add(winnow.InviteTTL)
	}
	_, err := s.db.db.ExecContext(ctx, `INSERT INTO invites (`+inviteColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)`,
		id, inv.OrgID, inv.Email, string(inv.Role), inv.TokenHash, inv.InvitedBy, now, expires)
	switch {
	case isUnique(err):
		return winnow.Errorf(winnow.ECONFLICT, "This invitation already exists.")
	case isForeignKey(err):
		return winnow.Errorf(winnow.ENOTFOUND, msgOrgNotFound)
	case err != nil:
		return fmt.Errorf("insert invite: %w", err)
	}
	inv.ID, inv.CreatedAt, inv.ExpiresAt, inv.AcceptedAt = id, now, expires, nil
	return nil
}

// ListInvites returns the org's pending (unaccepted, unexpired at now) invitations,
// oldest first.
func (s *Store) ListInvites(ctx context.Context, orgID string, now time.Time) ([]*winnow.Invite, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT `+inviteColumns+` FROM invites
		WHERE org_id = $1 AND accepted_at IS NULL AND expires_at > $2
		ORDER BY created_at, id`, orgID, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("list invites: %w", err)
	}
	defer rows.Close()
	var invs []*winnow.Invite
	for rows.Next() {
		inv, err := scanInvite(rows)
		if err != nil {
			return nil, fmt.Errorf("list invites: %w", err)
		}
		invs = append(invs, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list invites: %w", err)
	}
	return invs, nil
}

// FindInviteByToken returns the pending invitation with this token hash, or ENOTFOUND.
func (s *Store) FindInviteByToken(ctx context.Context, tokenHash string, now time.Time) (*winnow.Invite, error) {
	return s.findPendingInvite(ctx, s.db.db, tokenHash, now, "")
}

func (s *Store) findPendingInvite(ctx context.Context, q querier, tokenHash string, now time.Time, suffix string) (*winnow.Invite, error) {
	row := q.QueryRowContext(ctx, `SELECT `+inviteColumns+` FROM invites
		WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2`+suffix, tokenHash, now.UTC())
	inv, err := scanInvite(row)
	if err != nil {
		return nil, lookupErr(err, msgInviteNotFound, "find invite")
	}
	return inv, nil
}

// AcceptInvite creates the user and marks the invitation accepted at now, both or
// neither. The user joins the invitation's org with its role and email address, since
// following the emailed link proved that address; the caller supplies name and
// password hash. An email already in use gives ECONFLICT and leaves the invitation
// pending.
func (s *Store) AcceptInvite(ctx context.Context, tokenHash string, u *winnow.User, now time.Time) error {
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	inv, err := s.findPendingInvite(ctx, tx, tokenHash, now, s.db.forUpdate())
	if err != nil {
		return err
	}
	nu := *u
	nu.OrgID, nu.Role, nu.Email = inv.OrgID, inv.Role, inv.Email
	if err := s.insertUser(ctx, tx, &nu); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE invites SET accepted_at = $1
		WHERE org_id = $2 AND id = $3 AND accepted_at IS NULL`, dbTime(now), inv.OrgID, inv.ID)
	if err != nil {
		return fmt.Errorf("mark invite accepted: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return winnow.Errorf(winnow.ENOTFOUND, msgInviteNotFound)
	}
	if err := commit(tx); err != nil {
		return err
	}
	*u = nu
	return nil
}

func scanInvite(r scanner) (*winnow.Invite, error) {
	var inv winnow.Invite
	var role string
	var accepted sql.NullTime
	if err := r.Scan(&inv.ID, &inv.OrgID, &inv.Email, &role, &inv.TokenHash, &inv.InvitedBy,
		&inv.CreatedAt, &inv.ExpiresAt, &accepted); err != nil {
		return nil, err
	}
	inv.Role = winnow.Role(role)
	inv.CreatedAt, inv.ExpiresAt, inv.AcceptedAt = inv.CreatedAt.UTC(), inv.ExpiresAt.UTC(), timePtr(accepted)
	return &inv, nil
}
