package winnow_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"winnow"
)

func TestFunnelValidate(t *testing.T) {
	t.Parallel()
	yes := []winnow.Step{{Kind: winnow.StepQuestions, Questions: []winnow.Question{{Text: "Authorized to work?", Type: winnow.QuestionYesNo,
		Knockout: &winnow.Knockout{Answer: "yes", Reason: "Requires work authorization"}}}}}
	cases := []struct {
		name string
		f    winnow.Funnel
		ok   bool
	}{
		{"minimal", winnow.Funnel{OrgID: "o", Title: "Dev"}, true},
		{"questions", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: yes}, true},
		{"no title", winnow.Funnel{OrgID: "o", Title: " "}, false},
		{"bad status", winnow.Funnel{OrgID: "o", Title: "Dev", Status: "paused"}, false},
		{"knockout without reason", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{{Kind: winnow.StepQuestions,
			Questions: []winnow.Question{{Text: "Q", Type: winnow.QuestionYesNo, Knockout: &winnow.Knockout{Answer: "yes"}}}}}}, false},
		{"choice knockout off list", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{{Kind: winnow.StepQuestions,
			Questions: []winnow.Question{{Text: "Q", Type: winnow.QuestionSingleChoice, Choices: []string{"a", "b"},
				Knockout: &winnow.Knockout{Allowed: []string{"c"}, Reason: "r"}}}}}}, false},
		{"homework without answer kind", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{{Kind: winnow.StepHomework,
			Homework: &winnow.Homework{Instructions: "Build it"}}}}, false},
		{"video without prompts", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{{Kind: winnow.StepVideo, Video: &winnow.Video{}}}}, false},
		{"unknown step", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{{Kind: "quiz"}}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := c.f.Validate()
			if c.ok && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !c.ok && winnow.ErrorCode(err) != winnow.EINVALID {
				t.Fatalf("err = %v, want invalid", err)
			}
		})
	}
}

// TestFunnelAccess says who may see a funnel's applicants and who may review and
// decide on them.
func TestFunnelAccess(t *testing.T) {
	t.Parallel()
	f := &winnow.Funnel{OrgID: "o", Team: []string{"lim-on", "mem-on"}}
	cases := []struct {
		name             string
		u                *winnow.User
		visible, decides bool
	}{
		{"admin", &winnow.User{ID: "a", OrgID: "o", Role: winnow.RoleAdmin}, true, true},
		{"member on team", &winnow.User{ID: "mem-on", OrgID: "o", Role: winnow.RoleMember}, true, true},
		{"member off team", &winnow.User{ID: "m", OrgID: "o", Role: winnow.RoleMember}, true, false},
		{"limited on team", &winnow.User{ID: "lim-on", OrgID: "o", Role: winnow.RoleLimited}, true, true},
		{"limited off team", &winnow.User{ID: "lim-off", OrgID: "o", Role: winnow.RoleLimited}, false, false},
		{"other org admin", &winnow.User{ID: "x", OrgID: "p", Role: winnow.RoleAdmin}, false, false},
		{"other org user with a team member's ID", &winnow.User{ID: "mem-on", OrgID: "p", Role: winnow.RoleMember}, false, false},
		{"nobody", nil, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := f.VisibleTo(c.u); got != c.visible {
				t.Errorf("VisibleTo = %v, want %v", got, c.visible)
			}
			if got := f.MayDecide(c.u); got != c.decides {
				t.Errorf("MayDecide = %v, want %v", got, c.decides)
			}
		})
	}
}

func TestCadenceValidate(t *testing.T) {
	t.Parallel()
	if err := winnow.DefaultCadence().Validate(); err != nil {
		t.Fatal(err)
	}
	c := winnow.DefaultCadence()
	c.Reminders[1] = c.Reminders[0]
	if winnow.ErrorCode(c.Validate()) != winnow.EINVALID {
		t.Fatal("non-increasing reminders accepted")
	}
	c = winnow.DefaultCadence()
	c.OptOutAfter = c.Reminders[3]
	if winnow.ErrorCode(c.Validate()) != winnow.EINVALID {
		t.Fatal("reminder at the deadline accepted")
	}
}

func TestFunnelValidateAssignsIDs(t *testing.T) {
	t.Parallel()
	f := winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{
		{Kind: winnow.StepQuestions, Questions: []winnow.Question{{Text: "A", Type: winnow.QuestionShortText}, {ID: "keep", Text: "B", Type: winnow.QuestionLongText}}},
		{Kind: winnow.StepVideo, Video: &winnow.Video{Prompts: []string{"Hi"}}},
	}}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	s0, s1 := f.Steps[0], f.Steps[1]
	if s0.ID == "" || s1.ID == "" || s0.ID == s1.ID || s0.Questions[0].ID == "" || s0.Questions[1].ID != "keep" {
		t.Fatalf("ids not assigned or not kept: %+v", f.Steps)
	}
	before := s0.ID
	f.Validate()
	if f.Steps[0].ID != before {
		t.Fatal("validate changed an existing id")
	}
}

// TestFunnelValidateFinishable refuses funnels a candidate could never finish or post,
// each with a message that names the step and question at fault, and accepts the
// largest funnel within every limit.
func TestFunnelValidateFinishable(t *testing.T) {
	t.Parallel()
	yesNo := func(id string) winnow.Question {
		return winnow.Question{ID: id, Text: "Question " + id, Type: winnow.QuestionYesNo}
	}
	qs := func(id string, questions ...winnow.Question) winnow.Step {
		return winnow.Step{ID: id, Kind: winnow.StepQuestions, Questions: questions}
	}
	many := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	choice := func(choices ...string) winnow.Question {
		return winnow.Question{ID: "c", Text: "Where?", Type: winnow.QuestionSingleChoice, Choices: choices}
	}
	homework := func(max int64, types ...string) winnow.Step {
		return winnow.Step{ID: "hw", Kind: winnow.StepHomework, Homework: &winnow.Homework{Instructions: "Build it.",
			AcceptFile: true, MaxFileBytes: max, FileTypes: types}}
	}
	largest := func() winnow.Funnel {
		f := winnow.Funnel{OrgID: "o", Title: strings.Repeat("é", winnow.MaxFunnelTitleLength), Status: winnow.FunnelOpen}
		for i := range winnow.MaxStepsPerFunnel {
			s := winnow.Step{ID: fmt.Sprintf("s%d-%s", i, strings.Repeat("x", winnow.MaxIDLength-5)), Kind: winnow.StepQuestions,
				Title: strings.Repeat("ß", winnow.MaxStepTitleLength)}
			for j := range winnow.MaxQuestionsPerStep {
				s.Questions = append(s.Questions, winnow.Question{ID: fmt.Sprintf("q%d_%d", i, j), Text: strings.Repeat("?", winnow.MaxQuestionLength),
					Type: winnow.QuestionMultipleChoice, Choices: many(winnow.MaxChoicesPerQuestion, func(k int) string {
						return fmt.Sprintf("%03d", k) + strings.Repeat("ü", winnow.MaxChoiceLength-3)
					})})
			}
			f.Steps = append(f.Steps, s)
		}
		f.Steps[1] = homework(winnow.MaxFileBytes, "PDF", " .Zip")
		f.Steps[2] = winnow.Step{ID: "v", Kind: winnow.StepVideo, Video: &winnow.Video{Prompts: many(winnow.MaxPromptsPerStep, func(int) string {
			return strings.Repeat("ö", winnow.MaxPromptLength)
		})}}
		return f
	}
	cases := []struct {
		name string
		f    winnow.Funnel
		want string // "" when valid, else text the message must hold
	}{
		{"largest within every limit", largest(), ""},
		{"draft without steps", winnow.Funnel{OrgID: "o", Title: "Dev"}, ""},
		{"closed without steps", winnow.Funnel{OrgID: "o", Title: "Dev", Status: winnow.FunnelClosed}, ""},
		{"open without steps", winnow.Funnel{OrgID: "o", Title: "Dev", Status: winnow.FunnelOpen}, "An open job needs at least one step"},
		{"duplicate step IDs", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{qs("s1", yesNo("a")), qs("s1", yesNo("b"))}},
			`Step 2: The step ID "s1" is already used by step 1.`},
		{"duplicate question IDs in a step", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{qs("s1", yesNo("a"), yesNo("b"), yesNo("a"))}},
			`Step 1, question 3: The question ID "a" is already used by question 1.`},
		{"duplicate question IDs across steps", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{qs("s1", yesNo("a")), qs("s2", yesNo("b"), yesNo("a"))}},
			`Step 2, question 2: The question ID "a" is already used by step 1, question 1.`},
		{"step ID of 100,000 characters", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{qs(strings.Repeat("s", 100000), yesNo("a"))}},
			"Step 1: The step ID \"" + strings.Repeat("s", 40) + "…\" must be 1 to 64 characters"},
		{"step ID with a slash", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{qs("a/b", yesNo("a"))}}, `Step 1: The step ID "a/b"`},
		{"question ID with markup", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{qs("s1", yesNo("ok"), yesNo("<b>"))}},
			`Step 1, question 2: The question ID "<b>" must be`},
		{"question ID too long", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{qs("s1", yesNo(strings.Repeat("q", winnow.MaxIDLength+1)))}},
			"Step 1, question 1: The question ID"},
		{"too many steps", func() winnow.Funnel {
			f := winnow.Funnel{OrgID: "o", Title: "Dev"}
			for range winnow.MaxStepsPerFunnel + 1 {
				f.Steps = append(f.Steps, qs("", yesNo("")))
			}
			return f
		}(), "at most 20 steps"},
		{"10,001 questions", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{{ID: "s1", Kind: winnow.StepQuestions,
			Questions: make([]winnow.Question, 10001)}}}, "Step 1: A questions step may have at most 50 questions"},
		{"too many choices", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{qs("s1", yesNo("a"), choice(many(winnow.MaxChoicesPerQuestion+1, strconv.Itoa)...))}},
			`Step 1, question 2: Question "Where?" may have at most 50 choices.`},
		{"choice too long", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{qs("s1", choice("a", strings.Repeat("b", winnow.MaxChoiceLength+1)))}},
			"at most 200 characters"},
		{"empty choice", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{qs("s1", choice("a", " "))}}, `Step 1, question 1: Question "Where?" has an empty choice.`},
		{"choice twice", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{qs("s1", choice("a", " a"))}}, `lists the choice "a" twice`},
		{"file size near 2^63", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{homework(1<<63 - 1)}}, "Step 1: Homework file size limit must be at most 2048 MB."},
		{"file size just over the limit", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{homework(winnow.MaxFileBytes + 1)}}, "at most 2048 MB"},
		{"file type no name can have", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{homework(0, ".pdf", ".tar.gz")}}, `Step 1: ".tar.gz" is not a file extension`},
		{"empty file type", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{homework(0, " ")}}, "is not a file extension"},
		{"too many prompts", winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{{ID: "v", Kind: winnow.StepVideo,
			Video: &winnow.Video{Prompts: many(winnow.MaxPromptsPerStep+1, strconv.Itoa)}}}}, "Step 1: A video interview may have at most 20 prompts."},
		{"title of 201 characters", winnow.Funnel{OrgID: "o", Title: strings.Repeat("é", winnow.MaxFunnelTitleLength+1)}, "at most 200 characters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := c.f.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if winnow.ErrorCode(err) != winnow.EINVALID || !strings.Contains(winnow.ErrorMessage(err), c.want) {
				t.Fatalf("err = %v, want invalid with %q", err, c.want)
			}
		})
	}
}

// TestValidateNormalizes checks what Validate writes back: trimmed choices and allowed
// choices, and file types as the candidate pages compare them.
func TestValidateNormalizes(t *testing.T) {
	t.Parallel()
	f := winnow.Funnel{OrgID: "o", Title: "Dev", Steps: []winnow.Step{
		{Kind: winnow.StepQuestions, Questions: []winnow.Question{{Text: "Where?", Type: winnow.QuestionSingleChoice,
			Choices: []string{" Berlin ", "Remote"}, Knockout: &winnow.Knockout{Allowed: []string{"Berlin "}, Reason: "Berlin only"}}}},
		{Kind: winnow.StepHomework, Homework: &winnow.Homework{Instructions: "x", AcceptFile: true, FileTypes: []string{"PDF", " .Zip "}}},
	}}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	q, hw := f.Steps[0].Questions[0], f.Steps[1].Homework
	if !slices.Equal(q.Choices, []string{"Berlin", "Remote"}) || !slices.Equal(q.Knockout.Allowed, []string{"Berlin"}) ||
		!slices.Equal(hw.FileTypes, []string{".pdf", ".zip"}) {
		t.Fatalf("choices %q, allowed %q, types %q", q.Choices, q.Knockout.Allowed, hw.FileTypes)
	}
}

// TestLengthsCountCharacters checks that limits said in characters count characters,
// not bytes: a name of 200 "é" (400 bytes) is fine and one more is not.
func TestLengthsCountCharacters(t *testing.T) {
	t.Parallel()
	name := func(n int) string { return strings.Repeat("é", n) }
	cases := []struct {
		name  string
		check func(s string) error
		max   int
	}{
		{"org name", func(s string) error { return (&winnow.Org{Name: s}).Validate() }, winnow.MaxNameLength},
		{"user name", func(s string) error {
			return (&winnow.User{OrgID: "o", Email: "a@example.com", Role: winnow.RoleAdmin, PasswordHash: "h", Name: s}).Validate()
		}, winnow.MaxNameLength},
		{"candidate name", func(s string) error {
			_, err := winnow.NewApplicant(&winnow.Funnel{OrgID: "o", ID: "f", Status: winnow.FunnelOpen}, s, "", strings.Repeat("t", 20), time.Now())
			return err
		}, winnow.MaxNameLength},
		{"job title", func(s string) error { return (&winnow.Funnel{OrgID: "o", Title: s}).Validate() }, winnow.MaxFunnelTitleLength},
		{"job description", func(s string) error { return (&winnow.Funnel{OrgID: "o", Title: "t", Description: s}).Validate() }, winnow.MaxFunnelDescriptionLength},
		{"review comment", func(s string) error {
			return (&winnow.Review{OrgID: "o", ApplicantID: "a", ReviewerID: "u", Score: 3, Comment: s}).Validate()
		}, winnow.MaxCommentLength},
		{"token name", func(s string) error { return (&winnow.APIToken{OrgID: "o", TokenHash: "h", Name: s}).Validate() }, winnow.MaxTokenNameLength},
		{"template subject", func(s string) error {
			return (&winnow.Template{OrgID: "o", Kind: winnow.EmailReminder, Subject: s, Body: "Hello"}).Validate()
		}, winnow.MaxSubjectLength},
		{"template body", func(s string) error {
			return (&winnow.Template{OrgID: "o", Kind: winnow.EmailReminder, Subject: "Hi", Body: s}).Validate()
		}, winnow.MaxBodyLength},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if err := c.check(name(c.max)); err != nil {
				t.Fatalf("%d characters refused: %v", c.max, err)
			}
			if err := c.check(name(c.max + 1)); winnow.ErrorCode(err) != winnow.EINVALID {
				t.Fatalf("%d characters: err = %v, want invalid", c.max+1, err)
			}
		})
	}
}
