package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"winnow"
)

const apiTokenColumns = `id, org_id, name, token_hash, created_by, created_at, last_used_at, revoked_at`

// msgAPITokenNotFound is the person-readable answer for a token the org does not have.
const msgAPITokenNotFound = "API token not found."

// CreateAPIToken stores a new token for t.OrgID and fills in ID and CreatedAt. An
// unknown org gives ENOTFOUND.
func (s *Store) CreateAPIToken(ctx context.Context, t *winnow.APIToken) error {
	if err := t.Validate(); err != nil {
		return err
	}
	id, now := newID(), s.now()
	_, err := s.db.db.ExecContext(ctx, `INSERT INTO api_tokens (`+apiTokenColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL)`, id, t.OrgID, t.Name, t.TokenHash, t.CreatedBy, now)
	switch {
	case isForeignKey(err):
		return winnow.Errorf(winnow.ENOTFOUND, msgOrgNotFound)
	case isUnique(err):
		return winnow.Errorf(winnow.ECONFLICT, "This API token already exists.")
	case err != nil:
		return fmt.Errorf("insert api token: %w", err)
	}
	t.ID, t.CreatedAt, t.LastUsedAt, t.RevokedAt = id, now, nil, nil
	return nil
}

// FindAPITokenByHash returns the unrevoked token with this hash, or ENOTFOUND. It
// crosses orgs because the token is the caller's only credential; the token says
// which org it acts for.
func (s *Store) FindAPITokenByHash(ctx context.Context, hash string) (*winnow.APIToken, error) {
	row := s.db.db.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens
		WHERE token_hash = $1 AND revoked_at IS NULL`, hash)
	t, err := scanAPIToken(row)
	if err != nil {
		return nil, lookupErr(err, msgAPITokenNotFound, "find api token")
	}
	return t, nil
}

// ListAPITokens returns the org's tokens, newest first, revoked ones included.
func (s *Store) ListAPITokens(ctx context.Context, orgID string) ([]*winnow.APIToken, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens
		WHERE org_id = $1 ORDER BY created_at DESC, id DESC`, orgID)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	defer rows.Close()
	var list []*winnow.APIToken
	for rows.Next() {
		t, err := scanAPIToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list api tokens: %w", err)
		}
		list = append(list, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return list, nil
}

// RevokeAPIToken revokes the org's token at now; revoking twice keeps the first time
// and is not an error. A token the org does not have gives ENOTFOUND.
func (s *Store) RevokeAPIToken(ctx context.Context, orgID, id string, now time.Time) error {
	res, err := s.db.db.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1)
		WHERE org_id = $2 AND id = $3`, dbTime(now), orgID, id)
	return tokenRowChanged(res, err, msgAPITokenNotFound, "revoke api token")
}

// TouchAPIToken records that the org's token was used at now. A token the org does
// not have gives ENOTFOUND.
func (s *Store) TouchAPIToken(ctx context.Context, orgID, id string, now time.Time) error {
	res, err := s.db.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1
		WHERE org_id = $2 AND id = $3`, dbTime(now), orgID, id)
	return tokenRowChanged(res, err, msgAPITokenNotFound, "touch api token")
}

// tokenRowChanged turns the result of an UPDATE of one row by key into nil, ENOTFOUND with msg
// when no row matched, or the wrapped error.
func tokenRowChanged(res sql.Result, err error, msg, op string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n == 0 {
		return winnow.Errorf(winnow.ENOTFOUND, "%s", msg)
	}
	return nil
}

func scanAPIToken(r scanner) (*winnow.APIToken, error) {
	var t winnow.APIToken
	var used, revoked sql.NullTime
	if err := r.Scan(&t.ID, &t.OrgID, &t.Name, &t.TokenHash, &t.CreatedBy, &t.CreatedAt, &used, &revoked); err != nil {
		return nil, err
	}
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = t.CreatedAt.UTC(), timePtr(used), timePtr(revoked)
	return &t, nil
}
