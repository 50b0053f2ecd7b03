package api

import (
	"context"
	"net/http"

	"winnow"
)

// ResendInvitation emails the applicant's invitation again with the same link. The body
// may be empty or {}.
func (h *Handler) ResendInvitation(w http.ResponseWriter, r *http.Request) {
	h.invitationChange(w, r, "invitation resent", h.Invitations.ResendInvitation)
}

// ExtendInvitation gives the applicant a new deadline and a new round of reminders,
// counted from now with the job's cadence. The body may be empty or {}.
func (h *Handler) ExtendInvitation(w http.ResponseWriter, r *http.Request) {
	h.invitationChange(w, r, "invitation extended", h.Invitations.ExtendInvitation)
}

// invitationChange runs one of the invitation service's changes on the path's applicant
// as the token's creator, and answers with the applicant.
func (h *Handler) invitationChange(w http.ResponseWriter, r *http.Request, what string,
	change func(ctx context.Context, orgID, applicantID, actorID string) (*winnow.Applicant, error)) {
	if r.ContentLength != 0 {
		var none struct{}
		if !h.decode(w, r, &none) {
			return
		}
	}
	t := token(r)
	a, err := change(r.Context(), t.OrgID, r.PathValue("id"), t.CreatedBy)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.Logger.InfoContext(r.Context(), what, "org_id", t.OrgID, "funnel_id", a.FunnelID, "applicant_id", a.ID, "token_id", t.ID)
	h.writeJSON(w, r, http.StatusOK, applicantOut(a))
}
