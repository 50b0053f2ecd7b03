package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"winnow"
	"winnow/internal/dbtest"
)

// reconnectEmails returns the org's "Lever needs reconnecting" emails, oldest first.
func (w *leverWorld) reconnectEmails(t *testing.T) []*winnow.Email {
	t.Helper()
	list, err := w.m.Store.ListEmails(context.Background(), w.admin.OrgID, winnow.EmailFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []*winnow.Email
	for _, e := range list {
		if e.Kind == winnow.EmailLeverReconnect {
			out = append(out, e)
		}
	}
	slices.Reverse(out)
	return out
}

// hasBanner reports whether b's Jobs page carries the reconnect banner, linking to the
// panel.
func hasBanner(t *testing.T, b *browser) bool {
	t.Helper()
	return mustDoc(t, mustPage(t, b, "/jobs")).Find(`p.banner a[href="/settings/integrations#lever"]`).Length() == 1
}

// TestLeverNeedsReconnecting: Lever refusing the OAuth grant while the panel loads
// turns the connection to needs reconnecting; every admin, and only admins, gets one
// email and sees the banner, however often the same incident is reported; reconnecting
// through the consent page clears it, and the next incident emails each admin once more.
func TestLeverNeedsReconnecting(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		w := startLeverWorld(t, e, nil)
		admin2 := MustUser(t, w.m, "Acme", "rui@example.com", winnow.RoleAdmin)
		MustUser(t, w.m, "Acme", "mina@example.com", winnow.RoleMember)
		b2, member := signedIn(t, w.m, admin2.Email), signedIn(t, w.m, "mina@example.com")
		connect := func() {
			t.Helper()
			if s, body, _ := w.b.do("GET", w.consent(t, w.b, "accept"), nil, nil); s != http.StatusSeeOther {
				t.Fatalf("connect: %d\n%s", s, body)
			}
		}
		connect()
		if hasBanner(t, w.b) || len(w.reconnectEmails(t)) != 0 {
			t.Fatal("banner or email while connected")
		}

		w.sb.Revoke()
		body := mustPage(t, w.b, "/settings/integrations", "Needs reconnecting", "Reconnect Lever")
		// The page that found Lever refusing already carries the banner.
		if doc := mustDoc(t, body); !strings.Contains(doc.Find("#lever-reason").Text(), "Lever refused") || doc.Find("p.banner").Length() != 1 {
			t.Fatalf("panel after revoke:\n%s", doc.Find("#lever").Text())
		}
		c := w.connection(t)
		if c.State != winnow.LeverNeedsReconnecting || c.StateReason == "" {
			t.Fatalf("after revoke: %q %q", c.State, c.StateReason)
		}
		// The same incident reported again, as workers would: nothing more.
		for range 3 {
			if err := w.m.Lever.NeedsReconnecting(context.Background(), w.admin.OrgID, "again"); err != nil {
				t.Fatal(err)
			}
		}
		mustPage(t, w.b, "/settings/integrations")
		emails := w.reconnectEmails(t)
		var to []string
		for _, em := range emails {
			to = append(to, em.To)
			if em.Seq != 1 || em.ApplicantID != "" {
				t.Fatalf("email %+v", em)
			}
		}
		slices.Sort(to)
		if strings.Join(to, " ") != "ada@example.com rui@example.com" {
			t.Fatalf("reconnect emails to %v, want one per admin", to)
		}
		if !hasBanner(t, w.b) || !hasBanner(t, b2) || hasBanner(t, member) {
			t.Fatal("the banner is for admins, all of them")
		}

		// The email goes out (to the outbox here), rendered from the built-in template.
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, err := w.m.Store.FindEmailByID(context.Background(), w.admin.OrgID, emails[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status == winnow.EmailOutbox {
				if got.Subject != "Lever needs reconnecting for Acme" || !strings.Contains(got.Text, "http://"+w.m.Addr()+winnow.LeverPanelPath) ||
					!strings.Contains(got.Text, "Lever refused") {
					t.Fatalf("email content: %q\n%s", got.Subject, got.Text)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("reconnect email still %s", got.Status)
			}
			time.Sleep(50 * time.Millisecond)
		}

		// Reconnect with the consent page: the banner goes.
		connect()
		if w.connection(t).State != winnow.LeverConnected || hasBanner(t, w.b) || hasBanner(t, b2) {
			t.Fatal("still needs reconnecting after reconnecting")
		}

		// A new incident: one more email per admin.
		w.sb.Revoke()
		mustPage(t, w.b, "/settings/integrations", "Needs reconnecting")
		emails = w.reconnectEmails(t)
		if len(emails) != 4 || emails[2].Seq != 2 || emails[3].Seq != 2 {
			t.Fatalf("after the second incident: %d emails", len(emails))
		}
	})
}

// TestLeverPostingLink: a job's Integrations page lists Lever's published and internal
// postings, every page, searchable with a plain GET; a posting feeds one open job, so
// linking it to a second one, or opening a draft linked to it, is a conflict that names
// the job holding it; writing the job back through the API keeps the link; unlink.
func TestLeverPostingLink(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		w := startLeverWorld(t, e, nil)
		mustPost(t, w.b, "/settings/integrations/lever/api-key", url.Values{"api_key": {w.sb.APIKey()}}, "/settings/integrations?lever=key#lever")
		member := MustUser(t, w.m, "Acme", "member@acme.test", winnow.RoleMember)
		MustUser(t, w.m, "Acme", "limited@acme.test", winnow.RoleLimited)
		mb := signedIn(t, w.m, member.Email)
		a := MustFunnel(t, w.m, &winnow.Funnel{OrgID: w.admin.OrgID, Title: "Backend hiring", Status: winnow.FunnelOpen, Steps: oneQuestion()})
		b := MustFunnel(t, w.m, &winnow.Funnel{OrgID: w.admin.OrgID, Title: "Second team", Status: winnow.FunnelOpen, Steps: oneQuestion()})
		c := MustFunnel(t, w.m, &winnow.Funnel{OrgID: w.admin.OrgID, Title: "Later", Status: winnow.FunnelDraft, Steps: oneQuestion()})
		page := func(f *winnow.Funnel, q string) map[string]string { // title → posting ID
			t.Helper()
			doc := mustDoc(t, mustPage(t, mb, "/jobs/"+f.ID+"/integrations?q="+url.QueryEscape(q)))
			out := map[string]string{}
			doc.Find(`table.postings tbody tr`).Each(func(_ int, s *goquery.Selection) {
				out[s.Find("th label").Text()] = s.Find(`input[type=radio]`).AttrOr("value", "")
			})
			return out
		}
		all := page(a, "")
		if len(all) != 4 || all["Data Analyst"] != "" || all["Customer Success Manager"] == "" {
			t.Fatalf("postings: %v, want the 3 published and 1 internal", all)
		}
		if got := page(a, "engineer"); len(got) != 2 || got["Backend Engineer"] == "" {
			t.Fatalf("search engineer: %v", got)
		}
		if got := page(a, "LISBON design"); len(got) != 1 || got["Product Designer"] == "" {
			t.Fatalf("search lisbon: %v", got)
		}
		posting := all["Backend Engineer"]
		mustPost(t, mb, "/jobs/"+a.ID+"/integrations/lever/posting", url.Values{"posting": {posting}}, "/jobs/"+a.ID+"/integrations?saved=linked")
		mustPage(t, mb, "/jobs/"+a.ID+"/integrations?saved=linked", "The job is linked to the posting")
		if got, _ := w.m.Store.FindFunnelByID(context.Background(), w.admin.OrgID, a.ID); got.LeverPostingID != posting {
			t.Fatalf("linked posting %q", got.LeverPostingID)
		}
		conflict := "already linked to the open job “Backend hiring”"
		s, body, _ := mb.post("/jobs/"+b.ID+"/integrations/lever/posting", url.Values{"posting": {posting}})
		if msg := mustDoc(t, body).Find(".error").Text(); s != http.StatusConflict || !strings.Contains(msg, conflict) {
			t.Fatalf("second open job: %d %q", s, msg)
		}
		if strings.Contains(mustPage(t, mb, "/jobs/"+b.ID+"/integrations"), "linked to the open job “Backend hiring”") == false {
			t.Fatal("the picker does not say which job holds the posting")
		}
		// A draft may link it; opening the draft is the same conflict.
		mustPost(t, mb, "/jobs/"+c.ID+"/integrations/lever/posting", url.Values{"posting": {posting}}, "/jobs/"+c.ID+"/integrations?saved=linked")
		s, body, _ = mb.post("/jobs/"+c.ID+"/details", url.Values{"title": {"Later"}, "status": {"open"}})
		if s != http.StatusConflict || !strings.Contains(body, conflict) {
			t.Fatalf("opening the draft: %d\n%s", s, mustDoc(t, body).Find(".error").Text())
		}
		tok, _ := MustAPIToken(t, w.m, w.admin.OrgID, w.admin.ID)
		api := newAPIClient(t, w.m, tok)
		_, raw, job := api.call("GET", "/api/v1/jobs/"+c.ID, "", nil)
		if get(job, "leverPostingId") != posting {
			t.Fatalf("job JSON: %s", raw)
		}
		if s, raw, _ := api.call("PUT", "/api/v1/jobs/"+c.ID, strings.Replace(raw, `"status":"draft"`, `"status":"open"`, 1), nil); s != 409 ||
			!strings.Contains(raw, "Backend hiring") {
			t.Fatalf("opening the draft through the API: %d %s", s, raw)
		}
		// Writing job A back as read keeps its link.
		_, raw, _ = api.call("GET", "/api/v1/jobs/"+a.ID, "", nil)
		if s, raw, got := api.call("PUT", "/api/v1/jobs/"+a.ID, strings.Replace(raw, `"title":"Backend hiring"`, `"title":"Backend hiring 2"`, 1), nil); s != 200 ||
			get(got, "leverPostingId") != posting || get(got, "title") != "Backend hiring 2" {
			t.Fatalf("PUT job: %d %s", s, raw)
		}
		// A closed posting, and an unknown one, cannot be linked.
		for _, bad := range []string{"no-such-posting", strings.Repeat("x", 300)} {
			if s, body, _ := mb.post("/jobs/"+b.ID+"/integrations/lever/posting", url.Values{"posting": {bad}}); s != 422 ||
				mustDoc(t, body).Find(".error").Text() == "" {
				t.Fatalf("posting %q: %d", bad, s)
			}
		}
		// Unlink A: then C opens.
		mustPost(t, mb, "/jobs/"+a.ID+"/integrations/lever/posting", url.Values{"unlink": {"1"}}, "/jobs/"+a.ID+"/integrations?saved=unlinked")
		if s, _, h := mb.post("/jobs/"+c.ID+"/details", url.Values{"title": {"Later"}, "status": {"open"}}); s != http.StatusSeeOther {
			t.Fatalf("opening the draft after the unlink: %d %s", s, h.Get("Location"))
		}
		// The job's own qualified stage.
		doc := mustDoc(t, mustPage(t, mb, "/jobs/"+c.ID+"/integrations"))
		stage := doc.Find(`#job-stage option`).Eq(6).AttrOr("value", "")
		mustPost(t, mb, "/jobs/"+c.ID+"/integrations/lever/stage", url.Values{"qualified_stage": {stage}}, "/jobs/"+c.ID+"/integrations?saved=stage")
		if got, _ := w.m.Store.FindFunnelByID(context.Background(), w.admin.OrgID, c.ID); stage == "" || got.QualifiedStageID != stage {
			t.Fatalf("job stage %q, want %q", got.QualifiedStageID, stage)
		}
		if s, _, _ := mb.post("/jobs/"+c.ID+"/integrations/lever/stage", url.Values{"qualified_stage": {"nope"}}); s != 422 {
			t.Fatalf("unknown stage: %d", s)
		}
		// Limited members do not edit jobs.
		if s, _ := signedIn(t, w.m, "limited@acme.test").get("/jobs/" + a.ID + "/integrations"); s != http.StatusForbidden {
			t.Fatalf("limited member: %d", s)
		}
	})
}
