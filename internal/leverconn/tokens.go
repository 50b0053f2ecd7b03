package leverconn

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"winnow"
	"winnow/internal/lever"
)

// Refresh leases: how long one process may hold the right to refresh a connection's
// tokens, and how often a process that finds another holding it looks again.
const (
	refreshLease    = 30 * time.Second
	refreshLookback = 100 * time.Millisecond
)

// sharedTokens is an OAuth token source for one org that every process sharing the
// database can use at once. Lever rotates refresh tokens and treats the reuse of an old
// one as theft (it revokes the grant), so exactly one refresh may run per connection:
// a process refreshes only while it holds the connection's refresh lease, stores the
// rotated tokens before releasing it, and the others read what it stored. Lease times
// are wall-clock times, since they coordinate processes.
type sharedTokens struct {
	c     *Connector
	orgID string

	mu  sync.Mutex // one refresh at a time in this process
	tok *oauth2.Token
}

// Token implements oauth2.TokenSource.
func (t *sharedTokens) Token() (*oauth2.Token, error) { return t.TokenContext(context.Background()) }

// TokenContext returns a usable access token, refreshing it first when it is due.
func (t *sharedTokens) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fresh(t.tok) {
		return t.tok, nil
	}
	c := t.c
	for {
		conn, claimed, err := c.store.ClaimLeverRefresh(ctx, t.orgID, c.owner, time.Now().Add(refreshLease))
		if err != nil {
			return nil, fmt.Errorf("claim lever refresh: %w", err)
		}
		if conn.State != winnow.LeverConnected {
			if claimed {
				t.release(ctx)
			}
			return nil, &lever.APIError{Kind: lever.ErrAuthLost, Message: "the Lever connection is " + string(conn.State)}
		}
		tok, err := t.open(conn)
		if err != nil {
			if claimed {
				t.release(ctx)
			}
			return nil, err
		}
		if t.fresh(tok) { // another process refreshed meanwhile, or the stored one is still good
			if claimed {
				t.release(ctx)
			}
			t.tok = tok
			return tok, nil
		}
		if claimed {
			return t.refresh(ctx, tok.RefreshToken)
		}
		select { // someone else is refreshing: read what they store
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(refreshLookback):
		}
	}
}

// refresh trades refreshToken for new tokens while holding the lease, and stores them.
func (t *sharedTokens) refresh(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
	c := t.c
	next, err := c.oauth.Refresh(ctx, refreshToken)
	if err != nil {
		t.release(ctx)
		if errors.Is(err, lever.ErrAuthLost) {
			if merr := c.NeedsReconnecting(ctx, t.orgID, "Lever refused to renew access: "+reason(err)); merr != nil {
				c.logger.ErrorContext(ctx, "mark lever connection", "org_id", t.orgID, "error", merr)
			}
		}
		return nil, err
	}
	access, err := c.sealer.Seal(next.AccessToken)
	if err != nil {
		t.release(ctx)
		return nil, fmt.Errorf("seal lever token: %w", err)
	}
	refresh, err := c.sealer.Seal(next.RefreshToken)
	if err != nil {
		t.release(ctx)
		return nil, fmt.Errorf("seal lever token: %w", err)
	}
	// The old refresh token is spent: the new one must be stored, or the next refresh
	// anywhere reuses a spent token and Lever revokes the grant. Storing releases the lease.
	if err := c.store.StoreLeverTokens(context.WithoutCancel(ctx), t.orgID, c.owner, access, refresh, next.Expiry); err != nil {
		c.logger.ErrorContext(ctx, "store refreshed lever tokens", "org_id", t.orgID, "error", err)
		return nil, fmt.Errorf("store refreshed lever tokens: %w", err)
	}
	t.tok = next
	return next, nil
}

func (t *sharedTokens) release(ctx context.Context) {
	if err := t.c.store.ReleaseLeverRefresh(context.WithoutCancel(ctx), t.orgID, t.c.owner); err != nil {
		t.c.logger.WarnContext(ctx, "release lever refresh lease", "org_id", t.orgID, "error", err)
	}
}

// open reads the connection's sealed tokens.
func (t *sharedTokens) open(conn *winnow.LeverConnection) (*oauth2.Token, error) {
	tok := &oauth2.Token{TokenType: "Bearer"}
	var err error
	if conn.AccessToken != "" {
		if tok.AccessToken, err = t.c.sealer.Open(conn.AccessToken); err != nil {
			return nil, fmt.Errorf("open lever token: %w", err)
		}
	}
	if conn.RefreshToken != "" {
		if tok.RefreshToken, err = t.c.sealer.Open(conn.RefreshToken); err != nil {
			return nil, fmt.Errorf("open lever token: %w", err)
		}
	}
	if conn.TokenExpiry != nil {
		tok.Expiry = *conn.TokenExpiry
	}
	return tok, nil
}

// fresh reports whether tok may be used now: not within the refresh leeway of expiry.
func (t *sharedTokens) fresh(tok *oauth2.Token) bool {
	if tok == nil || tok.AccessToken == "" {
		return false
	}
	return tok.Expiry.IsZero() || time.Now().Add(t.c.oauth.Leeway()).Before(tok.Expiry)
}

// reason is Lever's own words for a refusal, when it gave any.
func reason(err error) string {
	var ae *lever.APIError
	if errors.As(err, &ae) && ae.Message != "" {
		return ae.Message
	}
	return "access was revoked"
}
