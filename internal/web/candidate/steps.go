package candidate

import (
	"net/http"
	"strings"

	"winnow"
)

// answers returns the applicant's saved answers by step ID.
func (h *Handler) answers(r *http.Request, v *visit) (map[string]*winnow.StepAnswer, error) {
	list, err := h.Answers.ListStepAnswers(r.Context(), v.a.OrgID, v.a.ID)
	if err != nil {
		return nil, err
	}
	m := make(map[string]*winnow.StepAnswer, len(list))
	for _, a := range list {
		m[a.StepID] = a
	}
	return m, nil
}

// nextStep is the index of the first step without a completed answer, len(steps)
// when every step is complete. Steps are taken in order, so it is the only step a
// candidate may post.
func nextStep(steps []winnow.Step, answers map[string]*winnow.StepAnswer) int {
	for i, s := range steps {
		if a := answers[s.ID]; a == nil || a.CompletedAt == nil {
			return i
		}
	}
	return len(steps)
}

// stepIndex is the index of the step with id, or -1.
func stepIndex(steps []winnow.Step, id string) int {
	for i, s := range steps {
		if s.ID == id {
			return i
		}
	}
	return -1
}

// stepContext is a step request that passed every check: the candidate is in
// progress and the step is the next one, or one already completed that they edit.
type stepContext struct {
	*visit
	index int
	step  winnow.Step
	prev  *winnow.StepAnswer // what was saved before, if anything
	// next is the first step without a completed answer (len(steps) once all are):
	// where a completed step's form returns after it is saved again.
	next int
}

// editing reports whether the step was completed before: its form then changes the
// answer and returns to the first step still open, the review once there is none.
func (c *stepContext) editing() bool { return c.index < c.next }

// progress is the bar's data for the step.
func (c *stepContext) progress() Progress {
	return Progress{Current: c.index + 1, Total: len(c.a.Steps)}
}

// page is the frame of the step's form.
func (c *stepContext) page(errs ...string) StepPage {
	p := StepPage{Chrome: c.chrome(c.step.DisplayTitle()), Progress: c.progress(), Step: c.step,
		Heading: c.step.DisplayTitle(), Action: c.stepURL(c.index), Errors: errs, Submit: "Save and continue"}
	if c.editing() && c.next == len(c.a.Steps) {
		p.Submit, p.Back = "Save and return to review", c.stepURL(c.next)
	}
	return p
}

// Step serves GET /c/{token}/steps/{step}: the form of the next step, or of a step
// already completed, filled in with its answers so that the candidate can change them
// (the review page's Edit). A later step redirects to the next one, so that steps are
// still taken in order.
func (h *Handler) Step(w http.ResponseWriter, r *http.Request) {
	v, ok := h.load(w, r)
	if !ok {
		return
	}
	switch st := v.state(); st {
	case stateInProgress:
	case stateInvited:
		seeOther(w, r, v.base())
		return
	default:
		h.statusPage(w, r, v, http.StatusOK, string(st))
		return
	}
	c, ok := h.stepContext(w, r, v, false)
	if !ok {
		return
	}
	switch c.step.Kind {
	case winnow.StepQuestions:
		h.questionsForm(w, r, c, http.StatusOK, nil, nil)
	case winnow.StepHomework:
		h.homeworkForm(w, r, c, http.StatusOK, "", nil)
	case winnow.StepVideo:
		h.videoForm(w, r, c, http.StatusOK, c.prev)
	}
}

// SaveStep serves POST /c/{token}/steps/{step}: it saves the answer of the next step,
// or of a completed one being edited, and moves on to the first step still open (the
// review once every step is complete). Posts for a step after the next one, or not in
// the funnel, or from a candidate who can no longer answer, store nothing and say why.
func (h *Handler) SaveStep(w http.ResponseWriter, r *http.Request) {
	v, ok := h.load(w, r)
	if !ok {
		return
	}
	if v.state() != stateInProgress {
		h.refuse(w, r, v)
		return
	}
	c, ok := h.stepContext(w, r, v, true)
	if !ok {
		return
	}
	switch c.step.Kind {
	case winnow.StepQuestions:
		h.saveQuestions(w, r, c)
	case winnow.StepHomework:
		h.saveHomework(w, r, c)
	case winnow.StepVideo:
		h.saveVideo(w, r, c)
	default:
		h.fail(w, r, v, winnow.Errorf(winnow.EINVALID, "This step cannot be answered here."))
	}
}

// stepContext checks the step of the request against the candidate's progress. The
// next step and completed ones may be answered; on a GET a later step redirects to the
// next one, on a POST it is a 409 page.
func (h *Handler) stepContext(w http.ResponseWriter, r *http.Request, v *visit, post bool) (*stepContext, bool) {
	i := stepIndex(v.a.Steps, r.PathValue("step"))
	if i < 0 {
		h.errorPage(w, r, v, http.StatusNotFound, "This step is not part of your application",
			"The link may be incomplete or out of date. Your answers so far are saved.", v.base(), "Continue your application")
		return nil, false
	}
	answers, err := h.answers(r, v)
	if err != nil {
		h.fail(w, r, v, err)
		return nil, false
	}
	next := nextStep(v.a.Steps, answers)
	if i > next {
		if !post {
			seeOther(w, r, v.stepURL(next))
			return nil, false
		}
		h.errorPage(w, r, v, http.StatusConflict, "This step can't be answered yet",
			"Please complete the steps before this one first. Your answers so far are saved.", v.stepURL(next), "Continue your application")
		return nil, false
	}
	return &stepContext{visit: v, index: i, step: v.a.Steps[i], prev: answers[v.a.Steps[i].ID], next: next}, true
}

// saveAnswer stores ans for the step; with complete set it marks the step done and
// redirects to the next step or the review. The store refuses once the applicant is no
// longer in progress; the candidate then sees where they stand. Files the answer no
// longer names (a video recorded again) are removed once it is stored.
func (h *Handler) saveAnswer(w http.ResponseWriter, r *http.Request, c *stepContext, ans *winnow.StepAnswer, complete bool) bool {
	if complete {
		now := c.now
		ans.CompletedAt = &now
	}
	replaced, err := h.Answers.SaveStepAnswer(r.Context(), ans)
	if err != nil {
		h.transitionFailed(w, r, c.visit, err)
		return false
	}
	for _, u := range replaced {
		h.removeFile(r, c, u.Path)
		h.Logger.InfoContext(r.Context(), "candidate replaced a file", c.logAttrs("step_id", c.step.ID, "item", u.Item,
			"upload_id", u.ID, "size", u.Size)...)
	}
	if complete {
		h.Logger.InfoContext(r.Context(), "candidate completed a step", c.logAttrs("step_id", c.step.ID, "step_kind", string(c.step.Kind))...)
		to := c.index + 1
		if c.editing() {
			to = c.next // the steps between were completed before
		}
		seeOther(w, r, c.stepURL(to))
	}
	return true
}

// newAnswer starts the step's answer from what was saved before, so that saving part
// of a step (one video prompt) keeps the rest. A completed step stays completed until
// its form is sent again.
func (c *stepContext) newAnswer() *winnow.StepAnswer {
	ans := &winnow.StepAnswer{OrgID: c.a.OrgID, ApplicantID: c.a.ID, StepID: c.step.ID}
	if c.prev != nil {
		ans.Text, ans.CompletedAt = c.prev.Text, c.prev.CompletedAt
		if len(c.prev.Files) > 0 {
			ans.Files = make(map[string]string, len(c.prev.Files))
			for k, id := range c.prev.Files {
				ans.Files[k] = id
			}
		}
	}
	return ans
}

// fieldName is the form field of a question: its ID with a prefix, so that question
// IDs never clash with the form's own fields.
func fieldName(questionID string) string { return "a-" + questionID }

// isMultipart reports whether the request carries a multipart form.
func isMultipart(r *http.Request) bool {
	return strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "multipart/form-data")
}
