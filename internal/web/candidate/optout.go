package candidate

import (
	"net/http"

	"winnow/internal/web/render"

	"winnow"
)

// OptOutForm serves GET /c/{token}/opt-out: a page that asks the candidate to confirm
// that they are no longer interested. A link that can no longer opt out says where it
// stands instead.
func (h *Handler) OptOutForm(w http.ResponseWriter, r *http.Request) {
	v, ok := h.load(w, r)
	if !ok {
		return
	}
	if st := v.state(); st != stateInvited && st != stateInProgress {
		h.statusPage(w, r, v, http.StatusOK, string(st))
		return
	}
	page := OptOutPage{Chrome: v.chrome("No longer interested?")}
	page.CanOptOut = false // this page is the opt-out; no link to itself
	h.Render.Page(w, r, http.StatusOK, render.PageCandidateOptout, page)
}

// OptOut serves POST /c/{token}/opt-out: invited or in progress → opted out, which
// stops the reminders; then the link says the application was withdrawn.
func (h *Handler) OptOut(w http.ResponseWriter, r *http.Request) {
	v, ok := h.load(w, r)
	if !ok {
		return
	}
	if st := v.state(); st != stateInvited && st != stateInProgress {
		h.refuse(w, r, v)
		return
	}
	a, err := h.transition(r, v, func(a *winnow.Applicant) (winnow.Event, error) { return a.OptOut(v.now, optOutReason) })
	if err != nil {
		h.transitionFailed(w, r, v, err)
		return
	}
	v.a = a
	h.Logger.InfoContext(r.Context(), "candidate opted out", v.logAttrs()...)
	seeOther(w, r, v.base())
}
