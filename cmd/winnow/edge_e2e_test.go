package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"winnow/internal/dbtest"

	"winnow"
)

// TestOversizedForms posts a form over its limit to every kind of form page: each
// answers 413 with a page that says so and the limit, not 400.
func TestOversizedForms(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		rec, anon := signedIn(t, m, "admin@acme.test"), newBrowser(t, m)
		job := mustOpenFunnel(t, m, admin, "Backend Engineer")
		over := func(limit int) url.Values { return url.Values{"title": {strings.Repeat("x", limit)}} }
		cases := []struct {
			name string
			b    *browser
			path string
			form url.Values
			want string
		}{
			{"new job", rec, "/jobs", over(1 << 20), "at most 1 MB"},
			{"job details", rec, "/jobs/" + job.ID + "/details", over(1 << 20), "at most 1 MB"},
			{"API token", rec, "/settings/tokens", over(1 << 20), "at most 1 MB"},
			{"sign-in", anon, "/login", over(64 << 10), "at most 64 KB"},
			{"new candidate link", anon, "/c/new-link", over(4 << 10), "at most 4 KB"},
		}
		for _, c := range cases {
			s, body, _ := c.b.post(c.path, c.form)
			if s != http.StatusRequestEntityTooLarge || !strings.Contains(body, "larger than this form accepts") || !strings.Contains(body, c.want) {
				t.Errorf("%s: %d, want 413 saying %q\n%s", c.name, s, c.want, body)
			}
		}
		if jobs, _ := m.Store.ListFunnels(t.Context(), admin.OrgID, winnow.FunnelFilter{}); len(jobs) != 1 || jobs[0].Title != job.Title {
			t.Fatalf("an oversized form changed jobs: %+v", jobs)
		}
	})
}

// TestHTTPSAndMetricsToken starts Winnow with an https public URL and a metrics token:
// every page carries Strict-Transport-Security, and /metrics needs the token. Without
// them, neither.
func TestHTTPSAndMetricsToken(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		env := testEnv(t, e.URL(t))
		env["WINNOW_BASE_URL"] = "https://winnow.example.com"
		env["WINNOW_METRICS_TOKEN"] = "metrics-s3cret"
		secured := MustStart(t, env)
		plain := MustStart(t, testEnv(t, e.URL(t)))
		get := func(m *Main, path, auth string) (int, http.Header, string) {
			t.Helper()
			req, _ := http.NewRequest("GET", "http://"+m.Addr()+path, nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, resp.Header, string(body)
		}
		for _, path := range []string{"/login", "/healthz", "/no/such/page"} {
			if _, h, _ := get(secured, path, ""); h.Get("Strict-Transport-Security") != "max-age=31536000" {
				t.Errorf("https: %s has Strict-Transport-Security %q", path, h.Get("Strict-Transport-Security"))
			}
			if _, h, _ := get(plain, path, ""); h.Get("Strict-Transport-Security") != "" {
				t.Errorf("http: %s has Strict-Transport-Security %q", path, h.Get("Strict-Transport-Security"))
			}
		}
		for _, c := range []struct {
			name   string
			m      *Main
			auth   string
			status int
		}{
			{"no token", secured, "", 401},
			{"wrong token", secured, "Bearer metrics-s3cre", 401},
			{"token as basic auth", secured, "Basic metrics-s3cret", 401},
			{"right token", secured, "Bearer metrics-s3cret", 200},
			{"no token configured", plain, "", 200},
		} {
			s, h, body := get(c.m, "/metrics", c.auth)
			if s != c.status {
				t.Errorf("%s: %d, want %d\n%s", c.name, s, c.status, body)
			}
			if s == 200 && !strings.Contains(body, "winnow_http_requests_total") {
				t.Errorf("%s: no metrics in\n%s", c.name, body)
			}
			if s == 401 && (strings.Contains(body, "winnow_http") || h.Get("WWW-Authenticate") == "") {
				t.Errorf("%s: 401 with metrics or without WWW-Authenticate: %v\n%s", c.name, h, body)
			}
		}
	})
}
