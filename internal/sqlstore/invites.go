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
	ni := *inv
	if err := s.insertInvite(ctx, s.db.db, &ni); err != nil {
		return err
	}
	*inv = ni
	return nil
}

// CreateInviteWithEmail stores a new invitation, as CreateInvite does, and the email that
// carries its link, in one transaction; inside it, after both rows are written, the
// store's Effects plan the job that sends the email (InviteCreated). So the invitation,
// its email and the job commit together or not at all, and an error from the effects
// rolls all three back.
//
// e must be a member invitation with its content rendered: the store does not render
// or encrypt; the caller passes the content sealed and says so with e.Sealed. The store
// fills in e's ID, org, invitation, recipient (the invitation's address), sequence 1,
// status queued and times. The invitation's email is unique per invitation, so there is
// never a second one for the same link.
func (s *Store) CreateInviteWithEmail(ctx context.Context, inv *winnow.Invite, e *winnow.Email) error {
	if err := inv.Validate(); err != nil {
		return err
	}
	switch {
	case e == nil, e.Kind != winnow.EmailMemberInvite, e.ApplicantID != "":
		return fmt.Errorf("create invite email: not a member invitation email")
	case e.OrgID != "" && e.OrgID != inv.OrgID:
		return fmt.Errorf("create invite email: email of org %s for an invitation of org %s", e.OrgID, inv.OrgID)
	case e.Subject == "" || e.Text == "":
		return fmt.Errorf("create invite email: the content is not rendered")
	}
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	ni := *inv
	if err := s.insertInvite(ctx, tx, &ni); err != nil {
		return err
	}
	ne := *e
	ne.ID, ne.OrgID, ne.InviteID, ne.FunnelID, ne.Seq, ne.To = newID(), ni.OrgID, ni.ID, "", 1, ni.Email
	ne.Status, ne.DueAt, ne.CreatedAt, ne.UpdatedAt = winnow.EmailQueued, ni.CreatedAt, ni.CreatedAt, ni.CreatedAt
	ne.Deadline, ne.SentAt, ne.Attempts, ne.Uncertain, ne.LastError = nil, nil, 0, 0, ""
	_, err = tx.ExecContext(ctx, `INSERT INTO emails (id, org_id, applicant_id, invite_id, funnel_id, kind, seq, to_address,
		status, due_at, subject, body_text, body_html, sealed, created_at, updated_at)
		VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		ne.ID, ne.OrgID, ne.InviteID, ne.FunnelID, string(ne.Kind), ne.Seq, ne.To,
		string(ne.Status), ne.DueAt, ne.Subject, ne.Text, ne.HTML, ne.Sealed, ne.CreatedAt, ne.UpdatedAt)
	if isUnique(err) {
		return winnow.Errorf(winnow.ECONFLICT, "This invitation already has its email.")
	} else if err != nil {
		return fmt.Errorf("insert invite email: %w", err)
	}
	ni.EmailID, ni.EmailStatus = ne.ID, ne.Status
	if err := s.inviteCreated(ctx, tx, &ni, &ne); err != nil {
		return err
	}
	if err := commit(tx); err != nil {
		return err
	}
	*inv, *e = ni, ne
	return nil
}

// insertInvite stores the validated invitation inv with q, filling in ID, CreatedAt and,
// when zero, ExpiresAt.
func (s *Store) insertInvite(ctx context.Context, q querier, inv *winnow.Invite) error {
	id, now := newID(), s.now()
	expires := dbTime(inv.ExpiresAt)
	if inv.ExpiresAt.IsZero() {
		expires = now.Add(winnow.InviteTTL)
	}
	_, err := q.ExecContext(ctx, `INSERT INTO invites (`+inviteColumns+`)
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
	inv.EmailID, inv.EmailStatus = "", ""
	return nil
}

// ListInvites returns the org's pending (unaccepted, unexpired at now) invitations,
// oldest first, each with its email's ID and status (empty when it has none).
func (s *Store) ListInvites(ctx context.Context, orgID string, now time.Time) ([]*winnow.Invite, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT i.id, i.org_id, i.email, i.role, i.token_hash, i.invited_by,
		i.created_at, i.expires_at, i.accepted_at, COALESCE(e.id, ''), COALESCE(e.status, '')
		FROM invites i LEFT JOIN emails e ON e.org_id = i.org_id AND e.invite_id = i.id
		WHERE i.org_id = $1 AND i.accepted_at IS NULL AND i.expires_at > $2
		ORDER BY i.created_at, i.id`, orgID, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("list invites: %w", err)
	}
	defer rows.Close()
	var invs []*winnow.Invite
	for rows.Next() {
		var emailID, emailStatus string
		inv, err := scanInvite(rows, &emailID, &emailStatus)
		if err != nil {
			return nil, fmt.Errorf("list invites: %w", err)
		}
		inv.EmailID, inv.EmailStatus = emailID, winnow.EmailStatus(emailStatus)
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

// scanInvite scans inviteColumns and then into extra, the columns a query adds.
func scanInvite(r scanner, extra ...any) (*winnow.Invite, error) {
	var inv winnow.Invite
	var role string
	var accepted sql.NullTime
	dest := append([]any{&inv.ID, &inv.OrgID, &inv.Email, &role, &inv.TokenHash, &inv.InvitedBy,
		&inv.CreatedAt, &inv.ExpiresAt, &accepted}, extra...)
	if err := r.Scan(dest...); err != nil {
		return nil, err
	}
	inv.Role = winnow.Role(role)
	inv.CreatedAt, inv.ExpiresAt, inv.AcceptedAt = inv.CreatedAt.UTC(), inv.ExpiresAt.UTC(), timePtr(accepted)
	return &inv, nil
}
