package main

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"winnow/internal/dbtest"

	"winnow"
)

// TestCandidateLink walks a candidate's link on the real program: the routes, the
// security headers, cross-origin protection and the uploads folder under the data
// folder, on SQLite and PostgreSQL.
func TestCandidateLink(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		env := testEnv(t, e.URL(t))
		m := MustStart(t, env)
		ctx := context.Background()
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		f := &winnow.Funnel{OrgID: admin.OrgID, Title: "Support engineer", Status: winnow.FunnelOpen, Steps: []winnow.Step{
			{ID: "q", Kind: winnow.StepQuestions, Questions: []winnow.Question{{ID: "eu", Text: "EU work permit?", Type: winnow.QuestionYesNo,
				Knockout: &winnow.Knockout{Answer: "yes", Reason: "Requires an EU work permit"}}}},
			{ID: "h", Kind: winnow.StepHomework, Homework: &winnow.Homework{Instructions: "Reply to a customer.", AcceptFile: true}},
			{ID: "v", Kind: winnow.StepVideo, Video: &winnow.Video{Prompts: []string{"Hello?"}}},
		}}
		if err := m.Store.CreateFunnel(ctx, f); err != nil {
			t.Fatal(err)
		}
		invite := func(email string) *winnow.Applicant {
			a, err := winnow.NewApplicant(f, "Grace Hopper", email, dbtest.RandomHex(20), m.Clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Store.CreateApplicant(ctx, a, admin.ID); err != nil {
				t.Fatal(err)
			}
			return a
		}
		a := invite("grace@example.com")
		c := "/c/" + a.Token
		b := newBrowser(t, m)

		s, body, h := b.do("GET", c, nil, nil)
		if s != 200 || !strings.Contains(body, "Support engineer") || !strings.Contains(body, "Acme") ||
			!strings.Contains(h.Get("Content-Security-Policy"), "media-src 'self' blob:") || strings.Contains(body, "Sign in") {
			t.Fatalf("landing: %d %v\n%s", s, h, body)
		}
		for _, asset := range []string{"/static/candidate.css", "/static/candidate-video.js"} {
			if s, _ := b.get(asset); s != 200 {
				t.Fatalf("%s: %d", asset, s)
			}
		}
		if s, _, _ := b.post(c+"/start", url.Values{}); s != http.StatusSeeOther {
			t.Fatalf("start: %d", s)
		}
		if s, _, h := b.post(c+"/steps/q", url.Values{"a-eu": {"yes"}}); s != http.StatusSeeOther || h.Get("Location") != c+"/steps/h" {
			t.Fatalf("questions: %d %s", s, h.Get("Location"))
		}
		if s, body := postFile(t, b, c+"/steps/h", "homework", "reply.txt", "Dear customer, thank you."); s != http.StatusSeeOther {
			t.Fatalf("homework: %d\n%s", s, body)
		}
		video := "\x1a\x45\xdf\xa3" + strings.Repeat("\x00", 4096)
		if s, body := postFile(t, b, c+"/steps/v", "prompt-0", "hello.webm", video); s != http.StatusSeeOther {
			t.Fatalf("video: %d\n%s", s, body)
		}
		if s, _, h := b.post(c+"/submit", url.Values{}); s != http.StatusSeeOther || h.Get("Location") != c+"/thanks" {
			t.Fatalf("submit: %d", s)
		}
		if s, body := b.get(c + "/thanks"); s != 200 || !strings.Contains(body, "Thank you, Grace!") {
			t.Fatalf("thanks: %d\n%s", s, body)
		}
		if s, body, _ := b.post(c+"/submit", url.Values{}); s != http.StatusConflict || !strings.Contains(body, "already submitted") {
			t.Fatalf("replayed submit: %d\n%s", s, body)
		}
		got, _ := m.Store.FindApplicantByID(ctx, a.OrgID, a.ID)
		if got.Status != winnow.StatusSubmitted {
			t.Fatalf("status = %s", got.Status)
		}
		var stored []string
		filepath.WalkDir(filepath.Join(env["WINNOW_DATA_DIR"], "uploads"), func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				stored = append(stored, p)
			}
			return nil
		})
		if len(stored) != 2 {
			t.Fatalf("files under the data folder = %v, want the homework and the video", stored)
		}

		// Another site cannot make a candidate opt out.
		other := invite("grace.hopper@example.com")
		s, body, _ = b.do("POST", "/c/"+other.Token+"/opt-out", url.Values{}, map[string]string{
			"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
		if s != http.StatusForbidden || !strings.Contains(body, "sent from another website, so nothing was saved") || strings.Contains(body, "Sign in") {
			t.Fatalf("cross-site opt-out: %d\n%s", s, body)
		}
		if got, _ := m.Store.FindApplicantByID(ctx, other.OrgID, other.ID); got.Status != winnow.StatusInvited {
			t.Fatalf("a cross-site post changed the status to %s", got.Status)
		}
		if s, body := b.get("/c/" + strings.Repeat("0", 40)); s != http.StatusNotFound || !strings.Contains(body, "This link is not valid") {
			t.Fatalf("tampered link: %d\n%s", s, body)
		}
	})
}

// postFile sends one file as a multipart form.
func postFile(t *testing.T, b *browser, path, field, name, data string) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile(field, name)
	w.Write([]byte(data))
	mw.Close()
	req, _ := http.NewRequest("POST", b.base+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(res.Body)
	return res.StatusCode, out.String()
}
