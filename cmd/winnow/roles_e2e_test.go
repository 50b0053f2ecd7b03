package main

import (
	"context"
	"flag"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"winnow"
	"winnow/internal/config"
	"winnow/internal/dbtest"
	"winnow/internal/filestore/fakes3"
)

// TestSQLiteRefusesSplitRoles checks that serve refuses the roles web and worker on
// SQLite, saying what to do instead, before it touches the database.
func TestSQLiteRefusesSplitRoles(t *testing.T) {
	t.Parallel()
	for _, role := range []string{config.RoleWeb, config.RoleWorker} {
		t.Run(role, func(t *testing.T) {
			t.Parallel()
			env := testEnv(t, "")
			env["WINNOW_ROLE"] = role
			cfg, err := config.Load(flag.NewFlagSet("test", flag.ContinueOnError), nil, func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			m := NewMain(cfg, slog.New(slog.DiscardHandler))
			err = m.Run(context.Background())
			m.Close()
			if err == nil || !strings.Contains(err.Error(), "needs PostgreSQL") || !strings.Contains(err.Error(), "role all") {
				t.Fatalf("Run with role %s on SQLite: %v", role, err)
			}
			if m.DB != nil {
				t.Fatal("the database was opened before the role was refused")
			}
		})
	}
}

// TestScaleOut runs one worker and two web processes on one PostgreSQL database and
// one S3 bucket: the worker serves only /healthz and /metrics and works what the web
// processes queue (an invitation's email); the web processes work nothing; a file a
// candidate uploads through one web process downloads through the other.
func TestScaleOut(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		if e == dbtest.SQLite {
			t.Skip("several processes share PostgreSQL only (see TestSQLiteRefusesSplitRoles)")
		}
		dbURL, bucket := e.URL(t), fakes3.Start(t)
		start := func(role string) *Main {
			env := testEnv(t, dbURL)
			env["WINNOW_ROLE"], env["WINNOW_BLOB_URL"] = role, bucket.URL
			return MustStart(t, env)
		}
		worker, webA, webB := start(config.RoleWorker), start(config.RoleWeb), start(config.RoleWeb)
		if webA.River != nil || webB.River != nil || worker.River == nil {
			t.Fatal("web processes have a working River client, or the worker has none")
		}

		w := newBrowser(t, worker)
		if s, body := w.get("/healthz"); s != http.StatusOK || body != "ok\n" {
			t.Fatalf("worker /healthz: %d %q", s, body)
		}
		if s, body := w.get("/metrics"); s != http.StatusOK || !strings.Contains(body, "go_goroutines") {
			t.Fatalf("worker /metrics: %d", s)
		}
		for _, path := range []string{"/login", "/jobs", "/api/v1/jobs", "/admin/jobs/"} {
			if s, body := w.get(path); s != http.StatusNotFound || !strings.Contains(body, "worker") {
				t.Fatalf("worker %s: %d %q, want 404 saying it is a worker", path, s, body)
			}
		}

		admin := MustUser(t, webA, "Acme", "admin@acme.test", winnow.RoleAdmin)
		f := MustFunnel(t, webA, &winnow.Funnel{OrgID: admin.OrgID, Title: "Writer", Status: winnow.FunnelOpen, OpenReview: true,
			Team: []string{admin.ID}, Steps: []winnow.Step{{ID: "s_hw", Kind: winnow.StepHomework,
				Homework: &winnow.Homework{Instructions: "Send a sample.", AcceptFile: true, FileTypes: []string{".pdf"}}}}})
		tok, _ := MustAPIToken(t, webA, admin.OrgID, admin.ID)
		s, raw, v := newAPIClient(t, webA, tok).call("POST", "/api/v1/jobs/"+f.ID+"/applicants", `{"name":"Ada Lovelace","email":"ada@example.com"}`, nil)
		if s != http.StatusCreated {
			t.Fatalf("invite through web A: %d %s", s, raw)
		}
		a, err := webA.Store.FindApplicantByID(context.Background(), admin.OrgID, get(v, "id").(string))
		if err != nil {
			t.Fatal(err)
		}
		// Only the worker works jobs: the invitation's email reaching the outbox is its.
		waitEmails(t, webB, a, winnow.EmailOutbox, 1)

		cand := newBrowser(t, webA)
		link := "/c/" + a.Token
		if s, _, _ := cand.post(link+"/start", nil); s != http.StatusSeeOther {
			t.Fatalf("start: %d", s)
		}
		const sample = "%PDF-1.4 a writing sample"
		if s, body, loc := postMultipart(t, cand, link+"/steps/s_hw", nil, formFile{"homework", "sample.pdf", sample}); s != http.StatusSeeOther {
			t.Fatalf("upload through web A: %d %s\n%s", s, loc, body)
		}
		answers, err := webB.Store.ListStepAnswers(context.Background(), a.OrgID, a.ID)
		if err != nil || len(answers) != 1 || answers[0].Files["homework"] == "" {
			t.Fatalf("answers: %+v, %v", answers, err)
		}
		rec := signedIn(t, webB, "admin@acme.test")
		s, body, h := rec.do("GET", "/uploads/"+answers[0].Files["homework"], nil, nil)
		if s != http.StatusOK || body != sample || h.Get("Content-Type") != "application/pdf" {
			t.Fatalf("download through web B: %d %s %q", s, h.Get("Content-Type"), body)
		}
	})
}
