package winnow_test

import (
	"testing"

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

func TestFunnelVisibleTo(t *testing.T) {
	t.Parallel()
	f := &winnow.Funnel{OrgID: "o", Team: []string{"lim-on"}}
	cases := []struct {
		name string
		u    *winnow.User
		want bool
	}{
		{"admin", &winnow.User{ID: "a", OrgID: "o", Role: winnow.RoleAdmin}, true},
		{"member", &winnow.User{ID: "m", OrgID: "o", Role: winnow.RoleMember}, true},
		{"limited on team", &winnow.User{ID: "lim-on", OrgID: "o", Role: winnow.RoleLimited}, true},
		{"limited off team", &winnow.User{ID: "lim-off", OrgID: "o", Role: winnow.RoleLimited}, false},
		{"other org admin", &winnow.User{ID: "x", OrgID: "p", Role: winnow.RoleAdmin}, false},
		{"nobody", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := f.VisibleTo(c.u); got != c.want {
				t.Fatalf("VisibleTo = %v, want %v", got, c.want)
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
