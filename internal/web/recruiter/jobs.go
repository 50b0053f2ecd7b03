package recruiter

import (
	"net/http"
	"strings"

	"winnow"
	"winnow/internal/web/render"
)

// JobsPage is the data of the Jobs list.
type JobsPage struct {
	render.Base
	Jobs      []*winnow.Funnel
	Counts    map[string]map[winnow.ApplicantStatus]int
	CanCreate bool
}

// JobList lists the jobs the user may see, with applicants per status.
func (h *Handler) JobList(w http.ResponseWriter, r *http.Request) {
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
	h.Render.Page(w, r, http.StatusOK, "jobs", JobsPage{Base: h.base(r, "Jobs", "jobs"), Jobs: jobs, Counts: counts,
		CanCreate: u.Role != winnow.RoleLimited})
}

// JobFormPage is the data of the new-job form.
type JobFormPage struct {
	render.Base
	Job   *winnow.Funnel
	Error string
}

// NewJob shows the form for a new job.
func (h *Handler) NewJob(w http.ResponseWriter, r *http.Request) {
	h.Render.Page(w, r, http.StatusOK, "job_new", JobFormPage{Base: h.base(r, "New job", "jobs"), Job: &winnow.Funnel{Status: winnow.FunnelDraft}})
}

// CreateJob stores a new job from the form and opens it.
func (h *Handler) CreateJob(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r) {
		return
	}
	u := me(r)
	f := &winnow.Funnel{OrgID: u.OrgID, Title: r.PostFormValue("title"), Description: strings.TrimSpace(r.PostFormValue("description")),
		Status: winnow.FunnelStatus(r.PostFormValue("status")), Team: []string{u.ID}}
	if err := h.Funnels.CreateFunnel(r.Context(), f); err != nil {
		if winnow.ErrorCode(err) == winnow.EINVALID {
			h.Render.Page(w, r, http.StatusUnprocessableEntity, "job_new", JobFormPage{Base: h.base(r, "New job", "jobs"), Job: f, Error: winnow.ErrorMessage(err)})
			return
		}
		h.fail(w, r, err)
		return
	}
	h.Logger.InfoContext(r.Context(), "job created", "org_id", f.OrgID, "funnel_id", f.ID, "user_id", u.ID)
	http.Redirect(w, r, "/jobs/"+f.ID, http.StatusSeeOther)
}

// JobPage is the data of a job's detail page.
type JobPage struct {
	render.Base
	Job        *winnow.Funnel
	Team       []*winnow.User
	Members    []*winnow.User // everyone who could be on the team
	Applicants []*winnow.Applicant
	CanEdit    bool
}

// Job shows one job: its steps, team and applicants.
func (h *Handler) Job(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok {
		return
	}
	u := me(r)
	apps, err := h.Applicants.ListApplicants(r.Context(), u.OrgID, winnow.ApplicantFilter{FunnelID: f.ID})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	users, err := h.Users.ListUsers(r.Context(), u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page := JobPage{Base: h.base(r, f.Title, "jobs"), Job: f, Applicants: apps, Members: users, CanEdit: u.Role != winnow.RoleLimited}
	for _, m := range users {
		if f.OnTeam(m.ID) {
			page.Team = append(page.Team, m)
		}
	}
	h.Render.Page(w, r, http.StatusOK, "job", page)
}

// UpdateTeam replaces the job team with the checked members.
func (h *Handler) UpdateTeam(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok || !h.parseForm(w, r) {
		return
	}
	u := me(r)
	team := []string{}
	for _, id := range r.PostForm["team"] {
		m, err := h.Users.FindUserByID(r.Context(), u.OrgID, id)
		if err != nil {
			h.fail(w, r, winnow.Errorf(winnow.EINVALID, "One of the chosen team members does not exist."))
			return
		}
		team = append(team, m.ID)
	}
	f.Team = team
	if err := h.Funnels.UpdateFunnel(r.Context(), f); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/jobs/"+f.ID, http.StatusSeeOther)
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
		h.fail(w, r, winnow.Errorf(winnow.EFORBIDDEN, "You are not on the team of this job. Ask an admin to add you to it."))
		return nil, false
	}
	return f, true
}

func (h *Handler) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		h.Render.ErrorStatus(w, r, h.base(r, "", ""), http.StatusBadRequest, "The form could not be read. Please try again.")
		return false
	}
	return true
}
