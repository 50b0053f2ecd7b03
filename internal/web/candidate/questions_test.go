package candidate_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"winnow/internal/dbtest"

	"winnow"
)

// TestLargestQuestionsStep posts the largest answers the largest valid questions steps
// take, and checks that the form carries them and they are stored whole: every long
// text at its limit in four-byte characters, and every choice of every question ticked
// (the most form values a valid step can bring).
func TestLargestQuestionsStep(t *testing.T) {
	t.Parallel()
	choices := make([]string, winnow.MaxChoicesPerQuestion)
	for i := range choices {
		choices[i] = fmt.Sprintf("%03d", i) + strings.Repeat("ü", winnow.MaxChoiceLength-3)
	}
	tests := []struct {
		name   string
		typ    winnow.QuestionType
		answer []string
	}{
		{"long texts at the limit", winnow.QuestionLongText, []string{strings.Repeat("😀", winnow.MaxLongText)}},
		{"every choice ticked", winnow.QuestionMultipleChoice, choices},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dbtest.Engines(t, func(t *testing.T, eng dbtest.Engine) {
				e := newEnv(t, eng, nil)
				step := winnow.Step{ID: "big", Kind: winnow.StepQuestions}
				form := url.Values{}
				for i := range winnow.MaxQuestionsPerStep {
					q := winnow.Question{ID: fmt.Sprintf("q%d", i), Text: fmt.Sprintf("Question %d", i), Type: tt.typ, Required: true}
					if tt.typ == winnow.QuestionMultipleChoice {
						q.Choices = choices
					}
					step.Questions = append(step.Questions, q)
					form["a-"+q.ID] = tt.answer
				}
				a := e.mustApplicant(step)
				c := "/c/" + a.Token
				wantPage(t, e.post(c+"/start", nil), http.StatusSeeOther, c+"/steps/big")
				wantPage(t, e.post(c+"/steps/big", form), http.StatusSeeOther, c+"/review")
				got := e.answers(a)["big"]
				if got == nil || got.CompletedAt == nil || len(got.Questions) != winnow.MaxQuestionsPerStep {
					t.Fatalf("stored %+v", got)
				}
				if v := got.Questions["q7"]; strings.Join(v, "|") != strings.Join(tt.answer, "|") {
					t.Fatalf("answer to q7 stored as %d values, want %d", len(v), len(tt.answer))
				}
			})
		})
	}
}
