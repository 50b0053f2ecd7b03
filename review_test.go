package winnow_test

import (
	"testing"

	"winnow"
)

func TestAverageScore(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		scores []int
		want   string
	}{
		{"none", nil, ""},
		{"one", []int{3}, "3.0"},
		{"mixed", []int{4, 3}, "3.5"},
		{"thirds", []int{1, 2, 2}, "1.7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var rs []*winnow.Review
			for _, s := range c.scores {
				rs = append(rs, &winnow.Review{Score: s})
			}
			if got := winnow.AverageScore(rs); got != c.want {
				t.Fatalf("AverageScore = %q, want %q", got, c.want)
			}
		})
	}
}

func TestStepDisplayTitle(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		step winnow.Step
		want string
	}{
		{"own title", winnow.Step{Kind: winnow.StepHomework, Title: "Take-home"}, "Take-home"},
		{"questions", winnow.Step{Kind: winnow.StepQuestions}, "Questions"},
		{"homework", winnow.Step{Kind: winnow.StepHomework}, "Homework"},
		{"video", winnow.Step{Kind: winnow.StepVideo}, "Video interview"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := c.step.DisplayTitle(); got != c.want {
				t.Fatalf("DisplayTitle = %q, want %q", got, c.want)
			}
		})
	}
}
