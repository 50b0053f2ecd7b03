package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"winnow"
)

// CreateOrg validates and stores a new org, filling in its ID and CreatedAt. A name
// already in use gives an ECONFLICT error.
func (s *Store) CreateOrg(ctx context.Context, o *winnow.Org) error {
	if err := o.Validate(); err != nil {
		return err
	}
	id, now := newID(), s.now()
	_, err := s.db.db.ExecContext(ctx,
		`INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)`, id, o.Name, now)
	if isUnique(err) {
		return winnow.Errorf(winnow.ECONFLICT, "An organization named %q already exists.", o.Name)
	}
	if err != nil {
		return fmt.Errorf("insert org: %w", err)
	}
	o.ID, o.CreatedAt = id, now
	return nil
}

// FindOrgByID returns the org or an ENOTFOUND error.
func (s *Store) FindOrgByID(ctx context.Context, id string) (*winnow.Org, error) {
	return s.findOrg(ctx, `id = $1`, id)
}

// FindOrgByName returns the org with this name, ignoring case and surrounding spaces,
// or an ENOTFOUND error, so that "acme" finds "Acme" rather than making a second org.
// It compares ASCII case the same way on both engines (SQLite's lower() folds only ASCII).
func (s *Store) FindOrgByName(ctx context.Context, name string) (*winnow.Org, error) {
	return s.findOrg(ctx, `lower(name) = $1 ORDER BY created_at LIMIT 1`, asciiLower(strings.TrimSpace(name)))
}

// SetOrgReplyTo stores the address candidates may write to; empty removes it. The
// address is checked with winnow.NormalizeReplyTo; an unknown org is ENOTFOUND.
func (s *Store) SetOrgReplyTo(ctx context.Context, orgID, replyTo string) error {
	addr, err := winnow.NormalizeReplyTo(replyTo)
	if err != nil {
		return err
	}
	res, err := s.db.db.ExecContext(ctx, `UPDATE orgs SET reply_to = $1 WHERE id = $2`, addr, orgID)
	if err != nil {
		return fmt.Errorf("set org reply-to: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("set org reply-to: %w", err)
	} else if n == 0 {
		return winnow.Errorf(winnow.ENOTFOUND, msgOrgNotFound)
	}
	return nil
}

// asciiLower lower-cases the ASCII letters of s only, as SQLite's lower() does.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

func (s *Store) findOrg(ctx context.Context, where string, arg any) (*winnow.Org, error) {
	var o winnow.Org
	err := s.db.db.QueryRowContext(ctx, `SELECT id, name, reply_to, created_at FROM orgs WHERE `+where, arg).
		Scan(&o.ID, &o.Name, &o.ReplyTo, &o.CreatedAt)
	if err != nil {
		return nil, lookupErr(err, msgOrgNotFound, "find org")
	}
	o.CreatedAt = o.CreatedAt.UTC()
	return &o, nil
}
