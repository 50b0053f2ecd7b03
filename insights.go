package winnow

import (
	"context"
	"time"
)

// Period is a half-open range of time, [From, To). Insights count the applicants
// invited within it (a cohort), so that every figure of a period is about the same
// people.
type Period struct {
	From time.Time
	To   time.Time
}

// Previous is the period of the same length that ends where p starts, for comparison.
func (p Period) Previous() Period {
	return Period{From: p.From.Add(-p.To.Sub(p.From)), To: p.From}
}

// Validate reports whether the period can be counted.
func (p Period) Validate() error {
	if p.From.IsZero() || p.To.IsZero() {
		return Errorf(EINVALID, "A date range needs a start and an end.")
	}
	if !p.From.Before(p.To) {
		return Errorf(EINVALID, "The start of the date range must be before its end.")
	}
	if p.To.Sub(p.From) > 10*366*24*time.Hour {
		return Errorf(EINVALID, "A date range may cover at most ten years.")
	}
	return nil
}

// FunnelCounts is how many applicants of a cohort were ever in each stage. Decided
// counts decisions on submissions; applicants a knockout question ended while in
// progress are KnockedOut, neither submitted nor decided.
type FunnelCounts struct {
	Invited    int `json:"invited"`
	Started    int `json:"started"`
	Submitted  int `json:"submitted"`
	Decided    int `json:"decided"`
	Qualified  int `json:"qualified"`
	KnockedOut int `json:"knockedOut"`
	// Opted out, by why: declined through their link, or let the deadline pass. Those
	// who never started are among them.
	Declined       int `json:"declined"`
	DeadlinePassed int `json:"deadlinePassed"`
}

// StepInsight is one step of a job: how many applicants reached it (started the
// funnel and completed every step before it) and how many stopped there, by why.
type StepInsight struct {
	ID             string `json:"id"`
	Title          string `json:"title"`
	Reached        int    `json:"reached"`
	StoppedHere    int    `json:"stoppedHere"` // Declined + DeadlinePassed
	Declined       int    `json:"declined"`
	DeadlinePassed int    `json:"deadlinePassed"`
	KnockedOut     int    `json:"knockedOut"`
}

// QuestionInsight is how often a question was answered and how often its answer
// knocked the applicant out.
type QuestionInsight struct {
	ID         string `json:"id"`
	StepID     string `json:"stepId"`
	Text       string `json:"text"`
	Knockout   bool   `json:"knockout"` // the question has a knockout rule
	Answered   int    `json:"answered"`
	KnockedOut int    `json:"knockedOut"`
}

// Durations is the median and 90th percentile of a stage's length, in seconds, over
// Count applicants; both are zero when Count is.
type Durations struct {
	Count  int   `json:"count"`
	Median int64 `json:"median"`
	P90    int64 `json:"p90"`
}

// ReminderStarts is how many applicants started after exactly Reminders reminders
// had been sent to them.
type ReminderStarts struct {
	Reminders int `json:"reminders"`
	Started   int `json:"started"`
}

// ReviewerInsight is what one reviewer did in a cohort. Name is the member's, never a
// candidate's.
type ReviewerInsight struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	Scores       int     `json:"scores"`
	AverageScore float64 `json:"averageScore"`
}

// SpreadCount is how many applicants with two or more reviews had Spread between
// their highest and lowest score.
type SpreadCount struct {
	Spread     int `json:"spread"`
	Applicants int `json:"applicants"`
}

// ReviewInsights sums up the job team's reviews of a cohort. A decision goes against
// the average score when a qualified applicant averaged below the middle of the scale
// (2.5) or an unqualified one above it.
type ReviewInsights struct {
	Reviewers        []ReviewerInsight `json:"reviewers"`
	Reviewed         int               `json:"reviewed"`         // applicants with a review
	Disagreements    []SpreadCount     `json:"disagreements"`    // applicants with two or more reviews, by spread
	DecisionsAgainst int               `json:"decisionsAgainst"` // decided against the average score
}

// JobInsights is every figure of a job for one period.
type JobInsights struct {
	Period       Period            `json:"-"`
	Funnel       FunnelCounts      `json:"funnel"`
	Steps        []StepInsight     `json:"steps"`
	Questions    []QuestionInsight `json:"questions"`
	TimeToStart  Durations         `json:"timeToStart"`  // invitation → start
	TimeToSubmit Durations         `json:"timeToSubmit"` // start → submission
	TimeToDecide Durations         `json:"timeToDecide"` // submission → decision
	// StartsAfterReminders says which reminder brought people back: applicants who
	// started, by how many reminders they had been sent before.
	StartsAfterReminders []ReminderStarts `json:"startsAfterReminders"`
	Reviews              ReviewInsights   `json:"reviews"`
}

// WeekCounts is what happened in the week starting Week (a Monday, UTC): applicants
// invited, submissions (completions) and qualified decisions.
type WeekCounts struct {
	Week      time.Time `json:"week"`
	Invited   int       `json:"invited"`
	Completed int       `json:"completed"`
	Qualified int       `json:"qualified"`
}

// JobRate is one job's completion rate in a period: of the applicants invited in it,
// how many submitted.
type JobRate struct {
	FunnelID  string `json:"jobId"`
	Title     string `json:"title"`
	Invited   int    `json:"invited"`
	Completed int    `json:"completed"`
}

// Rate is Completed over Invited, 0 for no invitations.
func (j JobRate) Rate() float64 {
	if j.Invited == 0 {
		return 0
	}
	return float64(j.Completed) / float64(j.Invited)
}

// StageTime is one stage's length across jobs.
type StageTime struct {
	Stage string    `json:"stage"` // "start", "submit" or "decide"
	Label string    `json:"label"`
	Times Durations `json:"times"`
}

// OrgInsights is the org overview for one period, over the jobs one user may see.
type OrgInsights struct {
	Period Period       `json:"-"`
	Weeks  []WeekCounts `json:"weeks"`
	Jobs   []JobRate    `json:"jobs"`   // by completion rate, best first
	Stages []StageTime  `json:"stages"` // start, submit, decide
	// Slowest is the stage with the longest median, "" when nothing was timed.
	Slowest string `json:"slowest"`
}

// InsightService computes insights from the applicants' timelines, answers and
// reviews. The caller has checked that the user may see the job (or, for the org, it
// passes the jobs the user may see).
type InsightService interface {
	// JobInsights returns the figures of the org's job for the applicants invited in p.
	JobInsights(ctx context.Context, orgID string, f *Funnel, p Period) (*JobInsights, error)
	// OrgInsights returns the overview of the org's jobs in p, for the given jobs.
	OrgInsights(ctx context.Context, orgID string, jobs []*Funnel, p Period) (*OrgInsights, error)
}

// Percent is part over whole as a whole percentage, 0 when whole is 0.
func Percent(part, whole int) int {
	if whole <= 0 {
		return 0
	}
	return (part*100 + whole/2) / whole
}
