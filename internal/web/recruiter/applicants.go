package recruiter

import (
	"net/http"

	"winnow"
	"winnow/internal/web/render"
)

// ApplicantRow is one line of the applicants list.
type ApplicantRow struct {
	*winnow.Applicant
	JobTitle string
}

// ApplicantsPage is the data of the applicants list.
type ApplicantsPage struct {
	render.Base
	Rows []ApplicantRow
}

// ApplicantList lists applicants across the jobs the user may see, newest first.
func (h *Handler) ApplicantList(w http.ResponseWriter, r *http.Request) {
	u := me(r)
	jobs, err := h.Funnels.ListFunnels(r.Context(), u.OrgID, winnow.FunnelFilter{VisibleTo: u})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	titles := make(map[string]string, len(jobs))
	for _, j := range jobs {
		titles[j.ID] = j.Title
	}
	apps, err := h.Applicants.ListApplicants(r.Context(), u.OrgID, winnow.ApplicantFilter{})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page := ApplicantsPage{Base: h.base(r, "Applicants", "applicants")}
	for _, a := range apps {
		if t, ok := titles[a.FunnelID]; ok {
			page.Rows = append(page.Rows, ApplicantRow{Applicant: a, JobTitle: t})
		}
	}
	h.Render.Page(w, r, http.StatusOK, "applicants", page)
}
