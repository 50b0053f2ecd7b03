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

// The stage lengths, as expressions over an applicant_insights row with the condition
// that the row has both ends.
var stageSQL = []struct{ stage, label, expr, has, metric string }{
	{"start", "Invitation to start", "started_s - invited_s", "started_s IS NOT NULL", mStartTime},
	{"submit", "Start to submission", "submitted_s - started_s", "submitted_s IS NOT NULL AND started_s IS NOT NULL", mSubmitTime},
	{"decide", "Submission to decision", "decided_s - submitted_s", "decided_s IS NOT NULL AND submitted_s IS NOT NULL", mDecideTime},
}

// exactLimit is how many timed applicants a stage may have for its percentiles to be
// read exactly, sorting their rows; above it they come from the day counts' buckets
// (at most 5 % low), whose cost does not grow with the job. Store.insightsExact, when
// set, replaces it (tests).
const exactLimit = 5000

// days is the period in whole days (UTC) as insight_days counts them, and the
// period those days cover: a range is counted by the days it touches.
func days(p winnow.Period) (from, to int64, whole winnow.Period) {
	from = unixS(p.From) / daySeconds
	to = (unixS(p.To) + daySeconds - 1) / daySeconds
	return from, to, winnow.Period{From: time.Unix(from*daySeconds, 0).UTC(), To: time.Unix(to*daySeconds, 0).UTC()}
}

// dayTotals is what insight_days holds for a range, by metric and key.
type dayTotals map[string]map[string]int

func (t dayTotals) n(metric string) int { return t[metric][""] }

// JobInsights returns the figures of the org's job f for the applicants invited in
// the days p touches (whole days, UTC; the period counted is in the answer): one range
// read of the job's day counts, and for stages with few timed applicants a sort of
// their rows.
func (s *Store) JobInsights(ctx context.Context, orgID string, f *winnow.Funnel, p winnow.Period) (*winnow.JobInsights, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if f == nil || f.OrgID != orgID {
		return nil, winnow.Errorf(winnow.ENOTFOUND, msgFunnelNotFound)
	}
	fromDay, toDay, whole := days(p)
	rows, err := s.db.db.QueryContext(ctx, `SELECT metric, key, SUM(n) FROM insight_days
		WHERE org_id = $1 AND funnel_id = $2 AND day >= $3 AND day < $4 AND metric NOT LIKE 'ev\_%' ESCAPE '\'
		GROUP BY metric, key`, orgID, f.ID, fromDay, toDay)
	if err != nil {
		return nil, fmt.Errorf("insights: read day counts: %w", err)
	}
	t := dayTotals{}
	for rows.Next() {
		var metric, key string
		var n int
		if err := rows.Scan(&metric, &key, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("insights: read day counts: %w", err)
		}
		if t[metric] == nil {
			t[metric] = map[string]int{}
		}
		t[metric][key] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insights: read day counts: %w", err)
	}
	in := &winnow.JobInsights{Period: whole}
	in.Funnel = winnow.FunnelCounts{Invited: t.n(mInvited), Started: t.n(mStarted), Submitted: t.n(mSubmitted),
		Decided: t.n(mDecided), Qualified: t.n(mQualified), KnockedOut: t.n(mKnockedOut),
		Declined: t.n(mOptOut + "declined"), DeadlinePassed: t.n(mOptOut + "deadline")}
	for i, st := range f.Steps {
		si := winnow.StepInsight{ID: st.ID, Title: st.DisplayTitle()}
		for k, n := range t[mStepsDone] {
			if done, _ := strconv.Atoi(k); done >= i {
				si.Reached += n
			}
		}
		k := strconv.Itoa(i)
		si.Declined, si.DeadlinePassed, si.KnockedOut = t[mStop+"declined"][k], t[mStop+"deadline"][k], t[mStopKnockedOut][k]
		si.StoppedHere = si.Declined + si.DeadlinePassed
		in.Steps = append(in.Steps, si)
	}
	in.Questions = []winnow.QuestionInsight{}
	for _, st := range f.Steps {
		for _, q := range st.Questions {
			in.Questions = append(in.Questions, winnow.QuestionInsight{ID: q.ID, StepID: st.ID, Text: q.Text,
				Knockout: q.Knockout != nil, Answered: t[mAnswered][q.ID], KnockedOut: t[mQuestionKO][q.ID]})
		}
	}
	in.StartsAfterReminders = []winnow.ReminderStarts{}
	for _, k := range sortedKeys(t[mReminders]) {
		if n := t[mReminders][strconv.Itoa(k)]; n > 0 {
			in.StartsAfterReminders = append(in.StartsAfterReminders, winnow.ReminderStarts{Reminders: k, Started: n})
		}
	}
	in.Reviews = winnow.ReviewInsights{Reviewed: t.n(mReviewed), DecisionsAgainst: t.n(mAgainst),
		Reviewers: []winnow.ReviewerInsight{}, Disagreements: []winnow.SpreadCount{}}
	for _, k := range sortedKeys(t[mSpread]) {
		if n := t[mSpread][strconv.Itoa(k)]; n > 0 {
			in.Reviews.Disagreements = append(in.Reviews.Disagreements, winnow.SpreadCount{Spread: k, Applicants: n})
		}
	}
	if err := s.reviewers(ctx, orgID, t, &in.Reviews); err != nil {
		return nil, err
	}
	args := []any{orgID, f.ID, fromDay * daySeconds, toDay * daySeconds}
	from := `FROM applicant_insights WHERE org_id = $1 AND funnel_id = $2 AND invited_s >= $3 AND invited_s < $4`
	for i, out := range []*winnow.Durations{&in.TimeToStart, &in.TimeToSubmit, &in.TimeToDecide} {
		if *out, err = s.durations(ctx, from+` AND `+stageSQL[i].has, stageSQL[i].expr, t[stageSQL[i].metric], args); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// sortedKeys returns the numeric keys of m in increasing order.
func sortedKeys(m map[string]int) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		if n, err := strconv.Atoi(k); err == nil {
			keys = append(keys, n)
		}
	}
	sort.Ints(keys)
	return keys
}

// reviewers fills in who reviewed, from the day counts, with the members' names
// (their email when they have none).
func (s *Store) reviewers(ctx context.Context, orgID string, t dayTotals, ri *winnow.ReviewInsights) error {
	if len(t[mReviewerScores]) == 0 {
		return nil
	}
	rows, err := s.db.db.QueryContext(ctx, `SELECT id, name, email FROM users WHERE org_id = $1`, orgID)
	if err != nil {
		return fmt.Errorf("insights: reviewers: %w", err)
	}
	defer rows.Close()
	names := map[string]string{}
	for rows.Next() {
		var id, name, email string
		if err := rows.Scan(&id, &name, &email); err != nil {
			return fmt.Errorf("insights: reviewers: %w", err)
		}
		if name == "" {
			name = email
		}
		names[id] = name
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insights: reviewers: %w", err)
	}
	for id, n := range t[mReviewerScores] {
		if n <= 0 {
			continue
		}
		ri.Reviewers = append(ri.Reviewers, winnow.ReviewerInsight{ID: id, Name: names[id], Scores: n,
			AverageScore: float64(t[mReviewerSum][id]) / float64(n)})
	}
	sort.Slice(ri.Reviewers, func(i, j int) bool {
		a, b := ri.Reviewers[i], ri.Reviewers[j]
		if a.Scores != b.Scores {
			return a.Scores > b.Scores
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
	return nil
}

// durations returns the median and 90th percentile (nearest rank) of a stage's length
// over the applicants that from selects, whose counts by bucket are buckets: sorting
// their rows (expr) when there are at most exactLimit of them, else from the buckets.
func (s *Store) durations(ctx context.Context, from, expr string, buckets map[string]int, args []any) (winnow.Durations, error) {
	var d winnow.Durations
	for _, n := range buckets {
		d.Count += n
	}
	if d.Count <= 0 {
		return winnow.Durations{}, nil
	}
	limit := exactLimit
	if s.insightsExact != 0 {
		limit = s.insightsExact
	}
	if d.Count > limit {
		keys := sortedKeys(buckets)
		for _, pc := range []struct {
			k   int
			out *int64
		}{{rank(d.Count, 50), &d.Median}, {rank(d.Count, 90), &d.P90}} {
			seen := 0
			for _, b := range keys {
				if seen += buckets[strconv.Itoa(b)]; seen > pc.k {
					*pc.out = int64(b)
					break
				}
			}
		}
		return d, nil
	}
	for _, pc := range []struct {
		k   int
		out *int64
	}{{rank(d.Count, 50), &d.Median}, {rank(d.Count, 90), &d.P90}} {
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

// weekStart is the Monday 00:00 UTC that starts the week of t.
func weekStart(t time.Time) time.Time {
	t = t.UTC().Truncate(24 * time.Hour)
	return t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
}

// OrgInsights returns the overview of the org's jobs in the days p touches, over
// jobs: per week (from the Monday of p.From's week) the invitations, completions and
// qualified decisions made in it; the jobs by completion rate of the applicants
// invited in p; and the median and 90th percentile of each stage across those jobs.
func (s *Store) OrgInsights(ctx context.Context, orgID string, jobs []*winnow.Funnel, p winnow.Period) (*winnow.OrgInsights, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	fromDay, toDay, whole := days(p)
	out := &winnow.OrgInsights{Period: whole, Weeks: []winnow.WeekCounts{}, Jobs: []winnow.JobRate{}, Stages: []winnow.StageTime{}}
	first := weekStart(whole.From)
	for w := first; w.Before(whole.To); w = w.AddDate(0, 0, 7) {
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
	firstDay := unixS(first) / daySeconds
	rows, err := s.db.db.QueryContext(ctx, `SELECT funnel_id, day, metric, key, SUM(n) FROM insight_days
		WHERE org_id = $1 AND day >= $2 AND day < $3`+inJobs+`
		  AND metric IN ('invited', 'submitted', 'ev_submitted', 'ev_qualified', 't_start', 't_submit', 't_decide')
		GROUP BY funnel_id, day, metric, key`, append([]any{orgID, firstDay, toDay}, ids...)...)
	if err != nil {
		return nil, fmt.Errorf("insights: org day counts: %w", err)
	}
	rates := map[string]*winnow.JobRate{}
	times := dayTotals{}
	for rows.Next() {
		var job, metric, key string
		var day int64
		var n int
		if err := rows.Scan(&job, &day, &metric, &key, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("insights: org day counts: %w", err)
		}
		wk := &out.Weeks[(day-firstDay)/7]
		switch metric {
		case mInvited:
			wk.Invited += n
		case mEvSubmitted:
			wk.Completed += n
		case mEvQualified:
			wk.Qualified += n
		}
		if day < fromDay { // the first week's days before the range count only in the weeks
			continue
		}
		switch metric {
		case mInvited, mSubmitted:
			r := rates[job]
			if r == nil {
				r = &winnow.JobRate{FunnelID: job, Title: titles[job]}
				rates[job] = r
			}
			if metric == mInvited {
				r.Invited += n
			} else {
				r.Completed += n
			}
		case mStartTime, mSubmitTime, mDecideTime:
			if times[metric] == nil {
				times[metric] = map[string]int{}
			}
			times[metric][key] += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insights: org day counts: %w", err)
	}
	for _, r := range rates {
		if r.Invited > 0 {
			out.Jobs = append(out.Jobs, *r)
		}
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
	cargs := append([]any{orgID, fromDay * daySeconds, toDay * daySeconds}, ids...)
	where := `FROM applicant_insights WHERE org_id = $1 AND invited_s >= $2 AND invited_s < $3` + inJobs
	var slowest int64 = -1
	for _, st := range stageSQL {
		d, err := s.durations(ctx, where+` AND `+st.has, st.expr, times[st.metric], cargs)
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
