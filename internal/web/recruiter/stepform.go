package recruiter

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"winnow"
)

// The step editor posts one form per step. Question fields are named "q.<question
// ID>.<field>" so that reordering never mixes two questions' values up; the hidden
// field "q" lists the question IDs in their order on the page. The button pressed
// names the operation in "op"; every operation except removing the step also saves the
// form's other fields, so nothing typed is lost by moving things around.

// The step form's operations. The question operations carry the question's ID after a
// colon: "q_up:q_1a2b".
const (
	opSave        = "save"
	opAddQuestion = "add_question"
	opMoveUp      = "move_up"
	opMoveDown    = "move_down"
	opRemove      = "remove"
	opQuestionUp  = "q_up"
	opQuestionDn  = "q_down"
	opQuestionDel = "q_remove"
)

// focus names what the editor scrolls to after an operation: a step, a question of it,
// or (step -1) the list of steps.
type focus struct {
	step     int
	question int
}

// anchor is the fragment of the editor's URL that shows the focused element of f.
func (fc focus) anchor(f *winnow.Funnel) string {
	if fc.step < 0 || fc.step >= len(f.Steps) {
		return "steps"
	}
	s := f.Steps[fc.step]
	if fc.question >= 0 && fc.question < len(s.Questions) {
		return "q-" + s.Questions[fc.question].ID
	}
	return "step-" + s.ID
}

// parseStep returns a copy of the stored step s with the step form's fields applied.
// Only fields that belong to the step's kind are read.
func parseStep(s winnow.Step, form url.Values) (winnow.Step, error) {
	out := winnow.CopySteps([]winnow.Step{s})[0]
	out.Title = strings.TrimSpace(form.Get("title"))
	switch out.Kind {
	case winnow.StepQuestions:
		for i := range out.Questions {
			q := &out.Questions[i]
			if err := parseQuestion(q, form, "q."+q.ID+"."); err != nil {
				return out, err
			}
		}
	case winnow.StepHomework:
		h := out.Homework
		if h == nil {
			h = &winnow.Homework{}
			out.Homework = h
		}
		h.Instructions = strings.TrimSpace(form.Get("instructions"))
		h.AcceptText = form.Get("accept_text") != ""
		h.AcceptFile = form.Get("accept_file") != ""
		h.FileTypes = parseFileTypes(form.Get("file_types"))
		size, err := parseMegabytes(form.Get("max_mb"))
		if err != nil {
			return out, err
		}
		h.MaxFileBytes = size
	case winnow.StepVideo:
		v := out.Video
		if v == nil {
			v = &winnow.Video{}
			out.Video = v
		}
		v.Prompts = lines(form.Get("prompts"))
		sec, err := parseSeconds(form.Get("max_seconds"))
		if err != nil {
			return out, err
		}
		v.MaxSeconds = sec
	}
	return out, nil
}

// parseQuestion applies the fields named prefix+"text", prefix+"type", … to q. A
// knockout is kept only when its box is ticked and the type can have one; the domain
// then checks that the rule and its reason are complete.
func parseQuestion(q *winnow.Question, form url.Values, prefix string) error {
	q.Text = strings.TrimSpace(form.Get(prefix + "text"))
	if t := form.Get(prefix + "type"); t != "" {
		q.Type = winnow.QuestionType(t)
	}
	q.Required = form.Get(prefix+"required") != ""
	isChoice := q.Type == winnow.QuestionSingleChoice || q.Type == winnow.QuestionMultipleChoice
	if isChoice {
		q.Choices = lines(form.Get(prefix + "choices"))
	} else {
		q.Choices = nil
	}
	q.Knockout = nil
	if form.Get(prefix+"ko") == "" || q.Type == winnow.QuestionShortText || q.Type == winnow.QuestionLongText {
		return nil
	}
	k := &winnow.Knockout{Reason: strings.TrimSpace(form.Get(prefix + "ko_reason"))}
	switch {
	case q.Type == winnow.QuestionYesNo:
		k.Answer = form.Get(prefix + "ko_answer")
	case isChoice:
		for _, a := range form[prefix+"ko_allowed"] {
			if a = strings.TrimSpace(a); a != "" && !slices.Contains(k.Allowed, a) {
				k.Allowed = append(k.Allowed, a)
			}
		}
	case q.Type == winnow.QuestionNumber:
		var err error
		if k.Min, err = parseNumber(form.Get(prefix+"ko_min"), "minimum", q.Text); err != nil {
			return err
		}
		if k.Max, err = parseNumber(form.Get(prefix+"ko_max"), "maximum", q.Text); err != nil {
			return err
		}
	}
	q.Knockout = k
	return nil
}

// newQuestion builds the question typed into a step's "add a question" row.
func newQuestion(form url.Values) (winnow.Question, error) {
	q := winnow.Question{Type: winnow.QuestionYesNo}
	err := parseQuestion(&q, form, "new_")
	return q, err
}

// applyStepOp changes f, whose step i already holds the form's values, as op says.
func applyStepOp(f *winnow.Funnel, i int, op string, form url.Values) (focus, error) {
	op, qid, _ := strings.Cut(op, ":")
	steps := f.Steps
	switch op {
	case "", opSave:
		return focus{i, -1}, nil
	case opAddQuestion:
		if steps[i].Kind != winnow.StepQuestions {
			return focus{}, winnow.Errorf(winnow.EINVALID, "Only a questions step has questions.")
		}
		q, err := newQuestion(form)
		if err != nil {
			return focus{}, err
		}
		steps[i].Questions = append(steps[i].Questions, q)
		return focus{i, len(steps[i].Questions) - 1}, nil
	case opMoveUp, opMoveDown:
		j := i - 1
		if op == opMoveDown {
			j = i + 1
		}
		if j < 0 || j >= len(steps) {
			return focus{i, -1}, nil
		}
		steps[i], steps[j] = steps[j], steps[i]
		return focus{j, -1}, nil
	case opRemove:
		f.Steps = slices.Delete(steps, i, i+1)
		return focus{min(i, len(f.Steps)-1), -1}, nil
	case opQuestionUp, opQuestionDn, opQuestionDel:
		qs := steps[i].Questions
		k := slices.IndexFunc(qs, func(q winnow.Question) bool { return q.ID == qid })
		if k < 0 {
			return focus{}, winnow.Errorf(winnow.ENOTFOUND, "This question is no longer part of the step. Reload the page to see the job as it is now.")
		}
		switch op {
		case opQuestionDel:
			steps[i].Questions = slices.Delete(qs, k, k+1)
			return focus{i, -1}, nil
		case opQuestionUp:
			if k > 0 {
				qs[k], qs[k-1] = qs[k-1], qs[k]
				k--
			}
		default:
			if k < len(qs)-1 {
				qs[k], qs[k+1] = qs[k+1], qs[k]
				k++
			}
		}
		return focus{i, k}, nil
	}
	return focus{}, winnow.Errorf(winnow.EINVALID, "Unknown editor action %q.", op)
}

// newStep builds the step that the "add a step" form of kind describes: a questions
// step with its first question, homework with its instructions, a video interview with
// its first prompt. The other settings start at values that suit most jobs.
func newStep(kind string, form url.Values) (winnow.Step, error) {
	s := winnow.Step{Kind: winnow.StepKind(kind)}
	switch s.Kind {
	case winnow.StepQuestions:
		q, err := newQuestion(form)
		if err != nil {
			return s, err
		}
		s.Questions = []winnow.Question{q}
	case winnow.StepHomework:
		s.Homework = &winnow.Homework{Instructions: strings.TrimSpace(form.Get("instructions")), AcceptText: true, AcceptFile: true,
			MaxFileBytes: 20 << 20, FileTypes: []string{".pdf", ".zip"}}
	case winnow.StepVideo:
		s.Video = &winnow.Video{Prompts: lines(form.Get("prompt")), MaxSeconds: 120}
	}
	return s, nil
}

// lines splits text into its non-empty, trimmed lines.
func lines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// parseFileTypes reads "pdf, .ZIP docx" as [".pdf", ".zip", ".docx"].
func parseFileTypes(text string) []string {
	var out []string
	for _, t := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		if !strings.HasPrefix(t, ".") {
			t = "." + t
		}
		if len(t) > 1 && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// parseMegabytes reads a size limit in megabytes; empty means none.
func parseMegabytes(text string) (int64, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return 0, nil
	}
	mb, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(mb) || math.IsInf(mb, 0) || mb > 1<<20 {
		return 0, winnow.Errorf(winnow.EINVALID, "The file size limit must be a number of megabytes, such as 20.")
	}
	return int64(math.Round(mb * (1 << 20))), nil
}

// parseSeconds reads a length limit in whole seconds; empty means none.
func parseSeconds(text string) (int, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(text)
	if err != nil || n > 24*3600 {
		return 0, winnow.Errorf(winnow.EINVALID, "The maximum video length must be a whole number of seconds.")
	}
	return n, nil
}

// parseNumber reads a knockout bound of the question; empty means none.
func parseNumber(text, which, question string) (*float64, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	n, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return nil, winnow.Errorf(winnow.EINVALID, "The knockout %s of %q must be a number.", which, question)
	}
	return &n, nil
}
