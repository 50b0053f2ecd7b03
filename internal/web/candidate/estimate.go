package candidate

import (
	"fmt"
	"strings"
	"time"

	"winnow"
)

// Minutes the landing page counts per item. They are deliberately generous: an
// estimate that runs over is worse than one that finishes early.
const (
	minutesPerQuestion = 1
	minutesPerLongText = 3
	minutesPerPrompt   = 2 // when the prompt sets no maximum length
)

// stepMinutes is the estimate for a step, and false for homework, whose time only its
// task decides.
func stepMinutes(s winnow.Step) (int, bool) {
	switch s.Kind {
	case winnow.StepQuestions:
		m := 0
		for _, q := range s.Questions {
			if q.Type == winnow.QuestionLongText {
				m += minutesPerLongText
			} else {
				m += minutesPerQuestion
			}
		}
		return m, true
	case winnow.StepVideo:
		if s.Video == nil {
			return 0, true
		}
		per := minutesPerPrompt
		if s.Video.MaxSeconds > 0 {
			// Time to read the prompt and think, plus the longest recording.
			per = 1 + (s.Video.MaxSeconds+59)/60
		}
		return per * len(s.Video.Prompts), true
	}
	return 0, false
}

// summarize lists the steps for the landing page with an honest total: the minutes
// that can be estimated, plus a word about homework when there is some.
func summarize(steps []winnow.Step) ([]StepSummary, string) {
	var list []StepSummary
	total, homework := 0, false
	for i, s := range steps {
		sum := StepSummary{Number: i + 1, Kind: s.Kind, Title: s.DisplayTitle()}
		m, known := stepMinutes(s)
		switch s.Kind {
		case winnow.StepQuestions:
			sum.Detail = plural(len(s.Questions), "question", "questions")
		case winnow.StepHomework:
			sum.Detail = "A task to complete and hand in"
			if s.Homework != nil {
				sum.Detail = homeworkDetail(s.Homework)
			}
		case winnow.StepVideo:
			if s.Video != nil {
				sum.Detail = plural(len(s.Video.Prompts), "question", "questions") + " to answer on camera"
				if s.Video.MaxSeconds > 0 {
					sum.Detail += ", up to " + duration(s.Video.MaxSeconds) + " each"
				}
			}
		}
		if known {
			sum.Estimate = "about " + minutes(m)
			total += m
		} else {
			sum.Estimate = "as long as the task takes you"
			homework = true
		}
		list = append(list, sum)
	}
	var estimate string
	switch {
	case len(steps) == 0:
		estimate = "a minute"
	case total == 0 && homework:
		estimate = "as long as the homework takes you"
	case homework:
		estimate = "about " + minutes(total) + ", plus the time the homework takes you"
	default:
		estimate = "about " + minutes(total)
	}
	return list, estimate
}

func homeworkDetail(hw *winnow.Homework) string {
	switch {
	case hw.AcceptText && hw.AcceptFile:
		return "A task to hand in as text or as a file"
	case hw.AcceptFile:
		return "A task to hand in as a file"
	}
	return "A task to hand in as text"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func minutes(m int) string {
	if m < 1 {
		m = 1
	}
	if m < 90 {
		return plural(m, "minute", "minutes")
	}
	h, rest := m/60, m%60
	if rest == 0 {
		return plural(h, "hour", "hours")
	}
	return plural(h, "hour", "hours") + " " + plural(rest, "minute", "minutes")
}

// duration is a number of seconds as people say it: "90 seconds", "2 minutes".
func duration(sec int) string {
	if sec < 120 && sec%60 != 0 {
		return plural(sec, "second", "seconds")
	}
	if sec%60 == 0 {
		return plural(sec/60, "minute", "minutes")
	}
	return fmt.Sprintf("%d min %d s", sec/60, sec%60)
}

// formatBytes is a size limit as people read it.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GB", n>>30)
	case n >= 1<<20:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<20))) + " MB"
	case n >= 1<<10:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<10))) + " KB"
	}
	return plural(int(n), "byte", "bytes")
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }

// formatTime is a deadline as candidates read it, in UTC, which the page says.
// Moment is a point in time as a page shows it: the UTC text every browser can read,
// and the machine form from which ui/static/localtime.js writes the viewer's own time.
type Moment struct {
	UTC string
	ISO string
}

// moment is t as a page shows it; the zero time is the zero Moment.
func moment(t time.Time) Moment {
	if t.IsZero() {
		return Moment{}
	}
	return Moment{UTC: formatTime(t), ISO: t.UTC().Format(time.RFC3339)}
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("Monday 2 January 2006, 15:04 UTC")
}

// typesList is a list of extensions as people read it: "PDF, DOCX or ZIP".
func typesList(exts []string) string {
	var names []string
	for _, e := range exts {
		names = append(names, strings.ToUpper(strings.TrimPrefix(e, ".")))
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
