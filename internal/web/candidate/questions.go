package candidate

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"winnow/internal/web/render"

	"winnow"
	"winnow/internal/web/form"
)

// questionsSlack is what a questions form may carry beside its answers: separators,
// spaces around answers, fields the browser adds.
const questionsSlack = 64 << 10

// encodedRune is the most bytes one character of an answer takes in a URL-encoded form:
// up to utf8.UTFMax bytes, each written as %XX.
const encodedRune = 3 * utf8.UTFMax

// questionsFormLimit bounds the body of the step's form so that the largest answer
// the step accepts always fits, and nothing much larger: each question may bring its
// field name and the longest value it takes (every choice, for multiple choice). The
// largest valid step (winnow.MaxQuestionsPerStep long texts) comes to about 12 MB;
// most steps to a few KB. Numbers get a short text's room.
func questionsFormLimit(s winnow.Step) int64 {
	n := int64(questionsSlack)
	for _, q := range s.Questions {
		field := int64(len(fieldName(q.ID)) + 2) // "=" and "&"
		switch q.Type {
		case winnow.QuestionSingleChoice, winnow.QuestionMultipleChoice:
			for _, c := range q.Choices {
				n += field + int64(3*len(c))
			}
		case winnow.QuestionLongText:
			n += field + winnow.MaxLongText*encodedRune
		default:
			n += field + winnow.MaxShortText*encodedRune
		}
	}
	return n
}

// questionsForm renders the questions step with what was entered and what is wrong.
func (h *Handler) questionsForm(w http.ResponseWriter, r *http.Request, c *stepContext, status int,
	values map[string][]string, errs map[string]string) {
	page := QuestionsPage{StepPage: c.page()}
	for _, q := range c.step.Questions {
		f := QuestionField{Question: q, Name: fieldName(q.ID), Error: errs[q.ID]}
		if values != nil {
			f.Values = values[q.ID]
		} else if c.prev != nil {
			f.Values = c.prev.Questions[q.ID]
		}
		if f.Error != "" {
			page.Errors = append(page.Errors, f.Error)
		}
		page.Fields = append(page.Fields, f)
	}
	h.Render.Page(w, r, status, render.PageCandidateQuestions, page)
}

// saveQuestions checks every answer of a questions step. A failed knockout ends the
// funnel at once: the answers are kept and the applicant becomes unqualified with the
// question's reason, even when other answers still had mistakes, which would not
// matter any more. Otherwise mistakes are shown with what was entered (422), and
// correct answers complete the step.
func (h *Handler) saveQuestions(w http.ResponseWriter, r *http.Request, c *stepContext) {
	if err := form.Parse(w, r, questionsFormLimit(c.step)); err != nil {
		h.formUnreadable(w, r, c, err)
		return
	}
	ans := c.newAnswer()
	ans.Questions = map[string][]string{}
	entered := map[string][]string{}
	errs := map[string]string{}
	var knockout *winnow.Question
	for i := range c.step.Questions {
		q := &c.step.Questions[i]
		raw := normalizeNewlines(r.PostForm[fieldName(q.ID)])
		entered[q.ID] = raw
		clean, err := q.CheckAnswer(raw)
		if err != nil {
			errs[q.ID] = winnow.ErrorMessage(err)
			continue
		}
		ans.Questions[q.ID] = clean
		if knockout == nil && q.KnocksOut(clean) {
			knockout = q
		}
	}
	if knockout != nil {
		h.knockOut(w, r, c, ans, knockout)
		return
	}
	if len(errs) > 0 {
		h.questionsForm(w, r, c, http.StatusUnprocessableEntity, entered, errs)
		return
	}
	h.saveAnswer(w, r, c, ans, true)
}

// knockOut stores the answers that ended the funnel and makes the applicant
// unqualified with the question's reason, in that order, so that reviewers can see
// what was answered. The candidate then sees a kind page that does not name the reason.
func (h *Handler) knockOut(w http.ResponseWriter, r *http.Request, c *stepContext, ans *winnow.StepAnswer, q *winnow.Question) {
	if !h.saveAnswer(w, r, c, ans, false) {
		return
	}
	a, err := h.transition(r, c.visit, func(a *winnow.Applicant) (winnow.Event, error) {
		return a.Disqualify(c.now, q.Knockout.Reason, "")
	})
	if err != nil {
		h.transitionFailed(w, r, c.visit, err)
		return
	}
	c.a = a
	h.Logger.InfoContext(r.Context(), "candidate failed a knockout", c.logAttrs("step_id", c.step.ID, "question_id", q.ID)...)
	seeOther(w, r, c.base())
}

// normalizeNewlines turns the CRLF line breaks that browsers send into LF, so that a
// text reads and counts the same however it arrived.
func normalizeNewlines(values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = strings.ReplaceAll(v, "\r\n", "\n")
	}
	return out
}

// formUnreadable answers a questions form that could not be used: too large (413), an
// answer that cannot be saved (422, naming its question), or malformed (400).
func (h *Handler) formUnreadable(w http.ResponseWriter, r *http.Request, c *stepContext, err error) {
	var tooLarge *form.TooLargeError
	var field *form.FieldError
	back := c.stepURL(c.index)
	switch {
	case errors.As(err, &tooLarge):
		h.errorPage(w, r, c.visit, http.StatusRequestEntityTooLarge, "That was too large",
			"Your answers were longer than this form accepts. Please shorten them and try again.", back, "Back to the form")
	case errors.As(err, &field):
		what := "One of your answers"
		for _, q := range c.step.Questions {
			if fieldName(q.ID) == field.Field {
				what = fmt.Sprintf("Your answer to %q", q.Text)
			}
		}
		h.errorPage(w, r, c.visit, http.StatusUnprocessableEntity, "Please check your answers",
			winnow.TextError(what).Message, back, "Back to the form")
	default:
		h.errorPage(w, r, c.visit, http.StatusBadRequest, "The form could not be read",
			"Something went wrong while sending your answers. Please go back and try again.", back, "Back to the form")
	}
}
