package winnow

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// StepAnswer is what an applicant answered in one step of their funnel. Progress is saved
// step by step, so the same link resumes where the candidate left off.
type StepAnswer struct {
	OrgID       string
	ApplicantID string
	StepID      string
	Questions   map[string][]string // question ID → the chosen or typed values
	Text        string              // the homework's text answer
	Files       map[string]string   // item → upload ID: "homework", or "prompt-0", "prompt-1", … for video
	CompletedAt *time.Time          // set once the step's form was completed
	UpdatedAt   time.Time
}

// PromptItem names the answer item of a video step's prompt i.
func PromptItem(i int) string { return "prompt-" + strconv.Itoa(i) }

// Limits on typed answers, so one applicant cannot fill the database.
const (
	MaxShortText = 500
	MaxLongText  = 20000
)

// CheckAnswer validates and normalises raw form values for the question: yes/no must be
// "yes" or "no", choices must be among the question's, numbers must parse, texts must fit.
// An empty answer to a required question is EINVALID.
func (q *Question) CheckAnswer(values []string) ([]string, error) {
	var clean []string
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			clean = append(clean, v)
		}
	}
	if len(clean) == 0 {
		if q.Required || q.Knockout != nil {
			return nil, Errorf(EINVALID, "Please answer %q.", q.Text)
		}
		return nil, nil
	}
	switch q.Type {
	case QuestionYesNo:
		if len(clean) != 1 || (clean[0] != "yes" && clean[0] != "no") {
			return nil, Errorf(EINVALID, "Please answer yes or no to %q.", q.Text)
		}
	case QuestionSingleChoice, QuestionMultipleChoice:
		if q.Type == QuestionSingleChoice && len(clean) != 1 {
			return nil, Errorf(EINVALID, "Please choose one answer to %q.", q.Text)
		}
		for _, v := range clean {
			if !slices.Contains(q.Choices, v) {
				return nil, Errorf(EINVALID, "%q is not one of the choices for %q.", v, q.Text)
			}
		}
		slices.Sort(clean)
		clean = slices.Compact(clean)
	case QuestionNumber:
		if len(clean) != 1 {
			return nil, Errorf(EINVALID, "Please enter one number for %q.", q.Text)
		}
		if _, err := strconv.ParseFloat(clean[0], 64); err != nil {
			return nil, Errorf(EINVALID, "Please enter a number for %q.", q.Text)
		}
	case QuestionShortText, QuestionLongText:
		max := MaxShortText
		if q.Type == QuestionLongText {
			max = MaxLongText
		}
		text := strings.Join(clean, "\n")
		if utf8.RuneCountInString(text) > max {
			return nil, Errorf(EINVALID, "The answer to %q must be at most %d characters.", q.Text, max)
		}
		clean = []string{text}
	}
	return clean, nil
}

// KnocksOut reports whether checked values fail the question's knockout rule.
func (q *Question) KnocksOut(values []string) bool {
	k := q.Knockout
	if k == nil {
		return false
	}
	if len(values) == 0 {
		return true
	}
	switch q.Type {
	case QuestionYesNo:
		return values[0] != k.Answer
	case QuestionSingleChoice, QuestionMultipleChoice:
		for _, v := range values {
			if !slices.Contains(k.Allowed, v) {
				return true
			}
		}
		return false
	case QuestionNumber:
		n, err := strconv.ParseFloat(values[0], 64)
		if err != nil {
			return true
		}
		return (k.Min != nil && n < *k.Min) || (k.Max != nil && n > *k.Max)
	}
	return false
}

// Upload is a file an applicant sent: a homework answer or a video. The bytes live on
// disk under the data folder; the row says whose they are.
type Upload struct {
	ID          string
	OrgID       string
	ApplicantID string
	StepID      string
	Item        string // "homework" or PromptItem(i)
	Name        string // the file name the candidate's device gave, for downloads
	ContentType string
	Size        int64
	Path        string // relative to the uploads folder; never shown to anyone
	// DurationMs is how long a browser recording is, as the candidate's recorder
	// measured it (WebM from MediaRecorder carries no duration); 0 when unknown.
	DurationMs int64
	CreatedAt  time.Time
}

// MaxRecordingMs caps a recording's reported duration: no video answer is longer than
// an hour, so a larger figure is a broken or forged report.
const MaxRecordingMs = int64(time.Hour / time.Millisecond)

// ParseRecordingMs reads the duration a recorder reported in milliseconds. Empty means
// unknown (0); anything not a whole number from 1 to MaxRecordingMs, or longer than
// maxSeconds allows with a little slack when maxSeconds is set, is EINVALID.
func ParseRecordingMs(s string, maxSeconds int) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	limit := MaxRecordingMs
	if maxSeconds > 0 {
		// The recorder stops at the limit; a second of slack covers its timer's tick.
		limit = min(limit, int64(maxSeconds+1)*1000)
	}
	if err != nil || n <= 0 || n > limit {
		return 0, Errorf(EINVALID, "The recording's length could not be read. Please record your answer again.")
	}
	return n, nil
}

// UploadBudgetFactor is how many times the file limits of an applicant's steps, added
// up, the applicant's stored uploads may take together. A replaced file is deleted, so
// one full set of answers takes the limits once; the second helps a file replaced while
// the old one is still stored, and uploads a failed save left behind until they are
// swept. Without a budget any candidate link could fill the disk.
const UploadBudgetFactor = 2

// FileLimit is the most bytes a homework file may have: the step's own limit, or
// fallback (the server's default) when the step sets none.
func (h *Homework) FileLimit(fallback int64) int64 {
	if h.MaxFileBytes > 0 {
		return h.MaxFileBytes
	}
	return fallback
}

// UploadBudget is the most bytes the applicant's uploads may take together:
// UploadBudgetFactor times the file limits of the steps they were invited to, added up.
// videoLimit limits each video answer and homeworkDefault a homework file whose step
// sets no limit; both are the server's. The sum saturates rather than overflow.
func (a *Applicant) UploadBudget(videoLimit, homeworkDefault int64) int64 {
	var sum int64
	add := func(n int64) {
		if n > 0 {
			sum = min(sum, math.MaxInt64-n) + n
		}
	}
	for _, s := range a.Steps {
		switch {
		case s.Kind == StepHomework && s.Homework != nil && s.Homework.AcceptFile:
			add(s.Homework.FileLimit(homeworkDefault))
		case s.Kind == StepVideo && s.Video != nil:
			for range s.Video.Prompts {
				add(videoLimit)
			}
		}
	}
	if sum > math.MaxInt64/UploadBudgetFactor {
		return math.MaxInt64
	}
	return sum * UploadBudgetFactor
}

// AnswerService stores applicants' answers and uploaded files.
type AnswerService interface {
	// SaveStepAnswer stores the applicant's answer for a step, replacing an earlier one.
	// The uploads the earlier answer named and this one does not are deleted with it and
	// returned, so that the caller removes their files once the answer no longer names
	// them.
	SaveStepAnswer(ctx context.Context, a *StepAnswer) (replaced []*Upload, err error)
	// ListStepAnswers returns the applicant's answers, in no particular order.
	ListStepAnswers(ctx context.Context, orgID, applicantID string) ([]*StepAnswer, error)
	// CreateUpload records an uploaded file and fills in ID and CreatedAt. With budget
	// above zero, a file that would take the applicant's uploads together past budget
	// bytes is ETOOLARGE and is not recorded.
	CreateUpload(ctx context.Context, u *Upload, budget int64) error
	// UploadedBytes returns how many bytes the applicant's recorded uploads take together.
	UploadedBytes(ctx context.Context, orgID, applicantID string) (int64, error)
	// FindUpload returns the org's upload or ENOTFOUND.
	FindUpload(ctx context.Context, orgID, id string) (*Upload, error)
}

// FailedKnockout returns the first knockout question of steps whose answer fails its
// rule (an unanswered knockout fails), or nil when every knockout passes.
func FailedKnockout(steps []Step, answers map[string]*StepAnswer) *Question {
	for _, s := range steps {
		for i := range s.Questions {
			q := &s.Questions[i]
			if q.Knockout == nil {
				continue
			}
			var values []string
			if a := answers[s.ID]; a != nil {
				values = a.Questions[q.ID]
			}
			if q.KnocksOut(values) {
				return q
			}
		}
	}
	return nil
}

// SubmitAnswers submits the applicant with the answers they gave, by step ID. The
// knockouts of the applicant's steps are judged again on the answers as they stand,
// since a candidate may have changed one after its step first passed (the review
// page's Edit): a failing one ends the application as unqualified with its reason,
// in progress → unqualified, instead of submitting it. Once an admin has overridden a
// knockout (history, the applicant's timeline, has EventKnockoutOverridden), knockouts
// are not judged again: the admin let the candidate through having seen the answers,
// and the job team decides.
func (a *Applicant) SubmitAnswers(now time.Time, answers map[string]*StepAnswer, history []*Event) (Event, error) {
	if q := FailedKnockout(a.Steps, answers); q != nil && a.Status == StatusInProgress && !KnockoutWaived(history) {
		if err := a.closedInLever(); err != nil {
			return Event{}, err
		}
		return a.Disqualify(now, q.Knockout.Reason, "")
	}
	return a.Submit(now)
}

// KnockoutWaived reports whether an admin has overridden a failed knockout on the
// timeline given.
func KnockoutWaived(history []*Event) bool {
	for _, e := range history {
		if e.Kind == EventKnockoutOverridden {
			return true
		}
	}
	return false
}
