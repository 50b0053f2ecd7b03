package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"winnow"
	"winnow/internal/dbtest"
)

// TestJobsUI checks River's UI under /admin/jobs/: anonymous visitors are sent to sign
// in, members are refused, admins get the UI and its JSON API, and the API's changes
// (retrying a job) work from the UI's own origin but not from another site's. Settings
// links to it.
func TestJobsUI(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		MustUser(t, m, "Acme", "member@acme.test", winnow.RoleMember)
		a := mustInvite(t, m, mustOpenFunnel(t, m, admin, "Writer"), "Ada Lovelace", "ada@example.com")
		waitEmails(t, m, a, winnow.EmailOutbox, 1)
		// River records a job completed a moment after its worker returns.
		var jobs *river.JobListResult
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			var err error
			jobs, err = m.Inserter.JobList(context.Background(), river.NewJobListParams().Kinds("email_send").States("completed"))
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs.Jobs) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the invitation's email job did not complete")
			}
		}
		jobID := strconv.FormatInt(jobs.Jobs[0].ID, 10)

		anon := newBrowser(t, m)
		s, _, h := anon.do("GET", "/admin/jobs/", nil, nil)
		if s != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login?next=") {
			t.Fatalf("anonymous: %d %s", s, h.Get("Location"))
		}
		if s, _, _ := anon.do("GET", "/admin/jobs/api/jobs?state=completed", nil, nil); s != http.StatusSeeOther {
			t.Fatalf("anonymous API: %d", s)
		}

		member := signedIn(t, m, "member@acme.test")
		for _, path := range []string{"/admin/jobs/", "/admin/jobs/api/jobs?state=completed"} {
			if s, body := member.get(path); s != http.StatusForbidden || !has(t, body, "h1") {
				t.Fatalf("member %s: %d\n%s", path, s, body)
			}
		}

		adm := signedIn(t, m, "admin@acme.test")
		s, body := adm.get("/settings/members")
		if s != http.StatusOK || mustDoc(t, body).Find(`nav a[href="/admin/jobs/"]`).Length() != 1 {
			t.Fatalf("settings has no link to the jobs UI: %d", s)
		}
		if s, _, h := adm.do("GET", "/admin/jobs", nil, nil); s != http.StatusTemporaryRedirect || h.Get("Location") != "/admin/jobs/" {
			t.Fatalf("/admin/jobs: %d %s", s, h.Get("Location"))
		}
		s, body = adm.get("/admin/jobs/")
		if s != http.StatusOK || mustDoc(t, body).Find("title").Text() != "River" || mustDoc(t, body).Find("script#config__json").Length() != 1 {
			t.Fatalf("admin UI: %d\n%s", s, body)
		}
		s, body, h = adm.do("GET", "/admin/jobs/api/jobs?state=completed", nil, nil)
		var list struct {
			Data []struct {
				ID   json.Number `json:"id"`
				Kind string      `json:"kind"`
			} `json:"data"`
		}
		if s != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/json") || json.Unmarshal([]byte(body), &list) != nil {
			t.Fatalf("admin API: %d %s\n%s", s, h.Get("Content-Type"), body)
		}
		found := false
		for _, j := range list.Data {
			found = found || (j.ID.String() == jobID && j.Kind == "email_send")
		}
		if !found {
			t.Fatalf("the API does not list job %s:\n%s", jobID, body)
		}

		retry := func(b *browser, origin, site string) (int, string) {
			t.Helper()
			req, _ := http.NewRequest("POST", b.base+"/admin/jobs/api/jobs/retry", strings.NewReader(`{"ids":["`+jobID+`"]}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", origin)
			req.Header.Set("Sec-Fetch-Site", site)
			res, err := b.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			out, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(out)
		}
		if s, body := retry(adm, "https://evil.example", "cross-site"); s != http.StatusForbidden {
			t.Fatalf("cross-site retry: %d %s", s, body)
		}
		if s, body := retry(member, adm.base, "same-origin"); s != http.StatusForbidden {
			t.Fatalf("member retry: %d %s", s, body)
		}
		if s, body := retry(adm, adm.base, "same-origin"); s != http.StatusOK || !strings.Contains(body, `"ok"`) {
			t.Fatalf("admin retry from the UI's page: %d %s", s, body)
		}
		j, err := m.Inserter.JobGet(context.Background(), jobs.Jobs[0].ID)
		if err != nil || j.Attempt == jobs.Jobs[0].Attempt && j.State == jobs.Jobs[0].State {
			t.Fatalf("the retried job: %+v, %v", j, err)
		}
	})
}
