package recruiter

import (
	"maps"
	"net/http"
	"net/url"
	"strings"

	"winnow"
	"winnow/internal/web/render"
)

// maxSearchLength bounds the words searched for; longer input is cut.
const maxSearchLength = 100

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
	// The search form: words to find, the job filter, the order, and the jobs to pick.
	Search string
	Job    string
	Sort   winnow.ApplicantOrder
	Jobs   []*winnow.Funnel
	// Filters are the status filter's links, "All" first, which keep the search, the
	// job and the order.
	Filters []StatusFilter
}

// StatusFilter is one link of the Applicants list's status filter.
type StatusFilter struct {
	Label   string
	Href    string
	N       int
	Current bool
}

// ApplicantList lists a page of the applicants of the jobs the user may see, newest
// first or oldest first (?sort=oldest), optionally only those in one status
// (?status=submitted), of one job (?job=) or matching a search (?q=, a name, an email
// or a job's title), with their counts per status; the next pages by ?cursor=. It costs the same however many applicants
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
	q := r.URL.Query()
	if id := q.Get("job"); id != "" {
		if _, ok := byID[id]; ok {
			filter.FunnelID = id
			query.Set("job", id)
		}
	}
	search := strings.TrimSpace(q.Get("q"))
	if len([]rune(search)) > maxSearchLength {
		search = string([]rune(search)[:maxSearchLength])
	}
	if search != "" {
		query.Set("q", search)
		filter.Search = search
		for _, j := range jobs {
			if strings.Contains(strings.ToLower(j.Title), strings.ToLower(search)) {
				filter.SearchFunnelIDs = append(filter.SearchFunnelIDs, j.ID)
			}
		}
	}
	order := winnow.OrderNewest
	if o := winnow.ApplicantOrder(q.Get("sort")); o == winnow.OrderOldest {
		order = o
		query.Set("sort", string(o))
	}
	kept := maps.Clone(query)
	if s := winnow.ApplicantStatus(q.Get("status")); s.Valid() {
		filter.Status = s
		query.Set("status", string(s))
	}
	apps, err := h.Applicants.ListApplicantPage(r.Context(), u.OrgID, winnow.ApplicantQuery{ApplicantFilter: filter, Order: order, Cursor: cursor(r)})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// The kept counts know jobs and statuses, not searches: a search shows no counts
	// rather than counts of something else.
	counts := map[winnow.ApplicantStatus]int{}
	if search == "" {
		if counts, err = h.Applicants.CountStatuses(r.Context(), u.OrgID, filter); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	page := ApplicantsPage{Base: h.base(r, "Applicants", "applicants"), Status: filter.Status, Counts: counts,
		Pages: pager("/applicants", query, "", apps), Search: search, Job: filter.FunnelID, Sort: order, Jobs: jobs}
	for _, n := range counts {
		page.Total += n
	}
	href := func(st winnow.ApplicantStatus) string {
		v := maps.Clone(kept)
		if st != "" {
			v.Set("status", string(st))
		}
		return (&url.URL{Path: "/applicants", RawQuery: v.Encode()}).String()
	}
	page.Filters = append(page.Filters, StatusFilter{Label: "All", Href: href(""), N: page.Total, Current: filter.Status == ""})
	for _, st := range winnow.Statuses {
		page.Filters = append(page.Filters, StatusFilter{Label: st.Label(), Href: href(st), N: counts[st], Current: filter.Status == st})
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
