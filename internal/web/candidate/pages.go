package candidate

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"winnow"
)

// Chrome is the frame of every candidate page: the company and job in the header, and
// the opt-out link while the candidate can still use it.
type Chrome struct {
	Title     string
	Company   string
	Job       string
	Base      string // the candidate's link, /c/{token}
	CanOptOut bool
}

// Initial is the company's first letter, for the badge in the header.
func (c Chrome) Initial() string {
	r, _ := utf8.DecodeRuneInString(strings.TrimSpace(c.Company))
	if r == utf8.RuneError {
		return ""
	}
	return string(unicode.ToUpper(r))
}

// LandingPage is the first page: the job, its steps and how long they take.
type LandingPage struct {
	Chrome
	Name        string
	Description string
	Steps       []StepSummary
	Estimate    string
	Deadline    Moment
}

// StepSummary is one step as the landing page lists it.
type StepSummary struct {
	Number   int
	Kind     winnow.StepKind
	Title    string
	Detail   string
	Estimate string
}

// Progress says how far along the candidate is, for the bar at the top of each step.
type Progress struct {
	Current int // 1-based; Total+1 on the review page
	Total   int
}

// Max is the bar's length: every step, and the review as the last stretch, so that
// the bar is full only on the review page.
func (p Progress) Max() int { return p.Total + 1 }

// StepPage is what every step form shows around its fields.
type StepPage struct {
	Chrome
	Progress
	Step    winnow.Step
	Heading string
	Action  string   // where the form posts
	Errors  []string // what must be fixed, listed at the top
	Submit  string   // the label of the form's button
	// Back leads to the review without saving, when the step is edited from there.
	Back string
}

// QuestionsPage is the form of a questions step.
type QuestionsPage struct {
	StepPage
	Fields []QuestionField
}

// QuestionField is one question with what the candidate entered and what is wrong with it.
type QuestionField struct {
	winnow.Question
	Name   string // the form field's name
	Values []string
	Error  string
}

// Mandatory reports whether the question must be answered: required questions and
// knockouts.
func (f QuestionField) Mandatory() bool { return f.Required || f.Knockout != nil }

// Choice reports whether the question is answered by picking: yes/no or choices.
func (f QuestionField) Choice() bool {
	return f.Type == winnow.QuestionYesNo || f.Type == winnow.QuestionSingleChoice || f.Type == winnow.QuestionMultipleChoice
}

// Options are the values a choice question offers, with their labels.
func (f QuestionField) Options() []Option {
	var opts []Option
	if f.Type == winnow.QuestionYesNo {
		opts = []Option{{Value: "yes", Label: "Yes"}, {Value: "no", Label: "No"}}
	} else {
		for _, c := range f.Choices {
			opts = append(opts, Option{Value: c, Label: c})
		}
	}
	for i := range opts {
		for _, v := range f.Values {
			if v == opts[i].Value {
				opts[i].Checked = true
			}
		}
	}
	return opts
}

// InputType is the input element's type for the question's options.
func (f QuestionField) InputType() string {
	if f.Type == winnow.QuestionMultipleChoice {
		return "checkbox"
	}
	return "radio"
}

// Option is one value of a choice question.
type Option struct {
	Value   string
	Label   string
	Checked bool
}

// Value is the first entered value, for single-value inputs.
func (f QuestionField) Value() string {
	if len(f.Values) > 0 {
		return f.Values[0]
	}
	return ""
}

// HomeworkPage is the form of a homework step.
type HomeworkPage struct {
	StepPage
	Homework  *winnow.Homework
	Text      string
	MaxText   int
	Accept    string // for the file input's accept attribute
	Types     string // the accepted types as people read them
	MaxSize   string
	SavedFile string // the name of a file already received, if any
}

// VideoPage is the form of a video step: one recorder or file input per prompt.
type VideoPage struct {
	StepPage
	Prompts    []PromptField
	MaxSeconds int
	MaxLength  string
	MaxSize    string
}

// PromptField is one video prompt and whether its answer is already saved.
type PromptField struct {
	Index     int
	Number    int
	Text      string
	Name      string // the file field's name: winnow.PromptItem(Index)
	Saved     bool
	SavedName string
}

// ReviewPage lists everything the candidate answered before they submit.
type ReviewPage struct {
	Chrome
	Progress
	Steps []ReviewStep
}

// ReviewStep is one step's answers on the review page.
type ReviewStep struct {
	Number  int
	Edit    string // the step's form, to change its answers
	Title   string
	Kind    winnow.StepKind
	Answers []ReviewAnswer
}

// ReviewAnswer is a question and its answer, or a text or file given in a step.
type ReviewAnswer struct {
	Label string
	Value string
}

// StatusPage says where the candidate stands when there is nothing to fill in.
type StatusPage struct {
	Chrome
	Kind    string // thanks, submitted, complete, ended, opted_out, expired, new_link or link_requested
	Heading string
	Message string
	// Deadline is shown after the message on the expired page.
	Deadline Moment
	// ReplyTo is the company's address for candidates, offered where the page asks
	// them to get in touch; empty when the company set none.
	ReplyTo string
	// OfferNewLink shows the "Send me a new link" form, for invitations that ended.
	OfferNewLink bool
	// NewLinkError explains why a "Send me a new link" request was not taken.
	NewLinkError string
}

// OptOutPage asks the candidate to confirm that they are no longer interested.
type OptOutPage struct {
	Chrome
}

// ErrorPage explains what went wrong, with a way onwards when there is one.
type ErrorPage struct {
	Chrome
	Status   int
	Heading  string
	Message  string
	Link     string
	LinkText string
	// OfferNewLink shows the "Send me a new link" form, for links that do not work.
	OfferNewLink bool
}
