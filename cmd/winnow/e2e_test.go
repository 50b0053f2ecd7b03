package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"winnow"
	"winnow/internal/config"
	"winnow/internal/dbtest"
)

// TestEndToEnd starts the real program on :0, creates the first admin with the user
// create command, signs in through the login form and sees the Jobs page.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		// A database that is not there yet (SQLite: the data folder's file) or empty:
		// the first command creates and migrates it.
		dbURL := ""
		if e == dbtest.Postgres {
			dbURL = e.EmptyURL(t)
		}
		env := testEnv(t, dbURL)
		pwFile := filepath.Join(t.TempDir(), "pw")
		os.WriteFile(pwFile, []byte("correct horse battery\n"), 0o600)
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"user", "create", "--org", "Acme", "--email", "Admin@Acme.test",
			"--password-file", pwFile, "--role", "admin", "--name", "Ada Admin"}, nil, &out, &errOut, func(k string) string { return env[k] })
		if err != nil {
			t.Fatalf("user create: %v\n%s", err, errOut.String())
		}
		if !strings.Contains(out.String(), "admin@acme.test") || !strings.Contains(out.String(), `new organization "Acme"`) {
			t.Fatalf("user create said %q", out.String())
		}
		// Another spelling of the name joins the same org instead of making a second one.
		out.Reset()
		err = run(context.Background(), []string{"user", "create", "--org", " acme ", "--email", "member@acme.test",
			"--password-file", pwFile, "--role", "member", "--name", "Max Member"}, nil, &out, &errOut, func(k string) string { return env[k] })
		if err != nil || !strings.Contains(out.String(), `existing organization "Acme"`) {
			t.Fatalf("second user create: %v %q", err, out.String())
		}
		m := MustStart(t, env)
		b := newBrowser(t, m)

		if s, body := b.get("/healthz"); s != 200 || body != "ok\n" {
			t.Fatalf("healthz: %d %q", s, body)
		}
		if s, body := b.get("/login"); s != 200 || !has(t, body, `form input[name=password][type=password]`) {
			t.Fatalf("login page: %d", s)
		}
		s, _, h := b.do("GET", "/jobs", nil, nil)
		if s != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login?next=") {
			t.Fatalf("anonymous /jobs: %d %s", s, h.Get("Location"))
		}
		b.login("admin@acme.test", "correct horse battery")
		s, body := b.get("/jobs")
		if s != 200 || mustDoc(t, body).Find("h1").Text() != "Jobs" || !strings.Contains(body, "Ada Admin") || !strings.Contains(body, "Acme") {
			t.Fatalf("jobs page: %d\n%s", s, body)
		}
		if s, body := b.get("/settings/integrations"); s != 200 || mustDoc(t, body).Find("#lever-state").Text() != "Not connected" ||
			!strings.Contains(body, "/api/integrations/lever/webhooks/application") {
			t.Fatalf("integrations: %d\n%s", s, body)
		}
		if s, body := b.get("/metrics"); s != 200 || !strings.Contains(body, "winnow_http_requests_total") {
			t.Fatalf("metrics: %d", s)
		}
		if s, _, _ := b.post("/logout", url.Values{}); s != http.StatusSeeOther {
			t.Fatalf("logout: %d", s)
		}
		if s, _, _ := b.do("GET", "/jobs", nil, nil); s != http.StatusSeeOther {
			t.Fatalf("after logout /jobs: %d", s)
		}
	})
}

// TestAccessRules checks that each kind of refusal gets its status and a page that
// says what happened.
func TestAccessRules(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		ctx := context.Background()
		adminA := MustUser(t, m, "Org A", "admin@a.test", winnow.RoleAdmin)
		MustUser(t, m, "Org A", "member@a.test", winnow.RoleMember)
		limited := MustUser(t, m, "Org A", "limited@a.test", winnow.RoleLimited)
		MustUser(t, m, "Org B", "admin@b.test", winnow.RoleAdmin)

		theirs := &winnow.Funnel{OrgID: adminA.OrgID, Title: "Backend engineer", Status: winnow.FunnelOpen, Team: []string{adminA.ID}, Steps: oneQuestion()}
		mine := &winnow.Funnel{OrgID: adminA.OrgID, Title: "Designer", Status: winnow.FunnelOpen, Team: []string{limited.ID}, Steps: oneQuestion()}
		for _, f := range []*winnow.Funnel{theirs, mine} {
			if err := m.Store.CreateFunnel(ctx, f); err != nil {
				t.Fatal(err)
			}
		}

		cases := []struct {
			name     string
			who      string
			method   string
			path     string
			form     url.Values
			header   map[string]string
			status   int
			contains string
		}{
			{"wrong password", "", "POST", "/login", url.Values{"email": {"admin@a.test"}, "password": {"nope-nope-nope"}}, nil,
				http.StatusUnauthorized, "do not match"},
			{"unknown email", "", "POST", "/login", url.Values{"email": {"ghost@a.test"}, "password": {"whatever-123"}}, nil,
				http.StatusUnauthorized, "do not match"},
			{"cross-origin post", "admin@a.test", "POST", "/jobs", url.Values{"title": {"Forged"}, "status": {"open"}},
				map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden, "sent from another website"},
			{"member opens settings", "member@a.test", "GET", "/settings/members", nil, nil, http.StatusForbidden, "Only admins"},
			{"limited opens settings", "limited@a.test", "GET", "/settings/integrations", nil, nil, http.StatusForbidden, "Only admins"},
			{"limited opens other team's job", "limited@a.test", "GET", "/jobs/" + theirs.ID, nil, nil, http.StatusForbidden, "not on the team"},
			{"limited opens own team's job", "limited@a.test", "GET", "/jobs/" + mine.ID, nil, nil, http.StatusOK, "Designer"},
			{"limited creates a job", "limited@a.test", "POST", "/jobs", url.Values{"title": {"X"}}, nil, http.StatusForbidden, "cannot create"},
			{"org B asks for org A's job", "admin@b.test", "GET", "/jobs/" + theirs.ID, nil, nil, http.StatusNotFound, "Job not found"},
			{"org B changes org A's team", "admin@b.test", "POST", "/jobs/" + theirs.ID + "/team", url.Values{"team": {}}, nil,
				http.StatusNotFound, "Job not found"},
			{"unknown page", "admin@a.test", "GET", "/nowhere", nil, nil, http.StatusNotFound, "no page at this address"},
			{"bad invite link", "", "GET", "/invite/not-a-token", nil, nil, http.StatusNotFound, "not valid"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				b := newBrowser(t, m)
				if c.who != "" {
					b.login(c.who, "password-"+c.who)
				}
				s, body, _ := b.do(c.method, c.path, c.form, c.header)
				if s != c.status || !strings.Contains(body, c.contains) {
					t.Fatalf("status %d, want %d with %q\n%s", s, c.status, c.contains, body)
				}
				if s >= 400 && !has(t, body, "h1") {
					t.Fatalf("error is not a page:\n%s", body)
				}
			})
		}

		// Org A's job and team are unchanged by everything above.
		got, err := m.Store.FindFunnelByID(ctx, adminA.OrgID, theirs.ID)
		if err != nil || len(got.Team) != 1 || got.Team[0] != adminA.ID {
			t.Fatalf("org A's job changed: %+v %v", got, err)
		}
		jobs, _ := m.Store.ListFunnels(ctx, adminA.OrgID, winnow.FunnelFilter{})
		if len(jobs) != 2 {
			t.Fatalf("a forged job was created: %d jobs", len(jobs))
		}
	})
}

// TestLoginRateLimit refuses sign-in after repeated failures, even with the right password.
func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	m := MustStart(t, testEnv(t, dbtest.SQLite.URL(t)))
	MustUser(t, m, "Acme", "ada@acme.test", winnow.RoleAdmin)
	b := newBrowser(t, m)
	for i := range 5 {
		if s, _, _ := b.post("/login", url.Values{"email": {"ada@acme.test"}, "password": {"wrong-password"}}); s != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, s)
		}
	}
	s, body, h := b.post("/login", url.Values{"email": {"ada@acme.test"}, "password": {"password-ada@acme.test"}})
	if s != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(body, "Too many failed sign-in attempts") {
		t.Fatalf("status %d retry-after %q\n%s", s, h.Get("Retry-After"), body)
	}
}

// TestMemberInvite walks an admin's invitation: the link is shown, the invitee sets a
// password, is signed in with the invited role, and the link does not work twice.
func TestMemberInvite(t *testing.T) {
	t.Parallel()
	m := MustStart(t, testEnv(t, dbtest.SQLite.URL(t)))
	MustUser(t, m, "Acme", "ada@acme.test", winnow.RoleAdmin)
	admin := newBrowser(t, m)
	admin.login("ada@acme.test", "password-ada@acme.test")
	s, body := followInvite(t, admin, url.Values{"email": {"Grace@Acme.test"}, "role": {"limited"}})
	if s != 200 || !strings.Contains(body, "Invitation created") {
		t.Fatalf("invite: %d\n%s", s, body)
	}
	i := strings.Index(body, m.Config.BaseURL+"/invite/")
	if i < 0 {
		t.Fatalf("no invite link in page:\n%s", body)
	}
	link := body[i+len(m.Config.BaseURL):]
	link = link[:strings.IndexByte(link, '"')]

	if s, _, _ := admin.post("/settings/members/invites", url.Values{"email": {"ada@acme.test"}, "role": {"member"}}); s != http.StatusConflict {
		t.Fatalf("inviting an existing user: %d", s)
	}

	grace := newBrowser(t, m)
	if s, body := grace.get(link); s != 200 || !strings.Contains(body, "grace@acme.test") {
		t.Fatalf("invite page: %d\n%s", s, body)
	}
	if s, body, _ := grace.post(link, url.Values{"name": {"Grace"}, "password": {"short"}, "password_confirm": {"short"}}); s != http.StatusUnprocessableEntity || !strings.Contains(body, "at least 10") {
		t.Fatalf("short password: %d", s)
	}
	if s, _, h := grace.post(link, url.Values{"name": {"Grace"}, "password": {"a long enough one"}, "password_confirm": {"a long enough one"}}); s != http.StatusSeeOther || h.Get("Location") != "/jobs" {
		t.Fatalf("accept: %d", s)
	}
	if s, body := grace.get("/jobs"); s != 200 || !strings.Contains(body, "Grace") || has(t, body, `a[href="/settings"]`) {
		t.Fatalf("limited member's jobs page: %d\n%s", s, body)
	}
	if s, _ := newBrowser(t, m).get(link); s != http.StatusNotFound {
		t.Fatalf("invite link reused: %d", s)
	}
}

// TestStartLogShowsConfig logs every setting when serving starts, with the secret key
// and the passwords in URLs redacted.
func TestStartLogShowsConfig(t *testing.T) {
	t.Parallel()
	env := testEnv(t, dbtest.SQLite.URL(t))
	env["WINNOW_SMTP_URL"] = "smtp://mailer:hunter2-smtp@127.0.0.1:2525"
	env["WINNOW_MAIL_FROM"] = "Acme Hiring <jobs@acme.example>"
	_, logs := mustStartLogged(t, env)
	var serving string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "winnow is serving") {
			serving = line
		}
	}
	for _, want := range []string{"WINNOW_ADDR", "WINNOW_DATA_DIR", "WINNOW_SECRET_KEY", "REDACTED", "mailer"} {
		if !strings.Contains(serving, want) {
			t.Errorf("the start-up line lacks %q: %s", want, serving)
		}
	}
	for _, secret := range []string{testSecret, "hunter2-smtp"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the logs hold a secret %q", secret)
		}
	}
}

// TestServeNeedsSecretKey refuses to start without a usable key and says how to make one.
func TestServeNeedsSecretKey(t *testing.T) {
	t.Parallel()
	env := testEnv(t, "")
	env["WINNOW_SECRET_KEY"] = "too-short"
	var out bytes.Buffer
	err := run(context.Background(), []string{"serve"}, nil, &out, &out, func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "openssl rand -hex 32") {
		t.Fatalf("err = %v", err)
	}
	if _, statErr := os.Stat(env["WINNOW_DATA_DIR"]); statErr == nil {
		t.Fatal("serve created the data dir before refusing")
	}
}

// TestServeHelp lists every environment variable with its default.
func TestServeHelp(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := run(context.Background(), []string{"serve", "--help"}, nil, &out, &out, func(string) string { return "" })
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	for _, v := range config.Vars {
		if !strings.Contains(out.String(), v.Env) {
			t.Errorf("help does not list %s", v.Env)
		}
	}
	if !strings.Contains(out.String(), "https://api.lever.co/v1") {
		t.Errorf("help shows no defaults:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "--role worker") || !strings.Contains(out.String(), "nothing but\n                 /healthz and /metrics") {
		t.Errorf("help does not say what a worker serves:\n%s", out.String())
	}
}

// TestSessionCookieFlags checks the session cookie is HttpOnly and SameSite=Lax always,
// and Secure exactly when the public URL is https.
func TestSessionCookieFlags(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "https://winnow.example.com"} {
		t.Run("base="+base, func(t *testing.T) {
			t.Parallel()
			env := testEnv(t, dbtest.SQLite.URL(t))
			env["WINNOW_BASE_URL"] = base
			m := MustStart(t, env)
			MustUser(t, m, "Acme", "ada@acme.test", winnow.RoleAdmin)
			b := newBrowser(t, m)
			s, _, h := b.post("/login", url.Values{"email": {"ada@acme.test"}, "password": {"password-ada@acme.test"}})
			if s != http.StatusSeeOther {
				t.Fatalf("login: %d", s)
			}
			c := h.Get("Set-Cookie")
			if !strings.Contains(c, "winnow_session=") || !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Lax") {
				t.Fatalf("cookie flags: %s", c)
			}
			if secure := strings.Contains(c, "Secure"); secure != (base != "") {
				t.Fatalf("Secure=%v for base %q: %s", secure, base, c)
			}
		})
	}
}
