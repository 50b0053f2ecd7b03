package leverconn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"winnow"
	"winnow/internal/keyring"
	"winnow/internal/lever"
)

var _ winnow.LeverConnectionService = (*Connector)(nil)

// leverCallTimeout bounds the calls to Lever that a page or API request waits for, so
// that a Lever that does not answer gives a message rather than a hung page.
const leverCallTimeout = 15 * time.Second

// Messages of the OAuth callback, which the callback page shows as they are.
const (
	msgNoState      = "Lever's answer carried no state, so Winnow cannot tell that it belongs to you. Nothing was changed; please connect again."
	msgForeignState = "This Lever authorization was started by someone else or in another browser session, so Winnow refused it. Nothing was changed; connect again from this page."
	msgDenied       = "You declined access in Lever, so Lever is not connected. Nothing was changed."
	msgNoCode       = "Lever's answer carried no authorization code. Nothing was changed; please connect again."
	msgBadCode      = "Lever did not accept the authorization (the code may have expired: it lasts a minute). Nothing was changed; please connect again."
	msgNoOAuthApp   = "This server has no Lever OAuth app (WINNOW_LEVER_CLIENT_ID and WINNOW_LEVER_CLIENT_SECRET are not set). Connect with an API key instead."
)

// hashState is how an OAuth state is stored: Lever echoes the state in the callback's
// URL, which may end up in logs and browser history, while the database keeps only
// this digest.
func hashState(state string) string {
	sum := sha256.Sum256([]byte("lever-oauth-state\x00" + state))
	return hex.EncodeToString(sum[:])
}

// hashSession is the value an OAuth state is bound to: a digest of the admin's session
// (itself the hash of the cookie's token), so the state table holds nothing that finds a
// session.
func hashSession(session string) string {
	sum := sha256.Sum256([]byte("lever-oauth-session\x00" + session))
	return hex.EncodeToString(sum[:])
}

// redirectURL is the OAuth callback: under the server's public URL once it is known.
func (c *Connector) redirectURL() string {
	if c.baseURL != nil {
		return strings.TrimRight(c.baseURL(), "/") + winnow.LeverOAuthCallbackPath
	}
	return c.cfg.RedirectURL
}

// webhookURL is the org's own webhook URL, or "" when the server's URL is unknown.
func (c *Connector) webhookURL(orgKey string) string {
	if c.baseURL == nil {
		return ""
	}
	return winnow.LeverWebhookURL(c.baseURL(), orgKey)
}

// StartLeverOAuth stores a new single-use state for the admin's session and returns
// Lever's authorize URL carrying it.
func (c *Connector) StartLeverOAuth(ctx context.Context, admin winnow.LeverAdmin) (string, error) {
	if !c.OAuthConfigured() {
		return "", winnow.Errorf(winnow.ECONFLICT, msgNoOAuthApp)
	}
	if admin.OrgID == "" || admin.UserID == "" || admin.Session == "" {
		return "", winnow.Errorf(winnow.EFORBIDDEN, "Connecting Lever with OAuth needs an admin signed in with a browser.")
	}
	if _, err := c.store.EnsureLeverConnection(ctx, admin.OrgID); err != nil {
		return "", err
	}
	state := keyring.Token()
	st := winnow.LeverOAuthState{StateHash: hashState(state), OrgID: admin.OrgID, UserID: admin.UserID,
		SessionHash: hashSession(admin.Session), ExpiresAt: c.clock.Now().Add(winnow.LeverOAuthStateTTL)}
	if err := c.store.CreateLeverOAuthState(ctx, st); err != nil {
		return "", err
	}
	return c.oauth.AuthCodeURL(state, oauth2.SetAuthURLParam("redirect_uri", c.redirectURL())), nil
}

// FinishLeverOAuth checks Lever's answer against the state it started with, trades the
// code for tokens and connects the org; then it registers the webhooks and finds the
// admin's Lever user. Any refusal before the tokens arrive stores nothing (the state is
// used up either way).
func (c *Connector) FinishLeverOAuth(ctx context.Context, admin winnow.LeverAdmin, cb winnow.LeverCallback) (*winnow.LeverConnectResult, error) {
	if cb.State == "" {
		return nil, winnow.Errorf(winnow.EINVALID, msgNoState)
	}
	st, err := c.store.TakeLeverOAuthState(ctx, hashState(cb.State))
	if winnow.ErrorCode(err) == winnow.ENOTFOUND {
		return nil, winnow.Errorf(winnow.EINVALID, "%s Nothing was changed.", winnow.ErrorMessage(err))
	} else if err != nil {
		return nil, err
	}
	if st.OrgID != admin.OrgID || st.UserID != admin.UserID || admin.Session == "" || st.SessionHash != hashSession(admin.Session) {
		c.logger.WarnContext(ctx, "lever oauth state from another session refused", "org_id", admin.OrgID, "user_id", admin.UserID)
		return nil, winnow.Errorf(winnow.EFORBIDDEN, msgForeignState)
	}
	switch {
	case cb.Error == "access_denied":
		return nil, winnow.Errorf(winnow.EINVALID, msgDenied)
	case cb.Error != "":
		why := cb.Error
		if cb.ErrorDescription != "" {
			why += ": " + cb.ErrorDescription
		}
		return nil, winnow.Errorf(winnow.EINVALID, "Lever did not authorize Winnow (%s). Nothing was changed; please connect again.", clipWords(why))
	case cb.Code == "":
		return nil, winnow.Errorf(winnow.EINVALID, msgNoCode)
	}
	tok, err := c.oauth.Exchange(ctx, cb.Code, oauth2.SetAuthURLParam("redirect_uri", c.redirectURL()))
	if err != nil {
		c.logger.WarnContext(ctx, "lever oauth exchange failed", "org_id", admin.OrgID, "error", err)
		if errors.Is(err, lever.ErrTransient) || errors.Is(err, lever.ErrRateLimited) {
			return nil, winnow.Errorf(winnow.EUNAVAILABLE, "Lever could not be reached to finish connecting. Nothing was changed; please connect again in a moment.")
		}
		return nil, winnow.Errorf(winnow.EINVALID, msgBadCode)
	}
	access, err := c.sealer.Seal(tok.AccessToken)
	if err != nil {
		return nil, fmt.Errorf("seal lever token: %w", err)
	}
	refresh := ""
	if tok.RefreshToken != "" {
		if refresh, err = c.sealer.Seal(tok.RefreshToken); err != nil {
			return nil, fmt.Errorf("seal lever token: %w", err)
		}
	}
	conn, err := c.store.EnsureLeverConnection(ctx, admin.OrgID)
	if err != nil {
		return nil, err
	}
	prev, now := conn.State, c.clock.Now()
	conn.Mode, conn.State, conn.StateReason = winnow.LeverOAuth, winnow.LeverConnected, ""
	conn.AccountID, conn.ConnectedBy, conn.ConnectedAt = lever.AccountID(tok.AccessToken), admin.UserID, &now
	conn.Scopes = grantedScopes(tok, c.cfg.Scopes)
	conn.AccessToken, conn.RefreshToken, conn.APIKey = access, refresh, ""
	conn.TokenExpiry = nil
	if !tok.Expiry.IsZero() {
		expiry := tok.Expiry.UTC()
		conn.TokenExpiry = &expiry
	}
	if err := c.store.SaveLeverConnection(ctx, conn); err != nil {
		return nil, err
	}
	c.Forget(admin.OrgID)
	c.logger.InfoContext(ctx, "lever connected", "org_id", admin.OrgID, "user_id", admin.UserID, "mode", string(conn.Mode),
		"account_id", conn.AccountID, "scopes", strings.Join(conn.Scopes, " "))
	return c.afterConnect(ctx, conn, admin, prev)
}

// grantedScopes reads the scopes Lever granted from the token response; a response
// without "scope" granted what was asked (RFC 6749, section 5.1).
func grantedScopes(tok *oauth2.Token, asked []string) []string {
	if s, ok := tok.Extra("scope").(string); ok && strings.TrimSpace(s) != "" {
		return strings.Fields(s)
	}
	if len(asked) == 0 {
		asked = lever.DefaultScopes
	}
	return append([]string(nil), asked...)
}

// ConnectLeverAPIKey checks key by listing the account's stages and, when Lever accepts
// it, connects the org with it (sealed). A key Lever refuses is not stored.
func (c *Connector) ConnectLeverAPIKey(ctx context.Context, admin winnow.LeverAdmin, key string) (*winnow.LeverConnectResult, error) {
	key, err := winnow.ValidateLeverAPIKey(key)
	if err != nil {
		return nil, err
	}
	cfg := c.cfg
	cfg.Limiter = c.limiters.For(keyAccount(key))
	if cfg.Logger == nil {
		cfg.Logger = c.logger
	}
	client, err := lever.New(cfg, lever.APIKeyAuth(key))
	if err != nil {
		return nil, fmt.Errorf("lever client: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, leverCallTimeout)
	_, err = client.ListStages(cctx)
	cancel()
	switch {
	case errors.Is(err, lever.ErrAuthLost):
		return nil, winnow.Errorf(winnow.EINVALID, "Lever did not accept this API key. Check that you copied all of it and that it is still active in Lever (Settings → Integrations and API → API credentials). Nothing was stored.")
	case errors.Is(err, lever.ErrPermanent):
		return nil, winnow.Errorf(winnow.EINVALID, "Lever accepted the key but refused to list the stages (%s). Give the key the permissions Winnow needs in Lever, then try again. Nothing was stored.", leverSays(err))
	case err != nil:
		c.logger.WarnContext(ctx, "lever api key check failed", "org_id", admin.OrgID, "error", err)
		return nil, winnow.Errorf(winnow.EUNAVAILABLE, "Lever could not be reached to check the key. Nothing was stored; please try again in a moment.")
	}
	sealed, err := c.sealer.Seal(key)
	if err != nil {
		return nil, fmt.Errorf("seal lever api key: %w", err)
	}
	conn, err := c.store.EnsureLeverConnection(ctx, admin.OrgID)
	if err != nil {
		return nil, err
	}
	prev, now := conn.State, c.clock.Now()
	conn.Mode, conn.State, conn.StateReason = winnow.LeverAPIKey, winnow.LeverConnected, ""
	conn.AccountID, conn.ConnectedBy, conn.ConnectedAt, conn.Scopes = "", admin.UserID, &now, nil
	conn.AccessToken, conn.RefreshToken, conn.TokenExpiry, conn.APIKey = "", "", nil, sealed
	if err := c.store.SaveLeverConnection(ctx, conn); err != nil {
		return nil, err
	}
	c.Forget(admin.OrgID)
	c.logger.InfoContext(ctx, "lever connected", "org_id", admin.OrgID, "user_id", admin.UserID, "mode", string(conn.Mode))
	return c.afterConnect(ctx, conn, admin, prev)
}

// afterConnect finishes a connection that is stored: Winnow's webhooks, the Lever user
// notes are attributed to, and, for an org that needed reconnecting, its paused work.
// What it cannot do becomes a warning; the connection stands.
func (c *Connector) afterConnect(ctx context.Context, conn *winnow.LeverConnection, admin winnow.LeverAdmin, prev winnow.LeverState) (*winnow.LeverConnectResult, error) {
	res := &winnow.LeverConnectResult{Connection: conn}
	client, _, err := c.Client(ctx, conn.OrgID)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 2*leverCallTimeout)
	defer cancel()
	res.Warnings = append(res.Warnings, c.registerWebhooks(cctx, client, conn)...)
	if admin.Email != "" {
		c.findPerformAs(cctx, client, conn, admin.Email)
	}
	if err := c.store.SaveLeverSettings(ctx, conn); err != nil {
		return nil, err
	}
	if prev == winnow.LeverNeedsReconnecting && c.onReconnect != nil {
		c.onReconnect(ctx, conn.OrgID)
	}
	return res, nil
}

// RegisterLeverWebhooks creates the org's missing webhooks in Lever.
func (c *Connector) RegisterLeverWebhooks(ctx context.Context, orgID string) ([]string, error) {
	client, conn, err := c.usableClient(ctx, orgID)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 2*leverCallTimeout)
	defer cancel()
	warnings := c.registerWebhooks(cctx, client, conn)
	if err := c.store.SaveLeverSettings(ctx, conn); err != nil {
		return nil, err
	}
	return warnings, nil
}

// registerWebhooks makes conn.Webhooks hold one webhook per event of
// winnow.LeverWebhookEvents at the org's URL, each with its sealed signature token,
// reusing those Lever already has and Winnow knows the token of, so that connecting
// twice creates nothing twice. A webhook at the org's URL whose token Winnow lost is
// replaced. It returns what it could not do, in words for the admin.
func (c *Connector) registerWebhooks(ctx context.Context, client *lever.Client, conn *winnow.LeverConnection) []string {
	url := c.webhookURL(conn.OrgKey)
	switch {
	case url == "":
		return nil
	case !conn.MayRegisterWebhooks():
		return []string{"The Lever grant does not let Winnow register webhooks (webhooks:write:admin): add them in Lever by hand with the URL and signature token below."}
	}
	existing, err := client.ListWebhooks(ctx)
	if err != nil {
		c.logger.WarnContext(ctx, "list lever webhooks", "org_id", conn.OrgID, "error", err)
		c.authLost(ctx, conn.OrgID, err)
		return []string{"Winnow could not read the webhooks in Lever (" + leverProblem(err) + "), so it registered none: use “Register webhooks” below once Lever answers, or add them in Lever by hand."}
	}
	known := map[string]winnow.LeverWebhook{}
	for _, h := range conn.Webhooks {
		known[h.ID] = h
	}
	var kept []winnow.LeverWebhook
	var failed []string
	for _, event := range winnow.LeverWebhookEvents {
		var have *winnow.LeverWebhook
		for _, h := range existing {
			if h.URL != url || h.Event != event {
				continue
			}
			if k, ok := known[h.ID]; ok && have == nil {
				have = &k
				continue
			}
			// Ours by its URL, but Winnow no longer has its token: it cannot verify
			// what arrives through it. Lever refuses to delete webhooks made in its
			// UI; those stay (the admin may have pasted their token).
			if err := client.DeleteWebhook(ctx, h.ID); err != nil && !errors.Is(err, lever.ErrNotFound) {
				c.logger.InfoContext(ctx, "lever webhook without token kept", "org_id", conn.OrgID, "webhook_id", h.ID, "error", err)
			}
		}
		if have != nil {
			kept = append(kept, *have)
			continue
		}
		created, err := client.CreateWebhook(ctx, lever.NewWebhook{URL: url, Event: event, Origins: lever.AllOrigins})
		if err == nil && created.Configuration.SignatureToken == "" {
			err = errors.New("lever returned no signature token")
		}
		var sealed string
		if err == nil {
			sealed, err = c.sealer.Seal(created.Configuration.SignatureToken)
		}
		if err != nil {
			c.logger.WarnContext(ctx, "create lever webhook", "org_id", conn.OrgID, "event", event, "error", err)
			failed = append(failed, event)
			continue
		}
		kept = append(kept, winnow.LeverWebhook{ID: created.ID, Event: event, SignatureToken: sealed})
	}
	conn.Webhooks = kept
	if len(failed) > 0 {
		return []string{"Lever did not create the webhooks for " + strings.Join(failed, ", ") +
			": use “Register webhooks” below to try again, or add them in Lever by hand."}
	}
	c.logger.InfoContext(ctx, "lever webhooks registered", "org_id", conn.OrgID, "count", len(kept))
	return nil
}

// findPerformAs sets conn's perform-as user to the active Lever user with the admin's
// email, or to none with a warning the panel shows.
func (c *Connector) findPerformAs(ctx context.Context, client *lever.Client, conn *winnow.LeverConnection, email string) {
	conn.PerformAs, conn.PerformAsName, conn.PerformAsWarning = "", "", ""
	users, err := client.ListUsers(ctx, email)
	if err != nil {
		c.logger.WarnContext(ctx, "find lever user", "org_id", conn.OrgID, "error", err)
		conn.PerformAsWarning = "Winnow could not look up your Lever user (" + leverProblem(err) + "), so notes and stage moves are attributed to no one. Pick a Lever user below."
		return
	}
	for _, u := range users {
		if u.Active() && strings.EqualFold(u.Email, email) {
			conn.PerformAs, conn.PerformAsName = u.ID, u.Name
			return
		}
	}
	conn.PerformAsWarning = "No active Lever user has your email address (" + email + "), so notes and stage moves are attributed to no one. Pick a Lever user below."
}

// DisconnectLever deletes Winnow's webhooks in Lever (best effort) and forgets the
// credentials. The org key, settings, deliveries and writes stay.
func (c *Connector) DisconnectLever(ctx context.Context, orgID string) ([]string, error) {
	conn, err := c.store.FindLeverConnection(ctx, orgID)
	if winnow.ErrorCode(err) == winnow.ENOTFOUND || (err == nil && conn.State == winnow.LeverDisconnected) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var warnings []string
	if len(conn.Webhooks) > 0 {
		warnings = c.deleteWebhooks(ctx, conn)
	}
	conn.Disconnect(c.clock.Now())
	if err := c.store.SaveLeverConnection(ctx, conn); err != nil {
		return nil, err
	}
	c.Forget(orgID)
	c.logger.InfoContext(ctx, "lever disconnected", "org_id", orgID)
	return warnings, nil
}

// deleteWebhooks removes the webhooks Winnow registered, and says which it could not.
func (c *Connector) deleteWebhooks(ctx context.Context, conn *winnow.LeverConnection) []string {
	n, why := 0, ""
	client, _, err := c.Client(ctx, conn.OrgID)
	if err == nil && conn.State != winnow.LeverConnected {
		err = errors.New("the connection needs reconnecting")
		why = "Lever no longer accepts Winnow's credentials"
	}
	if err != nil {
		n = len(conn.Webhooks)
	} else {
		cctx, cancel := context.WithTimeout(ctx, 2*leverCallTimeout)
		defer cancel()
		for i, h := range conn.Webhooks {
			derr := client.DeleteWebhook(cctx, h.ID)
			if derr == nil || errors.Is(derr, lever.ErrNotFound) {
				continue
			}
			c.logger.WarnContext(ctx, "delete lever webhook", "org_id", conn.OrgID, "webhook_id", h.ID, "error", derr)
			n, why = n+1, leverProblem(derr)
			if !errors.Is(derr, lever.ErrPermanent) {
				// Lever is down or refuses the credentials (the client has retried
				// already): the others would fail alike, and the admin waits.
				n += len(conn.Webhooks) - i - 1
				break
			}
		}
	}
	if n == 0 {
		return nil
	}
	if why == "" {
		why = leverProblem(err)
	}
	noun := "webhooks"
	if n == 1 {
		noun = "webhook"
	}
	return []string{fmt.Sprintf("Winnow could not delete its %d %s in Lever (%s). Remove them in Lever: Settings → Integrations and API → Webhooks.", n, noun, why)}
}

// usableClient returns the org's client and connection when the connection is
// connected, and otherwise an error that says what to do.
func (c *Connector) usableClient(ctx context.Context, orgID string) (*lever.Client, *winnow.LeverConnection, error) {
	client, conn, err := c.Client(ctx, orgID)
	if err != nil {
		return nil, nil, err
	}
	if conn.State == winnow.LeverNeedsReconnecting {
		return nil, nil, winnow.Errorf(winnow.ECONFLICT, "Lever needs reconnecting: an admin reconnects it in Settings → Integrations.")
	}
	return client, conn, nil
}

// authLost marks the org's connection as needing reconnecting when err says Lever no
// longer accepts its credentials.
func (c *Connector) authLost(ctx context.Context, orgID string, err error) {
	if !errors.Is(err, lever.ErrAuthLost) {
		return
	}
	if merr := c.NeedsReconnecting(context.WithoutCancel(ctx), orgID, "Lever refused Winnow's credentials: "+reason(err)); merr != nil {
		c.logger.ErrorContext(ctx, "mark lever connection", "org_id", orgID, "error", merr)
	}
}

// leverProblem says in a few words why a call to Lever failed, for admins: never a
// token, and Lever's own words clipped.
func leverProblem(err error) string {
	switch {
	case errors.Is(err, lever.ErrAuthLost):
		return "Lever refused Winnow's credentials"
	case errors.Is(err, lever.ErrRateLimited):
		return "Lever asked Winnow to slow down"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, lever.ErrTransient):
		return "Lever could not be reached or did not answer in time"
	case errors.Is(err, lever.ErrPermanent):
		return "Lever refused the request: " + leverSays(err)
	}
	return "an unexpected error"
}

// leverSays is Lever's own message for a refused call, clipped, or its status.
func leverSays(err error) string {
	var ae *lever.APIError
	if !errors.As(err, &ae) {
		return "no reason given"
	}
	if ae.Message != "" {
		return clipWords(ae.Message)
	}
	if ae.StatusCode != 0 {
		return fmt.Sprintf("status %d", ae.StatusCode)
	}
	return "no reason given"
}

// clipWords shortens text from outside (Lever's messages, error codes on the callback)
// to one line of at most 120 characters.
func clipWords(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 120 {
		return string(r[:120]) + "…"
	}
	return s
}
