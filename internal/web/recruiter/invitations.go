package recruiter

import (
	"context"
	"net/http"

	"winnow"
)

// Resend emails the applicant's invitation again, with the same link, and returns to
// their card.
func (h *Handler) Resend(w http.ResponseWriter, r *http.Request) {
	h.invitationAction(w, r, "resent", h.Invitations.ResendInvitation)
}

// Extend gives the applicant a new deadline and a new round of reminders, counted from
// now with the job's cadence, and returns to their card.
func (h *Handler) Extend(w http.ResponseWriter, r *http.Request) {
	h.invitationAction(w, r, "extended", h.Invitations.ExtendInvitation)
}

func (h *Handler) invitationAction(w http.ResponseWriter, r *http.Request, done string,
	fn func(ctx context.Context, orgID, applicantID, actorID string) (*winnow.Applicant, error)) {
	u := me(r)
	a, err := fn(r.Context(), u.OrgID, r.PathValue("id"), u.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.Logger.InfoContext(r.Context(), "invitation "+done, "org_id", u.OrgID, "applicant_id", a.ID, "user_id", u.ID)
	http.Redirect(w, r, "/applicants/"+a.ID+"?done="+done, http.StatusSeeOther)
}
