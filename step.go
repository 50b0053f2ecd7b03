package winnow

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// StepKind is one of the three kinds of funnel step.
type StepKind string

// The step kinds.
const (
	StepQuestions StepKind = "questions" // screening questions, possibly knockouts
	StepHomework  StepKind = "homework"  // a task answered with text and/or a file
	StepVideo     StepKind = "video"     // recorded or uploaded video answers to prompts
)

// Label is the step kind as people read it.
func (k StepKind) Label() string {
	switch k {
	case StepQuestions:
		return "Questions"
	case StepHomework:
		return "Homework"
	case StepVideo:
		return "Video interview"
	}
	return string(k)
}

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

// DisplayTitle is the step's own title, or its kind's label when it has none.
func (s Step) DisplayTitle() string {
	if s.Title != "" {
		return s.Title
	}
	return s.Kind.Label()
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

// Limits of a funnel's content. Each keeps a funnel one that a candidate can finish and
// whose forms a browser can post: the largest questions step, MaxQuestionsPerStep
// questions with every one of MaxChoicesPerQuestion choices ticked, is 2,500 form
// values, well inside the 10,000 that net/url parses from one form, and the candidate
// pages size each form's byte limit from these constants too.
const (
	MaxStepsPerFunnel     = 20
	MaxQuestionsPerStep   = 50
	MaxChoicesPerQuestion = 50
	MaxPromptsPerStep     = 20 // video prompts
	MaxFileTypes          = 50 // extensions one homework accepts

	// MaxFileBytes is the largest file limit a homework step may set: 2 GiB. That is
	// enough for any task (a recording, a data set, a build), small enough for an upload
	// to finish over a home connection in one sitting, and keeps the sum of a funnel's
	// file limits (at most MaxStepsPerFunnel of them, doubled for the applicant's upload
	// budget) far from overflowing an int64.
	MaxFileBytes = 2 << 30

	MaxIDLength           = 64 // step and question IDs, in bytes of IDAlphabet
	MaxStepTitleLength    = 200
	MaxQuestionLength     = 1000
	MaxChoiceLength       = 200
	MaxReasonLength       = 500 // a knockout's reason, written to Lever
	MaxInstructionsLength = 20000
	MaxPromptLength       = 1000
	maxExtLength          = 16 // characters of a file extension after its dot
)

// IDAlphabet lists the characters a step or question ID may use. IDs appear in
// candidate URLs, form field names and HTML ids, where these need no escaping.
const IDAlphabet = "A-Z, a-z, 0-9, \"-\" and \"_\""

// validID reports whether id is 1 to MaxIDLength characters of IDAlphabet.
func validID(id string) bool {
	if id == "" || len(id) > MaxIDLength {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// clip shortens s for a message, so that a 100,000-character value is not repeated
// back in full.
func clip(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}

// tooLong reports whether s has more than max characters.
func tooLong(s string, max int) bool { return utf8.RuneCountInString(s) > max }

// invalidAt is an EINVALID error whose message begins with where it applies: "Step 2",
// "Step 2, question 3" or, for a step validated alone, "Question 3".
func invalidAt(where, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if where != "" {
		msg = where + ": " + msg
	}
	return &Error{Code: EINVALID, Message: msg}
}

// questionAt names question i of the step at where.
func questionAt(where string, i int) string {
	if where == "" {
		return "Question " + strconv.Itoa(i+1)
	}
	return where + ", question " + strconv.Itoa(i+1)
}

// Validate reports whether the step is complete, consistent and within the limits,
// so that a candidate can finish it. It normalises titles, texts and file types.
func (s *Step) Validate() error { return s.validate("") }

// validate is Validate with messages that begin with where ("Step 2").
func (s *Step) validate(where string) error {
	s.Title = strings.TrimSpace(s.Title)
	if !validID(s.ID) {
		return invalidAt(where, "The step ID %q must be 1 to %d characters of %s.", clip(s.ID), MaxIDLength, IDAlphabet)
	}
	if tooLong(s.Title, MaxStepTitleLength) {
		return invalidAt(where, "The step title must be at most %d characters.", MaxStepTitleLength)
	}
	switch s.Kind {
	case StepQuestions:
		if len(s.Questions) == 0 {
			return invalidAt(where, "A questions step needs at least one question.")
		}
		if len(s.Questions) > MaxQuestionsPerStep {
			return invalidAt(where, "A questions step may have at most %d questions; split them over more steps.", MaxQuestionsPerStep)
		}
		seen := make(map[string]int, len(s.Questions))
		for i := range s.Questions {
			q := &s.Questions[i]
			at := questionAt(where, i)
			if err := q.validate(at); err != nil {
				return err
			}
			if j, dup := seen[q.ID]; dup {
				return invalidAt(at, "The question ID %q is already used by question %d.", q.ID, j+1)
			}
			seen[q.ID] = i
		}
	case StepHomework:
		h := s.Homework
		if h == nil || strings.TrimSpace(h.Instructions) == "" {
			return invalidAt(where, "Homework needs instructions.")
		}
		if tooLong(h.Instructions, MaxInstructionsLength) {
			return invalidAt(where, "Homework instructions must be at most %s characters.", thousands(MaxInstructionsLength))
		}
		if !h.AcceptText && !h.AcceptFile {
			return invalidAt(where, "Homework must accept a text answer, a file, or both.")
		}
		if h.MaxFileBytes < 0 {
			return invalidAt(where, "Homework file size limit cannot be negative.")
		}
		if h.MaxFileBytes > MaxFileBytes {
			return invalidAt(where, "Homework file size limit must be at most %d MB.", MaxFileBytes>>20)
		}
		if err := h.normalizeFileTypes(where); err != nil {
			return err
		}
	case StepVideo:
		v := s.Video
		if v == nil || len(v.Prompts) == 0 {
			return invalidAt(where, "A video interview needs at least one prompt.")
		}
		if len(v.Prompts) > MaxPromptsPerStep {
			return invalidAt(where, "A video interview may have at most %d prompts.", MaxPromptsPerStep)
		}
		for i, p := range v.Prompts {
			switch {
			case strings.TrimSpace(p) == "":
				return invalidAt(where, "Video prompts cannot be empty.")
			case tooLong(p, MaxPromptLength):
				return invalidAt(where, "Video prompt %d must be at most %d characters.", i+1, MaxPromptLength)
			}
		}
		if v.MaxSeconds < 0 {
			return invalidAt(where, "Video length limit cannot be negative.")
		}
	default:
		return invalidAt(where, "Unknown step kind %q: use questions, homework or video.", clip(string(s.Kind)))
	}
	return nil
}

// normalizeFileTypes writes the accepted extensions as the candidate pages compare
// them (".pdf": lower case, with the dot) and refuses what no file name can match,
// such as "" or ".tar.gz", whose file would be refused whatever the candidate chose.
func (h *Homework) normalizeFileTypes(where string) error {
	if len(h.FileTypes) > MaxFileTypes {
		return invalidAt(where, "Homework may list at most %d file types.", MaxFileTypes)
	}
	for i, t := range h.FileTypes {
		ext := strings.ToLower(strings.TrimSpace(t))
		if !strings.HasPrefix(ext, ".") {
			ext = "." + ext
		}
		ok := len(ext) > 1 && len(ext) <= maxExtLength+1
		for _, c := range []byte(ext[1:]) {
			ok = ok && ('a' <= c && c <= 'z' || '0' <= c && c <= '9')
		}
		if !ok {
			return invalidAt(where, "%q is not a file extension such as .pdf (letters and digits after one dot).", clip(t))
		}
		h.FileTypes[i] = ext
	}
	return nil
}

// Validate reports whether the question and its knockout rule are consistent and
// within the limits. It trims the text, the choices and the allowed choices.
func (q *Question) Validate() error { return q.validate("") }

// validate is Validate with messages that begin with where ("Step 2, question 3").
func (q *Question) validate(where string) error {
	q.Text = strings.TrimSpace(q.Text)
	if !validID(q.ID) {
		return invalidAt(where, "The question ID %q must be 1 to %d characters of %s.", clip(q.ID), MaxIDLength, IDAlphabet)
	}
	if q.Text == "" {
		return invalidAt(where, "Question text is required.")
	}
	if tooLong(q.Text, MaxQuestionLength) {
		return invalidAt(where, "Question text must be at most %d characters.", MaxQuestionLength)
	}
	if !q.Type.Valid() {
		return invalidAt(where, "Unknown question type %q.", clip(string(q.Type)))
	}
	isChoice := q.Type == QuestionSingleChoice || q.Type == QuestionMultipleChoice
	if isChoice {
		if len(q.Choices) < 2 {
			return invalidAt(where, "Question %q needs at least two choices.", clip(q.Text))
		}
		if len(q.Choices) > MaxChoicesPerQuestion {
			return invalidAt(where, "Question %q may have at most %d choices.", clip(q.Text), MaxChoicesPerQuestion)
		}
		// The candidate's answer is trimmed before it is compared with the choices, so a
		// choice that is empty or padded with spaces could never be chosen.
		for i, c := range q.Choices {
			c = strings.TrimSpace(c)
			switch {
			case c == "":
				return invalidAt(where, "Question %q has an empty choice.", clip(q.Text))
			case tooLong(c, MaxChoiceLength):
				return invalidAt(where, "Each choice of %q must be at most %d characters.", clip(q.Text), MaxChoiceLength)
			case slices.Contains(q.Choices[:i], c):
				return invalidAt(where, "Question %q lists the choice %q twice.", clip(q.Text), clip(c))
			}
			q.Choices[i] = c
		}
	}
	k := q.Knockout
	if k == nil {
		return nil
	}
	if strings.TrimSpace(k.Reason) == "" {
		return invalidAt(where, "Knockout on %q needs a reason; it is recorded on the applicant (and shown in Lever once Lever is connected).", clip(q.Text))
	}
	if tooLong(k.Reason, MaxReasonLength) {
		return invalidAt(where, "The knockout reason of %q must be at most %d characters.", clip(q.Text), MaxReasonLength)
	}
	switch q.Type {
	case QuestionYesNo:
		if k.Answer != "yes" && k.Answer != "no" {
			return invalidAt(where, "Knockout on %q must require the answer yes or no.", clip(q.Text))
		}
	case QuestionSingleChoice, QuestionMultipleChoice:
		if len(k.Allowed) == 0 {
			return invalidAt(where, "Knockout on %q must list the allowed choices.", clip(q.Text))
		}
		for i, a := range k.Allowed {
			a = strings.TrimSpace(a)
			if !slices.Contains(q.Choices, a) {
				return invalidAt(where, "Knockout on %q allows %q, which is not one of its choices.", clip(q.Text), clip(a))
			}
			k.Allowed[i] = a
		}
	case QuestionNumber:
		if k.Min == nil && k.Max == nil {
			return invalidAt(where, "Knockout on %q needs a minimum, a maximum, or both.", clip(q.Text))
		}
		if k.Min != nil && k.Max != nil && *k.Min > *k.Max {
			return invalidAt(where, "Knockout on %q has a minimum above its maximum.", clip(q.Text))
		}
	default:
		return invalidAt(where, "Text questions cannot be knockouts.")
	}
	return nil
}

// thousands writes n with commas between groups of three digits: 20,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
