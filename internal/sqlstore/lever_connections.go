package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"winnow"
)

const leverConnectionColumns = `org_id, org_key, mode, state, state_reason, account_id, connected_by, connected_at,
	scopes, access_token, refresh_token, token_expiry, api_key, webhooks, signature_token, qualified_stage_id,
	qualified_stage_name, tag_prefix, perform_as, perform_as_name, perform_as_warning, last_webhook_at,
	last_verified_at, created_at, updated_at`

const msgLeverNotFound = "This organization has not connected Lever."

// newOrgKey returns the random name of an org in its webhook URL.
func newOrgKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// EnsureLeverConnection returns the org's Lever connection, creating an empty one (never
// connected, with a fresh org key) the first time, so that the webhook URL can be shown
// before anything is connected. An unknown org gives ENOTFOUND.
func (s *Store) EnsureLeverConnection(ctx context.Context, orgID string) (*winnow.LeverConnection, error) {
	now := s.now()
	_, err := s.db.db.ExecContext(ctx, `INSERT INTO lever_connections (org_id, org_key, created_at, updated_at)
		VALUES ($1, $2, $3, $3) ON CONFLICT (org_id) DO NOTHING`, orgID, newOrgKey(), now)
	if isForeignKey(err) {
		return nil, winnow.Errorf(winnow.ENOTFOUND, msgOrgNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("create lever connection: %w", err)
	}
	return s.FindLeverConnection(ctx, orgID)
}

// FindLeverConnection returns the org's Lever connection, whatever its state, or
// ENOTFOUND when the org never had one.
func (s *Store) FindLeverConnection(ctx context.Context, orgID string) (*winnow.LeverConnection, error) {
	c, err := scanLeverConnection(s.db.db.QueryRowContext(ctx, `SELECT `+leverConnectionColumns+`
		FROM lever_connections WHERE org_id = $1`, orgID))
	if err != nil {
		return nil, lookupErr(err, msgLeverNotFound, "find lever connection")
	}
	return c, nil
}

// FindLeverConnectionByKey returns the connection whose webhook URL carries orgKey, or
// ENOTFOUND. It crosses orgs: the key is how a webhook names its org.
func (s *Store) FindLeverConnectionByKey(ctx context.Context, orgKey string) (*winnow.LeverConnection, error) {
	c, err := scanLeverConnection(s.db.db.QueryRowContext(ctx, `SELECT `+leverConnectionColumns+`
		FROM lever_connections WHERE org_key = $1`, orgKey))
	if err != nil {
		return nil, lookupErr(err, msgLeverNotFound, "find lever connection")
	}
	return c, nil
}

// ListActiveLeverConnections returns every connection that is connected or waiting to be
// reconnected, across orgs, for the webhook URL that names no org.
func (s *Store) ListActiveLeverConnections(ctx context.Context) ([]*winnow.LeverConnection, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT `+leverConnectionColumns+` FROM lever_connections
		WHERE state IN ($1, $2) ORDER BY org_id`, string(winnow.LeverConnected), string(winnow.LeverNeedsReconnecting))
	if err != nil {
		return nil, fmt.Errorf("list lever connections: %w", err)
	}
	defer rows.Close()
	var list []*winnow.LeverConnection
	for rows.Next() {
		c, err := scanLeverConnection(rows)
		if err != nil {
			return nil, fmt.Errorf("list lever connections: %w", err)
		}
		list = append(list, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list lever connections: %w", err)
	}
	return list, nil
}

// SaveLeverConnection stores c over the org's connection: mode, state, credentials,
// webhooks and settings. The org key, the refresh lease and the times Lever last called
// are not changed by it. The connection must exist (EnsureLeverConnection).
func (s *Store) SaveLeverConnection(ctx context.Context, c *winnow.LeverConnection) error {
	if err := c.ValidateSettings(); err != nil {
		return err
	}
	hooks, err := json.Marshal(nonNilHooks(c.Webhooks))
	if err != nil {
		return fmt.Errorf("encode lever webhooks: %w", err)
	}
	c.UpdatedAt = s.now()
	res, err := s.db.db.ExecContext(ctx, `UPDATE lever_connections SET mode = $1, state = $2, state_reason = $3,
		account_id = $4, connected_by = $5, connected_at = $6, scopes = $7, access_token = $8, refresh_token = $9,
		token_expiry = $10, api_key = $11, webhooks = $12, signature_token = $13, qualified_stage_id = $14,
		qualified_stage_name = $15, tag_prefix = $16, perform_as = $17, perform_as_name = $18,
		perform_as_warning = $19, updated_at = $20 WHERE org_id = $21`,
		string(c.Mode), string(c.State), c.StateReason, c.AccountID, c.ConnectedBy, nullTime(dbTimePtr(c.ConnectedAt)),
		strings.Join(c.Scopes, " "), c.AccessToken, c.RefreshToken, nullTime(dbTimePtr(c.TokenExpiry)), c.APIKey,
		string(hooks), c.SignatureToken, c.QualifiedStageID, c.QualifiedStageName, c.TagPrefix, c.PerformAs,
		c.PerformAsName, c.PerformAsWarning, c.UpdatedAt, c.OrgID)
	if err != nil {
		return fmt.Errorf("save lever connection: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return winnow.Errorf(winnow.ENOTFOUND, msgLeverNotFound)
	}
	return nil
}

// SaveLeverSettings stores what admins and the connect flow set beside the credentials:
// the qualified stage, tag prefix, perform-as user and its warning, the pasted signature
// token and the webhooks Winnow registered. It never writes credentials or the state, so
// it cannot undo a token refresh that another process stored meanwhile. The connection
// must exist (EnsureLeverConnection).
func (s *Store) SaveLeverSettings(ctx context.Context, c *winnow.LeverConnection) error {
	if err := c.ValidateSettings(); err != nil {
		return err
	}
	hooks, err := json.Marshal(nonNilHooks(c.Webhooks))
	if err != nil {
		return fmt.Errorf("encode lever webhooks: %w", err)
	}
	c.UpdatedAt = s.now()
	res, err := s.db.db.ExecContext(ctx, `UPDATE lever_connections SET qualified_stage_id = $1, qualified_stage_name = $2,
		tag_prefix = $3, perform_as = $4, perform_as_name = $5, perform_as_warning = $6, signature_token = $7,
		webhooks = $8, updated_at = $9 WHERE org_id = $10`,
		c.QualifiedStageID, c.QualifiedStageName, c.TagPrefix, c.PerformAs, c.PerformAsName, c.PerformAsWarning,
		c.SignatureToken, string(hooks), c.UpdatedAt, c.OrgID)
	if err != nil {
		return fmt.Errorf("save lever settings: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return winnow.Errorf(winnow.ENOTFOUND, msgLeverNotFound)
	}
	return nil
}

// TouchLeverConnection records that a verified webhook (verified true: Lever's "Verify
// connection" test) arrived at.
func (s *Store) TouchLeverConnection(ctx context.Context, orgID string, verified bool, at time.Time) error {
	col := "last_webhook_at"
	if verified {
		col = "last_verified_at"
	}
	_, err := s.db.db.ExecContext(ctx, `UPDATE lever_connections SET `+col+` = $1 WHERE org_id = $2`, dbTime(at), orgID)
	if err != nil {
		return fmt.Errorf("touch lever connection: %w", err)
	}
	return nil
}

// ClaimLeverRefresh takes the right to refresh the org's OAuth tokens until until, for
// owner, when nobody else holds it (or their hold ran out), and returns the connection
// as stored with whether the right was taken. The caller refreshes outside any
// transaction and stores the rotated tokens with StoreLeverTokens, or gives the right up
// with ReleaseLeverRefresh.
func (s *Store) ClaimLeverRefresh(ctx context.Context, orgID, owner string, until time.Time) (*winnow.LeverConnection, bool, error) {
	now := dbTime(time.Now())
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return nil, false, err
	}
	defer rollback(tx)
	var holder string
	var held sql.NullTime
	err = tx.QueryRowContext(ctx, `SELECT refresh_owner, refresh_until FROM lever_connections WHERE org_id = $1`+s.db.forUpdate(), orgID).
		Scan(&holder, &held)
	if err != nil {
		return nil, false, lookupErr(err, msgLeverNotFound, "lock lever connection")
	}
	claimed := holder == owner || !held.Valid || !held.Time.After(now)
	if claimed {
		if _, err := tx.ExecContext(ctx, `UPDATE lever_connections SET refresh_owner = $1, refresh_until = $2 WHERE org_id = $3`,
			owner, dbTime(until), orgID); err != nil {
			return nil, false, fmt.Errorf("claim lever refresh: %w", err)
		}
	}
	c, err := scanLeverConnection(tx.QueryRowContext(ctx, `SELECT `+leverConnectionColumns+` FROM lever_connections WHERE org_id = $1`, orgID))
	if err != nil {
		return nil, false, fmt.Errorf("read lever connection: %w", err)
	}
	if err := commit(tx); err != nil {
		return nil, false, err
	}
	return c, claimed, nil
}

// StoreLeverTokens stores refreshed tokens (sealed) and gives up owner's refresh right.
// The tokens are stored even if the right ran out meanwhile: the refresh token they
// replace is spent, so these are the only ones that still work.
func (s *Store) StoreLeverTokens(ctx context.Context, orgID, owner, access, refresh string, expiry time.Time) error {
	_, err := s.db.db.ExecContext(ctx, `UPDATE lever_connections SET access_token = $1, refresh_token = $2, token_expiry = $3,
		refresh_owner = CASE WHEN refresh_owner = $4 THEN '' ELSE refresh_owner END,
		refresh_until = CASE WHEN refresh_owner = $4 THEN NULL ELSE refresh_until END
		WHERE org_id = $5`, access, refresh, dbTime(expiry), owner, orgID)
	if err != nil {
		return fmt.Errorf("store lever tokens: %w", err)
	}
	return nil
}

// ReleaseLeverRefresh gives up owner's right to refresh the org's tokens.
func (s *Store) ReleaseLeverRefresh(ctx context.Context, orgID, owner string) error {
	_, err := s.db.db.ExecContext(ctx, `UPDATE lever_connections SET refresh_owner = '', refresh_until = NULL
		WHERE org_id = $1 AND refresh_owner = $2`, orgID, owner)
	if err != nil {
		return fmt.Errorf("release lever refresh: %w", err)
	}
	return nil
}

// MarkLeverNeedsReconnecting records that Lever refused the org's credentials, once: it
// reports whether the state changed (from connected), and counts the incident.
func (s *Store) MarkLeverNeedsReconnecting(ctx context.Context, orgID, reason string) (bool, error) {
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return false, err
	}
	defer rollback(tx)
	c, err := scanLeverConnection(tx.QueryRowContext(ctx, `SELECT `+leverConnectionColumns+` FROM lever_connections
		WHERE org_id = $1`+s.db.forUpdate(), orgID))
	if err != nil {
		return false, lookupErr(err, msgLeverNotFound, "lock lever connection")
	}
	if !c.NeedsReconnecting(reason, s.now()) {
		return false, nil
	}
	var incident int
	err = tx.QueryRowContext(ctx, `UPDATE lever_connections SET state = $1, state_reason = $2, incidents = incidents + 1,
		updated_at = $3 WHERE org_id = $4 RETURNING incidents`, string(c.State), c.StateReason, dbTime(c.UpdatedAt), orgID).
		Scan(&incident)
	if err != nil {
		return false, fmt.Errorf("mark lever connection: %w", err)
	}
	// The admins are told in the same transaction: the emails and their jobs commit with
	// the state, or neither does.
	if err := s.plan("lever", func(fx Effects) error { return fx.LeverNeedsReconnecting(ctx, s.view(tx), c, incident) }); err != nil {
		return false, err
	}
	return true, commit(tx)
}

// ListAdmins returns the org's admins, oldest first, for the effects that tell them
// about the org (Lever needs reconnecting).
func (t *Tx) ListAdmins(ctx context.Context, orgID string) ([]*winnow.User, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE org_id = $1 AND role = $2
		ORDER BY created_at, id`, orgID, string(winnow.RoleAdmin))
	if err != nil {
		return nil, fmt.Errorf("list admins: %w", err)
	}
	defer rows.Close()
	var admins []*winnow.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list admins: %w", err)
		}
		admins = append(admins, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list admins: %w", err)
	}
	return admins, nil
}

// CreateLeverOAuthState stores a state for the callback to take, and removes expired ones.
func (s *Store) CreateLeverOAuthState(ctx context.Context, st winnow.LeverOAuthState) error {
	if _, err := s.db.db.ExecContext(ctx, `DELETE FROM lever_oauth_states WHERE expires_at <= $1`, s.now()); err != nil {
		return fmt.Errorf("expire lever oauth states: %w", err)
	}
	_, err := s.db.db.ExecContext(ctx, `INSERT INTO lever_oauth_states (state_hash, org_id, user_id, session_hash, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, st.StateHash, st.OrgID, st.UserID, st.SessionHash, dbTime(st.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create lever oauth state: %w", err)
	}
	return nil
}

// TakeLeverOAuthState removes the state with this hash and returns it, once: a second
// take, or a take after it expired, gives ENOTFOUND.
func (s *Store) TakeLeverOAuthState(ctx context.Context, stateHash string) (*winnow.LeverOAuthState, error) {
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return nil, err
	}
	defer rollback(tx)
	var st winnow.LeverOAuthState
	err = tx.QueryRowContext(ctx, `SELECT state_hash, org_id, user_id, session_hash, expires_at FROM lever_oauth_states
		WHERE state_hash = $1`+s.db.forUpdate(), stateHash).Scan(&st.StateHash, &st.OrgID, &st.UserID, &st.SessionHash, &st.ExpiresAt)
	if err != nil {
		return nil, lookupErr(err, "This Lever authorization is unknown or was already used.", "find lever oauth state")
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM lever_oauth_states WHERE state_hash = $1`, stateHash); err != nil {
		return nil, fmt.Errorf("use lever oauth state: %w", err)
	}
	if err := commit(tx); err != nil {
		return nil, err
	}
	if !st.ExpiresAt.After(s.now()) {
		return nil, winnow.Errorf(winnow.ENOTFOUND, "This Lever authorization expired. Please connect again.")
	}
	st.ExpiresAt = st.ExpiresAt.UTC()
	return &st, nil
}

func nonNilHooks(h []winnow.LeverWebhook) []winnow.LeverWebhook {
	if h == nil {
		return []winnow.LeverWebhook{}
	}
	return h
}

func scanLeverConnection(r scanner) (*winnow.LeverConnection, error) {
	var c winnow.LeverConnection
	var mode, state, scopes string
	var hooks []byte
	var connectedAt, expiry, lastWebhook, lastVerified sql.NullTime
	if err := r.Scan(&c.OrgID, &c.OrgKey, &mode, &state, &c.StateReason, &c.AccountID, &c.ConnectedBy, &connectedAt,
		&scopes, &c.AccessToken, &c.RefreshToken, &expiry, &c.APIKey, &hooks, &c.SignatureToken, &c.QualifiedStageID,
		&c.QualifiedStageName, &c.TagPrefix, &c.PerformAs, &c.PerformAsName, &c.PerformAsWarning, &lastWebhook,
		&lastVerified, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return nil, err
	}
	c.Mode, c.State = winnow.LeverMode(mode), winnow.LeverState(state)
	c.Scopes = strings.Fields(scopes)
	if len(hooks) > 0 {
		if err := json.Unmarshal(hooks, &c.Webhooks); err != nil {
			return nil, fmt.Errorf("decode lever webhooks of org %s: %w", c.OrgID, err)
		}
	}
	if len(c.Webhooks) == 0 {
		c.Webhooks = nil
	}
	c.ConnectedAt, c.TokenExpiry = timePtr(connectedAt), timePtr(expiry)
	c.LastWebhookAt, c.LastVerifiedAt = timePtr(lastWebhook), timePtr(lastVerified)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}
