package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"winnow"
	"winnow/internal/keyring"
)

// applicant is an applicant as the API answers it. Link, the candidate's own URL, is
// only in the answer to the invitation that made it.
type applicant struct {
	ID                 string     `json:"id"`
	FunnelID           string     `json:"jobId"`
	Name               string     `json:"name"`
	Email              string     `json:"email"`
	Status             string     `json:"status"`
	Reason             string     `json:"reason,omitempty"`
	LeverOpportunityID string     `json:"leverOpportunityId,omitempty"`
	InvitedAt          time.Time  `json:"invitedAt"`
	StartedAt          *time.Time `json:"startedAt,omitempty"`
	SubmittedAt        *time.Time `json:"submittedAt,omitempty"`
	DecidedAt          *time.Time `json:"decidedAt,omitempty"`
	Deadline           time.Time  `json:"deadline"`
	ArchivedAt         *time.Time `json:"archivedAt,omitempty"`
	ErasedAt           *time.Time `json:"erasedAt,omitempty"`
	Link               string     `json:"link,omitempty"`
}

// applicantDetail is one applicant with everything known of them.
type applicantDetail struct {
	applicant
	Steps    []answerStep `json:"steps"`
	Reviews  []review     `json:"reviews"`
	Timeline []event      `json:"timeline"`
}

// answerStep is one step the applicant was invited to, with their answer.
type answerStep struct {
	ID          string           `json:"id"`
	Kind        string           `json:"kind"`
	Title       string           `json:"title,omitempty"`
	CompletedAt *time.Time       `json:"completedAt,omitempty"`
	Questions   []questionAnswer `json:"questions,omitempty"`
	Homework    *homeworkAnswer  `json:"homework,omitempty"`
	Video       []promptAnswer   `json:"video,omitempty"`
}

type questionAnswer struct {
	ID         string   `json:"id"`
	Text       string   `json:"text"`
	Type       string   `json:"type"`
	Answer     []string `json:"answer"`
	KnockedOut bool     `json:"knockedOut"`
}

type homeworkAnswer struct {
	Instructions string `json:"instructions"`
	Text         string `json:"text"`
	File         *file  `json:"file,omitempty"`
}

type promptAnswer struct {
	Prompt string `json:"prompt"`
	File   *file  `json:"file,omitempty"`
}

// file is an uploaded file. URL serves it to signed-in members of the org.
type file struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	URL         string `json:"url"`
	// DurationMs is a browser recording's length as the candidate's recorder measured
	// it; absent when unknown (an uploaded file).
	DurationMs int64 `json:"durationMs,omitempty"`
}

type review struct {
	ID            string    `json:"id"`
	ReviewerEmail string    `json:"reviewerEmail"`
	Score         int       `json:"score"`
	Label         string    `json:"label"`
	Comment       string    `json:"comment"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

type event struct {
	Kind       string    `json:"kind"`
	From       string    `json:"from,omitempty"`
	To         string    `json:"to,omitempty"`
	Message    string    `json:"message"`
	ActorEmail string    `json:"actorEmail,omitempty"`
	EmailID    string    `json:"emailId,omitempty"`
	EmailTo    string    `json:"emailTo,omitempty"`
	Call       *call     `json:"call,omitempty"`
	At         time.Time `json:"at"`
}

// call is an outbound API call on the timeline.
type call struct {
	Method     string `json:"method"`
	Path       string `json:"path"`
	Status     int    `json:"status"`
	DurationMs int64  `json:"durationMs"`
}

// applicantList is the answer to GET /api/v1/jobs/{id}/applicants: one page, and the
// cursor of the next (null on the last).
type applicantList struct {
	Applicants []applicant `json:"applicants"`
	NextCursor *string     `json:"nextCursor"`
}

// invitation is the body of POST /api/v1/jobs/{id}/applicants.
type invitation struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// decision is the body of POST /api/v1/applicants/{id}/decision.
type decision struct {
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
}

// reviewBody is the body of POST /api/v1/applicants/{id}/reviews.
type reviewBody struct {
	Score         int    `json:"score"`
	Comment       string `json:"comment"`
	ReviewerEmail string `json:"reviewerEmail"`
}

// ListApplicants lists a page of the job's applicants, newest first, optionally of one
// status: ?limit= of them (DefaultPageSize, at most MaxPageSize), from ?cursor= (the
// nextCursor of the page before; none for the first).
func (h *Handler) ListApplicants(w http.ResponseWriter, r *http.Request) {
	t := token(r)
	f, err := h.Funnels.FindFunnelByID(r.Context(), t.OrgID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	query := r.URL.Query()
	q := winnow.ApplicantQuery{ApplicantFilter: winnow.ApplicantFilter{FunnelID: f.ID, Status: winnow.ApplicantStatus(query.Get("status"))},
		Cursor: query.Get("cursor")}
	if q.Status != "" && !q.Status.Valid() {
		h.fail(w, r, winnow.Errorf(winnow.EINVALID, "Unknown applicant status %q.", q.Status))
		return
	}
	if l := query.Get("limit"); l != "" {
		if q.Limit, err = strconv.Atoi(l); err != nil || q.Limit < 1 {
			h.fail(w, r, winnow.Errorf(winnow.EINVALID, "limit must be a whole number from 1 to %d.", winnow.MaxPageSize))
			return
		}
	}
	page, err := h.Applicants.ListApplicantPage(r.Context(), t.OrgID, q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := applicantList{Applicants: []applicant{}}
	for _, a := range page.Applicants {
		out.Applicants = append(out.Applicants, applicantOut(a))
	}
	if page.Next != "" {
		out.NextCursor = &page.Next
	}
	h.writeJSON(w, r, http.StatusOK, out)
}

// InviteApplicant invites a candidate by name and email to the job and answers 201
// with the new applicant and their link. An email already in the job is a conflict.
func (h *Handler) InviteApplicant(w http.ResponseWriter, r *http.Request) {
	var in invitation
	if !h.decode(w, r, &in) {
		return
	}
	t := token(r)
	f, err := h.Funnels.FindFunnelByID(r.Context(), t.OrgID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	email, err := winnow.NormalizeEmail(in.Email)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// The store refuses an address already in the job (409): its unique index decides,
	// so two requests racing cannot both invite.
	a, err := winnow.NewApplicant(f, in.Name, email, keyring.Token(), h.Clock.Now())
	if err == nil {
		err = h.Applicants.CreateApplicant(r.Context(), a, t.CreatedBy)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.Logger.InfoContext(r.Context(), "candidate invited", "org_id", t.OrgID, "funnel_id", f.ID, "applicant_id", a.ID, "token_id", t.ID)
	out := applicantOut(a)
	out.Link = h.BaseURL + winnow.CandidatePath(a.Token)
	w.Header().Set("Location", "/api/v1/applicants/"+a.ID)
	h.writeJSON(w, r, http.StatusCreated, out)
}

// GetApplicant answers one applicant with the steps they were invited to and their
// answers, the reviews and the timeline.
func (h *Handler) GetApplicant(w http.ResponseWriter, r *http.Request) {
	t := token(r)
	ctx := r.Context()
	a, err := h.Applicants.FindApplicantByID(ctx, t.OrgID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	answers, err := h.Answers.ListStepAnswers(ctx, t.OrgID, a.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	reviews, err := h.Reviews.ListReviews(ctx, t.OrgID, a.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	events, err := h.Applicants.ListEvents(ctx, t.OrgID, a.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	emails, err := h.teamEmails(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sentTo, err := h.Emails.EmailAddresses(ctx, t.OrgID, a.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	steps := a.Steps
	if len(steps) == 0 {
		f, err := h.Funnels.FindFunnelByID(ctx, t.OrgID, a.FunnelID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		steps = f.Steps
	}
	out := applicantDetail{applicant: applicantOut(a), Steps: []answerStep{}, Reviews: []review{}, Timeline: []event{}}
	byStep := make(map[string]*winnow.StepAnswer, len(answers))
	for _, sa := range answers {
		byStep[sa.StepID] = sa
	}
	for _, s := range steps {
		as, err := h.answerStep(r, s, byStep[s.ID])
		if err != nil {
			h.fail(w, r, err)
			return
		}
		out.Steps = append(out.Steps, as)
	}
	for _, rv := range reviews {
		out.Reviews = append(out.Reviews, reviewOut(rv, emails))
	}
	for _, ev := range events {
		out.Timeline = append(out.Timeline, eventOut(ev, emails, sentTo))
	}
	h.writeJSON(w, r, http.StatusOK, out)
}

// answerStep puts step s together with the applicant's answer to it (nil when none).
func (h *Handler) answerStep(r *http.Request, s winnow.Step, sa *winnow.StepAnswer) (answerStep, error) {
	out := answerStep{ID: s.ID, Kind: string(s.Kind), Title: s.Title}
	if sa == nil {
		sa = &winnow.StepAnswer{}
	}
	out.CompletedAt = sa.CompletedAt
	for _, q := range s.Questions {
		vals := sa.Questions[q.ID]
		if vals == nil {
			vals = []string{}
		}
		out.Questions = append(out.Questions, questionAnswer{ID: q.ID, Text: q.Text, Type: string(q.Type), Answer: vals,
			KnockedOut: len(sa.Questions[q.ID]) > 0 && q.KnocksOut(vals)})
	}
	if hw := s.Homework; hw != nil {
		f, err := h.fileOut(r, sa.Files["homework"])
		if err != nil {
			return out, err
		}
		out.Homework = &homeworkAnswer{Instructions: hw.Instructions, Text: sa.Text, File: f}
	}
	if v := s.Video; v != nil {
		for i, p := range v.Prompts {
			f, err := h.fileOut(r, sa.Files[winnow.PromptItem(i)])
			if err != nil {
				return out, err
			}
			out.Video = append(out.Video, promptAnswer{Prompt: p, File: f})
		}
	}
	return out, nil
}

// fileOut describes the org's upload id, or nil for none (or one that is gone).
func (h *Handler) fileOut(r *http.Request, id string) (*file, error) {
	if id == "" {
		return nil, nil
	}
	up, err := h.Answers.FindUpload(r.Context(), token(r).OrgID, id)
	if winnow.ErrorCode(err) == winnow.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &file{ID: up.ID, Name: up.Name, ContentType: up.ContentType, Size: up.Size, URL: h.BaseURL + "/api/v1/uploads/" + up.ID,
		DurationMs: up.DurationMs}, nil
}

// Decide records the decision on a submitted applicant: {"outcome": "qualified"} or
// {"outcome": "unqualified", "reason": "…"}, through the domain's transitions.
func (h *Handler) Decide(w http.ResponseWriter, r *http.Request) {
	var in decision
	if !h.decode(w, r, &in) {
		return
	}
	t := token(r)
	now := h.Clock.Now()
	a, err := h.Applicants.TransitionApplicant(r.Context(), t.OrgID, r.PathValue("id"), func(x *winnow.Applicant) (winnow.Event, error) {
		return x.Decide(now, in.Outcome, in.Reason, t.CreatedBy)
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.Logger.InfoContext(r.Context(), "applicant decided", "org_id", t.OrgID, "funnel_id", a.FunnelID, "applicant_id", a.ID,
		"token_id", t.ID, "status", string(a.Status))
	h.writeJSON(w, r, http.StatusOK, applicantOut(a))
}

// SaveReview records a review of a submitted applicant. The reviewer is the user named
// by reviewerEmail or, without it, the admin who made the token; either must be an
// admin or on the job's team, as in the app.
func (h *Handler) SaveReview(w http.ResponseWriter, r *http.Request) {
	var in reviewBody
	if !h.decode(w, r, &in) {
		return
	}
	t := token(r)
	ctx := r.Context()
	a, err := h.Applicants.FindApplicantByID(ctx, t.OrgID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f, err := h.Funnels.FindFunnelByID(ctx, t.OrgID, a.FunnelID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	reviewer, err := h.reviewer(r, in.ReviewerEmail)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !f.MayDecide(reviewer) {
		h.fail(w, r, winnow.Errorf(winnow.EFORBIDDEN, "%s is neither an admin nor on the team of this job, so cannot review its applicants.", reviewer.Email))
		return
	}
	rv := &winnow.Review{OrgID: t.OrgID, ApplicantID: a.ID, ReviewerID: reviewer.ID, Score: in.Score, Comment: in.Comment}
	if err := h.Reviews.SaveReview(ctx, rv); err != nil {
		h.fail(w, r, err)
		return
	}
	h.Logger.InfoContext(ctx, "review saved", "org_id", t.OrgID, "funnel_id", f.ID, "applicant_id", a.ID, "user_id", reviewer.ID, "token_id", t.ID)
	h.writeJSON(w, r, http.StatusOK, reviewOut(rv, map[string]string{reviewer.ID: reviewer.Email}))
}

// reviewer finds the user a review is recorded for.
func (h *Handler) reviewer(r *http.Request, email string) (*winnow.User, error) {
	return h.actor(r, email, "reviewer", "reviewerEmail")
}

// actor finds the user a request acts as: the one whose address is email or, without
// it, the token's creator. who and field name the role and the body's field in the
// messages.
func (h *Handler) actor(r *http.Request, email, who, field string) (*winnow.User, error) {
	t := token(r)
	if strings.TrimSpace(email) == "" {
		if t.CreatedBy == "" {
			return nil, winnow.Errorf(winnow.EINVALID, "Name the %s with %s: this token was made with the winnow command and belongs to no one.", who, field)
		}
		u, err := h.Users.FindUserByID(r.Context(), t.OrgID, t.CreatedBy)
		if winnow.ErrorCode(err) == winnow.ENOTFOUND {
			return nil, winnow.Errorf(winnow.EINVALID, "Name the %s with %s: the token's creator is no longer a user.", who, field)
		}
		return u, err
	}
	norm, err := winnow.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	u, err := h.Users.FindUserByEmail(r.Context(), norm)
	if winnow.ErrorCode(err) == winnow.ENOTFOUND || (err == nil && u.OrgID != t.OrgID) {
		return nil, winnow.Errorf(winnow.EINVALID, "%s is not a user of this organization.", norm)
	}
	return u, err
}

// applicantOut is a as the API answers it.
func applicantOut(a *winnow.Applicant) applicant {
	return applicant{ID: a.ID, FunnelID: a.FunnelID, Name: a.Name, Email: a.Email, Status: string(a.Status), Reason: a.Reason,
		LeverOpportunityID: a.LeverOpportunityID, InvitedAt: a.InvitedAt, StartedAt: a.StartedAt, SubmittedAt: a.SubmittedAt,
		DecidedAt: a.DecidedAt, Deadline: a.Deadline, ArchivedAt: a.ArchivedAt, ErasedAt: a.ErasedAt}
}

// eventOut is ev as the API answers it: actor by address, and the address an email
// event's email went to (sentTo, by email ID).
func eventOut(ev *winnow.Event, users, sentTo map[string]string) event {
	out := event{Kind: string(ev.Kind), From: string(ev.From), To: string(ev.To), Message: ev.Message,
		ActorEmail: users[ev.ActorID], EmailID: ev.EmailID, EmailTo: sentTo[ev.EmailID], At: ev.At}
	if c := ev.Call; c != nil {
		out.Call = &call{Method: c.Method, Path: c.Path, Status: c.Status, DurationMs: c.Duration.Milliseconds()}
	}
	return out
}

// reviewOut is rv as the API answers it.
func reviewOut(rv *winnow.Review, emails map[string]string) review {
	return review{ID: rv.ID, ReviewerEmail: emails[rv.ReviewerID], Score: rv.Score, Label: winnow.ScoreLabels[rv.Score],
		Comment: rv.Comment, CreatedAt: rv.CreatedAt, UpdatedAt: rv.UpdatedAt}
}
