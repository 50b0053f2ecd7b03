package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"winnow"
	"winnow/internal/dbtest"
)

// TestListSearch searches, filters and sorts the Applicants and Jobs lists: a name is
// found where identities show (open review, or decided) and never under blind review,
// where the job's title still finds its applicants; the job filter, the order and the
// Jobs list's search, status filter and pages keep what they were asked.
func TestListSearch(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		ctx := context.Background()
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		open := MustFunnel(t, m, &winnow.Funnel{OrgID: admin.OrgID, Title: "Technical Writer", Status: winnow.FunnelOpen, OpenReview: true,
			Team: []string{admin.ID}, Steps: oneQuestion()})
		blind := MustFunnel(t, m, &winnow.Funnel{OrgID: admin.OrgID, Title: "Copy Editor", Status: winnow.FunnelOpen, Steps: oneQuestion()})
		ada := MustInvited(t, m, open, "Ada Lovelace", "ada@example.com")
		grace := MustInvited(t, m, open, "Grace Hopper", "grace@example.com")
		alan := MustInvited(t, m, blind, "Alan Turing", "alan_t@example.com")
		b := signedIn(t, m, "admin@acme.test")
		rows := func(path string) []string {
			t.Helper()
			s, body := b.get(path)
			if s != http.StatusOK {
				t.Fatalf("GET %s: %d\n%s", path, s, body)
			}
			got, _, _ := listed(t, body, "table")
			return got
		}
		card := func(a *winnow.Applicant) string { return "/applicants/" + a.ID }
		cases := []struct {
			name, path string
			want       []string
		}{
			{"name under open review", "/applicants?q=LOVELACE", []string{card(ada)}},
			{"email", "/applicants?q=grace%40", []string{card(grace)}},
			{"name under blind review", "/applicants?q=turing", nil},
			{"LIKE wildcards are literal", "/applicants?q=_t%40", nil},
			{"job title", "/applicants?q=copy+edit", []string{card(alan)}},
			{"job filter", "/applicants?job=" + open.ID, []string{card(grace), card(ada)}},
			{"oldest first", "/applicants?sort=oldest", []string{card(ada), card(grace), card(alan)}},
			{"search with status", "/applicants?q=example&status=invited&job=" + open.ID, []string{card(grace), card(ada)}},
		}
		for _, c := range cases {
			if got := rows(c.path); strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("%s (%s): %v, want %v", c.name, c.path, got, c.want)
			}
		}
		// Once decided, a blind job's applicant is found by name too.
		for _, fn := range []func(*winnow.Applicant) (winnow.Event, error){
			func(x *winnow.Applicant) (winnow.Event, error) { return x.Start(m.Clock.Now()) },
			func(x *winnow.Applicant) (winnow.Event, error) { return x.Submit(m.Clock.Now()) },
			func(x *winnow.Applicant) (winnow.Event, error) { return x.Qualify(m.Clock.Now(), admin.ID) },
		} {
			if _, err := m.Store.TransitionApplicant(ctx, alan.OrgID, alan.ID, fn); err != nil {
				t.Fatal(err)
			}
		}
		if got := rows("/applicants?q=turing"); len(got) != 1 || got[0] != card(alan) {
			t.Fatalf("decided applicant by name: %v", got)
		}
		// The status links keep the search.
		_, body := b.get("/applicants?q=writer&sort=oldest")
		if href, _ := mustDoc(t, body).Find(`nav.filters a:contains("Submitted")`).Attr("href"); href != "/applicants?q=writer&sort=oldest&status=submitted" {
			t.Fatalf("status link %q", href)
		}

		// Jobs: 52 more drafts make two pages; search, status and order.
		for i := range 52 {
			MustFunnel(t, m, &winnow.Funnel{OrgID: admin.OrgID, Title: fmt.Sprintf("Draft %02d", i), Status: winnow.FunnelDraft})
		}
		jobRows := func(path string) ([]string, string, string) {
			t.Helper()
			s, body := b.get(path)
			if s != http.StatusOK {
				t.Fatalf("GET %s: %d", path, s)
			}
			doc := mustDoc(t, body)
			var titles []string
			doc.Find("table.jobs a.title").Each(func(_ int, s *goquery.Selection) { titles = append(titles, s.Text()) })
			prev, _ := doc.Find(`nav.pager a[rel=prev]`).Attr("href")
			next, _ := doc.Find(`nav.pager a[rel=next]`).Attr("href")
			return titles, prev, next
		}
		if got, _, _ := jobRows("/jobs?q=WRITER"); strings.Join(got, ",") != "Technical Writer" {
			t.Fatalf("job search: %v", got)
		}
		if got, _, _ := jobRows("/jobs?status=open&sort=title"); strings.Join(got, ",") != "Copy Editor,Technical Writer" {
			t.Fatalf("open jobs by title: %v", got)
		}
		first, prev, next := jobRows("/jobs?sort=title")
		if len(first) != winnow.DefaultPageSize || prev != "" || next == "" || first[0] != "Copy Editor" {
			t.Fatalf("first page: %d rows, prev %q, next %q, %v", len(first), prev, next, first[:1])
		}
		second, prev, next := jobRows(next)
		if strings.Join(second, ",") != "Draft 49,Draft 50,Draft 51,Technical Writer" || prev == "" || next != "" {
			t.Fatalf("second page: %v, prev %q, next %q", second, prev, next)
		}
		if back, _, _ := jobRows(prev); strings.Join(back, ",") != strings.Join(first, ",") {
			t.Fatalf("back to the first page: %v", back)
		}
	})
}

// TestQueueNeighbours walks the review queue from an applicant's card with "Next in
// queue" and back with "Previous in queue", in the queue's order (first submitted
// first), and a decided applicant's card still leads on to the next one waiting.
func TestQueueNeighbours(t *testing.T) {
	t.Parallel()
	m := MustStart(t, testEnv(t, dbtest.SQLite.URL(t)))
	admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
	f := MustFunnel(t, m, threeStepFunnel(admin.OrgID, false, admin.ID))
	var queue []string
	for _, name := range []string{"Ada", "Bea", "Cy"} {
		queue = append(queue, "/applicants/"+MustSubmitted(t, m, f, name, strings.ToLower(name)+"@example.com").ID)
	}
	b := signedIn(t, m, "admin@acme.test")
	links := func(card string) (string, string) {
		t.Helper()
		s, body := b.get(card)
		if s != http.StatusOK {
			t.Fatalf("GET %s: %d", card, s)
		}
		doc := mustDoc(t, body)
		return doc.Find(`nav.queue-nav a[rel=prev]`).AttrOr("href", ""), doc.Find(`nav.queue-nav a[rel=next]`).AttrOr("href", "")
	}
	for i, card := range queue {
		prev, next := links(card)
		wantPrev, wantNext := "", ""
		if i > 0 {
			wantPrev = queue[i-1]
		}
		if i < len(queue)-1 {
			wantNext = queue[i+1]
		}
		if prev != wantPrev || next != wantNext {
			t.Fatalf("card %d: prev %q next %q, want %q %q", i, prev, next, wantPrev, wantNext)
		}
	}
	if s, _, _ := b.post(queue[0]+"/decision", url.Values{"outcome": {"qualified"}}); s != http.StatusSeeOther {
		t.Fatalf("decide: %d", s)
	}
	if prev, next := links(queue[0]); prev != "" || next != queue[1] {
		t.Fatalf("decided card: prev %q next %q", prev, next)
	}
	if prev, _ := links(queue[1]); prev != "" {
		t.Fatalf("the first waiting card leads back to a decided one: %q", prev)
	}
}
