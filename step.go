package winnow

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
)

// StepKind is one of the three kinds of funnel step.
type StepKind string

// The step kinds.
const (
	StepQuestions StepKind = "questions" // screening questions, possibly knockouts
	StepHomework  StepKind = "homework"  // a task answered with text and/or a file
	StepVideo     StepKind = "video"     // recorded or uploaded video answers to prompts
)

// Step is one stage of a funnel. Exactly one of Questions, Homework and Video is used,
// according to Kind.
type Step struct {
	ID        string     `json:"id"`
	Kind      StepKind   `json:"kind"`
	Title     string     `json:"title,omitempty"`
	Questions []Question `json:"questions,omitempty"`
	Homework  *Homework  `json:"homework,omitempty"`
	Video     *Video     `json:"video,omitempty"`
}

// QuestionType is the form a question's answer takes.
type QuestionType string

// The question types.
const (
	QuestionYesNo          QuestionType = "yes_no"
	QuestionSingleChoice   QuestionType = "single_choice"
	QuestionMultipleChoice QuestionType = "multiple_choice"
	QuestionNumber         QuestionType = "number"
	QuestionShortText      QuestionType = "short_text"
	QuestionLongText       QuestionType = "long_text"
)

// Valid reports whether t is a known question type.
func (t QuestionType) Valid() bool {
	switch t {
	case QuestionYesNo, QuestionSingleChoice, QuestionMultipleChoice, QuestionNumber, QuestionShortText, QuestionLongText:
		return true
	}
	return false
}

// Question is a screening question. With a Knockout, a wrong answer ends the funnel and
// the applicant becomes unqualified with the knockout's reason.
type Question struct {
	ID       string       `json:"id"`
	Text     string       `json:"text"`
	Type     QuestionType `json:"type"`
	Choices  []string     `json:"choices,omitempty"`
	Required bool         `json:"required,omitempty"`
	Knockout *Knockout    `json:"knockout,omitempty"`
}

// Knockout is a question's disqualifying rule. Which fields apply depends on the
// question type: Answer for yes/no, Allowed for choices, Min/Max for numbers.
type Knockout struct {
	Answer  string   `json:"answer,omitempty"`
	Allowed []string `json:"allowed,omitempty"`
	Min     *float64 `json:"min,omitempty"`
	Max     *float64 `json:"max,omitempty"`
	Reason  string   `json:"reason"`
}

// Homework is a task the applicant answers with text, a file, or both.
type Homework struct {
	Instructions string   `json:"instructions"`
	AcceptText   bool     `json:"acceptText"`
	AcceptFile   bool     `json:"acceptFile"`
	MaxFileBytes int64    `json:"maxFileBytes,omitempty"`
	FileTypes    []string `json:"fileTypes,omitempty"` // extensions such as ".pdf"
}

// Video is a video interview: prompts answered with recordings of at most MaxSeconds.
type Video struct {
	Prompts    []string `json:"prompts"`
	MaxSeconds int      `json:"maxSeconds,omitempty"`
}

// assignIDs gives the step and its questions random IDs where they have none, so that
// answers stay attached to the right question when a job is edited and reordered.
func (s *Step) assignIDs() {
	if s.ID == "" {
		s.ID = "s_" + randomID()
	}
	for i := range s.Questions {
		if s.Questions[i].ID == "" {
			s.Questions[i].ID = "q_" + randomID()
		}
	}
}

func randomID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Validate reports whether the step is complete and consistent.
func (s *Step) Validate() error {
	s.Title = strings.TrimSpace(s.Title)
	switch s.Kind {
	case StepQuestions:
		if len(s.Questions) == 0 {
			return Errorf(EINVALID, "A questions step needs at least one question.")
		}
		for i := range s.Questions {
			if err := s.Questions[i].Validate(); err != nil {
				return err
			}
		}
	case StepHomework:
		h := s.Homework
		if h == nil || strings.TrimSpace(h.Instructions) == "" {
			return Errorf(EINVALID, "Homework needs instructions.")
		}
		if !h.AcceptText && !h.AcceptFile {
			return Errorf(EINVALID, "Homework must accept a text answer, a file, or both.")
		}
		if h.MaxFileBytes < 0 {
			return Errorf(EINVALID, "Homework file size limit cannot be negative.")
		}
	case StepVideo:
		v := s.Video
		if v == nil || len(v.Prompts) == 0 {
			return Errorf(EINVALID, "A video interview needs at least one prompt.")
		}
		if slices.ContainsFunc(v.Prompts, func(p string) bool { return strings.TrimSpace(p) == "" }) {
			return Errorf(EINVALID, "Video prompts cannot be empty.")
		}
		if v.MaxSeconds < 0 {
			return Errorf(EINVALID, "Video length limit cannot be negative.")
		}
	default:
		return Errorf(EINVALID, "Unknown step kind %q: use questions, homework or video.", s.Kind)
	}
	return nil
}

// Validate reports whether the question and its knockout rule are consistent.
func (q *Question) Validate() error {
	q.Text = strings.TrimSpace(q.Text)
	if q.Text == "" {
		return Errorf(EINVALID, "Question text is required.")
	}
	if !q.Type.Valid() {
		return Errorf(EINVALID, "Unknown question type %q.", q.Type)
	}
	isChoice := q.Type == QuestionSingleChoice || q.Type == QuestionMultipleChoice
	if isChoice && len(q.Choices) < 2 {
		return Errorf(EINVALID, "Question %q needs at least two choices.", q.Text)
	}
	k := q.Knockout
	if k == nil {
		return nil
	}
	if strings.TrimSpace(k.Reason) == "" {
		return Errorf(EINVALID, "Knockout on %q needs a reason; it is shown in Lever.", q.Text)
	}
	switch q.Type {
	case QuestionYesNo:
		if k.Answer != "yes" && k.Answer != "no" {
			return Errorf(EINVALID, "Knockout on %q must require the answer yes or no.", q.Text)
		}
	case QuestionSingleChoice, QuestionMultipleChoice:
		if len(k.Allowed) == 0 {
			return Errorf(EINVALID, "Knockout on %q must list the allowed choices.", q.Text)
		}
		for _, a := range k.Allowed {
			if !slices.Contains(q.Choices, a) {
				return Errorf(EINVALID, "Knockout on %q allows %q, which is not one of its choices.", q.Text, a)
			}
		}
	case QuestionNumber:
		if k.Min == nil && k.Max == nil {
			return Errorf(EINVALID, "Knockout on %q needs a minimum, a maximum, or both.", q.Text)
		}
		if k.Min != nil && k.Max != nil && *k.Min > *k.Max {
			return Errorf(EINVALID, "Knockout on %q has a minimum above its maximum.", q.Text)
		}
	default:
		return Errorf(EINVALID, "Text questions cannot be knockouts.")
	}
	return nil
}
