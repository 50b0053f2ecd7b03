package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"winnow/internal/dbtest"

	"winnow"
)

// TestNewLinkRequest asks for a link again from the pages where a link does not work: an
// open invitation gets its link by email, an ended one only tells the job team, and the
// page says the same for known, unknown and ended addresses.
func TestNewLinkRequest(t *testing.T) {
	t.Parallel()
	m := MustStart(t, testEnv(t, dbtest.SQLite.URL(t)))
	ctx := context.Background()
	admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
	f := mustOpenFunnel(t, m, admin, "Backend Engineer")
	open := mustInvite(t, m, f, "Ada Lovelace", "ada@example.com")
	other := mustOpenFunnel(t, m, admin, "Designer")
	late, err := winnow.NewApplicant(other, "Ada Lovelace", "ada@example.com", dbtest.RandomHex(16), m.Clock.Now().Add(-500*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Store.CreateApplicant(ctx, late, ""); err != nil {
		t.Fatal(err)
	}
	waitEmails(t, m, open, winnow.EmailOutbox, 1)
	// The late invitation's deadline passed long ago: let the opt-out job end it first,
	// so the request below meets it in its final state.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		a, err := m.Store.FindApplicantByID(ctx, late.OrgID, late.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status == winnow.StatusOptedOut {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("late applicant still %s", a.Status)
		}
	}

	c := newBrowser(t, m)
	for path, status := range map[string]int{"/c/" + late.Token: 200, "/c/not-a-real-token-0123456789": 404, "/c/new-link": 200} {
		s, body := c.get(path)
		if s != status || !has(t, body, `form[action="/c/new-link"]`) || !strings.Contains(body, "Send me a new link") {
			t.Fatalf("GET %s: %d, want %d with the form\n%s", path, s, status, body)
		}
	}

	const sent = "If that address has an open application, its link is on its way"
	for _, addr := range []string{" ADA@example.com", "nobody@example.com"} {
		s, body, _ := c.post("/c/new-link", url.Values{"email": {addr}})
		if s != http.StatusOK || !strings.Contains(body, sent) {
			t.Fatalf("request for %q: %d\n%s", addr, s, body)
		}
	}
	if s, body, _ := c.post("/c/new-link", url.Values{"email": {"not an address"}}); s != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "Please enter the email address you applied with") {
		t.Fatalf("bad address: %d\n%s", s, body)
	}

	var newLink *winnow.Email
	for _, e := range waitEmails(t, m, open, winnow.EmailOutbox, 2) {
		if e.Kind == winnow.EmailNewLink {
			newLink = e
		}
	}
	if newLink == nil || !strings.Contains(newLink.Text, m.Config.BaseURL+"/c/"+open.Token) {
		t.Fatalf("no new-link email with the open applicant's link: %+v", newLink)
	}
	events, err := m.Store.ListEvents(ctx, late.OrgID, late.ID)
	if err != nil {
		t.Fatal(err)
	}
	noted := false
	for _, e := range events {
		noted = noted || e.Kind == winnow.EventLateLinkRequested
	}
	if !noted {
		t.Fatalf("ended invitation's timeline has no %s", winnow.EventLateLinkRequested)
	}
	emails, err := m.Store.ListEmails(ctx, late.OrgID, winnow.EmailFilter{ApplicantID: late.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range emails {
		if e.Kind == winnow.EmailNewLink {
			t.Fatal("an ended invitation's link was sent again")
		}
	}
}
