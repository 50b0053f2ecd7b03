package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"winnow/internal/dbtest"

	"winnow"
)

// raceResult is what one of several simultaneous requests got back.
type raceResult struct {
	status int
	body   string
	err    error
}

// race sends n copies of the request that build makes, all at once, and returns what
// each got. It never fails the test itself: it runs on other goroutines.
func race(n int, client *http.Client, build func() (*http.Request, error)) []raceResult {
	out := make([]raceResult, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, err := build()
			if err != nil {
				out[i].err = err
				return
			}
			<-start
			resp, err := client.Do(req)
			if err != nil {
				out[i].err = err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			out[i] = raceResult{status: resp.StatusCode, body: string(b), err: err}
		})
	}
	close(start)
	wg.Wait()
	return out
}

// TestInviteRace invites one address to one job many times at once, from the
// recruiter's invite page and from the API: exactly one invitation succeeds each time,
// every other request is told that the address is already invited, and the job holds
// one applicant per address.
func TestInviteRace(t *testing.T) {
	t.Parallel()
	const n = 10
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		f := MustFunnel(t, m, threeStepFunnel(admin.OrgID, false, admin.ID))
		tok, _ := MustAPIToken(t, m, admin.OrgID, admin.ID)
		b := signedIn(t, m, "admin@acme.test")

		page := race(n, b.c, func() (*http.Request, error) {
			form := url.Values{"name": {"Ada Lovelace"}, "email": {"ada@example.com"}}
			req, err := http.NewRequest("POST", b.base+"/jobs/"+f.ID+"/applicants", strings.NewReader(form.Encode()))
			if err == nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			return req, err
		})
		invited := 0
		for _, r := range page {
			switch {
			case r.err != nil:
				t.Fatalf("invite page: %v", r.err)
			case r.status == http.StatusOK && strings.Contains(r.body, "1 of 1</strong> invited"):
				invited++
			case r.status == http.StatusUnprocessableEntity && strings.Contains(r.body, "result-duplicate") &&
				strings.Contains(strings.ToLower(r.body), "already invited to this job"):
			default:
				t.Fatalf("invite page answered %d\n%s", r.status, r.body)
			}
		}
		if invited != 1 {
			t.Fatalf("the invite page invited one address %d times at once, want once", invited)
		}

		api := race(n, http.DefaultClient, func() (*http.Request, error) {
			req, err := http.NewRequest("POST", "http://"+m.Addr()+"/api/v1/jobs/"+f.ID+"/applicants",
				strings.NewReader(`{"name": "Grace Hopper", "email": "grace@example.com"}`))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			return req, err
		})
		created := 0
		for _, r := range api {
			switch {
			case r.err != nil:
				t.Fatalf("api: %v", r.err)
			case r.status == http.StatusCreated:
				created++
			case r.status == http.StatusConflict && strings.Contains(r.body, `"code":"conflict"`) &&
				strings.Contains(r.body, "grace@example.com is already invited to this job."):
			default:
				t.Fatalf("api answered %d\n%s", r.status, r.body)
			}
		}
		if created != 1 {
			t.Fatalf("the API invited one address %d times at once, want once", created)
		}

		apps, err := m.Store.ListApplicants(t.Context(), admin.OrgID, winnow.ApplicantFilter{FunnelID: f.ID})
		if err != nil || len(apps) != 2 {
			t.Fatalf("%d applicants, %v; want 2", len(apps), err)
		}
	})
}
