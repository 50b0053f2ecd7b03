package candidate

import (
	"net/http"
	"strconv"

	"winnow/internal/web/render"

	"winnow"
)

// Review serves GET /c/{token}/review: everything the candidate answered, and Submit.
// Until every step is complete it redirects to the next one.
func (h *Handler) Review(w http.ResponseWriter, r *http.Request) {
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
	answers, err := h.answers(r, v)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	if next := nextStep(v.a.Steps, answers); next < len(v.a.Steps) {
		seeOther(w, r, v.stepURL(next))
		return
	}
	page := ReviewPage{Chrome: v.chrome("Review and submit"), Progress: Progress{Current: len(v.a.Steps) + 1, Total: len(v.a.Steps)}}
	for i, s := range v.a.Steps {
		page.Steps = append(page.Steps, h.reviewStep(r, v, i, s, answers[s.ID]))
	}
	h.Render.Page(w, r, http.StatusOK, render.PageCandidateReview, page)
}

// reviewStep is one step's answers as the review page shows them.
func (h *Handler) reviewStep(r *http.Request, v *visit, i int, s winnow.Step, ans *winnow.StepAnswer) ReviewStep {
	rs := ReviewStep{Number: i + 1, Title: s.DisplayTitle(), Kind: s.Kind, Edit: v.stepURL(i)}
	fileName := func(item string) string {
		if ans == nil || ans.Files[item] == "" {
			return ""
		}
		if u, err := h.Answers.FindUpload(r.Context(), v.a.OrgID, ans.Files[item]); err == nil {
			return u.Name
		}
		return "Received"
	}
	switch s.Kind {
	case winnow.StepQuestions:
		for _, q := range s.Questions {
			value := "No answer"
			if ans != nil && len(ans.Questions[q.ID]) > 0 {
				value = joinAnd(ans.Questions[q.ID])
				if q.Type == winnow.QuestionYesNo {
					value = map[string]string{"yes": "Yes", "no": "No"}[value]
				}
			}
			rs.Answers = append(rs.Answers, ReviewAnswer{Label: q.Text, Value: value})
		}
	case winnow.StepHomework:
		if ans != nil && ans.Text != "" {
			rs.Answers = append(rs.Answers, ReviewAnswer{Label: "Your answer", Value: ans.Text})
		}
		if name := fileName(homeworkItem); name != "" {
			rs.Answers = append(rs.Answers, ReviewAnswer{Label: "Your file", Value: name})
		}
	case winnow.StepVideo:
		if s.Video != nil {
			for j, p := range s.Video.Prompts {
				value := "Recorded"
				if name := fileName(winnow.PromptItem(j)); name != "" && name != "Received" {
					value = "Received: " + name
				}
				rs.Answers = append(rs.Answers, ReviewAnswer{Label: p, Value: value})
			}
		}
	}
	return rs
}

// Submit serves POST /c/{token}/submit: in progress → submitted, or unqualified when
// a knockout answer edited since its step was first saved fails now (the domain's
// SubmitAnswers). A funnel of only questions then decides at once: every knockout passed → qualified, as a second
// transition. Anything else waits for the job team. A second submit changes nothing
// and is answered 409.
func (h *Handler) Submit(w http.ResponseWriter, r *http.Request) {
	v, ok := h.load(w, r)
	if !ok {
		return
	}
	if v.state() != stateInProgress {
		h.refuse(w, r, v)
		return
	}
	answers, err := h.answers(r, v)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	if next := nextStep(v.a.Steps, answers); next < len(v.a.Steps) {
		h.errorPage(w, r, v, http.StatusConflict, "Your application isn't complete yet",
			"Please complete "+v.a.Steps[next].DisplayTitle()+" (step "+strconv.Itoa(next+1)+") before you submit.", v.stepURL(next), "Continue your application")
		return
	}
	history, err := h.Applicants.ListEvents(r.Context(), v.a.OrgID, v.a.ID)
	if err != nil {
		h.fail(w, r, v, err)
		return
	}
	a, err := h.transition(r, v, func(a *winnow.Applicant) (winnow.Event, error) {
		return a.SubmitAnswers(v.now, answers, history)
	})
	if err != nil {
		h.transitionFailed(w, r, v, err)
		return
	}
	v.a = a
	if a.Status == winnow.StatusUnqualified {
		// A knockout answer changed on edit failed: the application ended instead.
		h.Logger.InfoContext(r.Context(), "candidate failed a knockout at submission", v.logAttrs()...)
		seeOther(w, r, v.base())
		return
	}
	h.Logger.InfoContext(r.Context(), "candidate submitted", v.logAttrs()...)
	if !(&winnow.Funnel{Steps: a.Steps}).NeedsReview() && winnow.FailedKnockout(a.Steps, answers) == nil {
		if _, err := h.Applicants.TransitionApplicant(r.Context(), a.OrgID, a.ID, func(a *winnow.Applicant) (winnow.Event, error) {
			return a.Qualify(v.now, "")
		}); err != nil {
			// The submission stands; the job team can still decide by hand.
			h.Logger.ErrorContext(r.Context(), "qualify after submission", v.logAttrs("error", err)...)
		} else {
			h.Logger.InfoContext(r.Context(), "candidate qualified automatically", v.logAttrs()...)
		}
	}
	seeOther(w, r, v.base()+"/thanks")
}

// Thanks serves GET /c/{token}/thanks, where a submission lands. Anyone else goes to
// their link's page.
func (h *Handler) Thanks(w http.ResponseWriter, r *http.Request) {
	v, ok := h.load(w, r)
	if !ok {
		return
	}
	if st := v.state(); st != stateSubmitted && st != stateComplete {
		seeOther(w, r, v.base())
		return
	}
	h.statusPage(w, r, v, http.StatusOK, "thanks")
}
