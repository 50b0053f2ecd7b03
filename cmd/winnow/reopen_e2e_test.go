package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"winnow"
	"winnow/internal/dbtest"
)

// TestReopenAndOverride takes decisions back through the card's forms: a team member
// may neither reopen nor override; an admin reopens a qualified applicant (back in
// the review queue, on the timeline with the admin's name) and lets a knocked-out
// applicant continue, whose link then leads to the step after the knockout.
func TestReopenAndOverride(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		ctx := context.Background()
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		team := MustUser(t, m, "Acme", "team@acme.test", winnow.RoleMember)
		f := MustFunnel(t, m, threeStepFunnel(admin.OrgID, false, team.ID))
		ada := MustSubmitted(t, m, f, "Ada Lovelace", "ada@example.com")
		// Alan answers the knockout question "no" and is knocked out.
		alan := MustKnockedOut(t, m, f, "Alan Turing", "alan@example.com")
		adminB, teamB := signedIn(t, m, "admin@acme.test"), signedIn(t, m, "team@acme.test")
		adaCard, alanCard := "/applicants/"+ada.ID, "/applicants/"+alan.ID

		// The team decides; the confirmation names the outcome before the final button.
		_, body := teamB.get(adaCard)
		doc := mustDoc(t, body)
		if got := doc.Find(`details.decision-confirm.ok form[action="` + adaCard + `/decision"] button`).Text(); got != "Confirm: qualified" {
			t.Fatalf("qualified confirmation button %q\n%s", got, body)
		}
		if strings.Contains(body, "shown in Lever") {
			t.Fatalf("an applicant not from Lever is told about Lever:\n%s", body)
		}
		if s, _, _ := teamB.post(adaCard+"/decision", url.Values{"outcome": {"qualified"}}); s != 303 {
			t.Fatalf("decide: %d", s)
		}
		_, body = teamB.get(adaCard)
		if has(t, body, `form[action="`+adaCard+`/reopen"]`) {
			t.Fatal("a team member is offered to reopen")
		}
		for _, p := range []string{adaCard + "/reopen", alanCard + "/override-knockout"} {
			if s, _, _ := teamB.post(p, url.Values{}); s != 403 && s != 404 {
				t.Fatalf("team member posts %s: %d", p, s)
			}
		}
		if a, _ := m.Store.FindApplicantByID(ctx, ada.OrgID, ada.ID); a.Status != winnow.StatusQualified {
			t.Fatalf("after the refused reopen: %s", a.Status)
		}

		// The admin reopens: back in review, and the timeline says who did it.
		_, body = adminB.get(adaCard)
		if !has(t, body, `details.decision-confirm form[action="`+adaCard+`/reopen"] button`) {
			t.Fatalf("the admin is not offered to reopen:\n%s", body)
		}
		s, _, h := adminB.post(adaCard+"/reopen", url.Values{})
		_, body = adminB.get(h.Get("Location"))
		if s != 303 || !strings.Contains(body, "Decision reopened: the applicant is in review again.") {
			t.Fatalf("reopen: %d\n%s", s, body)
		}
		doc = mustDoc(t, body)
		if got := doc.Find(".timeline li.ev-reopened").Text(); !strings.Contains(got, "Decision reopened (qualified before)") ||
			!strings.Contains(got, "by "+admin.Email) && !strings.Contains(got, "by "+admin.Name) {
			t.Fatalf("timeline entry %q", got)
		}
		a, err := m.Store.FindApplicantByID(ctx, ada.OrgID, ada.ID)
		if err != nil || a.Status != winnow.StatusSubmitted || a.DecidedAt != nil {
			t.Fatalf("reopened applicant %+v, %v", a, err)
		}
		if s, body, _ := adminB.post(adaCard+"/reopen", url.Values{}); s != 409 || !strings.Contains(body, "Only a decision can be reopened") {
			t.Fatalf("reopen twice: %d\n%s", s, body)
		}
		if _, body := teamB.get("/jobs/" + f.ID + "/review"); !strings.Contains(body, "/applicants/"+ada.ID) {
			t.Fatal("the reopened applicant is not back in the review queue")
		}

		// The knocked-out applicant: reopening is refused, the override lets them continue.
		if s, body, _ := adminB.post(alanCard+"/reopen", url.Values{}); s != 409 || !strings.Contains(body, "override the knockout instead") {
			t.Fatalf("reopen a knockout: %d\n%s", s, body)
		}
		s, _, h = adminB.post(alanCard+"/override-knockout", url.Values{})
		_, body = adminB.get(h.Get("Location"))
		if s != 303 || !strings.Contains(body, "Knockout overridden") {
			t.Fatalf("override: %d\n%s", s, body)
		}
		a, err = m.Store.FindApplicantByID(ctx, alan.OrgID, alan.ID)
		if err != nil || a.Status != winnow.StatusInProgress || a.Reason != "" {
			t.Fatalf("overridden applicant %+v, %v", a, err)
		}
		// Alan hears of it: the invitation goes again (the first, numbered 1, may have
		// been skipped: he was knocked out before its job ran), and reminders are
		// planned anew.
		for again, give := false, time.Now().Add(20*time.Second); !again; time.Sleep(50 * time.Millisecond) {
			for _, e := range waitEmails(t, m, alan, winnow.EmailOutbox, 1) {
				again = again || (e.Kind == winnow.EmailInvitation && e.Seq > 1)
			}
			if !again && time.Now().After(give) {
				t.Fatal("no invitation went to the candidate again after the override")
			}
		}
		if planned := waitEmails(t, m, alan, winnow.EmailScheduled, 1); planned[0].Kind != winnow.EmailReminder || !planned[0].DueAt.After(m.Clock.Now()) {
			t.Fatalf("after the override, planned %s due %s; want reminders ahead", planned[0].Kind, planned[0].DueAt)
		}
		cand := newBrowser(t, m)
		s, body, h = cand.do("GET", winnow.CandidatePath(alan.Token), nil, nil)
		if s != 303 || !strings.HasSuffix(h.Get("Location"), "/steps/s_hw") {
			t.Fatalf("the candidate's link after the override: %d\n%s", s, body)
		}
		// Alan finishes the other steps and submits: the overridden knockout is not
		// judged again at submission; the job team decides.
		done := m.Clock.Now()
		for _, ans := range []*winnow.StepAnswer{
			{OrgID: alan.OrgID, ApplicantID: alan.ID, StepID: "s_hw", Text: "A ring buffer.", CompletedAt: &done},
			{OrgID: alan.OrgID, ApplicantID: alan.ID, StepID: "s_video", CompletedAt: &done},
		} {
			if _, err := m.Store.SaveStepAnswer(ctx, ans); err != nil {
				t.Fatal(err)
			}
		}
		if s, body, _ := cand.do("POST", winnow.CandidatePath(alan.Token)+"/submit", url.Values{}, nil); s != 303 {
			t.Fatalf("submit after the override: %d\n%s", s, body)
		}
		a, err = m.Store.FindApplicantByID(ctx, alan.OrgID, alan.ID)
		if err != nil || a.Status != winnow.StatusSubmitted {
			t.Fatalf("overridden applicant after submitting: %+v, %v", a, err)
		}
	})
}
