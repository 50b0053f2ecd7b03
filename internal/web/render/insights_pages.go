package render

// The insights pages: a job's (job page → Insights) and the org overview (Insights in
// the top bar). They are declared here and added to pages, so that New checks them.
var (
	PageInsightsJob = Page{"insights_job"}
	PageInsightsOrg = Page{"insights_org"}
)

func init() { pages = append(pages, PageInsightsJob, PageInsightsOrg) }
