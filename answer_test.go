package winnow_test

import (
	"math"
	"strings"
	"testing"

	"winnow"
)

func TestCheckAnswerAndKnockout(t *testing.T) {
	t.Parallel()
	three, five := 3.0, 5.0
	cases := []struct {
		name     string
		q        winnow.Question
		in       []string
		want     string // joined clean values, or "ERR"
		knockout bool
	}{
		{"yes passes", winnow.Question{Text: "Q", Type: winnow.QuestionYesNo, Knockout: &winnow.Knockout{Answer: "yes"}}, []string{"yes"}, "yes", false},
		{"no knocks out", winnow.Question{Text: "Q", Type: winnow.QuestionYesNo, Knockout: &winnow.Knockout{Answer: "yes"}}, []string{"no"}, "no", true},
		{"maybe is invalid", winnow.Question{Text: "Q", Type: winnow.QuestionYesNo}, []string{"maybe"}, "ERR", false},
		{"knockout must be answered", winnow.Question{Text: "Q", Type: winnow.QuestionYesNo, Knockout: &winnow.Knockout{Answer: "yes"}}, nil, "ERR", false},
		{"optional may be empty", winnow.Question{Text: "Q", Type: winnow.QuestionShortText}, []string{" "}, "", false},
		{"required must be answered", winnow.Question{Text: "Q", Type: winnow.QuestionShortText, Required: true}, nil, "ERR", false},
		{"choice off list", winnow.Question{Text: "Q", Type: winnow.QuestionSingleChoice, Choices: []string{"a", "b"}}, []string{"c"}, "ERR", false},
		{"single with two", winnow.Question{Text: "Q", Type: winnow.QuestionSingleChoice, Choices: []string{"a", "b"}}, []string{"a", "b"}, "ERR", false},
		{"allowed choice", winnow.Question{Text: "Q", Type: winnow.QuestionSingleChoice, Choices: []string{"a", "b"}, Knockout: &winnow.Knockout{Allowed: []string{"a"}}}, []string{"a"}, "a", false},
		{"disallowed choice", winnow.Question{Text: "Q", Type: winnow.QuestionSingleChoice, Choices: []string{"a", "b"}, Knockout: &winnow.Knockout{Allowed: []string{"a"}}}, []string{"b"}, "b", true},
		{"multi sorted and deduplicated", winnow.Question{Text: "Q", Type: winnow.QuestionMultipleChoice, Choices: []string{"a", "b", "c"}}, []string{"c", "a", "c"}, "a,c", false},
		{"multi with one disallowed", winnow.Question{Text: "Q", Type: winnow.QuestionMultipleChoice, Choices: []string{"a", "b", "c"}, Knockout: &winnow.Knockout{Allowed: []string{"a", "b"}}}, []string{"a", "c"}, "a,c", true},
		{"number in range", winnow.Question{Text: "Q", Type: winnow.QuestionNumber, Knockout: &winnow.Knockout{Min: &three, Max: &five}}, []string{"4"}, "4", false},
		{"number below", winnow.Question{Text: "Q", Type: winnow.QuestionNumber, Knockout: &winnow.Knockout{Min: &three}}, []string{"2.5"}, "2.5", true},
		{"number above", winnow.Question{Text: "Q", Type: winnow.QuestionNumber, Knockout: &winnow.Knockout{Max: &five}}, []string{"6"}, "6", true},
		{"not a number", winnow.Question{Text: "Q", Type: winnow.QuestionNumber}, []string{"four"}, "ERR", false},
		{"short text too long", winnow.Question{Text: "Q", Type: winnow.QuestionShortText}, []string{strings.Repeat("x", winnow.MaxShortText+1)}, "ERR", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.q.CheckAnswer(c.in)
			if c.want == "ERR" {
				if winnow.ErrorCode(err) != winnow.EINVALID {
					t.Fatalf("err = %v, want invalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != c.want {
				t.Fatalf("clean = %q, want %q", got, c.want)
			}
			if c.q.KnocksOut(got) != c.knockout {
				t.Fatalf("KnocksOut = %v, want %v", !c.knockout, c.knockout)
			}
		})
	}
}

func TestReviewValidate(t *testing.T) {
	t.Parallel()
	for score, ok := range map[int]bool{0: false, 1: true, 4: true, 5: false} {
		r := winnow.Review{OrgID: "o", ApplicantID: "a", ReviewerID: "u", Score: score}
		if (r.Validate() == nil) != ok {
			t.Errorf("score %d: valid = %v", score, !ok)
		}
	}
}

// TestUploadBudget adds up the file limits of an applicant's steps, twice: a homework
// file at its step's limit or the server's default, each video prompt at the server's
// video limit, nothing for text-only homework or questions; it saturates, never wraps.
func TestUploadBudget(t *testing.T) {
	t.Parallel()
	const video, homework = 500 << 20, 25 << 20
	steps := []winnow.Step{
		{Kind: winnow.StepQuestions, Questions: []winnow.Question{{Text: "Q", Type: winnow.QuestionYesNo}}},
		{Kind: winnow.StepHomework, Homework: &winnow.Homework{Instructions: "x", AcceptFile: true}},
		{Kind: winnow.StepHomework, Homework: &winnow.Homework{Instructions: "x", AcceptFile: true, MaxFileBytes: 1 << 30}},
		{Kind: winnow.StepHomework, Homework: &winnow.Homework{Instructions: "x", AcceptText: true, MaxFileBytes: 1 << 30}},
		{Kind: winnow.StepVideo, Video: &winnow.Video{Prompts: []string{"a", "b", "c"}}},
	}
	a := &winnow.Applicant{Steps: steps}
	want := int64(winnow.UploadBudgetFactor * (homework + 1<<30 + 3*video))
	if got := a.UploadBudget(video, homework); got != want {
		t.Fatalf("UploadBudget = %d, want %d", got, want)
	}
	if got := a.UploadBudget(math.MaxInt64/2, homework); got != math.MaxInt64 {
		t.Fatalf("UploadBudget with huge limits = %d, want it saturated", got)
	}
	if got := (&winnow.Applicant{Steps: steps[:1]}).UploadBudget(video, homework); got != 0 {
		t.Fatalf("questions only: %d", got)
	}
}
