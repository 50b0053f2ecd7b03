package api

import (
	"net/http"
	"time"

	"winnow"
)

// leverConnection is the org's Lever connection as the API answers it. It carries no
// secret: whether a signature token is stored, never the token; the mode, never the
// key or OAuth tokens.
type leverConnection struct {
	State              string           `json:"state"` // "" when never connected
	StateReason        string           `json:"stateReason,omitempty"`
	Mode               string           `json:"mode,omitempty"`
	AccountID          string           `json:"accountId,omitempty"`
	ConnectedAt        *time.Time       `json:"connectedAt,omitempty"`
	Scopes             []string         `json:"scopes"`
	MissingScopes      []leverScopeNeed `json:"missingScopes"`
	TokenExpiry        *time.Time       `json:"tokenExpiry,omitempty"`
	WebhookURL         string           `json:"webhookUrl"`
	Webhooks           []string         `json:"webhooks"`
	SignatureTokenSet  bool             `json:"signatureTokenSet"`
	QualifiedStageID   string           `json:"qualifiedStageId"`
	QualifiedStageName string           `json:"qualifiedStageName,omitempty"`
	TagPrefix          string           `json:"tagPrefix"`
	PerformAs          string           `json:"performAs"`
	PerformAsName      string           `json:"performAsName,omitempty"`
	PerformAsWarning   string           `json:"performAsWarning,omitempty"`
	LastWebhookAt      *time.Time       `json:"lastWebhookAt,omitempty"`
	LastVerifiedAt     *time.Time       `json:"lastVerifiedAt,omitempty"`
	Stages             []leverStage     `json:"stages"`
	LeverUnreachable   string           `json:"leverUnreachable,omitempty"`
	Warnings           []string         `json:"warnings,omitempty"`
}

type leverScopeNeed struct {
	Scope   string `json:"scope"`
	Without string `json:"without"`
}

type leverStage struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// leverUpdate is the body of PUT /api/v1/integrations/lever: any of its fields.
type leverUpdate struct {
	QualifiedStageID *string `json:"qualifiedStageId"`
	SignatureToken   *string `json:"signatureToken"`
	APIKey           *string `json:"apiKey"`
	TagPrefix        *string `json:"tagPrefix"`
}

// leverPostingLink is the body of PUT /api/v1/jobs/{id}/lever-posting.
type leverPostingLink struct {
	PostingID *string `json:"postingId"`
}

// leverAvailable answers 404 when this server offers no Lever integration.
func (h *Handler) leverAvailable(w http.ResponseWriter, r *http.Request) bool {
	if h.Lever == nil {
		h.failStatus(w, r, http.StatusNotFound, winnow.ENOTFOUND, "This server offers no Lever integration.")
		return false
	}
	return true
}

// GetLever answers the org's Lever connection, with Lever's stages when it can be asked.
func (h *Handler) GetLever(w http.ResponseWriter, r *http.Request) {
	if !h.leverAvailable(w, r) {
		return
	}
	h.respondLever(w, r, nil)
}

// respondLever answers the org's connection as it is now, with warnings.
func (h *Handler) respondLever(w http.ResponseWriter, r *http.Request, warnings []string) {
	p, err := h.Lever.LeverPanel(r.Context(), token(r).OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	c := p.Connection
	out := leverConnection{State: string(c.State), Mode: string(c.Mode), AccountID: c.AccountID, ConnectedAt: c.ConnectedAt,
		Scopes: append([]string{}, c.Scopes...), MissingScopes: []leverScopeNeed{}, WebhookURL: p.WebhookURL,
		Webhooks: append([]string{}, c.WebhookEvents()...), SignatureTokenSet: c.SignatureToken != "",
		QualifiedStageID: c.QualifiedStageID, QualifiedStageName: c.QualifiedStageName, TagPrefix: c.TagPrefix,
		PerformAs: c.PerformAs, PerformAsName: c.PerformAsName, PerformAsWarning: c.PerformAsWarning,
		LastWebhookAt: c.LastWebhookAt, LastVerifiedAt: c.LastVerifiedAt, Stages: []leverStage{},
		LeverUnreachable: p.Unreachable, Warnings: warnings}
	if c.State == winnow.LeverNeedsReconnecting {
		out.StateReason = c.StateReason
	}
	if c.Mode == winnow.LeverOAuth {
		out.TokenExpiry = c.TokenExpiry
	}
	if c.Active() {
		for _, n := range c.MissingScopes() {
			out.MissingScopes = append(out.MissingScopes, leverScopeNeed{Scope: n.Scope, Without: n.Without})
		}
	}
	for _, s := range p.Stages {
		out.Stages = append(out.Stages, leverStage{ID: s.ID, Name: s.Name})
	}
	h.writeJSON(w, r, http.StatusOK, out)
}

// UpdateLever changes the org's connection: an API key (which Lever must accept, and
// which switches the connection to API-key mode), the qualified stage, the tag prefix
// and a signature token pasted from Lever. Every field is checked for form before
// anything changes; then the key is applied first, so that the stage is checked with
// the account it belongs to.
func (h *Handler) UpdateLever(w http.ResponseWriter, r *http.Request) {
	if !h.leverAvailable(w, r) {
		return
	}
	var in leverUpdate
	if !h.decode(w, r, &in) {
		return
	}
	t := token(r)
	if in.QualifiedStageID == nil && in.SignatureToken == nil && in.APIKey == nil && in.TagPrefix == nil {
		h.fail(w, r, winnow.Errorf(winnow.EINVALID, "Send at least one of qualifiedStageId, signatureToken, apiKey and tagPrefix."))
		return
	}
	if in.SignatureToken != nil {
		if _, err := winnow.ValidateSignatureToken(*in.SignatureToken); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if in.APIKey != nil {
		if _, err := winnow.ValidateLeverAPIKey(*in.APIKey); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if in.TagPrefix != nil {
		check := winnow.LeverConnection{TagPrefix: *in.TagPrefix}
		if err := check.ValidateSettings(); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	var warnings []string
	if in.APIKey != nil {
		admin := winnow.LeverAdmin{OrgID: t.OrgID, UserID: t.CreatedBy}
		if t.CreatedBy != "" {
			if u, err := h.Users.FindUserByID(r.Context(), t.OrgID, t.CreatedBy); err == nil {
				admin.Email = u.Email
			}
		}
		res, err := h.Lever.ConnectLeverAPIKey(r.Context(), admin, *in.APIKey)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		warnings = res.Warnings
		h.Logger.InfoContext(r.Context(), "lever connected with an api key", "org_id", t.OrgID, "token_id", t.ID)
	}
	if in.QualifiedStageID != nil || in.TagPrefix != nil {
		if _, err := h.Lever.UpdateLeverSettings(r.Context(), t.OrgID, winnow.LeverSettings{QualifiedStageID: in.QualifiedStageID,
			TagPrefix: in.TagPrefix}); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if in.SignatureToken != nil {
		if err := h.Lever.SetLeverSignatureToken(r.Context(), t.OrgID, *in.SignatureToken); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.Logger.InfoContext(r.Context(), "lever settings updated", "org_id", t.OrgID, "token_id", t.ID)
	h.respondLever(w, r, warnings)
}

// LinkLeverPosting links the job to a Lever posting, or unlinks it with "".
func (h *Handler) LinkLeverPosting(w http.ResponseWriter, r *http.Request) {
	if !h.leverAvailable(w, r) {
		return
	}
	var in leverPostingLink
	if !h.decode(w, r, &in) {
		return
	}
	if in.PostingID == nil {
		h.fail(w, r, winnow.Errorf(winnow.EINVALID, `Send {"postingId": "…"}, or "" to unlink.`))
		return
	}
	t := token(r)
	f, err := h.Lever.LinkLeverPosting(r.Context(), t.OrgID, r.PathValue("id"), *in.PostingID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.Logger.InfoContext(r.Context(), "job lever posting saved", "org_id", t.OrgID, "funnel_id", f.ID, "posting_id", f.LeverPostingID,
		"token_id", t.ID)
	h.respondFunnel(w, r, http.StatusOK, f)
}
