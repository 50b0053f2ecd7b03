package recruiter

import (
	"net/http"

	"winnow"
)

// SaveReplyTo stores the org's reply-to address from Settings → Emails: the address
// candidates are offered where a page asks them to contact the company. An empty
// field removes it; an address that is not one is shown again with the error.
func (h *Handler) SaveReplyTo(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	u := me(r)
	value := r.PostFormValue("reply_to")
	if err := h.Orgs.SetOrgReplyTo(r.Context(), u.OrgID, value); err != nil {
		if winnow.ErrorCode(err) != winnow.EINVALID {
			h.fail(w, r, err)
			return
		}
		h.renderEmailSettings(w, r, http.StatusUnprocessableEntity, EmailSettingsPage{ReplyTo: value, ReplyToError: winnow.ErrorMessage(err)})
		return
	}
	h.Logger.InfoContext(r.Context(), "org reply-to saved", "org_id", u.OrgID, "user_id", u.ID, "set", value != "")
	http.Redirect(w, r, "/settings/emails?saved=reply-to#replies", http.StatusSeeOther)
}
