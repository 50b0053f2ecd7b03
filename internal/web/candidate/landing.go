package candidate

import (
	"net/http"

	"winnow/internal/web/render"

	"winnow"
)

// Landing serves GET /c/{token}: the job, its steps and a Start button for an invited
// candidate; a candidate in progress goes back to where they left off; anyone else
// sees where they stand.
func (h *Handler) Landing(w http.ResponseWriter, r *http.Request) {
	v, ok := h.load(w, r)
	if !ok {
		return
	}
	switch st := v.state(); st {
	case stateInvited:
		steps, estimate := summarize(v.a.Steps)
		h.Render.Page(w, r, http.StatusOK, render.PageCandidateLanding, LandingPage{
			Chrome: v.chrome(v.funnel.Title), Name: firstName(v.a.Name), Description: v.funnel.Description,
			Steps: steps, Estimate: estimate, Deadline: moment(v.a.Deadline)})
	case stateInProgress:
		h.resume(w, r, v)
	default:
		h.statusPage(w, r, v, http.StatusOK, string(st))
	}
}

// resume redirects to the first step not yet completed, or to the review.
func (h *Handler) resume(w http.ResponseWriter, r *http.Request, v *visit) {
	answers, err := h.answers(r, v)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	seeOther(w, r, v.stepURL(nextStep(v.a.Steps, answers)))
}

// Start serves POST /c/{token}/start: the candidate begins, invited → in progress, and
// goes to the first step. Starting twice (a double click, a second tab) just resumes.
func (h *Handler) Start(w http.ResponseWriter, r *http.Request) {
	v, ok := h.load(w, r)
	if !ok {
		return
	}
	switch v.state() {
	case stateInProgress:
		h.resume(w, r, v)
		return
	case stateInvited:
	default:
		h.refuse(w, r, v)
		return
	}
	a, err := h.transition(r, v, func(a *winnow.Applicant) (winnow.Event, error) { return a.Start(v.now) })
	if err != nil {
		if now, ferr := h.Applicants.FindApplicantByID(r.Context(), v.a.OrgID, v.a.ID); ferr == nil && now.Status == winnow.StatusInProgress {
			v.a = now // another tab started first
			h.resume(w, r, v)
			return
		}
		h.transitionFailed(w, r, v, err)
		return
	}
	v.a = a
	h.Logger.InfoContext(r.Context(), "candidate started", v.logAttrs()...)
	seeOther(w, r, v.stepURL(0))
}
