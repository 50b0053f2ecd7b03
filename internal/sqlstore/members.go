package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"winnow"
)

var _ winnow.MemberService = (*Store)(nil)

// lockAdmins returns the IDs of the org's admins in tx, locking their rows on PostgreSQL:
// a concurrent change of another admin waits, and then sees this one's outcome.
func (s *Store) lockAdmins(ctx context.Context, tx *sql.Tx, orgID string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM users WHERE org_id = $1 AND role = $2`+s.db.forUpdate(), orgID, string(winnow.RoleAdmin))
	if err != nil {
		return nil, fmt.Errorf("lock admins: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("lock admins: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// memberChange runs change on the org's user id in a transaction, after checking with
// KeepsAnAdmin that the org keeps an admin once the user has role to ("" for removal).
func (s *Store) memberChange(ctx context.Context, orgID, id string, to winnow.Role, change func(*sql.Tx) error) (*winnow.User, error) {
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer rollback(tx)
	admins, err := s.lockAdmins(ctx, tx, orgID)
	if err != nil {
		return nil, err
	}
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE org_id = $1 AND id = $2`, orgID, id))
	if err != nil {
		return nil, lookupErr(err, msgUserNotFound, "find member")
	}
	if err := winnow.KeepsAnAdmin(admins, u, to); err != nil {
		return nil, err
	}
	if err := change(tx); err != nil {
		return nil, err
	}
	if err := commit(tx); err != nil {
		return nil, err
	}
	if to != "" {
		u.Role = to
	}
	return u, nil
}

// ChangeRole gives the org's user id the role, keeping the org with an admin.
func (s *Store) ChangeRole(ctx context.Context, orgID, id string, role winnow.Role) (*winnow.User, error) {
	if !role.Valid() {
		return nil, winnow.Errorf(winnow.EINVALID, "Unknown role %q: use admin, member or limited.", role)
	}
	return s.memberChange(ctx, orgID, id, role, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = $1 WHERE org_id = $2 AND id = $3`, string(role), orgID, id); err != nil {
			return fmt.Errorf("change role: %w", err)
		}
		return nil
	})
}

// RemoveUser deletes the org's user id, keeping the org with an admin. Their sessions
// and job team places go with them (ON DELETE CASCADE); reviews keep the reviewer's ID.
func (s *Store) RemoveUser(ctx context.Context, orgID, id string) error {
	_, err := s.memberChange(ctx, orgID, id, "", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE org_id = $1 AND user_id = $2`, orgID, id); err != nil {
			return fmt.Errorf("remove member: end sessions: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE org_id = $1 AND id = $2`, orgID, id); err != nil {
			return fmt.Errorf("remove member: %w", err)
		}
		return nil
	})
	return err
}

// RenameUser sets the user's name.
func (s *Store) RenameUser(ctx context.Context, orgID, id, name string) error {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return winnow.Errorf(winnow.EINVALID, "Your name is required.")
	case len([]rune(name)) > winnow.MaxUserNameLength:
		return winnow.Errorf(winnow.EINVALID, "Your name must be at most %d characters.", winnow.MaxUserNameLength)
	}
	res, err := s.db.db.ExecContext(ctx, `UPDATE users SET name = $1 WHERE org_id = $2 AND id = $3`, name, orgID, id)
	return oneRow(res, err, "rename user")
}

// SetPassword stores the user's new password hash and ends their other sessions, in one
// transaction: a password changed because it leaked also signs out whoever used it.
func (s *Store) SetPassword(ctx context.Context, orgID, id, hash, keep string) error {
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE org_id = $2 AND id = $3`, hash, orgID, id)
	if err := oneRow(res, err, "set password"); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE org_id = $1 AND user_id = $2 AND token_hash <> $3`, orgID, id, keep); err != nil {
		return fmt.Errorf("set password: end other sessions: %w", err)
	}
	return commit(tx)
}

// RevokeInvite ends a pending invitation by making it expire now: its link stops
// working, and the row and its email stay for the record.
func (s *Store) RevokeInvite(ctx context.Context, orgID, id string) error {
	now := s.now()
	res, err := s.db.db.ExecContext(ctx, `UPDATE invites SET expires_at = $1
		WHERE org_id = $2 AND id = $3 AND accepted_at IS NULL AND expires_at > $1`, now, orgID, id)
	if n, _ := rowsAffected(res, err); err == nil && n == 0 {
		return winnow.Errorf(winnow.ENOTFOUND, "This invitation is no longer pending: it was accepted, revoked or has expired.")
	}
	if err != nil {
		return fmt.Errorf("revoke invite: %w", err)
	}
	return nil
}

// oneRow turns an update that matched no row into ENOTFOUND.
func oneRow(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	} else if n == 0 {
		return winnow.Errorf(winnow.ENOTFOUND, msgUserNotFound)
	}
	return nil
}

func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
