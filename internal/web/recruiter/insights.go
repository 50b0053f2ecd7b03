package recruiter

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"winnow"
	"winnow/internal/web/render"
)

// RangeForm is the date range of an insights page as the form shows it: whole days,
// To included.
type RangeForm struct {
	From    string // YYYY-MM-DD
	To      string
	Compare bool
	// NoCompare hides the comparison, for pages that do not offer one.
	NoCompare bool
	Presets   []RangePreset
	Query     string // the range as a query string, for links that keep it
}

// RangePreset is a link to a common range.
type RangePreset struct {
	Label   string
	URL     string
	Current bool
}

// dayLayout is how dates appear in the range form and its query string.
const dayLayout = "2006-01-02"

// defaultRangeDays is the length of the range a page shows when none is asked for.
const defaultRangeDays = 90

// parseRange reads ?from=&to=&compare= (days, UTC, both included). Without them the
// range is the last defaultRangeDays days, compared with the ones before.
func parseRange(r *http.Request, now time.Time, path string) (winnow.Period, RangeForm, error) {
	q := r.URL.Query()
	today := now.UTC().Truncate(24 * time.Hour)
	to, from := today, today.AddDate(0, 0, 1-defaultRangeDays)
	compare := q.Get("from") == "" && q.Get("to") == "" || q.Get("compare") == "1"
	var err error
	if v := strings.TrimSpace(q.Get("from")); v != "" {
		if from, err = time.Parse(dayLayout, v); err != nil {
			return winnow.Period{}, RangeForm{}, winnow.Errorf(winnow.EINVALID, "The start date %q is not a date like 2026-01-31.", v)
		}
	}
	if v := strings.TrimSpace(q.Get("to")); v != "" {
		if to, err = time.Parse(dayLayout, v); err != nil {
			return winnow.Period{}, RangeForm{}, winnow.Errorf(winnow.EINVALID, "The end date %q is not a date like 2026-01-31.", v)
		}
	}
	p := winnow.Period{From: from, To: to.AddDate(0, 0, 1)}
	if err := p.Validate(); err != nil {
		return winnow.Period{}, RangeForm{}, err
	}
	f := RangeForm{From: from.Format(dayLayout), To: to.Format(dayLayout), Compare: compare}
	f.Query = rangeQuery(f.From, f.To, compare)
	for _, days := range []int{30, 90, 365} {
		pf := today.AddDate(0, 0, 1-days).Format(dayLayout)
		pt := today.Format(dayLayout)
		label := "Last " + strconv.Itoa(days) + " days"
		if days == 365 {
			label = "Last 12 months"
		}
		f.Presets = append(f.Presets, RangePreset{Label: label, URL: path + "?" + rangeQuery(pf, pt, compare),
			Current: pf == f.From && pt == f.To})
	}
	return p, f, nil
}

func rangeQuery(from, to string, compare bool) string {
	v := url.Values{"from": {from}, "to": {to}}
	if compare {
		v.Set("compare", "1")
	}
	return v.Encode()
}

// JobInsightsPage is the data of a job's Insights page.
type JobInsightsPage struct {
	render.Base
	Funnel      *winnow.Funnel
	Range       RangeForm
	Now         *winnow.JobInsights
	Prev        *winnow.JobInsights // nil unless comparing
	Stats       []InsightStat
	FunnelChart *BarChart
	Dropoff     *BarChart
	Knockout    *BarChart
	Times       *BarChart
	Reminder    *BarChart
	Spread      *BarChart
	Review      *DataTable
	JSONURL     string
}

// InsightStat is a headline figure with its change from the previous period.
type InsightStat struct {
	Label string
	Value string
	Delta string // "+12 %", "−3", "" when not comparing
	Class string // "up", "down" or ""
}

// JobInsights serves GET /jobs/{id}/insights: the job's funnel, drop-off per step,
// knockouts per question, stage times, reminders and reviews for a date range, each
// as a chart with its table and a CSV download (?csv=NAME). Whoever may see the job
// may see its insights; they name no candidate.
func (h *Handler) JobInsights(w http.ResponseWriter, r *http.Request) {
	f, ok := h.visibleFunnel(w, r)
	if !ok {
		return
	}
	path := "/jobs/" + f.ID + "/insights"
	p, rf, err := parseRange(r, h.Clock.Now(), path)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	u := me(r)
	now, err := h.Insights.JobInsights(r.Context(), u.OrgID, f, p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var prev *winnow.JobInsights
	if rf.Compare {
		if prev, err = h.Insights.JobInsights(r.Context(), u.OrgID, f, p.Previous()); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	page := buildJobInsights(f, now, prev, path+"?"+rf.Query)
	page.Base, page.Range = h.base(r, f.Title+" · Insights", "jobs"), rf
	page.JSONURL = "/api/v1/jobs/" + f.ID + "/insights?from=" + rf.From + "&to=" + rf.To
	if name := r.URL.Query().Get("csv"); name != "" {
		for _, t := range page.tables() {
			if t.ID == name {
				writeCSV(w, "insights-"+name+"-"+rf.From+"-"+rf.To, t)
				return
			}
		}
		h.fail(w, r, winnow.Errorf(winnow.ENOTFOUND, "There is no table %q on this page.", name))
		return
	}
	h.Render.Page(w, r, http.StatusOK, render.PageInsightsJob, page)
}

func (p *JobInsightsPage) tables() []*DataTable {
	return []*DataTable{p.FunnelChart.Table, p.Dropoff.Table, p.Knockout.Table, p.Times.Table, p.Reminder.Table, p.Spread.Table, p.Review}
}

// buildJobInsights lays out the page's charts and tables; base is the page's URL with
// its range, to which ?csv= is added.
func buildJobInsights(f *winnow.Funnel, now, prev *winnow.JobInsights, base string) *JobInsightsPage {
	pg := &JobInsightsPage{Funnel: f, Now: now, Prev: prev}
	csvURL := func(name string) string { return base + "&csv=" + name }
	fc := now.Funnel
	var pf winnow.FunnelCounts
	if prev != nil {
		pf = prev.Funnel
	}
	stages := []struct {
		label string
		n, p  int
	}{
		{"Invited", fc.Invited, pf.Invited},
		{"Started", fc.Started, pf.Started},
		{"Submitted", fc.Submitted, pf.Submitted},
		{"Decided", fc.Decided, pf.Decided},
		{"Qualified", fc.Qualified, pf.Qualified},
	}
	ft := &DataTable{ID: "funnel", Caption: "Applicants invited in the range who ever reached each stage; conversion is from the stage before",
		Head: []string{"Stage", "Applicants", "Conversion"}, CSVURL: csvURL("funnel")}
	if prev != nil {
		ft.Head = append(ft.Head, "Previous period", "Previous conversion")
	}
	var items []barItem
	for i, s := range stages {
		conv, pconv := "", ""
		if i > 0 {
			conv = pct(s.n, stages[i-1].n)
			pconv = pct(s.p, stages[i-1].p)
		}
		row := []string{s.label, strconv.Itoa(s.n), conv}
		it := barItem{label: s.label, text: strconv.Itoa(s.n), value: float64(s.n)}
		if i > 0 {
			it.text += " · " + pct(s.n, stages[i-1].n)
		}
		if prev != nil {
			row = append(row, strconv.Itoa(s.p), pconv)
			v := float64(s.p)
			it.prev, it.prevText = &v, strconv.Itoa(s.p)
		}
		ft.Rows = append(ft.Rows, row)
		items = append(items, it)
	}
	pg.FunnelChart = newBarChart("Funnel", "Applicants who ever reached each stage, with the conversion from the stage before.", items, 0, ft)

	pg.Stats = []InsightStat{
		stat("Invited", fc.Invited, pf.Invited, prev != nil),
		stat("Started", fc.Started, pf.Started, prev != nil),
		stat("Submitted", fc.Submitted, pf.Submitted, prev != nil),
		stat("Qualified", fc.Qualified, pf.Qualified, prev != nil),
		stat("Knocked out", fc.KnockedOut, pf.KnockedOut, prev != nil),
		stat("Opted out", fc.Declined+fc.DeadlinePassed, pf.Declined+pf.DeadlinePassed, prev != nil),
	}

	dt := &DataTable{ID: "dropoff", Caption: "Per step: applicants who reached it and stopped there",
		Head: []string{"Step", "Reached", "Stopped here", "Declined", "Deadline passed", "Knocked out", "Stopped (share of reached)"}, CSVURL: csvURL("dropoff")}
	items = nil
	for i, s := range now.Steps {
		label := strconv.Itoa(i+1) + ". " + s.Title
		dt.Rows = append(dt.Rows, []string{label, strconv.Itoa(s.Reached), strconv.Itoa(s.StoppedHere), strconv.Itoa(s.Declined),
			strconv.Itoa(s.DeadlinePassed), strconv.Itoa(s.KnockedOut), pct(s.StoppedHere+s.KnockedOut, s.Reached)})
		share := 0.0
		if s.Reached > 0 {
			share = float64(s.StoppedHere+s.KnockedOut) * 100 / float64(s.Reached)
		}
		items = append(items, barItem{label: label, value: share,
			text: pct(s.StoppedHere+s.KnockedOut, s.Reached) + " (" + strconv.Itoa(s.StoppedHere+s.KnockedOut) + " of " + strconv.Itoa(s.Reached) + ")"})
	}
	pg.Dropoff = newBarChart("Drop-off per step", "The share of applicants who reached each step and stopped there (opted out, deadline passed or knocked out).", items, 100, dt)

	kt := &DataTable{ID: "questions", Caption: "Per question: answers and knockouts",
		Head: []string{"Question", "Knockout rule", "Answered", "Knocked out", "Knockout rate"}, CSVURL: csvURL("questions")}
	items = nil
	for _, q := range now.Questions {
		rule := "no"
		if q.Knockout {
			rule = "yes"
		}
		kt.Rows = append(kt.Rows, []string{q.Text, rule, strconv.Itoa(q.Answered), strconv.Itoa(q.KnockedOut), pct(q.KnockedOut, q.Answered)})
		if q.Knockout {
			rate := 0.0
			if q.Answered > 0 {
				rate = float64(q.KnockedOut) * 100 / float64(q.Answered)
			}
			items = append(items, barItem{label: q.Text, value: rate,
				text: pct(q.KnockedOut, q.Answered) + " (" + strconv.Itoa(q.KnockedOut) + " of " + strconv.Itoa(q.Answered) + ")"})
		}
	}
	pg.Knockout = newBarChart("Knockout rate per question", "Of the applicants who answered each knockout question, the share it knocked out.", items, 100, kt)

	tt := &DataTable{ID: "times", Caption: "How long each stage takes",
		Head: []string{"Stage", "Median", "90th percentile", "Applicants", "Median (seconds)", "90th percentile (seconds)"}, CSVURL: csvURL("times")}
	if prev != nil {
		tt.Head = append(tt.Head, "Previous median", "Previous 90th percentile")
	}
	items = nil
	times := []struct {
		label string
		d     winnow.Durations
		p     *winnow.Durations
	}{{"Invitation to start", now.TimeToStart, nil}, {"Start to submission", now.TimeToSubmit, nil}, {"Submission to decision", now.TimeToDecide, nil}}
	if prev != nil {
		times[0].p, times[1].p, times[2].p = &prev.TimeToStart, &prev.TimeToSubmit, &prev.TimeToDecide
	}
	for _, s := range times {
		row := []string{s.label, durText(s.d.Median, s.d.Count), durText(s.d.P90, s.d.Count), strconv.Itoa(s.d.Count),
			strconv.FormatInt(s.d.Median, 10), strconv.FormatInt(s.d.P90, 10)}
		it := barItem{label: s.label + " (median · 90th)", value: float64(s.d.Median),
			text: durText(s.d.Median, s.d.Count) + " · " + durText(s.d.P90, s.d.Count)}
		if s.p != nil {
			row = append(row, durText(s.p.Median, s.p.Count), durText(s.p.P90, s.p.Count))
			v := float64(s.p.Median)
			it.prev, it.prevText = &v, durText(s.p.Median, s.p.Count)
		}
		tt.Rows = append(tt.Rows, row)
		items = append(items, it)
	}
	pg.Times = newBarChart("Time per stage", "Median time of each stage; the 90th percentile follows it.", items, 0, tt)

	rt := &DataTable{ID: "reminders", Caption: "Applicants who started, by the reminders sent to them before",
		Head: []string{"Reminders before the start", "Applicants who started", "Share of starts"}, CSVURL: csvURL("reminders")}
	items = nil
	for _, rs := range now.StartsAfterReminders {
		label := "After " + plural(rs.Reminders, "reminder", "reminders")
		if rs.Reminders == 0 {
			label = "Before any reminder"
		}
		rt.Rows = append(rt.Rows, []string{label, strconv.Itoa(rs.Started), pct(rs.Started, fc.Started)})
		items = append(items, barItem{label: label, value: float64(rs.Started), text: strconv.Itoa(rs.Started) + " · " + pct(rs.Started, fc.Started)})
	}
	pg.Reminder = newBarChart("Starts after reminders", "Which reminder brought people back: applicants who started, by how many reminders they had been sent.", items, 0, rt)

	st := &DataTable{ID: "disagreement", Caption: "Applicants with two reviews or more, by the spread between their highest and lowest score",
		Head: []string{"Spread (points of 4)", "Applicants"}, CSVURL: csvURL("disagreement")}
	items = nil
	for _, sc := range now.Reviews.Disagreements {
		label := "Spread " + strconv.Itoa(sc.Spread)
		if sc.Spread == 0 {
			label = "All agree"
		}
		st.Rows = append(st.Rows, []string{strconv.Itoa(sc.Spread), strconv.Itoa(sc.Applicants)})
		items = append(items, barItem{label: label, value: float64(sc.Applicants), text: strconv.Itoa(sc.Applicants)})
	}
	pg.Spread = newBarChart("Reviewer disagreement", "Applicants reviewed by two or more people, by the spread of their scores.", items, 0, st)

	pg.Review = &DataTable{ID: "reviewers", Caption: "Reviewers: scores given to applicants invited in the range",
		Head: []string{"Reviewer", "Scores given", "Average score"}, CSVURL: csvURL("reviewers")}
	for _, rv := range now.Reviews.Reviewers {
		pg.Review.Rows = append(pg.Review.Rows, []string{rv.Name, strconv.Itoa(rv.Scores), strconv.FormatFloat(rv.AverageScore, 'f', 2, 64)})
	}
	return pg
}

// durText is a duration for people, "–" when nothing was timed.
func durText(s int64, n int) string {
	if n == 0 {
		return "–"
	}
	return humanSeconds(s)
}

// stat is a headline figure, with its change when comparing.
func stat(label string, n, p int, compare bool) InsightStat {
	s := InsightStat{Label: label, Value: strconv.Itoa(n)}
	if !compare {
		return s
	}
	switch d := n - p; {
	case d > 0:
		s.Delta, s.Class = "+"+strconv.Itoa(d), "up"
	case d < 0:
		s.Delta, s.Class = "−"+strconv.Itoa(-d), "down"
	default:
		s.Delta = "±0"
	}
	s.Delta += " vs previous"
	return s
}
