package recruiter

import (
	"fmt"
	"net/http"
	"time"

	"winnow"
	"winnow/internal/web/render"
)

// CardPage is the data of an applicant's card: status, answers, reviews, timeline and,
// for those who may decide, the review and decision forms.
type CardPage struct {
	render.Base
	Funnel    *winnow.Funnel
	Applicant ApplicantView
	Link      string // the candidate's own link, while they can use it and review is open
	Steps     []AnswerStep
	Reviews   []ReviewView
	Average   string
	Events    []EventView
	CanDecide bool // admin or on the job team
	Open      bool // submitted: waiting for reviews and the decision
	// Reopen and Override are set for admins when the decision may be taken back: a
	// decision on a submission, or a failed knockout.
	Reopen   bool
	Override bool
	// FromLever is set when the applicant came from Lever, so that a decision's reason
	// is written back there; hints say "shown in Lever" only then.
	FromLever bool
	Review    ReviewForm
	Decision  DecisionForm
	Scores    []ScoreOption
	// Invitation is set for admins while the applicant still owes a submission: the
	// deadline, with buttons to resend and extend the invitation.
	Invitation *InvitationView
	// PrevInQueue and NextInQueue are the cards of the applicants before and after this
	// one in the job's review queue (submitted, longest waiting first); "" at its ends.
	PrevInQueue string
	NextInQueue string
}

// InvitationView is the open invitation on the card.
type InvitationView struct {
	Deadline   string
	DeadlineAt time.Time // for the viewer's own time zone (see localTime)
	Expired    bool
	HasEmail   bool
}

// AnswerStep is one step of the applicant's funnel with what they answered.
type AnswerStep struct {
	Number    int
	Kind      string
	KindLabel string
	Title     string
	Completed bool
	Started   bool
	// NotReached is set for a step without an answer once the applicant no longer
	// owes a submission (a knockout ended the funnel, they opted out): they never got there.
	NotReached bool
	Questions  []AnswerQuestion
	// Homework.
	Instructions string
	Text         string
	File         *FileView
	// Video interview.
	Prompts []PromptAnswer
}

// AnswerQuestion is one question with the applicant's answer.
type AnswerQuestion struct {
	Text       string
	TypeLabel  string
	Values     []string
	KnockedOut bool   // the answer fails the question's knockout rule
	Rule       string // the knockout's reason, if the question has one
}

// PromptAnswer is one video prompt with the recording that answers it.
type PromptAnswer struct {
	Number int
	Prompt string
	File   *FileView
}

// FileView is an uploaded file as the card links to it.
type FileView struct {
	ID          string
	Name        string
	Size        string
	ContentType string
	Missing     bool // the answer names an upload that cannot be found
	// Length is a recording's length as the candidate's recorder measured it ("1:05"),
	// empty when unknown: recorded WebM carries none, so players show 0:00.
	Length string
}

// ReviewView is one reviewer's review.
type ReviewView struct {
	Reviewer string
	Score    int
	Label    string
	Comment  string
	At       time.Time
	Mine     bool
}

// EventView is one entry of the timeline. To is the address an email event's email
// went to, shown only when the applicant's identity is; Call is the outbound API call
// an integration event records.
type EventView struct {
	Kind    string
	Message string
	Actor   string
	To      string
	Call    *winnow.Call
	At      time.Time
}

// ScoreOption is one of the four scores.
type ScoreOption struct {
	Value int
	Label string
}

// ReviewForm is the signed-in reviewer's review form.
type ReviewForm struct {
	Score   int
	Comment string
	Error   string
}

// DecisionForm is the decision form after a failed submission.
type DecisionForm struct {
	Reason string
	Error  string
}

// cardNotices are the sentences a redirect back to the card may ask for.
var cardNotices = map[string]string{
	"review":      "Your review is saved.",
	"qualified":   "Decision recorded: qualified.",
	"unqualified": "Decision recorded: unqualified.",
	"resent":      "The invitation is sent again, with the same link.",
	"extended":    "The invitation is extended: a new deadline and a new round of reminders from now.",
	"reopened":    "Decision reopened: the applicant is in review again.",
	"overridden":  "Knockout overridden: the candidate can go on with the next step by the same link.",
	"overridden-at-step": "Knockout overridden, but the candidate's answer could not be marked done: they continue at the " +
		"knockout step and must answer it again.",
}

// Applicant shows an applicant's card.
func (h *Handler) Applicant(w http.ResponseWriter, r *http.Request) {
	a, f, ok := h.visibleApplicant(w, r)
	if !ok {
		return
	}
	h.renderCard(w, r, http.StatusOK, a, f, ReviewForm{}, DecisionForm{})
}

// visibleApplicant loads the applicant named in the path and their job, and checks
// that the user may see them: another org's applicant is "not found", an applicant of
// a job off a limited member's teams is "forbidden".
func (h *Handler) visibleApplicant(w http.ResponseWriter, r *http.Request) (*winnow.Applicant, *winnow.Funnel, bool) {
	u := me(r)
	a, err := h.Applicants.FindApplicantByID(r.Context(), u.OrgID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return nil, nil, false
	}
	f, err := h.Funnels.FindFunnelByID(r.Context(), u.OrgID, a.FunnelID)
	if err != nil {
		h.fail(w, r, err)
		return nil, nil, false
	}
	if !f.VisibleTo(u) {
		h.fail(w, r, errNotOnTeam)
		return nil, nil, false
	}
	return a, f, true
}

// renderCard renders a's card with the review and decision forms in the given state.
func (h *Handler) renderCard(w http.ResponseWriter, r *http.Request, status int, a *winnow.Applicant, f *winnow.Funnel, rf ReviewForm, df DecisionForm) {
	u := me(r)
	ctx := r.Context()
	events, err := h.Applicants.ListEvents(ctx, u.OrgID, a.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	reviews, err := h.Reviews.ListReviews(ctx, u.OrgID, a.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	answers, err := h.Answers.ListStepAnswers(ctx, u.OrgID, a.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	users, err := h.Users.ListUsers(ctx, u.OrgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	names := make(map[string]string, len(users))
	for _, m := range users {
		names[m.ID] = userName(m)
	}
	view := viewApplicant(a, f)
	page := CardPage{Base: h.base(r, view.Display, "applicants"), Funnel: f, Applicant: view,
		CanDecide: f.MayDecide(u), Open: a.Status == winnow.StatusSubmitted, Review: rf, Decision: df,
		Reopen: a.MayReopen(u), Override: a.MayOverrideKnockout(u), FromLever: a.LeverOpportunityID != ""}
	if status == http.StatusOK {
		page.Notice = cardNotices[r.URL.Query().Get("done")]
	}
	if u.IsAdmin() && a.AwaitsSubmission() {
		page.Invitation = &InvitationView{Deadline: winnow.FormatDeadline(a.Deadline), DeadlineAt: a.Deadline, Expired: a.Expired(h.Clock.Now()), HasEmail: a.Email != ""}
	}
	// The link opens the candidate's own pages, which greet them by name, so it stays
	// hidden under blind review; the inviter saw it when inviting.
	if u.Role != winnow.RoleLimited && !view.Blind && a.AwaitsSubmission() {
		page.Link = h.BaseURL + winnow.CandidatePath(a.Token)
	}
	if page.PrevInQueue, page.NextInQueue, err = h.queueNeighbours(r, a); err != nil {
		h.fail(w, r, err)
		return
	}
	for _, v := range []int{1, 2, 3, 4} {
		page.Scores = append(page.Scores, ScoreOption{Value: v, Label: winnow.ScoreLabels[v]})
	}
	for _, rv := range reviews {
		mine := rv.ReviewerID == u.ID
		page.Reviews = append(page.Reviews, ReviewView{Reviewer: nameOr(names, rv.ReviewerID, "A former member"), Score: rv.Score,
			Label: winnow.ScoreLabels[rv.Score], Comment: rv.Comment, At: rv.UpdatedAt, Mine: mine})
		if mine && page.Review.Score == 0 && page.Review.Error == "" {
			page.Review.Score, page.Review.Comment = rv.Score, rv.Comment
		}
	}
	page.Average = winnow.AverageScore(reviews)
	var to map[string]string // email ID → address, for email events
	if !view.Blind {
		if to, err = h.Emails.EmailAddresses(ctx, a.OrgID, a.ID); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	for _, ev := range events {
		page.Events = append(page.Events, EventView{Kind: string(ev.Kind), Message: ev.Message, At: ev.At,
			Actor: nameOr(names, ev.ActorID, ""), To: to[ev.EmailID], Call: ev.Call})
	}
	steps := a.Steps
	if len(steps) == 0 {
		steps = f.Steps
	}
	byStep := make(map[string]*winnow.StepAnswer, len(answers))
	for _, sa := range answers {
		byStep[sa.StepID] = sa
	}
	for i, s := range steps {
		page.Steps = append(page.Steps, h.answerStep(r, a, f, i, s, byStep[s.ID]))
	}
	h.Render.Page(w, r, status, render.PageApplicant, page)
}

// answerStep puts step i of a's funnel f together with their answer to it, sa (nil
// when they have not reached it).
func (h *Handler) answerStep(r *http.Request, a *winnow.Applicant, f *winnow.Funnel, i int, s winnow.Step, sa *winnow.StepAnswer) AnswerStep {
	as := AnswerStep{Number: i + 1, Kind: string(s.Kind), KindLabel: s.Kind.Label(), Title: s.DisplayTitle()}
	if sa == nil {
		sa = &winnow.StepAnswer{}
		as.NotReached = !a.AwaitsSubmission()
	} else {
		as.Started, as.Completed = true, sa.CompletedAt != nil
	}
	for _, q := range s.Questions {
		vals := sa.Questions[q.ID]
		aq := AnswerQuestion{Text: q.Text, TypeLabel: questionTypeLabel(q.Type), Values: vals}
		if q.Knockout != nil {
			aq.Rule = q.Knockout.Reason
			aq.KnockedOut = len(vals) > 0 && q.KnocksOut(vals)
		}
		as.Questions = append(as.Questions, aq)
	}
	if hw := s.Homework; hw != nil {
		as.Instructions, as.Text = hw.Instructions, sa.Text
		if id := sa.Files["homework"]; id != "" {
			as.File = h.fileView(r, a, f, id)
		}
	}
	if v := s.Video; v != nil {
		for j, p := range v.Prompts {
			pa := PromptAnswer{Number: j + 1, Prompt: p}
			if id := sa.Files[winnow.PromptItem(j)]; id != "" {
				pa.File = h.fileView(r, a, f, id)
			}
			as.Prompts = append(as.Prompts, pa)
		}
	}
	return as
}

// fileView describes the upload id of a, an applicant of f, for the card.
func (h *Handler) fileView(r *http.Request, a *winnow.Applicant, f *winnow.Funnel, id string) *FileView {
	up, err := h.Answers.FindUpload(r.Context(), me(r).OrgID, id)
	if err != nil {
		if winnow.ErrorCode(err) != winnow.ENOTFOUND {
			h.Logger.ErrorContext(r.Context(), "find upload", "org_id", me(r).OrgID, "upload_id", id, "error", err)
		}
		return &FileView{ID: id, Missing: true}
	}
	name := uploadName(up, a, f)
	if name == "" {
		name = "file"
	}
	fv := &FileView{ID: up.ID, Name: name, Size: formatBytes(up.Size), ContentType: up.ContentType}
	if up.DurationMs > 0 {
		sec := (up.DurationMs + 500) / 1000
		fv.Length = fmt.Sprintf("%d:%02d", sec/60, sec%60)
	}
	return fv
}

// nameOr is the name of user id, or fallback when id is empty or unknown.
func nameOr(names map[string]string, id, fallback string) string {
	if n, ok := names[id]; ok {
		return n
	}
	if id == "" {
		return ""
	}
	return fallback
}

// queueNeighbours returns the cards of the submitted applicants just before and just
// after a in the review queue of a's job, by the queue's own keyset: a page of one on
// either side of a's place, found through the queue's index. A decided applicant keeps
// their place, so that "Next" after a decision leads on through the queue.
func (h *Handler) queueNeighbours(r *http.Request, a *winnow.Applicant) (prev, next string, err error) {
	if a.SubmittedAt == nil {
		return "", "", nil
	}
	filter := winnow.ApplicantFilter{FunnelID: a.FunnelID, Status: winnow.StatusSubmitted}
	for _, before := range []bool{true, false} {
		c := winnow.Cursor{Order: string(winnow.OrderWaiting), Key: a.SubmittedAt.UTC().Format(time.RFC3339Nano), ID: a.ID, Before: before}
		page, err := h.Applicants.ListApplicantPage(r.Context(), a.OrgID, winnow.ApplicantQuery{ApplicantFilter: filter,
			Order: winnow.OrderWaiting, Cursor: c.Encode(), Limit: 1})
		if err != nil {
			return "", "", err
		}
		for _, n := range page.Applicants {
			// With nothing before a's place the store answers the first page, which may
			// lie after it; only a row on the asked side counts.
			if n.ID == a.ID || n.SubmittedAt == nil || queueBefore(n, a) != before {
				continue
			}
			if before {
				prev = "/applicants/" + n.ID
			} else {
				next = "/applicants/" + n.ID
			}
		}
	}
	return prev, next, nil
}

// queueBefore reports whether x comes before y in the review queue's order.
func queueBefore(x, y *winnow.Applicant) bool {
	if !x.SubmittedAt.Equal(*y.SubmittedAt) {
		return x.SubmittedAt.Before(*y.SubmittedAt)
	}
	return x.ID < y.ID
}
