package api

import (
	"net/http"
	"time"

	"winnow"
)

// adminAct is the body of the admins' changes to a decision (reopen, override a
// knockout): who acts, when not the token's creator.
type adminAct struct {
	AdminEmail string `json:"adminEmail"`
}

// Reopen takes back the decision on a submitted applicant (winnow.Applicant.Reopen):
// they are in review again. Only an admin may: the user named by adminEmail or,
// without it, the token's creator. The body may be empty.
func (h *Handler) Reopen(w http.ResponseWriter, r *http.Request) {
	a, ok := h.adminChange(w, r, "decision reopened", func(x *winnow.Applicant, u *winnow.User, now time.Time) (winnow.Event, error) {
		return x.Reopen(now, u)
	})
	if ok {
		h.writeJSON(w, r, http.StatusOK, applicantOut(a))
	}
}

// OverrideKnockout lets an applicant who failed a knockout question continue
// (winnow.Applicant.OverrideKnockout), with a new deadline if theirs has passed, as an
// admin named as for Reopen. The answer that
// knocked them out is then marked completed, so that the candidate's link leads to the
// next step, as in the app; should that second write fail, the applicant is in
// progress at the knockout step and the answer is 500.
func (h *Handler) OverrideKnockout(w http.ResponseWriter, r *http.Request) {
	// The job's cadence gives an applicant whose deadline has passed a new one.
	t := token(r)
	a, err := h.Applicants.FindApplicantByID(r.Context(), t.OrgID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f, err := h.Funnels.FindFunnelByID(r.Context(), t.OrgID, a.FunnelID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var now time.Time
	a, ok := h.adminChange(w, r, "knockout overridden", func(x *winnow.Applicant, u *winnow.User, at time.Time) (winnow.Event, error) {
		now = at
		return x.OverrideKnockout(at, u, f.Cadence)
	})
	if !ok {
		return
	}
	answers, err := h.Answers.ListStepAnswers(r.Context(), a.OrgID, a.ID)
	if ans := a.KnockoutAnswer(answers); err == nil && ans != nil {
		ans.CompletedAt = &now
		_, err = h.Answers.SaveStepAnswer(r.Context(), ans)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.writeJSON(w, r, http.StatusOK, applicantOut(a))
}

// adminChange reads the body, finds the acting admin and runs fn on the path's
// applicant as that admin; on failure it has answered and ok is false.
func (h *Handler) adminChange(w http.ResponseWriter, r *http.Request, what string,
	fn func(x *winnow.Applicant, u *winnow.User, now time.Time) (winnow.Event, error)) (_ *winnow.Applicant, ok bool) {
	var in adminAct
	if r.ContentLength != 0 && !h.decode(w, r, &in) {
		return nil, false
	}
	u, err := h.actor(r, in.AdminEmail, "admin", "adminEmail")
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	t, now := token(r), h.Clock.Now()
	a, err := h.Applicants.TransitionApplicant(r.Context(), t.OrgID, r.PathValue("id"), func(x *winnow.Applicant) (winnow.Event, error) {
		return fn(x, u, now)
	})
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	h.Logger.InfoContext(r.Context(), what, "org_id", t.OrgID, "funnel_id", a.FunnelID, "applicant_id", a.ID,
		"token_id", t.ID, "user_id", u.ID, "status", string(a.Status))
	return a, true
}
