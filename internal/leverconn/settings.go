package leverconn

import (
	"context"
	"errors"
	"sort"
	"strings"

	"winnow"
	"winnow/internal/lever"
)

// maxLeverIDLength bounds the Lever ids admins send (stages, users, postings): Lever's
// are UUIDs or short slugs.
const maxLeverIDLength = 200

// LeverState returns the org's connection state, "" when it never connected.
func (c *Connector) LeverState(ctx context.Context, orgID string) (winnow.LeverState, error) {
	conn, err := c.store.FindLeverConnection(ctx, orgID)
	if winnow.ErrorCode(err) == winnow.ENOTFOUND {
		return "", nil
	} else if err != nil {
		return "", err
	}
	return conn.State, nil
}

// LeverPanel returns the org's connection as stored and, when it is connected, Lever's
// stages and active users. Lever failing to answer is said in Unreachable, never an
// error; Lever refusing the credentials also marks the connection as needing
// reconnecting.
func (c *Connector) LeverPanel(ctx context.Context, orgID string) (*winnow.LeverPanel, error) {
	conn, err := c.store.EnsureLeverConnection(ctx, orgID)
	if err != nil {
		return nil, err
	}
	p := &winnow.LeverPanel{Connection: conn, OAuthAvailable: c.OAuthConfigured(), WebhookURL: c.webhookURL(conn.OrgKey)}
	if c.baseURL != nil {
		p.BareWebhookURL = strings.TrimRight(c.baseURL(), "/") + winnow.LeverWebhookPath
	}
	if !conn.Usable() {
		return p, nil
	}
	client, _, err := c.Client(ctx, orgID)
	if err != nil {
		// The stored credentials do not open (WINNOW_SECRET_KEY changed): the page
		// still shows what is stored.
		c.logger.ErrorContext(ctx, "lever client for the settings page", "org_id", orgID, "error", err)
		p.Unreachable = "Winnow could not use the stored Lever credentials; connect Lever again."
		return p, nil
	}
	cctx, cancel := context.WithTimeout(ctx, leverCallTimeout)
	defer cancel()
	stages, err := c.stages(cctx, client, conn)
	if err == nil {
		p.Stages = stages
		if conn.HasScope("users:read:admin") {
			p.Users, err = c.users(cctx, client)
		}
	}
	if err != nil {
		c.logger.WarnContext(ctx, "read lever for the settings page", "org_id", orgID, "error", err)
		p.Unreachable = "Lever could not be asked for its stages and users (" + leverProblem(err) + "). What Winnow has stored is shown."
		if errors.Is(err, lever.ErrAuthLost) {
			// The connection now needs reconnecting, and its reason says why.
			c.authLost(ctx, orgID, err)
			if now, ferr := c.store.FindLeverConnection(ctx, orgID); ferr == nil {
				p.Connection, p.Unreachable = now, ""
			}
		}
	}
	return p, nil
}

// stages lists the pipeline, or nothing when the grant may not read it.
func (c *Connector) stages(ctx context.Context, client *lever.Client, conn *winnow.LeverConnection) ([]winnow.LeverPipelineStage, error) {
	if !conn.HasScope("stages:read:admin") {
		return nil, nil
	}
	list, err := client.ListStages(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]winnow.LeverPipelineStage, 0, len(list))
	for _, s := range list {
		out = append(out, winnow.LeverPipelineStage{ID: s.ID, Name: s.Text})
	}
	return out, nil
}

// users lists the account's active users, by name.
func (c *Connector) users(ctx context.Context, client *lever.Client) ([]winnow.LeverUser, error) {
	list, err := client.ListUsers(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []winnow.LeverUser
	for _, u := range list {
		if u.Active() {
			out = append(out, winnow.LeverUser{ID: u.ID, Name: u.Name, Email: u.Email})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out, nil
}

// UpdateLeverSettings changes the settings s names. A stage or user is checked with
// Lever first, which also gives its name; clearing either needs no Lever.
func (c *Connector) UpdateLeverSettings(ctx context.Context, orgID string, s winnow.LeverSettings) (*winnow.LeverConnection, error) {
	conn, err := c.store.EnsureLeverConnection(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if s.TagPrefix != nil {
		conn.TagPrefix = *s.TagPrefix
	}
	if s.QualifiedStageID != nil {
		id := strings.TrimSpace(*s.QualifiedStageID)
		conn.QualifiedStageID, conn.QualifiedStageName = "", ""
		if id != "" {
			st, err := c.findStage(ctx, orgID, id)
			if err != nil {
				return nil, err
			}
			conn.QualifiedStageID, conn.QualifiedStageName = st.ID, st.Name
		}
	}
	if s.PerformAs != nil {
		id := strings.TrimSpace(*s.PerformAs)
		conn.PerformAs, conn.PerformAsName, conn.PerformAsWarning = "", "", ""
		if id != "" {
			u, err := c.findUser(ctx, orgID, id)
			if err != nil {
				return nil, err
			}
			conn.PerformAs, conn.PerformAsName = u.ID, u.Name
		}
	}
	if err := c.store.SaveLeverSettings(ctx, conn); err != nil {
		return nil, err
	}
	return conn, nil
}

// findStage returns the stage of the org's Lever pipeline with this id.
func (c *Connector) findStage(ctx context.Context, orgID, id string) (winnow.LeverPipelineStage, error) {
	if len(id) > maxLeverIDLength || !winnow.ValidText(id) {
		return winnow.LeverPipelineStage{}, winnow.Errorf(winnow.EINVALID, "That is not a Lever stage.")
	}
	client, conn, err := c.usableClient(ctx, orgID)
	if err != nil {
		return winnow.LeverPipelineStage{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, leverCallTimeout)
	defer cancel()
	stages, err := c.stages(cctx, client, conn)
	if err != nil {
		return winnow.LeverPipelineStage{}, c.unavailable(ctx, orgID, "check the stage", err)
	}
	for _, s := range stages {
		if s.ID == id {
			return s, nil
		}
	}
	return winnow.LeverPipelineStage{}, winnow.Errorf(winnow.EINVALID, "There is no stage %q in Lever's pipeline.", clipWords(id))
}

// findUser returns the org's active Lever user with this id.
func (c *Connector) findUser(ctx context.Context, orgID, id string) (winnow.LeverUser, error) {
	if len(id) > maxLeverIDLength || !winnow.ValidText(id) {
		return winnow.LeverUser{}, winnow.Errorf(winnow.EINVALID, "That is not a Lever user.")
	}
	client, _, err := c.usableClient(ctx, orgID)
	if err != nil {
		return winnow.LeverUser{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, leverCallTimeout)
	defer cancel()
	users, err := c.users(cctx, client)
	if err != nil {
		return winnow.LeverUser{}, c.unavailable(ctx, orgID, "check the user", err)
	}
	for _, u := range users {
		if u.ID == id {
			return u, nil
		}
	}
	return winnow.LeverUser{}, winnow.Errorf(winnow.EINVALID, "There is no active Lever user %q: deactivated users cannot be chosen.", clipWords(id))
}

// unavailable is the error for a call to Lever that a request needed and that failed:
// EUNAVAILABLE saying why, after marking the connection when Lever refused its
// credentials.
func (c *Connector) unavailable(ctx context.Context, orgID, doing string, err error) error {
	c.logger.WarnContext(ctx, "lever call failed", "org_id", orgID, "doing", doing, "error", err)
	c.authLost(ctx, orgID, err)
	return winnow.Errorf(winnow.EUNAVAILABLE, "Winnow could not %s with Lever (%s). Nothing was changed; please try again.", doing, leverProblem(err))
}

// SetLeverSignatureToken stores, sealed, a signature token an admin pasted from
// Lever's webhook settings. It works in either mode, and before connecting.
func (c *Connector) SetLeverSignatureToken(ctx context.Context, orgID, token string) error {
	token, err := winnow.ValidateSignatureToken(token)
	if err != nil {
		return err
	}
	sealed, err := c.sealer.Seal(token)
	if err != nil {
		return err
	}
	conn, err := c.store.EnsureLeverConnection(ctx, orgID)
	if err != nil {
		return err
	}
	conn.SignatureToken = sealed
	return c.store.SaveLeverSettings(ctx, conn)
}

// LeverPostings lists the org's published and internal postings, every page, by title.
func (c *Connector) LeverPostings(ctx context.Context, orgID string) ([]winnow.LeverPosting, error) {
	client, _, err := c.usableClient(ctx, orgID)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 2*leverCallTimeout)
	defer cancel()
	list, err := client.ListPostings(cctx, lever.ListPostingsOptions{States: winnow.LeverPostingStates, PageSize: 100})
	if err != nil {
		return nil, c.unavailable(ctx, orgID, "list the postings", err)
	}
	out := make([]winnow.LeverPosting, 0, len(list))
	for _, p := range list {
		out = append(out, winnow.LeverPosting{ID: p.ID, Title: p.Text, State: p.State, Team: p.Categories.Team, Location: p.Categories.Location})
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.ToLower(out[i].Title) < strings.ToLower(out[j].Title) })
	return out, nil
}

// LinkLeverPosting links the job to a published or internal posting, checked with
// Lever, or unlinks it ("").
func (c *Connector) LinkLeverPosting(ctx context.Context, orgID, funnelID, postingID string) (*winnow.Funnel, error) {
	f, err := c.store.FindFunnelByID(ctx, orgID, funnelID)
	if err != nil {
		return nil, err
	}
	postingID = strings.TrimSpace(postingID)
	if postingID != "" {
		if len(postingID) > maxLeverIDLength || !winnow.ValidText(postingID) {
			return nil, winnow.Errorf(winnow.EINVALID, "That is not a Lever posting.")
		}
		postings, err := c.LeverPostings(ctx, orgID)
		if err != nil {
			return nil, err
		}
		found := false
		for _, p := range postings {
			found = found || p.ID == postingID
		}
		if !found {
			return nil, winnow.Errorf(winnow.EINVALID, "There is no published or internal Lever posting %q.", clipWords(postingID))
		}
	}
	if f.LeverPostingID == postingID {
		return f, nil
	}
	f.LeverPostingID = postingID
	if err := c.store.UpdateFunnel(ctx, f); err != nil {
		return nil, err
	}
	c.logger.InfoContext(ctx, "job linked to lever posting", "org_id", orgID, "funnel_id", f.ID, "posting_id", postingID)
	return f, nil
}

// SetFunnelLeverStage sets the job's qualified stage, checked with Lever, or clears it
// so that the org's applies ("").
func (c *Connector) SetFunnelLeverStage(ctx context.Context, orgID, funnelID, stageID string) (*winnow.Funnel, error) {
	f, err := c.store.FindFunnelByID(ctx, orgID, funnelID)
	if err != nil {
		return nil, err
	}
	stageID = strings.TrimSpace(stageID)
	if stageID != "" {
		if _, err := c.findStage(ctx, orgID, stageID); err != nil {
			return nil, err
		}
	}
	if f.QualifiedStageID == stageID {
		return f, nil
	}
	f.QualifiedStageID = stageID
	if err := c.store.UpdateFunnel(ctx, f); err != nil {
		return nil, err
	}
	return f, nil
}
