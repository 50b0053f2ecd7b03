package recruiter

import (
	"net/http"
	"net/url"

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
	Rows   []ApplicantRow         // one page of them
	Pages  Pager                  // the pages beside it
	Status winnow.ApplicantStatus // the status filter, if any
	Counts map[winnow.ApplicantStatus]int
	Total  int
}

// ApplicantList lists a page of the applicants of the jobs the user may see, newest
// first, optionally only those in one status (?status=submitted), with their counts
// per status; the next pages by ?cursor=. It costs the same however many applicants
// there are: the store finds the page and counts through its indexes.
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
	filter := winnow.ApplicantFilter{VisibleTo: u}
	query := url.Values{}
	if s := winnow.ApplicantStatus(r.URL.Query().Get("status")); s.Valid() {
		filter.Status = s
		query.Set("status", string(s))
	}
	apps, err := h.Applicants.ListApplicantPage(r.Context(), u.OrgID, winnow.ApplicantQuery{ApplicantFilter: filter, Cursor: cursor(r)})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	counts, err := h.Applicants.CountStatuses(r.Context(), u.OrgID, filter)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page := ApplicantsPage{Base: h.base(r, "Applicants", "applicants"), Status: filter.Status, Counts: counts,
		Pages: pager("/applicants", query, "", apps)}
	for _, n := range counts {
		page.Total += n
	}
	for _, a := range apps.Applicants {
		// The store kept only the jobs the user may see; a job created since the
		// list above was read waits for the next page view.
		if f, ok := byID[a.FunnelID]; ok {
			page.Rows = append(page.Rows, ApplicantRow{ApplicantView: viewApplicant(a, f), JobTitle: f.Title})
		}
	}
	h.Render.Page(w, r, http.StatusOK, render.PageApplicants, page)
}
