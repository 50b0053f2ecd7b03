package recruiter

import (
	"cmp"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"winnow"
	"winnow/internal/web/form"
	"winnow/internal/web/render"
)

// FunnelRow is one line of the Jobs list.
type FunnelRow struct {
	*winnow.Funnel
	Counts   map[winnow.ApplicantStatus]int // as the job page's tiles count (see tiles)
	Total    int                            // everyone ever invited
	ToReview int                            // submitted applicants waiting for the team
}

// FunnelsPage is the data of the Jobs list.
type FunnelsPage struct {
	render.Base
	Rows      []FunnelRow // one page of them
	Pages     Pager
	CanCreate bool
	Any       bool // the user may see at least one job, matching or not
	// The search form: words in the title, the status filter and the order.
	Search   string
	Status   winnow.FunnelStatus
	Sort     string
	Statuses []Option // the status filter's choices
}

// jobsPageSize is how many jobs a page of the Jobs list holds.
const jobsPageSize = winnow.DefaultPageSize

// FunnelList lists the jobs the user may see, with applicants per status: newest first
// or by title (?sort=title), optionally of one status (?status=open) or with words in
// the title (?q=), a page at a time (?after= the last job of the page before, or
// ?before= the first of the page after). An org has jobs by the dozen, not by the
// thousand, so the store reads them all and the page is cut here.
func (h *Handler) FunnelList(w http.ResponseWriter, r *http.Request) {
	u := me(r)
	jobs, err := h.Funnels.ListFunnels(r.Context(), u.OrgID, winnow.FunnelFilter{VisibleTo: u})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	counts, err := h.Applicants.CountApplicants(r.Context(), u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	reached, err := h.Applicants.CountReachedByJob(r.Context(), u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	page := FunnelsPage{Base: h.base(r, "Jobs", "jobs"), CanCreate: u.Role != winnow.RoleLimited, Any: len(jobs) > 0,
		Search: strings.TrimSpace(q.Get("q")), Sort: "newest", Statuses: []Option{{string(winnow.FunnelDraft), "Draft"},
			{string(winnow.FunnelOpen), "Open"}, {string(winnow.FunnelClosed), "Closed"}}}
	query := url.Values{}
	if st := winnow.FunnelStatus(q.Get("status")); st.Valid() {
		page.Status = st
		query.Set("status", string(st))
	}
	if page.Search != "" {
		query.Set("q", page.Search)
	}
	if q.Get("sort") == "title" {
		page.Sort = "title"
		query.Set("sort", "title")
		slices.SortStableFunc(jobs, func(a, b *winnow.Funnel) int {
			return cmp.Or(cmp.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title)), cmp.Compare(a.ID, b.ID))
		})
	}
	var kept []*winnow.Funnel
	for _, f := range jobs {
		if (page.Status == "" || f.Status == page.Status) &&
			(page.Search == "" || strings.Contains(strings.ToLower(f.Title), strings.ToLower(page.Search))) {
			kept = append(kept, f)
		}
	}
	from, to := pageBounds(len(kept), jobsPageSize, func(i int) string { return kept[i].ID }, q.Get("after"), q.Get("before"))
	link := func(key, id string) string {
		v := url.Values{}
		maps.Copy(v, query)
		v.Set(key, id)
		return (&url.URL{Path: "/jobs", RawQuery: v.Encode()}).String()
	}
	if from > 0 {
		page.Pages.Prev = link("before", kept[from].ID)
	}
	if to < len(kept) {
		page.Pages.Next = link("after", kept[to-1].ID)
	}
	for _, f := range kept[from:to] {
		row := FunnelRow{Funnel: f, Counts: tiles(counts[f.ID], reached[f.ID]), ToReview: counts[f.ID][winnow.StatusSubmitted],
			Total: reached[f.ID][winnow.StatusInvited]}
		page.Rows = append(page.Rows, row)
	}
	h.Render.Page(w, r, http.StatusOK, render.PageJobs, page)
}

// pageBounds returns the range [from, to) of the page of n items, size a page, that
// follows the item whose key is after, or ends before the one whose key is before, or
// else the first page. A key no longer in the list gives the first page.
func pageBounds(n, size int, key func(int) string, after, before string) (int, int) {
	for i := 0; i < n; i++ {
		switch key(i) {
		case after:
			if after != "" {
				return i + 1, min(n, i+1+size)
			}
		case before:
			if before != "" {
				return max(0, i-size), i
			}
		}
	}
	return 0, min(n, size)
}

// FunnelFormPage is the data of the new-job form.
type FunnelFormPage struct {
	render.Base
	Funnel *winnow.Funnel
	Error  string
}

// NewFunnel shows the form for a new job.
func (h *Handler) NewFunnel(w http.ResponseWriter, r *http.Request) {
	h.Render.Page(w, r, http.StatusOK, render.PageJobNew, FunnelFormPage{Base: h.base(r, "New job", "jobs"), Funnel: &winnow.Funnel{Status: winnow.FunnelDraft}})
}

// CreateFunnel stores a new job from the form, with its creator on the team, and opens
// the editor so that steps can be added.
func (h *Handler) CreateFunnel(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	u := me(r)
	f := &winnow.Funnel{OrgID: u.OrgID, Title: r.PostFormValue("title"), Description: strings.TrimSpace(r.PostFormValue("description")),
		Status: winnow.FunnelStatus(r.PostFormValue("status")), OpenReview: r.PostFormValue("review") == "open", Team: []string{u.ID}}
	if err := h.Funnels.CreateFunnel(r.Context(), f); err != nil {
		if winnow.ErrorCode(err) == winnow.EINVALID {
			h.Render.Page(w, r, http.StatusUnprocessableEntity, render.PageJobNew, FunnelFormPage{Base: h.base(r, "New job", "jobs"), Funnel: f, Error: winnow.ErrorMessage(err)})
			return
		}
		h.fail(w, r, err)
		return
	}
	h.Logger.InfoContext(r.Context(), "job created", "org_id", f.OrgID, "funnel_id", f.ID, "user_id", u.ID)
	http.Redirect(w, r, "/jobs/"+f.ID+"/edit#add-step", http.StatusSeeOther)
}

// StepSummary is one line of a job's step overview.
type StepSummary struct {
	Number int
	Kind   string
	Title  string
	Detail string
}

// FunnelPage is the data of a job's detail page.
type FunnelPage struct {
	render.Base
	Funnel     *winnow.Funnel
	Steps      []StepSummary
	Team       []*winnow.User
	Applicants []ApplicantView // one page of them, newest first
	Pages      Pager
	Counts     map[winnow.ApplicantStatus]int // in each status now
	// Tiles are the counts the page's tiles show: everyone who ever reached invited, in
	// progress and submitted, and those qualified, unqualified and opted out now.
	Tiles     map[winnow.ApplicantStatus]int
	ToReview  int
	CanEdit   bool // members and admins edit jobs and invite candidates
	CanInvite bool // CanEdit, and the job is open
	Invite    InvitationForm
}

// Funnel shows one job: its steps, team, applicants and the invitation form.
func (h *Handler) Funnel(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok {
		return
	}
	h.renderFunnel(w, r, http.StatusOK, f, InvitationForm{})
}

// renderFunnel renders the detail page of f with the invitation form in the given state:
// one page of its applicants (?cursor=) and their counts per status, which cost the
// same however many applicants the job has.
func (h *Handler) renderFunnel(w http.ResponseWriter, r *http.Request, status int, f *winnow.Funnel, inv InvitationForm) {
	u := me(r)
	filter := winnow.ApplicantFilter{FunnelID: f.ID}
	var cur string
	if r.Method == http.MethodGet {
		cur = cursor(r) // after an invitation, the first page shows the new applicants
	}
	apps, err := h.Applicants.ListApplicantPage(r.Context(), u.OrgID, winnow.ApplicantQuery{ApplicantFilter: filter, Cursor: cur})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	counts, err := h.Applicants.CountStatuses(r.Context(), u.OrgID, filter)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	reached, err := h.Applicants.CountReached(r.Context(), u.OrgID, filter)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	users, err := h.Users.ListUsers(r.Context(), u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page := FunnelPage{Base: h.base(r, f.Title, "jobs"), Funnel: f, Counts: counts, Tiles: tiles(counts, reached),
		CanEdit: u.Role != winnow.RoleLimited, Invite: inv, Pages: pager("/jobs/"+f.ID, nil, "applicants", apps)}
	page.CanInvite = page.CanEdit && f.Status == winnow.FunnelOpen
	for _, a := range apps.Applicants {
		page.Applicants = append(page.Applicants, viewApplicant(a, f))
	}
	page.ToReview = page.Counts[winnow.StatusSubmitted]
	for _, m := range users {
		if f.OnTeam(m.ID) {
			page.Team = append(page.Team, m)
		}
	}
	for i, s := range f.Steps {
		page.Steps = append(page.Steps, summarizeStep(i, s))
	}
	h.Render.Page(w, r, status, render.PageJob, page)
}

// tiles merges the counts of the statuses applicants are in now with those they ever
// reached: a tile reading "Invited 0" after three invitations (all three started since)
// tells the recruiter nothing, "Invited 3" does. Final statuses count as they are now.
func tiles(now, reached map[winnow.ApplicantStatus]int) map[winnow.ApplicantStatus]int {
	out := make(map[winnow.ApplicantStatus]int, len(winnow.Statuses))
	for _, st := range winnow.Statuses {
		if st.Final() {
			out[st] = now[st]
		} else {
			out[st] = reached[st]
		}
	}
	return out
}

// summarizeStep describes step i of a job in one line.
func summarizeStep(i int, s winnow.Step) StepSummary {
	sum := StepSummary{Number: i + 1, Kind: s.Kind.Label(), Title: s.Title}
	switch s.Kind {
	case winnow.StepQuestions:
		knockouts := 0
		for _, q := range s.Questions {
			if q.Knockout != nil {
				knockouts++
			}
		}
		sum.Detail = plural(len(s.Questions), "question", "questions")
		if knockouts > 0 {
			sum.Detail += ", " + plural(knockouts, "knockout", "knockouts")
		}
	case winnow.StepHomework:
		if h := s.Homework; h != nil {
			sum.Detail = homeworkAnswerKind(h)
		}
	case winnow.StepVideo:
		if v := s.Video; v != nil {
			sum.Detail = plural(len(v.Prompts), "prompt", "prompts")
			if v.MaxSeconds > 0 {
				sum.Detail += ", up to " + duration(v.MaxSeconds) + " each"
			}
		}
	}
	return sum
}

// visibleFunnel loads the job named in the path and checks the user may see it. An ID
// from another org is "not found"; a job of this org off a limited member's teams is
// "forbidden", with a sentence that says why.
func (h *Handler) visibleFunnel(w http.ResponseWriter, r *http.Request) (*winnow.Funnel, bool) {
	u := me(r)
	f, err := h.Funnels.FindFunnelByID(r.Context(), u.OrgID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return nil, false
	}
	if !f.VisibleTo(u) {
		h.fail(w, r, errNotOnTeam)
		return nil, false
	}
	return f, true
}

// errNotOnTeam is the answer to a limited member who asks for a job off their teams.
var errNotOnTeam = winnow.Errorf(winnow.EFORBIDDEN, "You are not on the team of this job. Ask an admin to add you to it.")

// Form limits: no recruiter form comes near them.
const (
	maxForm      = 1 << 20  // every form of the signed-in pages
	maxLoginForm = 64 << 10 // the sign-in form, which anyone may send
)

// parseForm reads the request's form within maxForm; see parseFormMax.
func (h *Handler) parseForm(w http.ResponseWriter, r *http.Request) bool {
	return h.parseFormMax(w, r, maxForm)
}

// parseFormMax reads the request's form within limit bytes and answers a form it
// refuses itself: too large (413), a field that cannot be stored (422, naming it), or
// unreadable (400).
func (h *Handler) parseFormMax(w http.ResponseWriter, r *http.Request, limit int64) bool {
	if err := form.Parse(w, r, limit); err != nil {
		status, msg := form.Problem(err)
		h.Render.ErrorStatus(w, r, h.base(r, "", ""), status, msg)
		return false
	}
	return true
}
