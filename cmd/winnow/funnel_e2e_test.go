package main

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"winnow/internal/dbtest"

	"winnow"
)

// fullFunnel has all three step kinds and a team of two reviewers. Question IDs are
// left to the server, and read back from its answer.
const fullFunnel = `{"title": "Support Engineer", "description": "Help customers by email.", "status": "open",
	"team": ["rev1@acme.test", "rev2@acme.test"],
	"steps": [
		{"kind": "questions", "title": "Basics", "questions": [
			{"text": "Can you work in the US?", "type": "yes_no", "required": true,
				"knockout": {"answer": "yes", "reason": "Requires work authorization in the US"}},
			{"text": "Years of support experience?", "type": "number", "knockout": {"min": 1, "reason": "Needs a year of support"}}]},
		{"kind": "homework", "homework": {"instructions": "Answer the ticket.", "acceptText": true, "acceptFile": true,
			"maxFileBytes": 1048576, "fileTypes": [".pdf"]}},
		{"kind": "video", "video": {"prompts": ["Introduce yourself"], "maxSeconds": 60}}]}`

// questionsFunnel has only questions, so a submission decides itself.
const questionsFunnel = `{"title": "Night Support", "status": "open", "steps": [{"kind": "questions", "questions": [
	{"text": "Can you work in the US?", "type": "yes_no", "knockout": {"answer": "yes", "reason": "Requires work authorization in the US"}},
	{"text": "Favourite editor?", "type": "short_text"}]}]}`

// The files a candidate hands in: a PDF and a WebM, by their magic bytes.
const (
	homeworkPDF = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
	videoWebM   = "\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01webm frames of a tiny recording"
)

// funnelWorld is one running Winnow holding org Acme (an admin and the two
// reviewers of fullFunnel's team) and org Globex, with an API client of Acme whose token
// was made by the winnow token create command.
type funnelWorld struct {
	m   *Main
	api *apiClient
}

func startFunnelWorld(t *testing.T, dbURL string) *funnelWorld {
	t.Helper()
	env := testEnv(t, dbURL)
	m := MustStart(t, env)
	MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
	MustUser(t, m, "Acme", "rev1@acme.test", winnow.RoleMember)
	MustUser(t, m, "Acme", "rev2@acme.test", winnow.RoleLimited)
	MustUser(t, m, "Globex", "admin@globex.test", winnow.RoleAdmin)
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"token", "create", "--org", "Acme", "--name", "Funnel test"}, nil, &out, &errOut,
		func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, errOut.String())
	}
	return &funnelWorld{m: m, api: newAPIClient(t, m, strings.TrimSpace(out.String()))}
}

// createFunnel creates a job from body through the API and returns it as answered.
func (w *funnelWorld) createFunnel(t *testing.T, body string) any {
	t.Helper()
	s, raw, job := w.api.call("POST", "/api/v1/jobs", body, nil)
	if s != http.StatusCreated || get(job, "id") == nil {
		t.Fatalf("create job: %d %s", s, raw)
	}
	return job
}

// invite invites a candidate to the job through the API and returns the applicant's ID
// and the path of the link the answer carries, to be opened on 127.0.0.1.
func (w *funnelWorld) invite(t *testing.T, jobID, name, email string) (id, link string) {
	t.Helper()
	s, raw, a := w.api.call("POST", "/api/v1/jobs/"+jobID+"/applicants", `{"name": "`+name+`", "email": "`+email+`"}`, nil)
	l, _ := get(a, "link").(string)
	u, err := url.Parse(l)
	if s != http.StatusCreated || get(a, "status") != "invited" || err != nil || !strings.HasPrefix(u.Path, "/c/") {
		t.Fatalf("invite: %d %s", s, raw)
	}
	return get(a, "id").(string), u.Path
}

// expect fails unless the API shows the applicant with status and a timeline of
// exactly kinds, in order, leaving aside the email entries the mail worker adds when
// it gets to them. Each status change must start where the one before ended. It
// returns the applicant and its timeline without the emails.
func (w *funnelWorld) expect(t *testing.T, id, status string, kinds ...string) (any, []any) {
	t.Helper()
	s, raw, a := w.api.call("GET", "/api/v1/applicants/"+id, "", nil)
	if s != http.StatusOK {
		t.Fatalf("get applicant: %d %s", s, raw)
	}
	var trail []any
	var got []string
	last := ""
	for _, ev := range get(a, "timeline").([]any) {
		kind := get(ev, "kind").(string)
		if strings.HasPrefix(kind, "email") {
			continue
		}
		trail, got = append(trail, ev), append(got, kind)
		if to, _ := get(ev, "to").(string); to != "" {
			if from, _ := get(ev, "from").(string); from != last {
				t.Fatalf("%s event moves from %q, but the status was %q: %s", kind, from, last, raw)
			}
			last = to
		}
	}
	if get(a, "status") != status || last != status || strings.Join(got, " ") != strings.Join(kinds, " ") {
		t.Fatalf("applicant is %v with timeline %q (last move to %q); want %s with %q\n%s", get(a, "status"), got, last, status, kinds, raw)
	}
	return a, trail
}

// formFile is one file of a multipart form.
type formFile struct{ field, name, data string }

// postMultipart sends fields and files as a browser sends a form with
// enctype="multipart/form-data", and returns the status, the body and the Location.
func postMultipart(t *testing.T, b *browser, path string, fields map[string]string, files ...formFile) (int, string, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for _, f := range files {
		fw, err := mw.CreateFormFile(f.field, f.name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(f.data))
	}
	mw.Close()
	req, err := http.NewRequest("POST", b.base+path, &buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(res.Body)
	return res.StatusCode, out.String(), res.Header.Get("Location")
}

// mustPost posts a plain form and fails unless it redirects (303) to next.
func mustPost(t *testing.T, b *browser, path string, form url.Values, next string) {
	t.Helper()
	if s, body, h := b.post(path, form); s != http.StatusSeeOther || h.Get("Location") != next {
		t.Fatalf("POST %s: %d to %q, want 303 to %q\n%s", path, s, h.Get("Location"), next, body)
	}
}

// mustPage gets path and fails unless it answers 200 with every one of want.
func mustPage(t *testing.T, b *browser, path string, want ...string) string {
	t.Helper()
	s, body := b.get(path)
	if s != http.StatusOK {
		t.Fatalf("GET %s: %d, want 200\n%s", path, s, body)
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Fatalf("GET %s lacks %q\n%s", path, w, body)
		}
	}
	return body
}

// TestFunnelEndToEnd builds a job of all three step kinds through the API, invites a
// candidate, walks their link with plain forms (no script), and has the job team
// review and decide, checking the applicant through the API after every step; then
// checks who may download the uploaded files.
func TestFunnelEndToEnd(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		w := startFunnelWorld(t, e.URL(t))
		job := w.createFunnel(t, fullFunnel)
		var team []string
		list, _ := get(job, "team").([]any)
		for _, e := range list {
			team = append(team, fmt.Sprint(e))
		}
		if slices.Sort(team); strings.Join(team, " ") != "rev1@acme.test rev2@acme.test" {
			t.Fatalf("job team: %v", team)
		}
		stepID := func(i int) string { return get(job, "steps", i, "id").(string) }
		permit, years := get(job, "steps", 0, "questions", 0, "id").(string), get(job, "steps", 0, "questions", 1, "id").(string)
		id, c := w.invite(t, get(job, "id").(string), "Grace Hopper", "grace@example.com")
		w.expect(t, id, "invited", "invited")

		b := newBrowser(t, w.m)
		mustPage(t, b, c, "Support Engineer", "Acme", "Help customers by email.", `action="`+c+`/start"`)
		w.expect(t, id, "invited", "invited")
		mustPost(t, b, c+"/start", url.Values{}, c+"/steps/"+stepID(0))
		w.expect(t, id, "in_progress", "invited", "started")

		mustPage(t, b, c+"/steps/"+stepID(0), "Can you work in the US?", `name="a-`+permit+`"`)
		mustPost(t, b, c+"/steps/"+stepID(0), url.Values{"a-" + permit: {"yes"}, "a-" + years: {"3"}}, c+"/steps/"+stepID(1))
		a, _ := w.expect(t, id, "in_progress", "invited", "started")
		if get(a, "steps", 0, "completedAt") == nil || get(a, "steps", 0, "questions", 0, "answer", 0) != "yes" ||
			get(a, "steps", 0, "questions", 1, "answer", 0) != "3" || get(a, "steps", 0, "questions", 0, "knockedOut") != false {
			t.Fatalf("answers after the questions: %v", get(a, "steps", 0))
		}

		mustPage(t, b, c+"/steps/"+stepID(1), "Answer the ticket.", `enctype="multipart/form-data"`, `name="homework"`)
		s, body, loc := postMultipart(t, b, c+"/steps/"+stepID(1), map[string]string{"text": "Dear customer,\r\nit is fixed."},
			formFile{"homework", "grace-hopper-ticket.pdf", homeworkPDF})
		if s != http.StatusSeeOther || loc != c+"/steps/"+stepID(2) {
			t.Fatalf("homework: %d to %q\n%s", s, loc, body)
		}
		a, _ = w.expect(t, id, "in_progress", "invited", "started")
		hw := get(a, "steps", 1, "homework", "file")
		if get(a, "steps", 1, "completedAt") == nil || get(a, "steps", 1, "homework", "text") != "Dear customer,\nit is fixed." ||
			get(hw, "name") != "grace-hopper-ticket.pdf" || get(hw, "contentType") != "application/pdf" || get(hw, "size") != float64(len(homeworkPDF)) {
			t.Fatalf("answers after the homework: %v", get(a, "steps", 1))
		}

		mustPage(t, b, c+"/steps/"+stepID(2), "Introduce yourself", `accept="video/*"`)
		s, body, loc = postMultipart(t, b, c+"/steps/"+stepID(2), nil, formFile{winnow.PromptItem(0), "hello.webm", videoWebM})
		if s != http.StatusSeeOther || loc != c+"/review" {
			t.Fatalf("video: %d to %q\n%s", s, loc, body)
		}
		a, _ = w.expect(t, id, "in_progress", "invited", "started")
		vid := get(a, "steps", 2, "video", 0, "file")
		if get(a, "steps", 2, "completedAt") == nil || get(vid, "contentType") != "video/webm" || get(vid, "size") != float64(len(videoWebM)) {
			t.Fatalf("answers after the video: %v", get(a, "steps", 2))
		}

		mustPage(t, b, c+"/review", "Can you work in the US?", "it is fixed.", "grace-hopper-ticket.pdf", "Received: hello.webm", `action="`+c+`/submit"`)
		mustPost(t, b, c+"/submit", url.Values{}, c+"/thanks")
		mustPage(t, b, c+"/thanks", "Thank you, Grace!")
		w.expect(t, id, "submitted", "invited", "started", "submitted")
		if s, body, _ := b.post(c+"/submit", url.Values{}); s != http.StatusConflict || !strings.Contains(body, "already submitted") {
			t.Fatalf("replayed submit: %d\n%s", s, body)
		}
		w.expect(t, id, "submitted", "invited", "started", "submitted")

		// Two reviews: one on the card by a member of the team, one through the API
		// for the other (a limited member on the team).
		rev1 := signedIn(t, w.m, "rev1@acme.test")
		mustPost(t, rev1, "/applicants/"+id+"/reviews", url.Values{"score": {"3"}, "comment": {"Clear answer."}}, "/applicants/"+id+"?done=review#reviews")
		_, trail := w.expect(t, id, "submitted", "invited", "started", "submitted", "reviewed")
		if get(trail[3], "actorEmail") != "rev1@acme.test" {
			t.Fatalf("first review event: %v", trail[3])
		}
		s, raw, rv := w.api.call("POST", "/api/v1/applicants/"+id+"/reviews", `{"score": 4, "comment": "Warm on camera.", "reviewerEmail": "rev2@acme.test"}`, nil)
		if s != http.StatusOK || get(rv, "reviewerEmail") != "rev2@acme.test" || get(rv, "label") != "Strong yes" {
			t.Fatalf("API review: %d %s", s, raw)
		}
		a, trail = w.expect(t, id, "submitted", "invited", "started", "submitted", "reviewed", "reviewed")
		if get(trail[4], "actorEmail") != "rev2@acme.test" || len(get(a, "reviews").([]any)) != 2 {
			t.Fatalf("after two reviews: %v", get(a, "reviews"))
		}

		// Files while under blind review: to the team under a neutral name.
		hwPath, vidPath := "/uploads/"+get(hw, "id").(string), "/uploads/"+get(vid, "id").(string)
		for _, f := range []struct{ path, data, ct string }{{hwPath, homeworkPDF, "application/pdf"}, {vidPath, videoWebM, "video/webm"}} {
			s, body, h := rev1.do("GET", f.path, nil, nil)
			if cd := h.Get("Content-Disposition"); s != http.StatusOK || body != f.data || h.Get("Content-Type") != f.ct ||
				!strings.HasPrefix(cd, "attachment;") || strings.Contains(cd, "grace") {
				t.Fatalf("download %s: %d %q %q, %d bytes", f.path, s, h.Get("Content-Type"), cd, len(body))
			}
		}

		s, raw, d := w.api.call("POST", "/api/v1/applicants/"+id+"/decision", `{"outcome": "qualified"}`, nil)
		if s != http.StatusOK || get(d, "status") != "qualified" || get(d, "decidedAt") == nil {
			t.Fatalf("decision: %d %s", s, raw)
		}
		final := []string{"invited", "started", "submitted", "reviewed", "reviewed", "qualified"}
		decided, _ := w.expect(t, id, "qualified", final...)

		// A replayed decision, either way, through the API or the card, changes nothing.
		for _, body := range []string{`{"outcome": "qualified"}`, `{"outcome": "unqualified", "reason": "Changed our mind"}`} {
			if s, raw, v := w.api.call("POST", "/api/v1/applicants/"+id+"/decision", body, nil); s != http.StatusConflict || get(v, "error", "code") != "conflict" {
				t.Fatalf("replayed decision %s: %d %s", body, s, raw)
			}
		}
		if s, body, _ := rev1.post("/applicants/"+id+"/decision", url.Values{"outcome": {"unqualified"}, "reason": {"Changed our mind"}}); s != http.StatusConflict {
			t.Fatalf("replayed decision on the card: %d\n%s", s, body)
		}
		again, _ := w.expect(t, id, "qualified", final...)
		if get(again, "decidedAt") != get(decided, "decidedAt") || get(again, "reason") != nil {
			t.Fatalf("a replayed decision changed the applicant: %v / %v, reason %v", get(again, "decidedAt"), get(decided, "decidedAt"), get(again, "reason"))
		}

		// Once decided the file keeps its own name; nobody outside the org, and
		// nobody signed out, gets it.
		if s, body, h := rev1.do("GET", hwPath, nil, nil); s != http.StatusOK || body != homeworkPDF ||
			h.Get("Content-Disposition") != `attachment; filename=grace-hopper-ticket.pdf` {
			t.Fatalf("download after the decision: %d %q", s, h.Get("Content-Disposition"))
		}
		for _, p := range []string{hwPath, vidPath, vidPath + "?inline=1"} {
			if s, body, h := newBrowser(t, w.m).do("GET", p, nil, nil); s != http.StatusSeeOther ||
				!strings.HasPrefix(h.Get("Location"), "/login?next=") || strings.Contains(body, "webm frames") {
				t.Fatalf("anonymous %s: %d %q", p, s, h.Get("Location"))
			}
			if s, body, _ := signedIn(t, w.m, "admin@globex.test").do("GET", p, nil, nil); s != http.StatusNotFound ||
				strings.Contains(body, "%PDF") || strings.Contains(body, "webm frames") {
				t.Fatalf("another org's admin %s: %d", p, s)
			}
		}
	})
}

// TestFunnelKnockout fails a knockout: the candidate sees a kind page that does not
// name the rule, the API shows the applicant unqualified with the question's reason on
// the applicant and on the timeline, and the link changes nothing afterwards.
func TestFunnelKnockout(t *testing.T) {
	t.Parallel()
	const reason = "Requires work authorization in the US"
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		w := startFunnelWorld(t, e.URL(t))
		job := w.createFunnel(t, minimalFunnel)
		if get(job, "steps", 0, "questions", 0, "knockout", "reason") != reason {
			t.Fatalf("knockout: %v", get(job, "steps", 0))
		}
		step, q := get(job, "steps", 0, "id").(string), get(job, "steps", 0, "questions", 0, "id").(string)
		id, c := w.invite(t, get(job, "id").(string), "Alan Turing", "alan@example.com")
		b := newBrowser(t, w.m)
		mustPage(t, b, c, "Support Engineer")
		mustPost(t, b, c+"/start", url.Values{}, c+"/steps/"+step)
		mustPost(t, b, c+"/steps/"+step, url.Values{"a-" + q: {"no"}}, c)

		body := mustPage(t, b, c, "Thank you for your interest", "Support Engineer")
		if strings.Contains(body, "authorization") || strings.Contains(body, reason) || has(t, body, fmt.Sprintf("form[action=%q]", c+"/submit")) {
			t.Fatalf("the knockout page names the rule or offers to go on:\n%s", body)
		}
		check := func() {
			t.Helper()
			a, trail := w.expect(t, id, "unqualified", "invited", "started", "unqualified")
			ev := trail[2]
			if get(a, "reason") != reason || get(a, "submittedAt") != nil ||
				get(ev, "from") != "in_progress" || !strings.Contains(get(ev, "message").(string), reason) ||
				get(a, "steps", 0, "questions", 0, "answer", 0) != "no" || get(a, "steps", 0, "questions", 0, "knockedOut") != true {
				t.Fatalf("after the knockout: reason %v, event %v, answers %v", get(a, "reason"), ev, get(a, "steps", 0))
			}
		}
		check()

		// The link can no longer change anything: each post is refused and the
		// applicant stays as the knockout left them.
		for _, p := range []struct {
			path string
			form url.Values
		}{
			{"/start", url.Values{}},
			{"/steps/" + step, url.Values{"a-" + q: {"yes"}}},
			{"/submit", url.Values{}},
			{"/opt-out", url.Values{}},
		} {
			if s, body, _ := b.post(c+p.path, p.form); s != http.StatusConflict || !strings.Contains(body, "Thank you for your interest") {
				t.Fatalf("POST %s after the knockout: %d\n%s", p.path, s, body)
			}
		}
		mustPage(t, b, c+"/steps/"+step, "Thank you for your interest")
		check()
		if s, raw, _ := w.api.call("POST", "/api/v1/applicants/"+id+"/decision", `{"outcome": "qualified"}`, nil); s != http.StatusConflict {
			t.Fatalf("decision after a knockout: %d %s", s, raw)
		}
		check()
	})
}

// TestFunnelQuestionsOnly submits a job of only questions: it needs no review, so the
// submission qualifies the applicant at once, after the submitted entry.
func TestFunnelQuestionsOnly(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		w := startFunnelWorld(t, e.URL(t))
		job := w.createFunnel(t, questionsFunnel)
		step := get(job, "steps", 0, "id").(string)
		permit, editor := get(job, "steps", 0, "questions", 0, "id").(string), get(job, "steps", 0, "questions", 1, "id").(string)
		id, c := w.invite(t, get(job, "id").(string), "Ada Lovelace", "ada@example.com")
		b := newBrowser(t, w.m)
		mustPage(t, b, c, "Night Support")
		mustPost(t, b, c+"/start", url.Values{}, c+"/steps/"+step)
		w.expect(t, id, "in_progress", "invited", "started")
		mustPost(t, b, c+"/steps/"+step, url.Values{"a-" + permit: {"yes"}, "a-" + editor: {"Emacs"}}, c+"/review")
		w.expect(t, id, "in_progress", "invited", "started")
		mustPage(t, b, c+"/review", "Favourite editor?", "Emacs")
		mustPost(t, b, c+"/submit", url.Values{}, c+"/thanks")
		mustPage(t, b, c+"/thanks", "Thank you, Ada!")

		a, trail := w.expect(t, id, "qualified", "invited", "started", "submitted", "qualified")
		if get(a, "submittedAt") == nil || get(a, "decidedAt") == nil || get(trail[3], "actorEmail") != nil || len(get(a, "reviews").([]any)) != 0 {
			t.Fatalf("automatic decision: %v", a)
		}
		if s, raw, _ := w.api.call("POST", "/api/v1/applicants/"+id+"/decision", `{"outcome": "unqualified", "reason": "Too late"}`, nil); s != http.StatusConflict {
			t.Fatalf("decision after the automatic one: %d %s", s, raw)
		}
		if s, _, _ := b.post(c+"/submit", url.Values{}); s != http.StatusConflict {
			t.Fatalf("replayed submit: %d", s)
		}
		w.expect(t, id, "qualified", "invited", "started", "submitted", "qualified")
	})
}
