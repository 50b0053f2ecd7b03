package sqlstore

import (
	"context"
	"fmt"
	"time"

	"winnow"
)

// CreateSession stores a new session. CreatedAt is filled in from the clock when
// zero. A session must name its user, org and token hash and expire after it starts;
// a user who is not in the org gives ENOTFOUND, a token hash in use ECONFLICT.
func (s *Store) CreateSession(ctx context.Context, sess *winnow.Session) error {
	if sess.TokenHash == "" || sess.UserID == "" || sess.OrgID == "" {
		return winnow.Errorf(winnow.EINVALID, "A session needs a user, an organization and a token.")
	}
	created := dbTime(sess.CreatedAt)
	if sess.CreatedAt.IsZero() {
		created = s.now()
	}
	expires := dbTime(sess.ExpiresAt)
	if !expires.After(created) {
		return winnow.Errorf(winnow.EINVALID, "A session must expire after it starts.")
	}
	_, err := s.db.db.ExecContext(ctx,
		`INSERT INTO sessions (token_hash, org_id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		sess.TokenHash, sess.OrgID, sess.UserID, created, expires)
	switch {
	case isUnique(err):
		return winnow.Errorf(winnow.ECONFLICT, "This session already exists.")
	case isForeignKey(err):
		return winnow.Errorf(winnow.ENOTFOUND, msgUserNotFound)
	case err != nil:
		return fmt.Errorf("insert session: %w", err)
	}
	sess.CreatedAt, sess.ExpiresAt = created, expires
	return nil
}

// FindSession returns the session with this token hash if it has not expired at now,
// or ENOTFOUND.
func (s *Store) FindSession(ctx context.Context, tokenHash string, now time.Time) (*winnow.Session, error) {
	var sess winnow.Session
	err := s.db.db.QueryRowContext(ctx,
		`SELECT token_hash, org_id, user_id, created_at, expires_at FROM sessions
		 WHERE token_hash = $1 AND expires_at > $2`, tokenHash, now.UTC()).
		Scan(&sess.TokenHash, &sess.OrgID, &sess.UserID, &sess.CreatedAt, &sess.ExpiresAt)
	if err != nil {
		return nil, lookupErr(err, msgSessionNotFound, "find session")
	}
	sess.CreatedAt, sess.ExpiresAt = sess.CreatedAt.UTC(), sess.ExpiresAt.UTC()
	return &sess, nil
}

// DeleteSession removes the session; removing one that does not exist is not an error.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := s.db.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
