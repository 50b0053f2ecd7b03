package recruiter

import (
	"net/url"
	"reflect"
	"testing"

	"winnow"
)

// TestParseQuestion reads each type's knockout fields and ignores what does not apply.
func TestParseQuestion(t *testing.T) {
	t.Parallel()
	two, ten := 2.0, 10.0
	tests := []struct {
		name string
		form url.Values
		want winnow.Question
		code string
	}{
		{"yes/no knockout", url.Values{"p.text": {" Permit? "}, "p.type": {"yes_no"}, "p.ko": {"on"}, "p.ko_answer": {"yes"}, "p.ko_reason": {"Needs a permit"}},
			winnow.Question{Text: "Permit?", Type: "yes_no", Knockout: &winnow.Knockout{Answer: "yes", Reason: "Needs a permit"}}, ""},
		{"box unticked drops the rule", url.Values{"p.text": {"Permit?"}, "p.type": {"yes_no"}, "p.ko_answer": {"yes"}, "p.ko_reason": {"x"}},
			winnow.Question{Text: "Permit?", Type: "yes_no"}, ""},
		{"choices and allowed", url.Values{"p.text": {"Where?"}, "p.type": {"single_choice"}, "p.choices": {"Berlin\r\n\r\n Remote \n"},
			"p.ko": {"on"}, "p.ko_allowed": {"Remote", "Remote"}, "p.ko_reason": {"Remote only"}, "p.required": {"on"}},
			winnow.Question{Text: "Where?", Type: "single_choice", Choices: []string{"Berlin", "Remote"}, Required: true,
				Knockout: &winnow.Knockout{Allowed: []string{"Remote"}, Reason: "Remote only"}}, ""},
		{"number bounds", url.Values{"p.text": {"Years?"}, "p.type": {"number"}, "p.ko": {"on"}, "p.ko_min": {"2"}, "p.ko_max": {" 10 "}, "p.ko_reason": {"r"}},
			winnow.Question{Text: "Years?", Type: "number", Knockout: &winnow.Knockout{Min: &two, Max: &ten, Reason: "r"}}, ""},
		{"bound not a number", url.Values{"p.text": {"Years?"}, "p.type": {"number"}, "p.ko": {"on"}, "p.ko_min": {"two"}}, winnow.Question{}, winnow.EINVALID},
		{"text question ignores the box", url.Values{"p.text": {"Story"}, "p.type": {"long_text"}, "p.ko": {"on"}, "p.ko_reason": {"x"}, "p.choices": {"a\nb"}},
			winnow.Question{Text: "Story", Type: "long_text"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var q winnow.Question
			err := parseQuestion(&q, tt.form, "p.")
			if winnow.ErrorCode(err) != tt.code {
				t.Fatalf("err = %v, want code %q", err, tt.code)
			}
			if tt.code == "" && !reflect.DeepEqual(q, tt.want) {
				t.Fatalf("got %+v\nwant %+v", q, tt.want)
			}
		})
	}
}

// TestApplyStepOp moves and removes steps and questions, and refuses unknown actions.
func TestApplyStepOp(t *testing.T) {
	t.Parallel()
	newFunnel := func() *winnow.Funnel {
		return &winnow.Funnel{Steps: []winnow.Step{
			{ID: "s1", Kind: winnow.StepQuestions, Questions: []winnow.Question{{ID: "a"}, {ID: "b"}, {ID: "c"}}},
			{ID: "s2", Kind: winnow.StepHomework},
			{ID: "s3", Kind: winnow.StepVideo},
		}}
	}
	ids := func(f *winnow.Funnel) (steps, qs []string) {
		for _, s := range f.Steps {
			steps = append(steps, s.ID)
		}
		for _, q := range f.Steps[0].Questions {
			qs = append(qs, q.ID)
		}
		return steps, qs
	}
	tests := []struct {
		name   string
		step   int
		op     string
		steps  []string
		qs     []string
		anchor string
		code   string
	}{
		{"save", 0, "save", []string{"s1", "s2", "s3"}, []string{"a", "b", "c"}, "step-s1", ""},
		{"move down", 1, "move_down", []string{"s1", "s3", "s2"}, []string{"a", "b", "c"}, "step-s2", ""},
		{"move first up stays", 0, "move_up", []string{"s1", "s2", "s3"}, []string{"a", "b", "c"}, "step-s1", ""},
		{"remove", 2, "remove", []string{"s1", "s2"}, []string{"a", "b", "c"}, "step-s2", ""},
		{"question up", 0, "q_up:c", []string{"s1", "s2", "s3"}, []string{"a", "c", "b"}, "q-c", ""},
		{"question down at the end stays", 0, "q_down:c", []string{"s1", "s2", "s3"}, []string{"a", "b", "c"}, "q-c", ""},
		{"question removed", 0, "q_remove:b", []string{"s1", "s2", "s3"}, []string{"a", "c"}, "step-s1", ""},
		{"unknown question", 0, "q_up:z", nil, nil, "", winnow.ENOTFOUND},
		{"unknown action", 0, "explode", nil, nil, "", winnow.EINVALID},
		{"question on homework", 1, "add_question", nil, nil, "", winnow.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFunnel()
			fc, err := applyStepOp(f, tt.step, tt.op, url.Values{})
			if winnow.ErrorCode(err) != tt.code {
				t.Fatalf("err = %v, want code %q", err, tt.code)
			}
			if tt.code != "" {
				return
			}
			steps, qs := ids(f)
			if !reflect.DeepEqual(steps, tt.steps) || !reflect.DeepEqual(qs, tt.qs) || fc.anchor(f) != tt.anchor {
				t.Fatalf("steps %v questions %v anchor %q; want %v %v %q", steps, qs, fc.anchor(f), tt.steps, tt.qs, tt.anchor)
			}
		})
	}
}
