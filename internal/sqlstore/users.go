package sqlstore

import (
	"context"
	"fmt"

	"winnow"
)

const userColumns = `id, org_id, email, name, role, password_hash, created_at`

// CreateUser validates and stores a new user, filling in ID and CreatedAt. An email
// already in use anywhere in the installation gives an ECONFLICT error; an unknown org
// gives ENOTFOUND.
func (s *Store) CreateUser(ctx context.Context, u *winnow.User) error {
	return s.insertUser(ctx, s.db.db, u)
}

// insertUser is CreateUser on q, so that AcceptInvite can run it in its transaction.
func (s *Store) insertUser(ctx context.Context, q querier, u *winnow.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	id, now := newID(), s.now()
	_, err := q.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		id, u.OrgID, u.Email, u.Name, string(u.Role), u.PasswordHash, now)
	switch {
	case isUnique(err):
		return winnow.Errorf(winnow.ECONFLICT, "A user with this email already exists.")
	case isForeignKey(err):
		return winnow.Errorf(winnow.ENOTFOUND, msgOrgNotFound)
	case err != nil:
		return fmt.Errorf("insert user: %w", err)
	}
	u.ID, u.CreatedAt = id, now
	return nil
}

// FindUserByID returns the org's user or ENOTFOUND.
func (s *Store) FindUserByID(ctx context.Context, orgID, id string) (*winnow.User, error) {
	row := s.db.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE org_id = $1 AND id = $2`, orgID, id)
	u, err := scanUser(row)
	if err != nil {
		return nil, lookupErr(err, msgUserNotFound, "find user")
	}
	return u, nil
}

// FindUserByEmail returns the user with this address in any org, or ENOTFOUND. It is
// the one cross-org lookup, used only to sign in. The address is normalised first, as
// CreateUser stored it.
func (s *Store) FindUserByEmail(ctx context.Context, email string) (*winnow.User, error) {
	email, err := winnow.NormalizeEmail(email)
	if err != nil {
		return nil, winnow.Errorf(winnow.ENOTFOUND, msgUserNotFound)
	}
	row := s.db.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, email)
	u, err := scanUser(row)
	if err != nil {
		return nil, lookupErr(err, msgUserNotFound, "find user by email")
	}
	return u, nil
}

// ListUsers returns the org's users ordered by email.
func (s *Store) ListUsers(ctx context.Context, orgID string) ([]*winnow.User, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE org_id = $1 ORDER BY email`, orgID)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var users []*winnow.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanUser(r scanner) (*winnow.User, error) {
	var u winnow.User
	var role string
	if err := r.Scan(&u.ID, &u.OrgID, &u.Email, &u.Name, &role, &u.PasswordHash, &u.CreatedAt); err != nil {
		return nil, err
	}
	u.Role, u.CreatedAt = winnow.Role(role), u.CreatedAt.UTC()
	return &u, nil
}
