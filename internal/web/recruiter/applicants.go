package recruiter

import (
	"net/http"

	"winnow"
	"winnow/internal/web/render"
)

// ApplicantRow is one line of the applicants list.
type ApplicantRow struct {
	ApplicantView
	JobTitle string
}

// ApplicantsPage is the data of the applicants list.
type ApplicantsPage struct {
	render.Base
	Rows   []ApplicantRow
	Status winnow.ApplicantStatus // the status filter, if any
	Counts map[winnow.ApplicantStatus]int
	Total  int
}

// ApplicantList lists applicants across the jobs the user may see, newest first,
// optionally only those in one status (?status=submitted).
func (h *Handler) ApplicantList(w http.ResponseWriter, r *http.Request) {
	u := me(r)
	jobs, err := h.Funnels.ListFunnels(r.Context(), u.OrgID, winnow.FunnelFilter{VisibleTo: u})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	byID := make(map[string]*winnow.Funnel, len(jobs))
	for _, j := range jobs {
		byID[j.ID] = j
	}
	apps, err := h.Applicants.ListApplicants(r.Context(), u.OrgID, winnow.ApplicantFilter{})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page := ApplicantsPage{Base: h.base(r, "Applicants", "applicants"), Counts: map[winnow.ApplicantStatus]int{}}
	if s := winnow.ApplicantStatus(r.URL.Query().Get("status")); s.Valid() {
		page.Status = s
	}
	for _, a := range apps {
		f, ok := byID[a.FunnelID]
		if !ok {
			continue
		}
		page.Counts[a.Status]++
		page.Total++
		if page.Status == "" || a.Status == page.Status {
			page.Rows = append(page.Rows, ApplicantRow{ApplicantView: viewApplicant(a, f), JobTitle: f.Title})
		}
	}
	h.Render.Page(w, r, http.StatusOK, render.PageApplicants, page)
}
