package main

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"winnow/internal/dbtest"

	"winnow"
)

// TestDuplicateJob checks "Duplicate job": the copy is a draft titled "Copy of …" with
// the steps, team, review mode and the job's own emails, without applicants or the
// Lever posting, and the editor of the copy is where it lands.
func TestDuplicateJob(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		ctx := context.Background()
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		other := MustUser(t, m, "Acme", "member@acme.test", winnow.RoleMember)
		f := &winnow.Funnel{OrgID: admin.OrgID, Title: "Field Engineer", Description: "Fix things.", Status: winnow.FunnelOpen,
			OpenReview: true, Team: []string{admin.ID}, LeverPostingID: "posting-1", Steps: []winnow.Step{
				{Kind: winnow.StepQuestions, Title: "Basics", Questions: []winnow.Question{{Text: "Can you work in the US?", Type: winnow.QuestionYesNo,
					Knockout: &winnow.Knockout{Answer: "yes", Reason: "Requires work authorization in the US"}}}},
				{Kind: winnow.StepVideo, Video: &winnow.Video{Prompts: []string{"Introduce yourself"}, MaxSeconds: 60}},
			}}
		if err := m.Store.CreateFunnel(ctx, f); err != nil {
			t.Fatal(err)
		}
		mustInvite(t, m, f, "Ada Lovelace", "ada@example.com")
		own := winnow.DefaultTemplate(admin.OrgID, winnow.EmailInvitation)
		own.FunnelID, own.Subject = f.ID, "Field work at {{.Company}}"
		if err := m.Store.SaveTemplate(ctx, own); err != nil {
			t.Fatal(err)
		}

		b := signedIn(t, m, "member@acme.test") // not on the team, but members see every job
		s, _, h := b.post("/jobs/"+f.ID+"/duplicate", nil)
		loc := h.Get("Location")
		if s != http.StatusSeeOther || !strings.HasSuffix(loc, "/edit?saved=copy") {
			t.Fatalf("duplicate: %d %s", s, loc)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(loc, "/jobs/"), "/edit?saved=copy")
		cp, err := m.Store.FindFunnelByID(ctx, admin.OrgID, id)
		if err != nil {
			t.Fatal(err)
		}
		if cp.ID == f.ID || cp.Title != "Copy of Field Engineer" || cp.Status != winnow.FunnelDraft || cp.Description != f.Description ||
			!cp.OpenReview || cp.LeverPostingID != "" || !cp.OnTeam(admin.ID) || !cp.OnTeam(other.ID) {
			t.Fatalf("copy = %+v", cp)
		}
		if !reflect.DeepEqual(cp.Steps, f.Steps) {
			t.Fatalf("copied steps = %+v, want %+v", cp.Steps, f.Steps)
		}
		apps, err := m.Store.ListApplicantPage(ctx, admin.OrgID, winnow.ApplicantQuery{ApplicantFilter: winnow.ApplicantFilter{FunnelID: cp.ID}, Limit: 10})
		if err != nil || len(apps.Applicants) != 0 {
			t.Fatalf("the copy has applicants: %+v, %v", apps, err)
		}
		tpl, err := m.Store.FindTemplate(ctx, admin.OrgID, cp.ID, winnow.EmailInvitation)
		if err != nil || tpl.Source != winnow.SourceFunnel || tpl.Subject != own.Subject {
			t.Fatalf("the copy's invitation = %+v, %v; want the job's own", tpl, err)
		}
		s, body := b.get(loc)
		if s != 200 || !strings.Contains(body, "This is a new draft copy") || !has(t, body, `input#title[value="Copy of Field Engineer"]`) {
			t.Fatalf("copy's editor: %d\n%s", s, body)
		}
		// The editor's script, and choice boxes tall enough to read.
		if !has(t, body, `script[src="/static/editor.js"]`) || !has(t, body, `form[data-autosave="Details"]`) || !has(t, body, `textarea[name="new_choices"][rows="6"]`) {
			t.Fatalf("editor page lacks its script or its tall choice boxes:\n%s", body)
		}

		// Someone who cannot see a job cannot copy it.
		limited := MustUser(t, m, "Acme", "limited@acme.test", winnow.RoleLimited)
		_ = limited
		if s, _, _ := signedIn(t, m, "limited@acme.test").post("/jobs/"+f.ID+"/duplicate", nil); s != http.StatusForbidden {
			t.Fatalf("a limited member off the team copied the job: %d", s)
		}
	})
}

// TestReplyToSetting checks Settings → Emails: an admin sets the address candidates may
// write to, a bad one comes back with the error, and the page explains Scheduled.
func TestReplyToSetting(t *testing.T) {
	t.Parallel()
	m := MustStart(t, testEnv(t, dbtest.SQLite.URL(t)))
	ctx := context.Background()
	admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
	f := &winnow.Funnel{OrgID: admin.OrgID, Title: "Field Engineer", Status: winnow.FunnelOpen, Team: []string{admin.ID}, Steps: []winnow.Step{
		{Kind: winnow.StepQuestions, Questions: []winnow.Question{{Text: "Ready?", Type: winnow.QuestionYesNo}}}}}
	if err := m.Store.CreateFunnel(ctx, f); err != nil {
		t.Fatal(err)
	}
	ada := mustInvite(t, m, f, "Ada Lovelace", "ada@example.com") // its reminders are scheduled
	b := signedIn(t, m, "admin@acme.test")
	// The invitation's deadline is written for the viewer's zone, UTC until the script runs.
	if s, body := b.get("/applicants/" + ada.ID); s != 200 || !strings.Contains(body, `<time datetime="`+ada.Deadline.UTC().Format(time.RFC3339)+`" data-local-time>`+winnow.FormatDeadline(ada.Deadline)+`</time>`) {
		t.Fatalf("applicant card's deadline: %d\n%s", s, body)
	}
	s, body := b.get("/settings/emails")
	if s != 200 || !has(t, body, `form[action="/settings/emails/reply-to"] input[name="reply_to"][value=""]`) ||
		!strings.Contains(body, "<strong>Scheduled</strong> emails are reminders waiting for their day") {
		t.Fatalf("Settings → Emails: %d\n%s", s, body)
	}
	s, body, _ = b.post("/settings/emails/reply-to", url.Values{"reply_to": {"jobs at acme"}})
	if s != http.StatusUnprocessableEntity || !strings.Contains(body, "is not a valid email address") || !has(t, body, `input[name="reply_to"][value="jobs at acme"]`) {
		t.Fatalf("bad reply-to: %d\n%s", s, body)
	}
	if o, _ := m.Store.FindOrgByID(ctx, admin.OrgID); o.ReplyTo != "" {
		t.Fatalf("a refused address was stored: %q", o.ReplyTo)
	}
	s, _, h := b.post("/settings/emails/reply-to", url.Values{"reply_to": {" Jobs@Acme.test "}})
	if s != http.StatusSeeOther || h.Get("Location") != "/settings/emails?saved=reply-to#replies" {
		t.Fatalf("save reply-to: %d %s", s, h.Get("Location"))
	}
	if s, body = b.get("/settings/emails?saved=reply-to"); !has(t, body, `input[name="reply_to"][value="jobs@acme.test"]`) || !has(t, body, `#replies .saved`) {
		t.Fatalf("after saving: %d\n%s", s, body)
	}
	member := MustUser(t, m, "Acme", "member@acme.test", winnow.RoleMember)
	_ = member
	if s, _, _ := signedIn(t, m, "member@acme.test").post("/settings/emails/reply-to", url.Values{"reply_to": {"x@y.test"}}); s != http.StatusForbidden && s != http.StatusNotFound {
		t.Fatalf("a member changed the reply-to: %d", s)
	}
}

// TestNotReached checks the applicant card of an application that ended at a
// knockout: steps never reached say so, rather than "Not answered yet".
func TestNotReached(t *testing.T) {
	t.Parallel()
	m := MustStart(t, testEnv(t, dbtest.SQLite.URL(t)))
	ctx := context.Background()
	admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
	f := MustFunnel(t, m, &winnow.Funnel{OrgID: admin.OrgID, Title: "Field Engineer", Status: winnow.FunnelOpen, Team: []string{admin.ID}, Steps: []winnow.Step{
		{Kind: winnow.StepQuestions, Questions: []winnow.Question{{Text: "Ready?", Type: winnow.QuestionYesNo}}},
		{Kind: winnow.StepHomework, Homework: &winnow.Homework{Instructions: "Write.", AcceptText: true}}}})
	open := mustInvite(t, m, f, "Ada Lovelace", "ada@example.com")
	ended := mustInvite(t, m, f, "Bob Stone", "bob@example.com")
	for _, fn := range []func(*winnow.Applicant) (winnow.Event, error){
		func(a *winnow.Applicant) (winnow.Event, error) { return a.Start(time.Now()) },
		func(a *winnow.Applicant) (winnow.Event, error) { return a.Disqualify(time.Now(), "Not ready", "") },
	} {
		if _, err := m.Store.TransitionApplicant(ctx, ended.OrgID, ended.ID, fn); err != nil {
			t.Fatal(err)
		}
	}
	b := signedIn(t, m, "admin@acme.test")
	if s, body := b.get("/applicants/" + ended.ID); s != 200 || strings.Count(body, "Not reached.") != 2 || strings.Contains(body, "Not answered yet") {
		t.Fatalf("ended applicant's card: %d\n%s", s, body)
	}
	if s, body := b.get("/applicants/" + open.ID); s != 200 || strings.Count(body, "Not answered yet.") != 2 || strings.Contains(body, "Not reached") {
		t.Fatalf("open applicant's card: %d\n%s", s, body)
	}
}
