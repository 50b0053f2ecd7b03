package recruiter

import (
	"net/http"
	"strconv"

	"winnow"
	"winnow/internal/web/render"
)

// OrgInsightsPage is the data of the org overview (Insights in the top bar).
type OrgInsightsPage struct {
	render.Base
	Range   RangeForm
	Now     *winnow.OrgInsights
	Weeks   *ColumnChart
	Jobs    *BarChart
	Stages  *BarChart
	Slowest *winnow.StageTime
	// SlowestMedian is the slowest stage's median in words.
	SlowestMedian string
}

// OrgInsights serves GET /insights: per week across the jobs the user may see, the
// invitations, completions and qualified; those jobs ranked by completion rate; and
// the time each stage takes, the slowest named. Limited members see their teams' jobs.
func (h *Handler) OrgInsights(w http.ResponseWriter, r *http.Request) {
	u := me(r)
	p, rf, err := parseRange(r, h.Clock.Now(), "/insights")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	jobs, err := h.Funnels.ListFunnels(r.Context(), u.OrgID, winnow.FunnelFilter{VisibleTo: u})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	in, err := h.Insights.OrgInsights(r.Context(), u.OrgID, jobs, p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	page := buildOrgInsights(in, "/insights?"+rf.Query)
	rf.NoCompare = true
	page.Base, page.Range = h.base(r, "Insights", "insights"), rf
	if name := r.URL.Query().Get("csv"); name != "" {
		for _, t := range []*DataTable{page.Weeks.Table, page.Jobs.Table, page.Stages.Table} {
			if t.ID == name {
				writeCSV(w, "insights-"+name+"-"+rf.From+"-"+rf.To, t)
				return
			}
		}
		h.fail(w, r, winnow.Errorf(winnow.ENOTFOUND, "There is no table %q on this page.", name))
		return
	}
	h.Render.Page(w, r, http.StatusOK, render.PageInsightsOrg, page)
}

// buildOrgInsights lays out the overview's charts; base is the page's URL with its
// range.
func buildOrgInsights(in *winnow.OrgInsights, base string) *OrgInsightsPage {
	pg := &OrgInsightsPage{Now: in}
	csvURL := func(name string) string { return base + "&csv=" + name }
	wt := &DataTable{ID: "weeks", Caption: "Per week (from Monday): invitations, completions and qualified",
		Head: []string{"Week of", "Invited", "Completed", "Qualified"}, CSVURL: csvURL("weeks")}
	var labels []string
	var values [][]int
	for _, wk := range in.Weeks {
		day := wk.Week.Format("2006-01-02")
		wt.Rows = append(wt.Rows, []string{day, strconv.Itoa(wk.Invited), strconv.Itoa(wk.Completed), strconv.Itoa(wk.Qualified)})
		labels = append(labels, wk.Week.Format("Jan 2"))
		values = append(values, []int{wk.Invited, wk.Completed, wk.Qualified})
	}
	pg.Weeks = newColumnChart("Week by week", "Invitations sent, applications completed (submitted) and applicants qualified, by the week it happened.",
		labels, []ColumnSeries{{"Invited", "s-invited"}, {"Completed", "s-completed"}, {"Qualified", "s-qualified"}}, values, wt)

	jt := &DataTable{ID: "jobs", Caption: "Jobs by completion rate of the applicants invited in the range",
		Head: []string{"Job", "Invited", "Completed", "Completion rate"}, CSVURL: csvURL("jobs")}
	var items []barItem
	for _, j := range in.Jobs {
		jt.Rows = append(jt.Rows, []string{j.Title, strconv.Itoa(j.Invited), strconv.Itoa(j.Completed), pct(j.Completed, j.Invited)})
		items = append(items, barItem{label: j.Title, value: j.Rate() * 100,
			text: pct(j.Completed, j.Invited) + " (" + strconv.Itoa(j.Completed) + " of " + strconv.Itoa(j.Invited) + ")"})
	}
	pg.Jobs = newBarChart("Jobs by completion rate", "Of the applicants each job invited in the range, the share who submitted.", items, 100, jt)

	st := &DataTable{ID: "stages", Caption: "Time per stage across jobs",
		Head: []string{"Stage", "Median", "90th percentile", "Applicants", "Median (seconds)", "90th percentile (seconds)"}, CSVURL: csvURL("stages")}
	items = nil
	for i, s := range in.Stages {
		d := s.Times
		st.Rows = append(st.Rows, []string{s.Label, durText(d.Median, d.Count), durText(d.P90, d.Count), strconv.Itoa(d.Count),
			strconv.FormatInt(d.Median, 10), strconv.FormatInt(d.P90, 10)})
		items = append(items, barItem{label: s.Label + " (median · 90th)", value: float64(d.Median),
			text: durText(d.Median, d.Count) + " · " + durText(d.P90, d.Count)})
		if s.Stage == in.Slowest {
			pg.Slowest, pg.SlowestMedian = &in.Stages[i], humanSeconds(d.Median)
		}
	}
	pg.Stages = newBarChart("Time per stage", "Median time of each stage across jobs; the 90th percentile follows it.", items, 0, st)
	return pg
}
