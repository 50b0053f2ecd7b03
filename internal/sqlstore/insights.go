package sqlstore

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"winnow"
)

var _ winnow.InsightService = (*Store)(nil)

// cohort is the WHERE clause of a job's applicants invited in a period; its arguments
// are org, job, from and to (seconds), $1 to $4.
const cohort = `org_id = $1 AND funnel_id = $2 AND invited_s >= $3 AND invited_s < $4`

// The stage lengths, as expressions over an applicant_insights row with the condition
// that the row has both ends.
var stageSQL = []struct{ stage, label, expr, has string }{
	{"start", "Invitation to start", "started_s - invited_s", "started_s IS NOT NULL"},
	{"submit", "Start to submission", "submitted_s - started_s", "submitted_s IS NOT NULL AND started_s IS NOT NULL"},
	{"decide", "Submission to decision", "decided_s - submitted_s", "decided_s IS NOT NULL AND submitted_s IS NOT NULL"},
}

// JobInsights returns the figures of the org's job f for the applicants invited in p.
func (s *Store) JobInsights(ctx context.Context, orgID string, f *winnow.Funnel, p winnow.Period) (*winnow.JobInsights, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if f == nil || f.OrgID != orgID {
		return nil, winnow.Errorf(winnow.ENOTFOUND, msgFunnelNotFound)
	}
	args := []any{orgID, f.ID, unixS(p.From), unixS(p.To)}
	db := s.db.db
	in := &winnow.JobInsights{Period: p}
	fc := &in.Funnel
	var reviewed, against int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(started_s), COUNT(submitted_s),
			COALESCE(SUM(CASE WHEN decided_s IS NOT NULL THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN status = 'qualified' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(knocked_out), 0),
			COALESCE(SUM(CASE WHEN opt_out = 'declined' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN opt_out = 'deadline' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN review_n > 0 THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN review_n > 0 AND ((status = 'qualified' AND 2 * score_sum < 5 * review_n)
				OR (status = 'unqualified' AND 2 * score_sum > 5 * review_n)) THEN 1 ELSE 0 END), 0)
		FROM applicant_insights WHERE `+cohort, args...).Scan(&fc.Invited, &fc.Started, &fc.Submitted,
		&fc.Decided, &fc.Qualified, &fc.KnockedOut, &fc.Declined, &fc.DeadlinePassed, &reviewed, &against)
	if err != nil {
		return nil, fmt.Errorf("insights: count funnel: %w", err)
	}
	in.Reviews.Reviewed, in.Reviews.DecisionsAgainst = reviewed, against
	if in.Steps, err = s.stepInsights(ctx, f, args); err != nil {
		return nil, err
	}
	if in.Questions, err = s.questionInsights(ctx, f, args); err != nil {
		return nil, err
	}
	counts := []int{fc.Started, fc.Submitted, fc.Decided}
	times := []*winnow.Durations{&in.TimeToStart, &in.TimeToSubmit, &in.TimeToDecide}
	for i, st := range stageSQL {
		// A submission implies a start, so the stage counts are the funnel's.
		if *times[i], err = s.durations(ctx, `FROM applicant_insights WHERE `+cohort+` AND `+st.has, st.expr, counts[i], args); err != nil {
			return nil, err
		}
	}
	if in.StartsAfterReminders, err = s.reminderStarts(ctx, args); err != nil {
		return nil, err
	}
	if err := s.reviewInsights(ctx, &in.Reviews, args); err != nil {
		return nil, err
	}
	return in, nil
}

// stepInsights counts, per step of the job, who reached it and who stopped there. A
// step is reached by an applicant who started and completed every step before it; an
// applicant stops at the first step they did not complete.
func (s *Store) stepInsights(ctx context.Context, f *winnow.Funnel, args []any) ([]winnow.StepInsight, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT steps_done, opt_out, knocked_out, COUNT(*)
		FROM applicant_insights WHERE `+cohort+` AND started_s IS NOT NULL
		GROUP BY steps_done, opt_out, knocked_out`, args...)
	if err != nil {
		return nil, fmt.Errorf("insights: count steps: %w", err)
	}
	defer rows.Close()
	steps := make([]winnow.StepInsight, len(f.Steps))
	for i, st := range f.Steps {
		steps[i] = winnow.StepInsight{ID: st.ID, Title: st.DisplayTitle()}
	}
	for rows.Next() {
		var done, ko, n int
		var optOut string
		if err := rows.Scan(&done, &optOut, &ko, &n); err != nil {
			return nil, fmt.Errorf("insights: count steps: %w", err)
		}
		for i := range steps {
			if i <= done {
				steps[i].Reached += n
			}
		}
		if done >= len(steps) {
			continue
		}
		st := &steps[done]
		switch {
		case ko == 1:
			st.KnockedOut += n
		case optOut == "declined":
			st.Declined += n
		case optOut == "deadline":
			st.DeadlinePassed += n
		}
		st.StoppedHere = st.Declined + st.DeadlinePassed
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insights: count steps: %w", err)
	}
	return steps, nil
}

// questionInsights counts the answers and knockouts of each question of the job, in
// the job's order; questions no longer in the job are left out.
func (s *Store) questionInsights(ctx context.Context, f *winnow.Funnel, args []any) ([]winnow.QuestionInsight, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT question_id, COUNT(*), COALESCE(SUM(knocked_out), 0)
		FROM question_insights WHERE `+cohort+` GROUP BY question_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("insights: count questions: %w", err)
	}
	defer rows.Close()
	type count struct{ answered, ko int }
	got := map[string]count{}
	for rows.Next() {
		var id string
		var c count
		if err := rows.Scan(&id, &c.answered, &c.ko); err != nil {
			return nil, fmt.Errorf("insights: count questions: %w", err)
		}
		got[id] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insights: count questions: %w", err)
	}
	out := []winnow.QuestionInsight{}
	for _, st := range f.Steps {
		for _, q := range st.Questions {
			c := got[q.ID]
			out = append(out, winnow.QuestionInsight{ID: q.ID, StepID: st.ID, Text: q.Text, Knockout: q.Knockout != nil,
				Answered: c.answered, KnockedOut: c.ko})
		}
	}
	return out, nil
}

// durations returns the median and 90th percentile (nearest rank) of expr over the n
// rows that from selects, reading one row for each.
func (s *Store) durations(ctx context.Context, from, expr string, n int, args []any) (winnow.Durations, error) {
	d := winnow.Durations{Count: n}
	if n == 0 {
		return d, nil
	}
	for _, pc := range []struct {
		k   int
		out *int64
	}{{rank(n, 50), &d.Median}, {rank(n, 90), &d.P90}} {
		err := s.db.db.QueryRowContext(ctx, `SELECT `+expr+` AS d `+from+` ORDER BY d LIMIT 1 OFFSET `+strconv.Itoa(pc.k),
			args...).Scan(pc.out)
		if err != nil {
			return d, fmt.Errorf("insights: percentile: %w", err)
		}
	}
	return d, nil
}

// rank is the zero-based index of the pct-th percentile of n sorted values, by
// nearest rank: the smallest value with at least pct percent of the values at or
// below it.
func rank(n, pct int) int {
	r := (n*pct + 99) / 100
	if r < 1 {
		r = 1
	}
	return r - 1
}

// reminderStarts counts the applicants who started, by how many reminders they had
// been sent before.
func (s *Store) reminderStarts(ctx context.Context, args []any) ([]winnow.ReminderStarts, error) {
	rows, err := s.db.db.QueryContext(ctx, `SELECT reminders, COUNT(*) FROM applicant_insights
		WHERE `+cohort+` AND started_s IS NOT NULL GROUP BY reminders ORDER BY reminders`, args...)
	if err != nil {
		return nil, fmt.Errorf("insights: count reminders: %w", err)
	}
	defer rows.Close()
	out := []winnow.ReminderStarts{}
	for rows.Next() {
		var r winnow.ReminderStarts
		if err := rows.Scan(&r.Reminders, &r.Started); err != nil {
			return nil, fmt.Errorf("insights: count reminders: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insights: count reminders: %w", err)
	}
	return out, nil
}

// reviewInsights fills in the reviewers (their scores in the cohort) and the spread
// of the scores of applicants with two reviews or more.
func (s *Store) reviewInsights(ctx context.Context, ri *winnow.ReviewInsights, args []any) error {
	rows, err := s.db.db.QueryContext(ctx, `SELECT score_max - score_min, COUNT(*) FROM applicant_insights
		WHERE `+cohort+` AND review_n >= 2 GROUP BY score_max - score_min ORDER BY 1`, args...)
	if err != nil {
		return fmt.Errorf("insights: review spread: %w", err)
	}
	ri.Disagreements = []winnow.SpreadCount{}
	for rows.Next() {
		var sc winnow.SpreadCount
		if err := rows.Scan(&sc.Spread, &sc.Applicants); err != nil {
			rows.Close()
			return fmt.Errorf("insights: review spread: %w", err)
		}
		ri.Disagreements = append(ri.Disagreements, sc)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insights: review spread: %w", err)
	}
	rows, err = s.db.db.QueryContext(ctx, `SELECT r.reviewer_id, CASE WHEN u.name = '' THEN u.email ELSE u.name END, COUNT(*), COALESCE(SUM(r.score), 0)
		FROM applicant_insights i
		JOIN reviews r ON r.org_id = i.org_id AND r.applicant_id = i.applicant_id
		JOIN users u ON u.org_id = r.org_id AND u.id = r.reviewer_id
		WHERE i.org_id = $1 AND i.funnel_id = $2 AND i.invited_s >= $3 AND i.invited_s < $4 AND i.review_n > 0
		GROUP BY r.reviewer_id, u.name, u.email`, args...)
	if err != nil {
		return fmt.Errorf("insights: reviewers: %w", err)
	}
	defer rows.Close()
	ri.Reviewers = []winnow.ReviewerInsight{}
	for rows.Next() {
		var rv winnow.ReviewerInsight
		var sum int
		if err := rows.Scan(&rv.ID, &rv.Name, &rv.Scores, &sum); err != nil {
			return fmt.Errorf("insights: reviewers: %w", err)
		}
		if rv.Scores > 0 {
			rv.AverageScore = float64(sum) / float64(rv.Scores)
		}
		ri.Reviewers = append(ri.Reviewers, rv)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insights: reviewers: %w", err)
	}
	sort.Slice(ri.Reviewers, func(i, j int) bool {
		a, b := ri.Reviewers[i], ri.Reviewers[j]
		if a.Scores != b.Scores {
			return a.Scores > b.Scores
		}
		return a.Name < b.Name
	})
	return nil
}

// weekStart is the Monday 00:00 UTC that starts the week of t.
func weekStart(t time.Time) time.Time {
	t = t.UTC().Truncate(24 * time.Hour)
	return t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
}

// mondayS is 1970-01-05, the first Monday of the Unix epoch, in seconds: weeks are
// counted from it.
const mondayS = 4 * 24 * 3600

// OrgInsights returns the overview of the org's jobs in p, over jobs: per week (from
// the Monday of p.From's week) the invitations, completions and qualified decisions
// made in it; the jobs by completion rate of the applicants invited in p; and the
// median and 90th percentile of each stage across those jobs.
func (s *Store) OrgInsights(ctx context.Context, orgID string, jobs []*winnow.Funnel, p winnow.Period) (*winnow.OrgInsights, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	out := &winnow.OrgInsights{Period: p, Weeks: []winnow.WeekCounts{}, Jobs: []winnow.JobRate{}, Stages: []winnow.StageTime{}}
	first := weekStart(p.From)
	for w := first; w.Before(p.To); w = w.AddDate(0, 0, 7) {
		out.Weeks = append(out.Weeks, winnow.WeekCounts{Week: w})
	}
	ids := make([]any, 0, len(jobs))
	titles := map[string]string{}
	for _, f := range jobs {
		if f.OrgID == orgID {
			ids = append(ids, f.ID)
			titles[f.ID] = f.Title
		}
	}
	if len(ids) == 0 {
		for _, st := range stageSQL {
			out.Stages = append(out.Stages, winnow.StageTime{Stage: st.stage, Label: st.label})
		}
		return out, nil
	}
	// Jobs as placeholders $4…; $1 is the org, $2 and $3 the range.
	ph := make([]string, len(ids))
	for i := range ids {
		ph[i] = "$" + strconv.Itoa(i+4)
	}
	inJobs := ` AND funnel_id IN (` + strings.Join(ph, ", ") + `)`
	fromW := unixS(first)
	base := append([]any{orgID, fromW, unixS(p.To)}, ids...)
	for _, c := range []struct {
		col, extra string
		add        func(*winnow.WeekCounts, int)
	}{
		{"invited_s", "", func(w *winnow.WeekCounts, n int) { w.Invited += n }},
		{"submitted_s", "", func(w *winnow.WeekCounts, n int) { w.Completed += n }},
		{"decided_s", " AND status = 'qualified'", func(w *winnow.WeekCounts, n int) { w.Qualified += n }},
	} {
		q := `SELECT (` + c.col + ` - ` + strconv.Itoa(mondayS) + `) / 604800, COUNT(*) FROM applicant_insights
			WHERE org_id = $1 AND ` + c.col + ` >= $2 AND ` + c.col + ` < $3` + c.extra + inJobs + ` GROUP BY 1`
		rows, err := s.db.db.QueryContext(ctx, q, base...)
		if err != nil {
			return nil, fmt.Errorf("insights: weeks: %w", err)
		}
		for rows.Next() {
			var wk int64
			var n int
			if err := rows.Scan(&wk, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("insights: weeks: %w", err)
			}
			i := int((wk*604800 + mondayS - fromW) / 604800)
			if i >= 0 && i < len(out.Weeks) {
				c.add(&out.Weeks[i], n)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("insights: weeks: %w", err)
		}
	}
	cargs := append([]any{orgID, unixS(p.From), unixS(p.To)}, ids...)
	where := `FROM applicant_insights WHERE org_id = $1 AND invited_s >= $2 AND invited_s < $3` + inJobs
	rows, err := s.db.db.QueryContext(ctx, `SELECT funnel_id, COUNT(*), COUNT(submitted_s) `+where+` GROUP BY funnel_id`, cargs...)
	if err != nil {
		return nil, fmt.Errorf("insights: job rates: %w", err)
	}
	for rows.Next() {
		var j winnow.JobRate
		if err := rows.Scan(&j.FunnelID, &j.Invited, &j.Completed); err != nil {
			rows.Close()
			return nil, fmt.Errorf("insights: job rates: %w", err)
		}
		j.Title = titles[j.FunnelID]
		out.Jobs = append(out.Jobs, j)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insights: job rates: %w", err)
	}
	sort.SliceStable(out.Jobs, func(i, j int) bool {
		a, b := out.Jobs[i], out.Jobs[j]
		if a.Rate() != b.Rate() {
			return a.Rate() > b.Rate()
		}
		if a.Invited != b.Invited {
			return a.Invited > b.Invited
		}
		return a.Title < b.Title
	})
	var slowest int64 = -1
	for _, st := range stageSQL {
		var n int
		if err := s.db.db.QueryRowContext(ctx, `SELECT COUNT(*) `+where+` AND `+st.has, cargs...).Scan(&n); err != nil {
			return nil, fmt.Errorf("insights: stage count: %w", err)
		}
		d, err := s.durations(ctx, where+` AND `+st.has, st.expr, n, cargs)
		if err != nil {
			return nil, err
		}
		out.Stages = append(out.Stages, winnow.StageTime{Stage: st.stage, Label: st.label, Times: d})
		if d.Count > 0 && d.Median > slowest {
			slowest, out.Slowest = d.Median, st.stage
		}
	}
	return out, nil
}
