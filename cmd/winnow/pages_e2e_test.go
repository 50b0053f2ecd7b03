package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/keyring"
)

// mustInviteMany invites n candidates to f in the store's batches, and returns them
// newest first, as lists show them.
func mustInviteMany(t *testing.T, m *Main, f *winnow.Funnel, n int, prefix string) []*winnow.Applicant {
	t.Helper()
	apps := make([]*winnow.Applicant, n)
	for i := range apps {
		a, err := winnow.NewApplicant(f, fmt.Sprintf("%s %d", prefix, i), fmt.Sprintf("%s-%d@example.com", prefix, i), keyring.Token(), m.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		apps[i] = a
	}
	for i, err := range m.Store.CreateApplicants(context.Background(), apps, "") {
		if err != nil {
			t.Fatalf("invite %d: %v", i, err)
		}
	}
	newest := make([]*winnow.Applicant, n)
	for i, a := range apps {
		newest[n-1-i] = a
	}
	return newest
}

// listed returns the applicant links of the table rows of the page's list at sel, and
// its Previous and Next links.
func listed(t *testing.T, body, sel string) (rows []string, prev, next string) {
	t.Helper()
	doc := mustDoc(t, body)
	doc.Find(sel + " tbody tr th a").Each(func(_ int, s *goquery.Selection) {
		rows = append(rows, s.AttrOr("href", ""))
	})
	prev = doc.Find(`nav.pager a[rel=prev]`).AttrOr("href", "")
	next = doc.Find(`nav.pager a[rel=next]`).AttrOr("href", "")
	return rows, prev, next
}

// TestListPages walks the job page, the Applicants list and the review queue a page
// at a time with their Previous and Next links: 50 rows a page, every applicant once,
// counts per status from the database, a limited member's list holding their teams'
// jobs only, and a page link that is not valid refused with a page that says so.
func TestListPages(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		ctx := context.Background()
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		limited := MustUser(t, m, "Acme", "limited@acme.test", winnow.RoleLimited)
		job := MustFunnel(t, m, &winnow.Funnel{OrgID: admin.OrgID, Title: "Writer", Status: winnow.FunnelOpen, OpenReview: true,
			Team: []string{admin.ID, limited.ID}, Steps: oneQuestion()})
		other := MustFunnel(t, m, &winnow.Funnel{OrgID: admin.OrgID, Title: "Editor", Status: winnow.FunnelOpen, Steps: oneQuestion()})
		apps := mustInviteMany(t, m, job, 120, "writer")
		mustInviteMany(t, m, other, 3, "editor")
		// 55 of the job's applicants submit, the oldest invited first.
		var submitted []string
		for i := 119; i >= 65; i-- {
			for _, step := range []func(*winnow.Applicant) (winnow.Event, error){
				func(x *winnow.Applicant) (winnow.Event, error) { return x.Start(m.Clock.Now()) },
				func(x *winnow.Applicant) (winnow.Event, error) { return x.Submit(m.Clock.Now()) },
			} {
				if _, err := m.Store.TransitionApplicant(ctx, admin.OrgID, apps[i].ID, step); err != nil {
					t.Fatal(err)
				}
			}
			submitted = append(submitted, "/applicants/"+apps[i].ID)
		}
		var newest []string
		for _, a := range apps {
			newest = append(newest, "/applicants/"+a.ID)
		}

		// walk follows Next links from path and returns every row and the pages' links.
		walk := func(b *browser, path, sel string, want []string) []string {
			t.Helper()
			var all, pages []string
			for prev := ""; path != ""; {
				s, body := b.get(path)
				if s != http.StatusOK {
					t.Fatalf("%s: %d\n%s", path, s, body)
				}
				rows, p, next := listed(t, body, sel)
				if len(rows) > winnow.DefaultPageSize || (next != "" && len(rows) != winnow.DefaultPageSize) {
					t.Fatalf("%s: %d rows", path, len(rows))
				}
				if (p == "") != (prev == "") {
					t.Fatalf("%s: Previous link %q after %q", path, p, prev)
				}
				pages = append(pages, path)
				all = append(all, rows...)
				prev, path = path, next
			}
			if strings.Join(all, " ") != strings.Join(want, " ") {
				t.Fatalf("%d rows over %d pages, want %d in order", len(all), len(pages), len(want))
			}
			return pages
		}

		adm := signedIn(t, m, "admin@acme.test")
		pages := walk(adm, "/jobs/"+job.ID, "#applicants", newest)
		if len(pages) != 3 {
			t.Fatalf("job pages %v, want 3", pages)
		}
		// Previous from the last page leads back to the second.
		_, body := adm.get(pages[2])
		_, prev, _ := listed(t, body, "#applicants")
		_, back := adm.get(prev)
		_, secondBody := adm.get(pages[1])
		if b1, _, _ := listed(t, back, "#applicants"); strings.Join(b1, " ") != strings.Join(newest[50:100], " ") {
			t.Fatalf("back from the last page: %d rows, not the second page", len(b1))
		}
		if _, p, n := listed(t, secondBody, "#applicants"); p == "" || n == "" {
			t.Fatal("the second page lacks a link")
		}
		doc := mustDoc(t, body)
		// The tiles count everyone who ever reached a status: all 120 were invited.
		if got := doc.Find(`ul.stats li.invited .n`).Text(); got != "120" {
			t.Fatalf("invited count %q, want 120", got)
		}
		if got := doc.Find(`ul.stats li.in_progress .n`).Text(); got != "55" {
			t.Fatalf("in progress count %q, want 55", got)
		}
		if got := doc.Find(`ul.stats li.submitted .n`).Text(); got != "55" {
			t.Fatalf("submitted count %q, want 55", got)
		}

		walk(adm, "/jobs/"+job.ID+"/review", "table", submitted)
		if _, body := adm.get("/jobs/" + job.ID + "/review"); !strings.Contains(mustDoc(t, body).Find("p.meta").Text(), "55 waiting · 0 decided") {
			t.Fatalf("queue counts: %s", mustDoc(t, body).Find("p.meta").Text())
		}

		// The Applicants list: everyone for the admin, the team's job only for the
		// limited member, and a status filter that the page links keep.
		s, body := adm.get("/applicants")
		if s != http.StatusOK || mustDoc(t, body).Find(`nav.filters a[aria-current=page] .n`).Text() != "123" {
			t.Fatalf("admin's applicants: %d, total %q", s, mustDoc(t, body).Find(`nav.filters a[aria-current=page] .n`).Text())
		}
		walk(signedIn(t, m, "limited@acme.test"), "/applicants", "table", newest)
		pages = walk(adm, "/applicants?status=invited", "table", invitedAll(t, m, admin.OrgID))
		if u, _ := url.Parse(pages[1]); u.Query().Get("status") != "invited" {
			t.Fatalf("the Next link drops the filter: %s", pages[1])
		}

		for _, path := range []string{"/jobs/" + job.ID + "?cursor=not-a-cursor", "/applicants?cursor=bm9wZQ"} {
			if s, body := adm.get(path); s != http.StatusUnprocessableEntity || !strings.Contains(body, "This page link is not valid") {
				t.Fatalf("%s: %d\n%s", path, s, body)
			}
		}
	})
}

// invitedAll returns the links of the org's invited applicants, newest first.
func invitedAll(t *testing.T, m *Main, orgID string) []string {
	t.Helper()
	apps, err := m.Store.ListApplicants(context.Background(), orgID, winnow.ApplicantFilter{Status: winnow.StatusInvited})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range apps {
		out = append(out, "/applicants/"+a.ID)
	}
	return out
}

// TestAPIPages reads a job's applicants through the API a page at a time: limit rows
// a page (50 by default, at most 100), every applicant once, a null nextCursor on the
// last page, and limits and cursors that are not valid refused.
func TestAPIPages(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		job := mustOpenFunnel(t, m, admin, "Writer")
		apps := mustInviteMany(t, m, job, 120, "writer")
		tok, _ := MustAPIToken(t, m, admin.OrgID, admin.ID)
		c := newAPIClient(t, m, tok)
		base := "/api/v1/jobs/" + job.ID + "/applicants"

		for _, tt := range []struct {
			name  string
			query string
			sizes []int
		}{
			{"default", "", []int{50, 50, 20}},
			{"limit 100", "limit=100", []int{100, 20}},
			{"limit 7 of invited", "limit=7&status=invited", append(slices.Repeat([]int{7}, 17), 1)},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var got []string
				var sizes []int
				for cursor := ""; ; {
					q, _ := url.ParseQuery(tt.query)
					if cursor != "" {
						q.Set("cursor", cursor)
					}
					s, raw, v := c.call("GET", base+"?"+q.Encode(), "", nil)
					if s != http.StatusOK {
						t.Fatalf("%d %s", s, raw)
					}
					list := get(v, "applicants").([]any)
					sizes = append(sizes, len(list))
					for _, a := range list {
						got = append(got, get(a, "id").(string))
					}
					next, present := v.(map[string]any)["nextCursor"]
					if !present {
						t.Fatalf("no nextCursor in %s", raw)
					}
					if next == nil {
						break
					}
					cursor = next.(string)
				}
				if fmt.Sprint(sizes) != fmt.Sprint(tt.sizes) || len(got) != 120 || got[0] != apps[0].ID || got[119] != apps[119].ID {
					t.Fatalf("pages of %v, %d applicants", sizes, len(got))
				}
			})
		}
		for _, q := range []string{"limit=0", "limit=101", "limit=ten", "cursor=abc", "cursor=" + url.QueryEscape(winnow.Cursor{Order: "waiting", Key: time.Now().Format(time.RFC3339Nano), ID: "x"}.Encode())} {
			if s, raw, _ := c.call("GET", base+"?"+q, "", nil); s != http.StatusUnprocessableEntity || !strings.Contains(raw, `"invalid"`) {
				t.Fatalf("%s: %d %s", q, s, raw)
			}
		}
	})
}
