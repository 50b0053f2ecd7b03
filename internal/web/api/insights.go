package api

import (
	"net/http"
	"strings"
	"time"

	"winnow"
)

// jobInsights is the answer to GET /api/v1/jobs/{id}/insights: the job's figures for
// the applicants invited from From up to To (To excluded), counts of applicants who
// ever reached each stage and durations in seconds. Previous is the period of the same
// length before, when ?compare=1 asks for it.
type jobInsights struct {
	JobID string    `json:"jobId"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	*winnow.JobInsights
	Previous *winnow.JobInsights `json:"previous,omitempty"`
}

// insightsDays is the range the insights cover when the request names none.
const insightsDays = 90

// JobInsights serves the job's insights for ?from=&to= (dates, YYYY-MM-DD, both days
// included, or RFC 3339 times, counted by the whole days they touch); without them,
// the last 90 days.
func (h *Handler) JobInsights(w http.ResponseWriter, r *http.Request) {
	t := token(r)
	f, err := h.Funnels.FindFunnelByID(r.Context(), t.OrgID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := insightsPeriod(r, h.Clock.Now())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	in, err := h.Insights.JobInsights(r.Context(), t.OrgID, f, p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// The store counts whole days (UTC): the answer says which.
	out := jobInsights{JobID: f.ID, From: in.Period.From, To: in.Period.To, JobInsights: in}
	if r.URL.Query().Get("compare") == "1" {
		if out.Previous, err = h.Insights.JobInsights(r.Context(), t.OrgID, f, p.Previous()); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	h.writeJSON(w, r, http.StatusOK, out)
}

// insightsPeriod reads ?from= and ?to=.
func insightsPeriod(r *http.Request, now time.Time) (winnow.Period, error) {
	q := r.URL.Query()
	today := now.UTC().Truncate(24 * time.Hour)
	p := winnow.Period{From: today.AddDate(0, 0, 1-insightsDays), To: today.AddDate(0, 0, 1)}
	for _, e := range []struct {
		name string
		out  *time.Time
		end  bool
	}{{"from", &p.From, false}, {"to", &p.To, true}} {
		v := strings.TrimSpace(q.Get(e.name))
		if v == "" {
			continue
		}
		if d, err := time.Parse("2006-01-02", v); err == nil {
			if e.end {
				d = d.AddDate(0, 0, 1) // the whole day
			}
			*e.out = d
			continue
		}
		ts, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return p, winnow.Errorf(winnow.EINVALID, "%s must be a date (2026-01-31) or an RFC 3339 time, not %q.", e.name, v)
		}
		*e.out = ts.UTC()
	}
	return p, p.Validate()
}
