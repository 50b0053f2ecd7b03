package recruiter

import (
	"net/http"

	"winnow"
	"winnow/internal/keyring"
	"winnow/internal/web/render"
)

// TokensPage is the data of Settings → API tokens.
type TokensPage struct {
	render.Base
	Tokens   []TokenRow
	NewToken string // shown once, right after it was made
	NewName  string
	Name     string
	Error    string
	APIURL   string
}

// TokenRow is one token of the list.
type TokenRow struct {
	*winnow.APIToken
	Creator string
}

// APITokens lists the org's API tokens.
func (h *Handler) APITokens(w http.ResponseWriter, r *http.Request) {
	page := TokensPage{}
	if r.URL.Query().Get("revoked") != "" {
		page.Notice = "Token revoked: programs using it are refused from now on."
	}
	h.renderTokens(w, r, http.StatusOK, page)
}

// CreateAPIToken makes a new API token and shows it once; only its hash is stored.
func (h *Handler) CreateAPIToken(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	u := me(r)
	token := keyring.Token()
	t := &winnow.APIToken{OrgID: u.OrgID, Name: r.PostFormValue("name"), TokenHash: h.Keyring.Hash(token), CreatedBy: u.ID}
	if err := h.Tokens.CreateAPIToken(r.Context(), t); err != nil {
		if winnow.ErrorCode(err) != winnow.EINVALID {
			h.fail(w, r, err)
			return
		}
		h.renderTokens(w, r, http.StatusUnprocessableEntity, TokensPage{Name: r.PostFormValue("name"), Error: winnow.ErrorMessage(err)})
		return
	}
	h.Logger.InfoContext(r.Context(), "api token created", "org_id", u.OrgID, "token_id", t.ID, "user_id", u.ID)
	h.renderTokens(w, r, http.StatusOK, TokensPage{NewToken: token, NewName: t.Name})
}

// RevokeAPIToken revokes one of the org's API tokens.
func (h *Handler) RevokeAPIToken(w http.ResponseWriter, r *http.Request) {
	u := me(r)
	id := r.PathValue("id")
	if err := h.Tokens.RevokeAPIToken(r.Context(), u.OrgID, id, h.Clock.Now()); err != nil {
		h.fail(w, r, err)
		return
	}
	h.Logger.InfoContext(r.Context(), "api token revoked", "org_id", u.OrgID, "token_id", id, "user_id", u.ID)
	http.Redirect(w, r, "/settings/tokens?revoked=1", http.StatusSeeOther)
}

func (h *Handler) renderTokens(w http.ResponseWriter, r *http.Request, status int, page TokensPage) {
	u := me(r)
	tokens, err := h.Tokens.ListAPITokens(r.Context(), u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	users, err := h.Users.ListUsers(r.Context(), u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	names := make(map[string]string, len(users))
	for _, m := range users {
		names[m.ID] = userName(m)
	}
	notice := page.Notice
	page.Base = h.base(r, "API tokens", "settings")
	page.Notice, page.APIURL = notice, h.BaseURL+"/api/v1"
	for _, t := range tokens {
		creator := nameOr(names, t.CreatedBy, "a former member")
		if t.CreatedBy == "" {
			creator = "the winnow command"
		}
		page.Tokens = append(page.Tokens, TokenRow{APIToken: t, Creator: creator})
	}
	h.Render.Page(w, r, status, render.PageSettingsTokens, page)
}
