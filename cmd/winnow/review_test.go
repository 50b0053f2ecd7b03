package main

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/sqlstore"
)

// TestInviteCandidates invites one candidate and then a pasted list mixing good, bad
// and repeated lines: each line gets its own result, bad lines write nothing, good
// ones become invited applicants with their own link, and nothing claims an email
// was sent.
func TestInviteCandidates(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		ctx := context.Background()
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		MustUser(t, m, "Acme", "limited@acme.test", winnow.RoleLimited)
		f := MustFunnel(t, m, threeStepFunnel(admin.OrgID, false, admin.ID))
		draft := MustFunnel(t, m, &winnow.Funnel{OrgID: admin.OrgID, Title: "Later", Status: winnow.FunnelDraft})
		b := signedIn(t, m, "admin@acme.test")
		path := "/jobs/" + f.ID + "/applicants"

		s, body, _ := b.post(path, url.Values{"name": {"Grace Hopper"}, "email": {" Grace@Example.com "}})
		if s != 200 || !strings.Contains(body, "1 of 1</strong> invited") || !strings.Contains(body, m.Config.BaseURL+"/c/") {
			t.Fatalf("single invite: %d\n%s", s, body)
		}
		for _, c := range []struct {
			name string
			form url.Values
			want string
		}{
			{"no name", url.Values{"name": {""}, "email": {"x@example.com"}}, "Candidate name is required."},
			{"bad email", url.Values{"name": {"X"}, "email": {"not-an-email"}}, "is not a valid email address"},
			{"already invited", url.Values{"name": {"Grace"}, "email": {"grace@example.com"}}, "grace@example.com is already invited to this job."},
		} {
			if s, body, _ := b.post(path, c.form); s != 422 || !strings.Contains(body, c.want) {
				t.Fatalf("%s: %d, want 422 with %q\n%s", c.name, s, c.want, body)
			}
		}

		bulk := strings.Join([]string{
			"Ada Lovelace <ada@example.com>",
			"  Alan Turing, alan@example.com",
			"",
			"linus@example.com",
			"Barbara Liskov\tbarbara@example.com",
			"Nobody <nobody@@example>",
			"just some words",
			"grace@example.com",
			"Ada again <ADA@example.com>",
		}, "\r\n")
		s, body, _ = b.post(path, url.Values{"bulk": {bulk}})
		if s != 200 || !strings.Contains(body, "4 of 8</strong> invited") {
			t.Fatalf("bulk: %d\n%s", s, body)
		}
		rows := regexp.MustCompile(`(?s)<tr class="result-(\w+)">.*?</tr>`).FindAllStringSubmatch(body, -1)
		var outcomes []string
		for _, r := range rows {
			outcomes = append(outcomes, r[1])
		}
		want := "invited invited invited invited invalid invalid duplicate duplicate"
		if got := strings.Join(outcomes, " "); got != want {
			t.Fatalf("outcomes %q, want %q", got, want)
		}
		if strings.Contains(strings.ToLower(body), "sent") {
			t.Fatal("the page claims an email was sent")
		}
		if n := strings.Count(body, `class="copy" readonly value="`+m.Config.BaseURL+"/c/"); n != 4 {
			t.Fatalf("%d candidate links shown, want 4", n)
		}

		apps, err := m.Store.ListApplicants(ctx, admin.OrgID, winnow.ApplicantFilter{FunnelID: f.ID})
		if err != nil || len(apps) != 5 {
			t.Fatalf("%d applicants, %v; want 5", len(apps), err)
		}
		names := map[string]string{}
		for _, a := range apps {
			names[a.Email] = a.Name
			if a.Status != winnow.StatusInvited || len(a.Token) < 40 || len(a.Steps) != 3 {
				t.Fatalf("applicant %+v", a)
			}
			events, _ := m.Store.ListEvents(ctx, a.OrgID, a.ID)
			if len(events) == 0 || events[0].Kind != winnow.EventInvited || events[0].ActorID != admin.ID {
				t.Fatalf("timeline of %s: %+v", a.Email, events)
			}
		}
		wantNames := map[string]string{"grace@example.com": "Grace Hopper", "ada@example.com": "Ada Lovelace",
			"alan@example.com": "Alan Turing", "linus@example.com": "linus@example.com", "barbara@example.com": "Barbara Liskov"}
		for e, n := range wantNames {
			if names[e] != n {
				t.Fatalf("applicant %s is named %q, want %q (all: %v)", e, names[e], n, names)
			}
		}

		// Nothing to invite, a job that is not open, a limited member: refused, nothing written.
		if s, _, _ := b.post(path, url.Values{"bulk": {"\n \n"}, "email": {""}}); s != 422 {
			t.Fatalf("empty bulk: %d", s)
		}
		if s, body, _ := b.post("/jobs/"+draft.ID+"/applicants", url.Values{"name": {"X"}, "email": {"x@example.com"}}); s != 409 || !strings.Contains(body, "This job is draft") {
			t.Fatalf("draft job: %d", s)
		}
		lb := signedIn(t, m, "limited@acme.test")
		if s, _, _ := lb.post(path, url.Values{"name": {"X"}, "email": {"x@example.com"}}); s != 403 {
			t.Fatalf("limited member invites: %d", s)
		}
		if apps, _ := m.Store.ListApplicants(ctx, admin.OrgID, winnow.ApplicantFilter{}); len(apps) != 5 {
			t.Fatalf("%d applicants after refused invitations, want 5", len(apps))
		}
	})
}

// TestReviewAndDecide walks a submitted applicant through review: the queue and the
// card under blind review, answers and files, who may score and decide and who may only
// look, the reasons rules, and the name revealed after the decision.
func TestReviewAndDecide(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		ctx := context.Background()
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		team := MustUser(t, m, "Acme", "team@acme.test", winnow.RoleMember)
		MustUser(t, m, "Acme", "member@acme.test", winnow.RoleMember)
		limitedOn := MustUser(t, m, "Acme", "on@acme.test", winnow.RoleLimited)
		MustUser(t, m, "Acme", "off@acme.test", winnow.RoleLimited)
		MustUser(t, m, "Globex", "admin@globex.test", winnow.RoleAdmin)
		f := MustFunnel(t, m, threeStepFunnel(admin.OrgID, false, team.ID, limitedOn.ID))
		ada := MustSubmitted(t, m, f, "Ada Lovelace", "ada@example.com")
		alan := MustInvited(t, m, f, "Alan Turing", "alan@example.com")
		if _, err := m.Store.TransitionApplicant(ctx, alan.OrgID, alan.ID, func(x *winnow.Applicant) (winnow.Event, error) {
			return x.Start(m.Clock.Now())
		}); err != nil {
			t.Fatal(err)
		}
		browsers := map[string]*browser{}
		for _, who := range []string{"admin@acme.test", "team@acme.test", "member@acme.test", "on@acme.test", "off@acme.test", "admin@globex.test"} {
			browsers[who] = signedIn(t, m, who)
		}
		card := "/applicants/" + ada.ID
		short := "Applicant #" + strings.ReplaceAll(ada.ID, "-", "")[24:]

		// The queue holds the submitted applicant only, without name or email.
		s, body := browsers["team@acme.test"].get("/jobs/" + f.ID + "/review")
		if s != 200 || !strings.Contains(body, short) || strings.Contains(body, "Ada") || strings.Contains(body, "ada@") ||
			strings.Contains(body, "Alan") {
			t.Fatalf("queue: %d\n%s", s, body)
		}
		// The card shows answers and files, and hides who it is from everyone.
		for _, who := range []string{"team@acme.test", "admin@acme.test", "member@acme.test"} {
			s, body := browsers[who].get(card)
			for _, want := range []string{short, "Are you allowed to work in the EU?", "I like queues.", "My queue uses two stacks.",
				"No recording.", "Timeline"} {
				if !strings.Contains(body, want) {
					t.Fatalf("%s's card (%d) lacks %q\n%s", who, s, want, body)
				}
			}
			doc := mustDoc(t, body)
			for _, sel := range []string{`span.answer:contains("yes")`, fmt.Sprintf("a[href=%q][download]", "/uploads/"+ada.homework.ID),
				fmt.Sprintf("video[controls][src=%q]", "/uploads/"+ada.video.ID+"?inline=1")} {
				if doc.Find(sel).Length() == 0 {
					t.Fatalf("%s's card (%d) has no %s\n%s", who, s, sel, body)
				}
			}
			if strings.Contains(body, "Ada") || strings.Contains(body, "ada@example.com") {
				t.Fatalf("%s sees the name under blind review:\n%s", who, body)
			}
		}
		if s, body := browsers["member@acme.test"].get(card); s != 200 || has(t, body, fmt.Sprintf("form[action=%q]", card+"/reviews")) {
			t.Fatalf("a member off the team is offered the review form: %d", s)
		}

		// Files: served to those who may see the applicant, under a neutral name while blind.
		downloads := []struct {
			name, who, path string
			status          int
			disposition     string
		}{
			{"homework file", "team@acme.test", "/uploads/" + ada.homework.ID, 200, "attachment; filename=homework-"},
			{"video inline", "member@acme.test", "/uploads/" + ada.video.ID + "?inline=1", 200, "inline"},
			{"limited member off the team", "off@acme.test", "/uploads/" + ada.homework.ID, 403, ""},
			{"another org", "admin@globex.test", "/uploads/" + ada.homework.ID, 404, ""},
		}
		for _, d := range downloads {
			s, body, h := browsers[d.who].do("GET", d.path, nil, nil)
			if s != d.status || !strings.HasPrefix(h.Get("Content-Disposition"), d.disposition) {
				t.Fatalf("%s: %d %q", d.name, s, h.Get("Content-Disposition"))
			}
			if s == 200 && (strings.Contains(h.Get("Content-Disposition"), "Ada") || !strings.Contains(body, "bytes") && !strings.Contains(body, "homework")) {
				t.Fatalf("%s: disposition %q body %q", d.name, h.Get("Content-Disposition"), body)
			}
		}

		// Refusals: each gets a page with its status and changes nothing.
		refusals := []struct {
			name, who, method, path string
			form                    url.Values
			status                  int
			want                    string
		}{
			{"limited member off the team opens the card", "off@acme.test", "GET", card, nil, 403, "not on the team"},
			{"limited member off the team reviews", "off@acme.test", "POST", card + "/reviews", url.Values{"score": {"4"}}, 403, "not on the team"},
			{"limited member off the team decides", "off@acme.test", "POST", card + "/decision", url.Values{"outcome": {"qualified"}}, 403, "not on the team"},
			{"limited member off the team opens the queue", "off@acme.test", "GET", "/jobs/" + f.ID + "/review", nil, 403, "not on the team"},
			{"member off the team reviews", "member@acme.test", "POST", card + "/reviews", url.Values{"score": {"4"}}, 403, "Only the job team and admins"},
			{"member off the team decides", "member@acme.test", "POST", card + "/decision", url.Values{"outcome": {"qualified"}}, 403, "Only the job team and admins"},
			{"another org opens the card", "admin@globex.test", "GET", card, nil, 404, "Candidate not found."},
			{"another org reviews", "admin@globex.test", "POST", card + "/reviews", url.Values{"score": {"4"}}, 404, "Candidate not found."},
			{"another org decides", "admin@globex.test", "POST", card + "/decision", url.Values{"outcome": {"unqualified"}, "reason": {"x"}}, 404, "Candidate not found."},
			{"score out of range", "team@acme.test", "POST", card + "/reviews", url.Values{"score": {"5"}}, 422, "Score must be from 1 to 4."},
			{"no score", "team@acme.test", "POST", card + "/reviews", url.Values{"comment": {"Hmm"}}, 422, "Score must be from 1 to 4."},
			{"unqualified without a reason", "team@acme.test", "POST", card + "/decision", url.Values{"outcome": {"unqualified"}, "reason": {"  "}}, 422, "A reason is required to mark an applicant unqualified."},
			{"no outcome", "team@acme.test", "POST", card + "/decision", url.Values{}, 422, "Choose qualified or unqualified."},
			{"decision while in progress", "team@acme.test", "POST", "/applicants/" + alan.ID + "/decision", url.Values{"outcome": {"unqualified"}, "reason": {"Too slow"}}, 409, "this one is in progress"},
		}
		for _, c := range refusals {
			s, body, _ := browsers[c.who].do(c.method, c.path, c.form, nil)
			if s != c.status || !strings.Contains(body, c.want) {
				t.Fatalf("%s: %d, want %d with %q\n%s", c.name, s, c.status, c.want, body)
			}
		}
		assertUnreviewed := func() {
			t.Helper()
			a, _ := m.Store.FindApplicantByID(ctx, admin.OrgID, ada.ID)
			reviews, _ := m.Store.ListReviews(ctx, admin.OrgID, ada.ID)
			if a.Status != winnow.StatusSubmitted || len(reviews) != 0 {
				t.Fatalf("refusals changed the applicant: %s, %d reviews", a.Status, len(reviews))
			}
		}
		assertUnreviewed()
		if a, _ := m.Store.FindApplicantByID(ctx, admin.OrgID, alan.ID); a.Status != winnow.StatusInProgress {
			t.Fatalf("the applicant in progress became %s", a.Status)
		}

		// The team reviews: a second save replaces the first.
		for _, r := range []struct {
			who   string
			score string
		}{{"team@acme.test", "2"}, {"team@acme.test", "3"}, {"on@acme.test", "4"}} {
			s, _, h := browsers[r.who].post(card+"/reviews", url.Values{"score": {r.score}, "comment": {"Clear thinking from " + r.who}})
			if s != 303 || h.Get("Location") != card+"?done=review#reviews" {
				t.Fatalf("review by %s: %d %s", r.who, s, h.Get("Location"))
			}
		}
		s, body = browsers["team@acme.test"].get(card + "?done=review")
		for _, want := range []string{"Your review is saved.", "3 · Leaning yes", "4 · Strong yes", "3.5 / 4", "Clear thinking from on@acme.test",
			`value="3" checked`} {
			if !strings.Contains(body, want) {
				t.Fatalf("card after reviews lacks %q\n%s", want, body)
			}
		}

		// A limited member on the team decides; the name then shows, and the decision is final.
		s, _, h := browsers["on@acme.test"].post(card+"/decision", url.Values{"outcome": {"qualified"}})
		if s != 303 || h.Get("Location") != card+"?done=qualified" {
			t.Fatalf("decide: %d %s", s, h.Get("Location"))
		}
		a, _ := m.Store.FindApplicantByID(ctx, admin.OrgID, ada.ID)
		if a.Status != winnow.StatusQualified || a.DecidedAt == nil {
			t.Fatalf("after decision: %+v", a)
		}
		s, body = browsers["team@acme.test"].get(card)
		if s != 200 || !strings.Contains(body, "Ada Lovelace") || !strings.Contains(body, "ada@example.com") ||
			has(t, body, fmt.Sprintf("form[action=%q]", card+"/decision")) {
			t.Fatalf("decided card: %d\n%s", s, body)
		}
		if s, body, _ := browsers["admin@acme.test"].post(card+"/decision", url.Values{"outcome": {"unqualified"}, "reason": {"Changed my mind"}}); s != 409 ||
			!strings.Contains(body, "Only submitted applicants wait for a decision; this one is qualified.") {
			t.Fatalf("second decision: %d", s)
		}
		if s, _, _ := browsers["team@acme.test"].post(card+"/reviews", url.Values{"score": {"1"}}); s != 409 {
			t.Fatalf("review after the decision: %d", s)
		}
		events, _ := m.Store.ListEvents(ctx, admin.OrgID, ada.ID)
		var kinds []string
		var trail []*winnow.Event // the status changes and reviews, without email events
		for _, ev := range events {
			if !strings.HasPrefix(string(ev.Kind), "email") {
				kinds = append(kinds, string(ev.Kind))
				trail = append(trail, ev)
			}
		}
		if got := strings.Join(kinds, " "); got != "invited started submitted reviewed reviewed reviewed qualified" {
			t.Fatalf("timeline %q", got)
		}
		if last := trail[len(trail)-1]; last.ActorID != limitedOn.ID || last.From != winnow.StatusSubmitted {
			t.Fatalf("decision event %+v", last)
		}
		if trail[3].Kind != sqlstore.EventReviewed || trail[3].ActorID != team.ID {
			t.Fatalf("review event %+v", trail[3])
		}

		// Unqualified with a reason; an open-review job shows names before the decision.
		open := MustFunnel(t, m, threeStepFunnel(admin.OrgID, true, team.ID))
		bob := MustSubmitted(t, m, open, "Bob Builder", "bob@example.com")
		if s, body := browsers["team@acme.test"].get("/applicants/" + bob.ID); s != 200 || !strings.Contains(body, "Bob Builder") || !strings.Contains(body, "bob@example.com") {
			t.Fatalf("open review card: %d", s)
		}
		if s, _, _ := browsers["admin@acme.test"].post("/applicants/"+bob.ID+"/decision", url.Values{"outcome": {"unqualified"}, "reason": {"Homework missed the brief"}}); s != 303 {
			t.Fatalf("disqualify: %d", s)
		}
		if b, _ := m.Store.FindApplicantByID(ctx, admin.OrgID, bob.ID); b.Status != winnow.StatusUnqualified || b.Reason != "Homework missed the brief" {
			t.Fatalf("after disqualify: %+v", b)
		}

		// The applicants list follows the same blind rule.
		s, body = browsers["member@acme.test"].get("/applicants?status=in_progress")
		if s != 200 || strings.Contains(body, "Alan") || !strings.Contains(body, "Applicant #") {
			t.Fatalf("applicants list: %d\n%s", s, body)
		}
		if s, body := browsers["off@acme.test"].get("/applicants"); s != 200 || strings.Contains(body, "/applicants/"+ada.ID) {
			t.Fatalf("a limited member off the team sees the applicant in the list: %d", s)
		}
	})
}
