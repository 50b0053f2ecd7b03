package main

import (
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"

	"winnow"
	"winnow/internal/dbtest"
)

// TestInsightsAccess checks who sees the insights pages, what the CSV downloads and
// the JSON hold, and that no candidate is named: a job's insights go to whoever may
// see the job (a limited member only on the job's team), a job of another org is not
// found, and the org overview counts only the jobs the user may see.
func TestInsightsAccess(t *testing.T) {
	m := MustStart(t, testEnv(t, dbtest.SQLite.URL(t)))
	admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
	onTeam := MustUser(t, m, "Acme", "team@acme.test", winnow.RoleLimited)
	MustUser(t, m, "Acme", "off@acme.test", winnow.RoleLimited)
	stranger := MustUser(t, m, "Other", "admin@other.test", winnow.RoleAdmin)
	now := m.Clock.Now()
	f := insightsJob(t, m, admin.OrgID, "Field Engineer", admin.ID, onTeam.ID)
	seedInsights(t, m, f, 30, now, admin.ID)
	hidden := insightsJob(t, m, admin.OrgID, "Secret Job", admin.ID)
	seedInsights(t, m, hidden, 5, now, admin.ID)
	path := "/jobs/" + f.ID + "/insights"

	for _, c := range []struct {
		who  string
		path string
		want int
	}{
		{"admin@acme.test", path, 200},
		{"team@acme.test", path, 200},
		{"off@acme.test", path, 403},
		{"admin@other.test", path, 404},
		{"admin@acme.test", path + "?from=2026-13-01", 422},
		{"admin@acme.test", path + "?from=2026-03-01&to=2026-02-01", 422},
		{"admin@acme.test", path + "?csv=nothing", 404},
		{"off@acme.test", "/insights", 200},
	} {
		code, body := signedIn(t, m, c.who).get(c.path)
		if code != c.want {
			t.Errorf("%s GET %s = %d, want %d\n%.400s", c.who, c.path, code, c.want, body)
		}
	}

	admin1 := signedIn(t, m, "admin@acme.test")
	code, body := admin1.get(path)
	if code != 200 || !strings.Contains(body, "<svg") || strings.Contains(body, "Candidate ") {
		t.Fatalf("job insights: %d, svg %v, names a candidate %v", code, strings.Contains(body, "<svg"), strings.Contains(body, "Candidate "))
	}
	// The CSV of the funnel holds the numbers the store counts, over a range that
	// holds every applicant seeded.
	today := now.UTC().Truncate(24 * time.Hour)
	rng := "from=" + today.AddDate(0, 0, -200).Format("2006-01-02") + "&to=" + today.Format("2006-01-02")
	p, err := admin1.csv(t, path+"?"+rng+"&csv=funnel")
	if err != nil {
		t.Fatal(err)
	}
	in, err := m.Store.JobInsights(t.Context(), admin.OrgID, f, winnow.Period{From: today.AddDate(0, 0, -200), To: today.AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 6 || p[0][0] != "Stage" || p[1][0] != "Invited" || p[1][1] != strconv.Itoa(in.Funnel.Invited) || p[5][1] != strconv.Itoa(in.Funnel.Qualified) || in.Funnel.Invited != 30 {
		t.Fatalf("funnel CSV = %q; store says %+v", p, in.Funnel)
	}

	// The overview: a limited member's counts leave out the jobs off their teams.
	_, all := admin1.get("/insights?" + rng + "&csv=jobs")
	_, mine := signedIn(t, m, "team@acme.test").get("/insights?" + rng + "&csv=jobs")
	_, none := signedIn(t, m, "off@acme.test").get("/insights?" + rng + "&csv=jobs")
	if !strings.Contains(all, "Secret Job") || strings.Contains(mine, "Secret Job") || !strings.Contains(mine, "Field Engineer") ||
		strings.Count(strings.TrimSpace(none), "\n") != 0 {
		t.Fatalf("overview jobs: admin %q, team member %q, off-team %q", all, mine, none)
	}

	// The JSON API: the fields, counts and seconds; another org's job is not found.
	tok, _ := MustAPIToken(t, m, admin.OrgID, admin.ID)
	api := newAPIClient(t, m, tok)
	code, raw, v := api.call("GET", "/api/v1/jobs/"+f.ID+"/insights?compare=1&"+rng, "", nil)
	if code != 200 || get(v, "funnel", "invited") != float64(30) || get(v, "steps", 0, "id") != f.Steps[0].ID ||
		get(v, "questions", 0, "knockedOut") == nil || get(v, "timeToSubmit", "median") == nil || get(v, "previous", "funnel") == nil ||
		strings.Contains(raw, "Candidate ") {
		t.Fatalf("insights JSON: %d %s", code, raw)
	}
	otherTok, _ := MustAPIToken(t, m, stranger.OrgID, stranger.ID)
	if code, raw, _ := newAPIClient(t, m, otherTok).call("GET", "/api/v1/jobs/"+f.ID+"/insights", "", nil); code != 404 {
		t.Fatalf("another org's job: %d %s", code, raw)
	}
	if code, raw, _ := api.call("GET", "/api/v1/jobs/"+f.ID+"/insights?from=yesterday", "", nil); code != 422 {
		t.Fatalf("a bad date: %d %s", code, raw)
	}
}

// csv downloads path and parses it as CSV.
func (b *browser) csv(t *testing.T, path string) ([][]string, error) {
	t.Helper()
	code, body, h := b.do("GET", path, nil, nil)
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Fatalf("GET %s = %d %s", path, code, h.Get("Content-Type"))
	}
	return csv.NewReader(strings.NewReader(body)).ReadAll()
}
