package recruiter

import (
	"net/http"

	"winnow"
)

// Reopen takes back the decision on an applicant, for admins: a decision on a
// submission goes back to review (winnow.Applicant.Reopen). The timeline records who
// did it; Lever, for applicants from Lever, gets its tag back and a note.
func (h *Handler) Reopen(w http.ResponseWriter, r *http.Request) {
	a, f, ok := h.visibleApplicant(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	u, now := me(r), h.Clock.Now()
	reopened, err := h.Applicants.TransitionApplicant(r.Context(), u.OrgID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) {
		return x.Reopen(now, u)
	})
	if err != nil {
		h.cardFailed(w, r, a, f, err, ReviewForm{}, DecisionForm{Error: winnow.ErrorMessage(err)})
		return
	}
	h.Logger.InfoContext(r.Context(), "decision reopened", "org_id", u.OrgID, "funnel_id", f.ID, "applicant_id", a.ID,
		"user_id", u.ID, "status", string(reopened.Status))
	http.Redirect(w, r, "/applicants/"+a.ID+"?done=reopened#decision", http.StatusSeeOther)
}

// OverrideKnockout lets an applicant who failed a knockout question continue, for
// admins (winnow.Applicant.OverrideKnockout). Then the answer that knocked them out is
// marked completed, so that the candidate's link leads to the next step. The store
// takes answers only from applicants in progress, so the two writes cannot share the
// transition's transaction: should the second fail, the applicant is in progress at
// the knockout step and the admin is told so.
func (h *Handler) OverrideKnockout(w http.ResponseWriter, r *http.Request) {
	a, f, ok := h.visibleApplicant(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	u, now := me(r), h.Clock.Now()
	moved, err := h.Applicants.TransitionApplicant(r.Context(), u.OrgID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) {
		return x.OverrideKnockout(now, u, f.Cadence)
	})
	if err != nil {
		h.cardFailed(w, r, a, f, err, ReviewForm{}, DecisionForm{Error: winnow.ErrorMessage(err)})
		return
	}
	a = moved
	answers, err := h.Answers.ListStepAnswers(r.Context(), u.OrgID, a.ID)
	if ans := a.KnockoutAnswer(answers); err == nil && ans != nil {
		ans.CompletedAt = &now
		_, err = h.Answers.SaveStepAnswer(r.Context(), ans)
	}
	if err != nil {
		h.Logger.ErrorContext(r.Context(), "complete the overridden knockout step", "org_id", u.OrgID, "applicant_id", a.ID, "error", err)
		http.Redirect(w, r, "/applicants/"+a.ID+"?done=overridden-at-step", http.StatusSeeOther)
		return
	}
	h.Logger.InfoContext(r.Context(), "knockout overridden", "org_id", u.OrgID, "funnel_id", f.ID, "applicant_id", a.ID, "user_id", u.ID)
	http.Redirect(w, r, "/applicants/"+a.ID+"?done=overridden", http.StatusSeeOther)
}
