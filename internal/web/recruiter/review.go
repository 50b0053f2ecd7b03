package recruiter

import (
	"net/http"
	"strconv"
	"strings"

	"winnow"
	"winnow/internal/web/render"
)

// QueuePage is the data of a job's review queue.
type QueuePage struct {
	render.Base
	Funnel    *winnow.Funnel
	Rows      []QueueRow // one page of the queue
	Pages     Pager
	CanDecide bool
	Waiting   int
	Decided   int
}

// QueueRow is one submitted applicant waiting for the job team.
type QueueRow struct {
	ApplicantView
	Reviews   int
	Average   string
	MyScore   int
	MyLabel   string
	Reviewers []string
}

// ReviewQueue lists a page of a job's submitted applicants, longest waiting first,
// with the reviews they have so far, and how many wait and are decided, counted by the
// store; the next pages by ?cursor=.
func (h *Handler) ReviewQueue(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok {
		return
	}
	u := me(r)
	filter := winnow.ApplicantFilter{FunnelID: f.ID, Status: winnow.StatusSubmitted}
	apps, err := h.Applicants.ListApplicantPage(r.Context(), u.OrgID, winnow.ApplicantQuery{ApplicantFilter: filter,
		Order: winnow.OrderWaiting, Cursor: cursor(r)})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	counts, err := h.Applicants.CountStatuses(r.Context(), u.OrgID, filter)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	users, err := h.Users.ListUsers(r.Context(), u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	names := make(map[string]string, len(users))
	for _, m := range users {
		names[m.ID] = userName(m)
	}
	page := QueuePage{Base: h.base(r, "Review: "+f.Title, "jobs"), Funnel: f, CanDecide: f.MayDecide(u),
		Pages: pager("/jobs/"+f.ID+"/review", nil, "", apps), Waiting: counts[winnow.StatusSubmitted],
		Decided: counts[winnow.StatusQualified] + counts[winnow.StatusUnqualified]}
	for _, a := range apps.Applicants {
		row, err := h.queueRow(r, a, f, names)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		page.Rows = append(page.Rows, row)
	}
	h.Render.Page(w, r, http.StatusOK, render.PageReviewQueue, page)
}

// queueRow summarises the reviews of a, a submitted applicant of f.
func (h *Handler) queueRow(r *http.Request, a *winnow.Applicant, f *winnow.Funnel, names map[string]string) (QueueRow, error) {
	row := QueueRow{ApplicantView: viewApplicant(a, f)}
	if row.SubmittedAt == nil {
		row.SubmittedAt = &a.UpdatedAt
	}
	reviews, err := h.Reviews.ListReviews(r.Context(), a.OrgID, a.ID)
	if err != nil {
		return row, err
	}
	for _, rv := range reviews {
		row.Reviewers = append(row.Reviewers, nameOr(names, rv.ReviewerID, "a former member"))
		if rv.ReviewerID == me(r).ID {
			row.MyScore, row.MyLabel = rv.Score, winnow.ScoreLabels[rv.Score]
		}
	}
	row.Reviews, row.Average = len(reviews), winnow.AverageScore(reviews)
	return row, nil
}

// SaveReview stores the signed-in reviewer's score and comment on a submitted
// applicant. Admins and the job team may review; see winnow.Funnel.MayDecide.
func (h *Handler) SaveReview(w http.ResponseWriter, r *http.Request) {
	a, f, ok := h.decidableApplicant(w, r)
	if !ok {
		return
	}
	u := me(r)
	score, _ := strconv.Atoi(r.PostFormValue("score"))
	rv := &winnow.Review{OrgID: u.OrgID, ApplicantID: a.ID, ReviewerID: u.ID, Score: score, Comment: r.PostFormValue("comment")}
	if err := h.Reviews.SaveReview(r.Context(), rv); err != nil {
		h.cardFailed(w, r, a, f, err, ReviewForm{Score: score, Comment: rv.Comment, Error: winnow.ErrorMessage(err)}, DecisionForm{})
		return
	}
	h.Logger.InfoContext(r.Context(), "review saved", "org_id", u.OrgID, "funnel_id", f.ID, "applicant_id", a.ID, "user_id", u.ID, "score", score)
	http.Redirect(w, r, "/applicants/"+a.ID+"?done=review#reviews", http.StatusSeeOther)
}

// Decide records the team's decision on a submitted applicant: qualified, or
// unqualified with a reason, through the domain's transitions.
func (h *Handler) Decide(w http.ResponseWriter, r *http.Request) {
	a, f, ok := h.decidableApplicant(w, r)
	if !ok {
		return
	}
	u := me(r)
	outcome, reason := r.PostFormValue("outcome"), strings.TrimSpace(r.PostFormValue("reason"))
	now := h.Clock.Now()
	decided, err := h.Applicants.TransitionApplicant(r.Context(), u.OrgID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) {
		return x.Decide(now, outcome, reason, u.ID)
	})
	if err != nil {
		h.cardFailed(w, r, a, f, err, ReviewForm{}, DecisionForm{Reason: reason, Error: winnow.ErrorMessage(err)})
		return
	}
	h.Logger.InfoContext(r.Context(), "applicant decided", "org_id", u.OrgID, "funnel_id", f.ID, "applicant_id", a.ID,
		"user_id", u.ID, "status", string(decided.Status))
	http.Redirect(w, r, "/applicants/"+a.ID+"?done="+string(decided.Status), http.StatusSeeOther)
}

// decidableApplicant loads the applicant of a review or decision form and checks that
// the user may review and decide on them.
func (h *Handler) decidableApplicant(w http.ResponseWriter, r *http.Request) (*winnow.Applicant, *winnow.Funnel, bool) {
	a, f, ok := h.visibleApplicant(w, r)
	if !ok || !h.parseForm(w, r) {
		return nil, nil, false
	}
	if !f.MayDecide(me(r)) {
		h.fail(w, r, winnow.Errorf(winnow.EFORBIDDEN, "Only the job team and admins review and decide on applicants of this job."))
		return nil, nil, false
	}
	return a, f, true
}

// cardFailed shows the card again with the form's error, or an error page for errors
// that the form cannot fix.
func (h *Handler) cardFailed(w http.ResponseWriter, r *http.Request, a *winnow.Applicant, f *winnow.Funnel, err error, rf ReviewForm, df DecisionForm) {
	switch winnow.ErrorCode(err) {
	case winnow.EINVALID, winnow.ECONFLICT:
		if fresh, ferr := h.Applicants.FindApplicantByID(r.Context(), a.OrgID, a.ID); ferr == nil {
			a = fresh
		}
		h.renderCard(w, r, render.Status(err), a, f, rf, df)
	default:
		h.fail(w, r, err)
	}
}
