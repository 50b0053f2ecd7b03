package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"winnow/internal/dbtest"

	"winnow"
)

// minimalFunnel is the smallest job body the API must take.
const minimalFunnel = `{"title": "Support Engineer", "status": "open", "steps": [{"kind": "questions", "questions": [{"text": "Can you work in the US?", "type": "yes_no", "knockout": {"answer": "yes", "reason": "Requires work authorization in the US"}}]}]}`

// TestAPI drives every /api/v1 endpoint with an org token: jobs with all three step
// kinds, invitations, an applicant with answers and timeline, reviews and decisions,
// and the ways a request can be refused.
func TestAPI(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		ctx := context.Background()
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		team := MustUser(t, m, "Acme", "team@acme.test", winnow.RoleLimited)
		MustUser(t, m, "Acme", "member@acme.test", winnow.RoleMember)
		other := MustUser(t, m, "Globex", "admin@globex.test", winnow.RoleAdmin)
		tok, _ := MustAPIToken(t, m, admin.OrgID, admin.ID)
		cliTok, _ := MustAPIToken(t, m, admin.OrgID, "")
		otherTok, _ := MustAPIToken(t, m, other.OrgID, other.ID)
		c, cli, globex := newAPIClient(t, m, tok), newAPIClient(t, m, cliTok), newAPIClient(t, m, otherTok)

		// The minimal job body works.
		s, raw, job := c.call("POST", "/api/v1/jobs", minimalFunnel, nil)
		if s != 201 || get(job, "status") != "open" || get(job, "openReview") != false ||
			get(job, "steps", 0, "questions", 0, "knockout", "reason") != "Requires work authorization in the US" {
			t.Fatalf("create minimal job: %d %s", s, raw)
		}
		id, _ := get(job, "id").(string)
		stepID, _ := get(job, "steps", 0, "id").(string)
		if id == "" || stepID == "" || get(job, "steps", 0, "questions", 0, "id") == "" {
			t.Fatalf("created job has no IDs: %s", raw)
		}
		if s, raw, got := c.call("GET", "/api/v1/jobs/"+id, "", nil); s != 200 || get(got, "title") != "Support Engineer" {
			t.Fatalf("get job: %d %s", s, raw)
		}

		// PUT replaces everything: three step kinds, a team by email, open review.
		full := `{"title": "Support Engineer II", "description": "Nights.", "status": "open", "openReview": true,
			"team": ["Team@Acme.test"],
			"steps": [
				{"id": "` + stepID + `", "kind": "questions", "title": "Basics", "questions": [
					{"text": "Can you work in the US?", "type": "yes_no", "required": true, "knockout": {"answer": "yes", "reason": "Requires work authorization in the US"}},
					{"text": "Shift?", "type": "single_choice", "choices": ["Day", "Night"], "knockout": {"allowed": ["Night"], "reason": "Night shift only"}},
					{"text": "Years?", "type": "number", "knockout": {"min": 1, "reason": "Needs a year"}}]},
				{"kind": "homework", "homework": {"instructions": "Answer this ticket.", "acceptText": true, "acceptFile": true, "maxFileBytes": 1048576, "fileTypes": [".pdf"]}},
				{"kind": "video", "video": {"prompts": ["Say hi", "Why support?"], "maxSeconds": 120}}]}`
		s, raw, job = c.call("PUT", "/api/v1/jobs/"+id, full, nil)
		if s != 200 || get(job, "title") != "Support Engineer II" || get(job, "openReview") != true ||
			get(job, "team", 0) != "team@acme.test" || get(job, "steps", 0, "id") != stepID ||
			get(job, "steps", 1, "homework", "maxFileBytes") != float64(1<<20) || get(job, "steps", 2, "video", "prompts", 1) != "Why support?" {
			t.Fatalf("put job: %d %s", s, raw)
		}
		f, err := m.Store.FindFunnelByID(ctx, admin.OrgID, id)
		if err != nil || len(f.Steps) != 3 || !f.OnTeam(team.ID) || !f.OpenReview || f.Steps[0].Questions[2].Knockout.Min == nil {
			t.Fatalf("stored job %+v, %v", f, err)
		}
		// A job read back can be written back as it is.
		_, readBack, _ := c.call("GET", "/api/v1/jobs/"+id, "", nil)
		if s, raw, _ := c.call("PUT", "/api/v1/jobs/"+id, readBack, nil); s != 200 {
			t.Fatalf("round trip: %d %s", s, raw)
		}
		if s, raw, list := c.call("GET", "/api/v1/jobs?status=open", "", nil); s != 200 || get(list, "jobs", 0, "id") != id {
			t.Fatalf("list jobs: %d %s", s, raw)
		}
		if s, _, list := c.call("GET", "/api/v1/jobs?status=draft", "", nil); s != 200 || len(get(list, "jobs").([]any)) != 0 {
			t.Fatalf("list draft jobs: %d", s)
		}

		// Bodies are read strictly; each refusal names what is wrong and stores nothing.
		bad := []struct {
			name, method, path, body string
			header                   map[string]string
			status                   int
			code, want               string
		}{
			{"unknown field", "POST", "/api/v1/jobs", `{"title": "X", "colour": "red"}`, nil, 400, "bad_request", `Unknown field \"colour\"`},
			{"unknown nested field", "POST", "/api/v1/jobs", `{"title": "X", "steps": [{"kind": "video", "video": {"prompts": ["a"], "fps": 30}}]}`, nil, 400, "bad_request", `Unknown field \"fps\"`},
			{"wrong type", "POST", "/api/v1/jobs", `{"title": "X", "steps": [{"kind": "questions", "questions": [{"text": 7}]}]}`, nil, 400, "bad_request", `Field \"steps.questions.text\" must be a string`},
			{"not JSON", "POST", "/api/v1/jobs", `{"title": `, nil, 400, "bad_request", "not valid JSON"},
			{"two values", "POST", "/api/v1/jobs", `{"title": "X"} {"title": "Y"}`, nil, 400, "bad_request", "exactly one JSON object"},
			{"empty body", "POST", "/api/v1/jobs", ``, map[string]string{"Content-Type": "application/json"}, 400, "bad_request", "empty"},
			{"an array", "POST", "/api/v1/jobs", `[1]`, nil, 400, "bad_request", "must be a JSON object"},
			{"form content type", "POST", "/api/v1/jobs", `{"title": "X"}`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", "Content-Type: application/json"},
			{"too large", "POST", "/api/v1/jobs", `{"title": "` + strings.Repeat("x", 1<<20) + `"}`, nil, 413, "too_large", "at most 1024 KB"},
			{"no title", "POST", "/api/v1/jobs", `{"status": "open"}`, nil, 422, "invalid", "Job title is required."},
			{"bad status", "POST", "/api/v1/jobs", `{"title": "X", "status": "paused"}`, nil, 422, "invalid", "Unknown job status"},
			{"bad step", "POST", "/api/v1/jobs", `{"title": "X", "steps": [{"kind": "homework", "homework": {"instructions": "x"}}]}`, nil, 422, "invalid", "Step 1: Homework must accept"},
			{"duplicate step IDs", "POST", "/api/v1/jobs", `{"title": "X", "steps": [{"id": "s1", "kind": "video", "video": {"prompts": ["a"]}}, {"id": "s1", "kind": "video", "video": {"prompts": ["b"]}}]}`, nil, 422, "invalid", `Step 2: The step ID \"s1\" is already used by step 1.`},
			{"duplicate question IDs", "POST", "/api/v1/jobs", `{"title": "X", "steps": [{"kind": "questions", "questions": [{"id": "q", "text": "A?", "type": "yes_no"}, {"id": "q", "text": "B?", "type": "yes_no"}]}]}`, nil, 422, "invalid", `Step 1, question 2: The question ID \"q\" is already used by question 1.`},
			{"step ID with a slash", "POST", "/api/v1/jobs", `{"title": "X", "steps": [{"id": "a/b", "kind": "video", "video": {"prompts": ["a"]}}]}`, nil, 422, "invalid", `Step 1: The step ID \"a/b\" must be 1 to 64 characters`},
			{"question ID of 100,000 characters", "POST", "/api/v1/jobs", `{"title": "X", "steps": [{"kind": "questions", "questions": [{"id": "` + strings.Repeat("q", 100000) + `", "text": "A?", "type": "yes_no"}]}]}`, nil, 422, "invalid", "Step 1, question 1: The question ID"},
			{"open without steps", "POST", "/api/v1/jobs", `{"title": "X", "status": "open"}`, nil, 422, "invalid", "An open job needs at least one step"},
			{"file size near 2^63", "POST", "/api/v1/jobs", `{"title": "X", "steps": [{"kind": "homework", "homework": {"instructions": "x", "acceptFile": true, "maxFileBytes": 9223372036854775807}}]}`, nil, 422, "invalid", "Step 1: Homework file size limit must be at most 2048 MB."},
			{"too many questions", "POST", "/api/v1/jobs", `{"title": "X", "steps": [{"kind": "questions", "questions": [` + strings.Repeat(`{"text": "A?", "type": "yes_no"},`, winnow.MaxQuestionsPerStep) + `{"text": "A?", "type": "yes_no"}]}]}`, nil, 422, "invalid", "Step 1: A questions step may have at most 50 questions"},
			{"field of another kind", "POST", "/api/v1/jobs", `{"title": "X", "steps": [{"kind": "video", "homework": {"instructions": "x", "acceptText": true}}]}`, nil, 422, "invalid", "takes only the field"},
			{"unknown team member", "POST", "/api/v1/jobs", `{"title": "X", "team": ["admin@globex.test"]}`, nil, 422, "invalid", "is not a user of this organization"},
			{"put with another id", "PUT", "/api/v1/jobs/" + id, `{"id": "other", "title": "X"}`, nil, 422, "invalid", "is not the id in the URL"},
			{"unknown job", "GET", "/api/v1/jobs/nope", "", nil, 404, "not_found", "Job not found."},
			{"unknown endpoint", "GET", "/api/v1/jobs/" + id + "/everything", "", nil, 404, "not_found", "openapi.json"},
			{"bad status filter", "GET", "/api/v1/jobs?status=paused", "", nil, 422, "invalid", "Unknown job status"},
		}
		for _, b := range bad {
			s, raw, v := c.call(b.method, b.path, b.body, b.header)
			if s != b.status || get(v, "error", "code") != b.code || !strings.Contains(raw, b.want) {
				t.Fatalf("%s: %d %s; want %d %s with %q", b.name, s, raw, b.status, b.code, b.want)
			}
		}
		if jobs, _ := m.Store.ListFunnels(ctx, admin.OrgID, winnow.FunnelFilter{}); len(jobs) != 1 {
			t.Fatalf("refused requests stored %d jobs", len(jobs)-1)
		}

		// Invitations.
		s, raw, app := c.call("POST", "/api/v1/jobs/"+id+"/applicants", `{"name": "Ada Lovelace", "email": "Ada@Example.com"}`, nil)
		link, _ := get(app, "link").(string)
		if s != 201 || get(app, "status") != "invited" || get(app, "email") != "ada@example.com" || !strings.HasPrefix(link, m.Config.BaseURL+"/c/") {
			t.Fatalf("invite: %d %s", s, raw)
		}
		appID := get(app, "id").(string)
		for _, b := range []struct {
			name, body string
			status     int
			want       string
		}{
			{"same email again", `{"name": "Ada", "email": "ada@example.com"}`, 409, "already invited"},
			{"no name", `{"name": "", "email": "x@example.com"}`, 422, "Candidate name is required."},
			{"bad email", `{"name": "X", "email": "x"}`, 422, "not a valid email address"},
			{"extra field", `{"name": "X", "email": "x@example.com", "phone": "1"}`, 400, `Unknown field \"phone\"`},
		} {
			if s, raw, _ := c.call("POST", "/api/v1/jobs/"+id+"/applicants", b.body, nil); s != b.status || !strings.Contains(raw, b.want) {
				t.Fatalf("invite %s: %d %s", b.name, s, raw)
			}
		}
		s, raw, list := c.call("GET", "/api/v1/jobs/"+id+"/applicants", "", nil)
		if s != 200 || len(get(list, "applicants").([]any)) != 1 || get(list, "applicants", 0, "link") != nil {
			t.Fatalf("list applicants: %d %s", s, raw)
		}
		// The job's counts use camelCase keys, as every other field does.
		if s, raw, job := c.call("GET", "/api/v1/jobs/"+id, "", nil); s != 200 || get(job, "applicants", "invited") != 1.0 ||
			get(job, "applicants", "inProgress") != 0.0 || get(job, "applicants", "in_progress") != nil {
			t.Fatalf("job counts: %d %s", s, raw)
		}

		// Reading one applicant: the invited steps, and the timeline.
		s, raw, detail := c.call("GET", "/api/v1/applicants/"+appID, "", nil)
		if s != 200 || get(detail, "steps", 2, "kind") != "video" || get(detail, "timeline", 0, "kind") != "invited" ||
			get(detail, "steps", 0, "questions", 0, "answer") == nil || len(get(detail, "reviews").([]any)) != 0 {
			t.Fatalf("get applicant: %d %s", s, raw)
		}

		// Decisions and reviews wait for the submission.
		if s, raw, _ := c.call("POST", "/api/v1/applicants/"+appID+"/decision", `{"outcome": "qualified"}`, nil); s != 409 {
			t.Fatalf("decide before submission: %d %s", s, raw)
		}
		if s, raw, _ := c.call("POST", "/api/v1/applicants/"+appID+"/reviews", `{"score": 3}`, nil); s != 409 {
			t.Fatalf("review before submission: %d %s", s, raw)
		}
		f, _ = m.Store.FindFunnelByID(ctx, admin.OrgID, id)
		sub := MustSubmitted(t, m, threeStepCopy(t, m, f), "Grace Hopper", "grace@example.com")

		s, raw, detail = c.call("GET", "/api/v1/applicants/"+sub.ID, "", nil)
		if s != 200 || get(detail, "status") != "submitted" || get(detail, "steps", 0, "questions", 0, "answer", 0) != "yes" ||
			get(detail, "steps", 1, "homework", "text") != "My queue uses two stacks." ||
			get(detail, "steps", 1, "homework", "file", "url") != m.Config.BaseURL+"/api/v1/uploads/"+sub.homework.ID ||
			get(detail, "steps", 2, "video", 0, "file", "contentType") != "video/webm" ||
			get(detail, "name") != "Grace Hopper" {
			t.Fatalf("submitted applicant: %d %s", s, raw)
		}

		// The file URL works with the token alone, and only for this org.
		for _, dl := range []struct {
			name, token string
			status      int
		}{{"own token", tok, 200}, {"other org's token", otherTok, 404}, {"no token", "", 401}} {
			req, _ := http.NewRequest("GET", get(detail, "steps", 1, "homework", "file", "url").(string), nil)
			if dl.token != "" {
				req.Header.Set("Authorization", "Bearer "+dl.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != dl.status {
				t.Fatalf("download with %s: %d\n%s", dl.name, resp.StatusCode, body)
			}
			if dl.status == 200 && (!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || len(body) != int(sub.homework.Size)) {
				t.Fatalf("download: %q, %d bytes, want %d", resp.Header.Get("Content-Disposition"), len(body), sub.homework.Size)
			}
		}

		reviews := []struct {
			name   string
			client *apiClient
			body   string
			status int
			want   string
		}{
			{"by the token's admin", c, `{"score": 4, "comment": "Great"}`, 200, `"reviewerEmail":"admin@acme.test"`},
			{"for a team member", cli, `{"score": 3, "reviewerEmail": "team@acme.test"}`, 200, `"label":"Leaning yes"`},
			{"for a member off the team", c, `{"score": 3, "reviewerEmail": "member@acme.test"}`, 403, "neither an admin nor on the team"},
			{"command token without reviewer", cli, `{"score": 3}`, 422, "reviewerEmail"},
			{"reviewer of another org", c, `{"score": 3, "reviewerEmail": "admin@globex.test"}`, 422, "is not a user of this organization"},
			{"score out of range", c, `{"score": 0}`, 422, "Score must be from 1 to 4."},
			{"score as text", c, `{"score": "4"}`, 400, `Field \"score\" must be a number`},
		}
		for _, r := range reviews {
			if s, raw, _ := r.client.call("POST", "/api/v1/applicants/"+sub.ID+"/reviews", r.body, nil); s != r.status || !strings.Contains(raw, r.want) {
				t.Fatalf("review %s: %d %s", r.name, s, raw)
			}
		}
		decisions := []struct {
			name, body string
			status     int
			want       string
		}{
			{"unknown outcome", `{"outcome": "maybe"}`, 422, "Unknown outcome"},
			{"unqualified without reason", `{"outcome": "unqualified", "reason": " "}`, 422, "A reason is required"},
			{"unqualified", `{"outcome": "unqualified", "reason": "Homework missed the brief"}`, 200, `"status":"unqualified"`},
			{"again", `{"outcome": "qualified"}`, 409, "Only submitted applicants wait for a decision; this one is unqualified."},
		}
		for _, d := range decisions {
			if s, raw, _ := c.call("POST", "/api/v1/applicants/"+sub.ID+"/decision", d.body, nil); s != d.status || !strings.Contains(raw, d.want) {
				t.Fatalf("decision %s: %d %s", d.name, s, raw)
			}
		}
		_, raw, detail = c.call("GET", "/api/v1/applicants/"+sub.ID, "", nil)
		if get(detail, "reason") != "Homework missed the brief" || len(get(detail, "reviews").([]any)) != 2 ||
			!strings.Contains(raw, `"kind":"unqualified"`) || !strings.Contains(raw, `"actorEmail":"admin@acme.test"`) {
			t.Fatalf("after decision: %s", raw)
		}

		// Another org's token sees none of it and changes nothing.
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/api/v1/jobs/" + id, ""},
			{"PUT", "/api/v1/jobs/" + id, `{"title": "Mine now"}`},
			{"GET", "/api/v1/jobs/" + id + "/applicants", ""},
			{"POST", "/api/v1/jobs/" + id + "/applicants", `{"name": "X", "email": "x@example.com"}`},
			{"GET", "/api/v1/applicants/" + appID, ""},
			{"POST", "/api/v1/applicants/" + appID + "/decision", `{"outcome": "unqualified", "reason": "x"}`},
			{"POST", "/api/v1/applicants/" + appID + "/reviews", `{"score": 1}`},
		} {
			if s, raw, v := globex.call(r.method, r.path, r.body, nil); s != 404 || get(v, "error", "code") != "not_found" {
				t.Fatalf("other org %s %s: %d %s", r.method, r.path, s, raw)
			}
		}
		if s, _, list := globex.call("GET", "/api/v1/jobs", "", nil); s != 200 || len(get(list, "jobs").([]any)) != 0 {
			t.Fatalf("other org lists jobs: %d", s)
		}
		if a, _ := m.Store.FindApplicantByID(ctx, admin.OrgID, appID); a.Status != winnow.StatusInvited {
			t.Fatalf("other org changed the applicant: %s", a.Status)
		}
		if f, _ := m.Store.FindFunnelByID(ctx, admin.OrgID, id); f.Title != "Support Engineer II" {
			t.Fatalf("other org changed the job: %s", f.Title)
		}
	})
}

// threeStepCopy stores a copy of f with threeStepFunnel's steps (whose IDs
// MustSubmitted answers), keeping f's team and review mode.
func threeStepCopy(t *testing.T, m *Main, f *winnow.Funnel) *winnow.Funnel {
	t.Helper()
	c := threeStepFunnel(f.OrgID, f.OpenReview, f.Team...)
	c.Title = f.Title + " (copy)"
	return MustFunnel(t, m, c)
}

// TestAPITokens checks the ways a token is refused and an admin's life cycle of one in
// Settings: created and shown once, used, listed with its last use, revoked.
func TestAPITokens(t *testing.T) {
	t.Parallel()
	m := MustStart(t, testEnv(t, dbtest.SQLite.URL(t)))
	admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
	MustUser(t, m, "Acme", "member@acme.test", winnow.RoleMember)

	for _, c := range []struct {
		name, header string
	}{
		{"no header", ""},
		{"not bearer", "Basic YWRtaW46cGFzc3dvcmQ="},
		{"empty token", "Bearer "},
		{"unknown token", "Bearer not-a-real-token"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := map[string]string{}
			if c.header != "" {
				h["Authorization"] = c.header
			}
			s, raw, v := newAPIClient(t, m, "").call("GET", "/api/v1/jobs", "", h)
			if s != 401 || get(v, "error", "code") != "unauthorized" {
				t.Fatalf("%d %s", s, raw)
			}
		})
	}
	// A browser session is no API credential.
	b := signedIn(t, m, "admin@acme.test")
	if s, body, _ := b.do("GET", "/api/v1/jobs", nil, nil); s != 401 || !strings.Contains(body, `"unauthorized"`) {
		t.Fatalf("session on the API: %d %s", s, body)
	}

	// Settings → API tokens: members may not, admins create one and see it once.
	mb := signedIn(t, m, "member@acme.test")
	if s, _, _ := mb.post("/settings/tokens", url.Values{"name": {"Sneaky"}}); s != 403 {
		t.Fatalf("member creates a token: %d", s)
	}
	if s, body, _ := b.post("/settings/tokens", url.Values{"name": {" "}}); s != 422 || !strings.Contains(body, "Give the token a name") {
		t.Fatalf("nameless token: %d", s)
	}
	s, body, _ := b.post("/settings/tokens", url.Values{"name": {"ATS sync"}})
	tok := regexp.MustCompile(`aria-label="New API token" readonly value="([^"]+)"|readonly value="([^"]+)" aria-label="New API token"`).FindStringSubmatch(body)
	if s != 200 || tok == nil {
		t.Fatalf("create token: %d\n%s", s, body)
	}
	token := tok[1] + tok[2]
	if s, body := b.get("/settings/tokens"); s != 200 || strings.Contains(body, token) || !strings.Contains(body, "ATS sync") || !strings.Contains(body, "never") {
		t.Fatalf("token list shows the token again, or not its name: %d", s)
	}
	c := newAPIClient(t, m, token)
	if s, raw, _ := c.call("GET", "/api/v1/jobs", "", nil); s != 200 {
		t.Fatalf("new token: %d %s", s, raw)
	}
	tokens, _ := m.Store.ListAPITokens(context.Background(), admin.OrgID)
	if len(tokens) != 1 || tokens[0].LastUsedAt == nil || tokens[0].CreatedBy != admin.ID {
		t.Fatalf("stored token %+v", tokens)
	}
	if s, _, _ := mb.post("/settings/tokens/"+tokens[0].ID+"/revoke", nil); s != 403 {
		t.Fatalf("member revokes: %d", s)
	}
	if s, _, h := b.post("/settings/tokens/"+tokens[0].ID+"/revoke", nil); s != 303 || h.Get("Location") != "/settings/tokens?revoked=1" {
		t.Fatalf("revoke: %d", s)
	}
	if s, raw, v := c.call("GET", "/api/v1/jobs", "", nil); s != 401 || !strings.Contains(raw, "revoked") || get(v, "error", "code") != "unauthorized" {
		t.Fatalf("revoked token: %d %s", s, raw)
	}
	if s, body := b.get("/settings/tokens?revoked=1"); s != 200 || !strings.Contains(body, "Token revoked") || !strings.Contains(body, ">revoked<") {
		t.Fatalf("token list after revoking: %d", s)
	}
}
