package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"winnow/internal/dbtest"

	"winnow"
)

// TestTextThatCannotBeStored sends text PostgreSQL cannot store (a NUL byte, bytes that
// are not UTF-8) through every kind of input (recruiter forms, candidate forms, JSON
// bodies, IDs in paths) on both engines: each is refused with a status a person or a
// program understands, never a 500, and nothing is stored.
func TestTextThatCannotBeStored(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		ctx := context.Background()
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		tok, _ := MustAPIToken(t, m, admin.OrgID, admin.ID)
		api := newAPIClient(t, m, tok)
		rec := signedIn(t, m, "admin@acme.test")
		anon := newBrowser(t, m)

		job := mustOpenFunnel(t, m, admin, "Backend Engineer")
		sub := MustSubmitted(t, m, MustFunnel(t, m, threeStepFunnel(admin.OrgID, false, admin.ID)), "Grace Hopper", "grace@example.com")
		started := func(f *winnow.Funnel) *winnow.Applicant {
			t.Helper()
			a := MustInvited(t, m, f, "Ada Lovelace", "ada@example.com")
			a, err := m.Store.TransitionApplicant(ctx, a.OrgID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) { return x.Start(m.Clock.Now()) })
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		questions := started(MustFunnel(t, m, threeStepFunnel(admin.OrgID, false)))
		homework := started(MustFunnel(t, m, &winnow.Funnel{OrgID: admin.OrgID, Title: "Writer", Status: winnow.FunnelOpen, Steps: []winnow.Step{
			{ID: "s_hw", Kind: winnow.StepHomework, Homework: &winnow.Homework{Instructions: "Write.", AcceptText: true}}}}))
		before := storedCounts(t, m, admin.OrgID, sub.Applicant, questions, homework)

		const nul, notUTF8 = "a\x00b", "a\xffb"
		field := func(name string) string {
			return "The field &#34;" + name + "&#34; contains a character that can&#39;t be saved"
		}
		forms := []struct {
			name   string
			b      *browser
			path   string
			form   url.Values
			status int
			want   string
		}{
			{"job title with NUL", rec, "/jobs", url.Values{"title": {nul}, "status": {"draft"}}, 422, field("title")},
			{"job title not UTF-8", rec, "/jobs", url.Values{"title": {notUTF8}, "status": {"draft"}}, 422, field("title")},
			{"job description", rec, "/jobs/" + job.ID + "/details", url.Values{"title": {"X"}, "description": {nul}, "status": {"open"}}, 422, field("description")},
			{"candidate name", rec, "/jobs/" + job.ID + "/applicants", url.Values{"name": {nul}, "email": {"x@example.com"}}, 422, field("name")},
			{"token name", rec, "/settings/tokens", url.Values{"name": {notUTF8}}, 422, field("name")},
			{"template subject", rec, "/settings/emails/invitation", url.Values{"subject": {nul}, "body": {"Hi"}, "enabled": {"on"}}, 422, field("subject")},
			{"review comment", rec, "/applicants/" + sub.ID + "/reviews", url.Values{"score": {"3"}, "comment": {notUTF8}}, 422, field("comment")},
			{"decision reason", rec, "/applicants/" + sub.ID + "/decision", url.Values{"outcome": {"unqualified"}, "reason": {nul}}, 422, field("reason")},
			{"sign-in email", anon, "/login", url.Values{"email": {"admin\x00@acme.test"}, "password": {"x"}}, 422, field("email")},
			{"step answer with NUL", anon, "/c/" + questions.Token + "/steps/s_q", url.Values{"a-q_permit": {"yes"}, "a-q_why": {nul}}, 422, "Your answer to &#34;Why this job?&#34; contains a character that can&#39;t be saved"},
			{"step answer not UTF-8", anon, "/c/" + questions.Token + "/steps/s_q", url.Values{"a-q_permit": {"yes"}, "a-q_why": {notUTF8}}, 422, "Your answer to &#34;Why this job?&#34; contains a character that can&#39;t be saved"},
			{"homework text", anon, "/c/" + homework.Token + "/steps/s_hw", url.Values{"text": {nul}}, 422, "Your answer contains a character that can&#39;t be saved"},
			{"new link email", anon, "/c/new-link", url.Values{"email": {"ada\x00@example.com"}}, 422, field("email")},
		}
		for _, c := range forms {
			s, body, _ := c.b.post(c.path, c.form)
			if s != c.status || !strings.Contains(body, c.want) {
				t.Errorf("%s: %d, want %d naming %q\n%s", c.name, s, c.status, c.want, body)
			}
		}
		if s, body, _ := postMultipart(t, anon, "/c/"+homework.Token+"/steps/s_hw", map[string]string{"text": notUTF8}); s != 422 {
			t.Errorf("homework text in a multipart form: %d, want 422\n%s", s, body)
		}

		bodies := []struct {
			name, method, path, body string
			status                   int
			want                     string
		}{
			{"job title", "POST", "/api/v1/jobs", `{"title": "a\u0000b"}`, 422, `\"title\"`},
			{"question text", "POST", "/api/v1/jobs", `{"title": "X", "steps": [{"kind": "questions", "questions": [{"text": "\u0000", "type": "yes_no"}]}]}`, 422, `\"steps[0].questions[0].text\"`},
			{"job description", "PUT", "/api/v1/jobs/" + job.ID, `{"title": "X", "description": "\u0000"}`, 422, `\"description\"`},
			{"body not UTF-8", "POST", "/api/v1/jobs", "{\"title\": \"a\xffb\"}", 400, "UTF-8"},
			{"applicant name", "POST", "/api/v1/jobs/" + job.ID + "/applicants", `{"name": "\u0000", "email": "x@example.com"}`, 422, `\"name\"`},
			{"review comment", "POST", "/api/v1/applicants/" + sub.ID + "/reviews", `{"score": 3, "comment": "\u0000"}`, 422, `\"comment\"`},
			{"decision reason", "POST", "/api/v1/applicants/" + sub.ID + "/decision", `{"outcome": "unqualified", "reason": "\u0000"}`, 422, `\"reason\"`},
		}
		for _, c := range bodies {
			if s, raw, _ := api.call(c.method, c.path, c.body, nil); s != c.status || !strings.Contains(raw, c.want) {
				t.Errorf("API %s: %d %s, want %d naming %s", c.name, s, raw, c.status, c.want)
			}
		}

		// A malformed ID names nothing: "not found", as an unknown one.
		paths := []struct {
			b            *browser
			method, path string
		}{
			{rec, "GET", "/jobs/%00"}, {rec, "GET", "/jobs/%FF"}, {rec, "GET", "/jobs/%FF/edit"}, {rec, "GET", "/jobs/%00/review"},
			{rec, "POST", "/jobs/%00/steps/%FF"}, {rec, "GET", "/jobs/%00/emails"}, {rec, "GET", "/settings/emails/%00"},
			{rec, "GET", "/applicants/%00"}, {rec, "GET", "/applicants/%FF"}, {rec, "POST", "/applicants/%FF/resend"},
			{rec, "GET", "/uploads/%00"}, {rec, "GET", "/settings/mail/%FF"}, {rec, "POST", "/settings/tokens/%00/revoke"},
			{anon, "GET", "/c/%00"}, {anon, "GET", "/c/%FF"}, {anon, "GET", "/c/%FF/steps/s_q"}, {anon, "POST", "/c/%00/start"},
			{anon, "GET", "/c/" + questions.Token + "/steps/%00"}, {anon, "GET", "/invite/%FF"},
		}
		for _, p := range paths {
			if s, body, _ := p.b.do(p.method, p.path, url.Values{}, nil); s != http.StatusNotFound {
				t.Errorf("%s %s: %d, want 404\n%s", p.method, p.path, s, body)
			}
		}
		for _, p := range []struct{ method, path string }{
			{"GET", "/api/v1/jobs/%00"}, {"GET", "/api/v1/jobs/%FF/applicants"}, {"PUT", "/api/v1/jobs/%00"},
			{"GET", "/api/v1/applicants/%FF"}, {"POST", "/api/v1/applicants/%00/decision"}, {"GET", "/api/v1/uploads/%FF"},
		} {
			body := ""
			if p.method != "GET" {
				body = `{"title": "X", "outcome": "qualified"}`
			}
			if s, raw, v := api.call(p.method, p.path, body, nil); s != http.StatusNotFound || get(v, "error", "code") != "not_found" {
				t.Errorf("API %s %s: %d %s, want 404", p.method, p.path, s, raw)
			}
		}
		for _, p := range []string{"/api/v1/jobs?status=%00", "/api/v1/jobs/" + job.ID + "/applicants?status=%FF"} {
			if s, raw, _ := api.call("GET", p, "", nil); s != 422 {
				t.Errorf("API GET %s: %d %s, want 422", p, s, raw)
			}
		}

		if after := storedCounts(t, m, admin.OrgID, sub.Applicant, questions, homework); after != before {
			t.Fatalf("refused requests stored something: %+v, before %+v", after, before)
		}
	})
}

// counts is what the refused requests of TestTextThatCannotBeStored must leave as it was.
type counts struct {
	jobs, tokens, reviews, answers int
	decided                        winnow.ApplicantStatus
}

func storedCounts(t *testing.T, m *Main, orgID string, sub *winnow.Applicant, candidates ...*winnow.Applicant) counts {
	t.Helper()
	ctx := context.Background()
	var c counts
	jobs, err := m.Store.ListFunnels(ctx, orgID, winnow.FunnelFilter{})
	if err != nil {
		t.Fatal(err)
	}
	c.jobs = len(jobs)
	for _, j := range jobs {
		apps, err := m.Store.ListApplicants(ctx, orgID, winnow.ApplicantFilter{FunnelID: j.ID})
		if err != nil {
			t.Fatal(err)
		}
		c.jobs += 100 * len(apps)
	}
	tokens, err := m.Store.ListAPITokens(ctx, orgID)
	if err != nil {
		t.Fatal(err)
	}
	c.tokens = len(tokens)
	reviews, err := m.Store.ListReviews(ctx, orgID, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	c.reviews = len(reviews)
	for _, a := range candidates {
		answers, err := m.Store.ListStepAnswers(ctx, orgID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		c.answers += len(answers)
	}
	got, err := m.Store.FindApplicantByID(ctx, orgID, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	c.decided = got.Status
	return c
}
