package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	_ "github.com/jackc/pgx/v5/stdlib"

	"winnow"
	"winnow/internal/config"
	"winnow/internal/dbtest"
	"winnow/internal/password"
)

const testSecret = "test-secret-key-0123456789abcdef-0123456789"

// TestMain removes the template databases of dbtest when the tests end.
func TestMain(m *testing.M) { dbtest.Main(m) }

// testEnv is the environment of one test's Winnow on the database at dbURL ("" for the
// data folder's SQLite file, created and migrated at start): a temp data dir, a free
// port.
func testEnv(t *testing.T, dbURL string) map[string]string {
	t.Helper()
	return map[string]string{
		"WINNOW_ADDR":         "127.0.0.1:0",
		"WINNOW_DATA_DIR":     filepath.Join(t.TempDir(), "data"),
		"WINNOW_DATABASE_URL": dbURL,
		"WINNOW_SECRET_KEY":   testSecret,
		"WINNOW_LOG_LEVEL":    "warn",
	}
}

// MustStart starts a real Main with env and stops it when the test ends.
func MustStart(t *testing.T, env map[string]string) *Main {
	t.Helper()
	return mustStartWith(t, env, nil)
}

// mustStartWith is MustStart with edit, when set, changing the Main before it runs.
func mustStartWith(t *testing.T, env map[string]string, edit func(*Main)) *Main {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg, err := config.Load(fs, nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m := NewMain(cfg, logger)
	if edit != nil {
		edit(m)
	}
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatalf("start winnow: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return m
}

// testWriter sends logs to the test's log, shown only when it fails.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// MustUser creates a user (and org if new) directly in m's store.
func MustUser(t *testing.T, m *Main, org, email string, role winnow.Role) *winnow.User {
	t.Helper()
	hash, err := password.Hash("password-" + email)
	if err != nil {
		t.Fatal(err)
	}
	u, _, _, err := createUser(context.Background(), m.Store, org, &winnow.User{Email: email, Role: role, PasswordHash: hash})
	if err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

// browser is an HTTP client with a cookie jar that does not follow redirects, so tests
// see every status.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, m *Main) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: "http://" + m.Addr(), c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request and returns the status and body.
func (b *browser) do(method, path string, form url.Values, header map[string]string) (int, string, http.Header) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data), resp.Header
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	s, body, _ := b.do("GET", path, nil, nil)
	return s, body
}

func (b *browser) post(path string, form url.Values) (int, string, http.Header) {
	b.t.Helper()
	return b.do("POST", path, form, nil)
}

// login signs in and fails the test unless it worked.
func (b *browser) login(email, pw string) {
	b.t.Helper()
	status, body, h := b.post("/login", url.Values{"email": {email}, "password": {pw}})
	if status != http.StatusSeeOther || h.Get("Location") != "/jobs" {
		b.t.Fatalf("login %s: status %d location %q\n%s", email, status, h.Get("Location"), body)
	}
}

// has reports whether the HTML page body has an element that matches the CSS
// selector sel.
func has(t *testing.T, body, sel string) bool {
	t.Helper()
	return mustDoc(t, body).Find(sel).Length() > 0
}

// mustDoc parses an HTML page, so that tests assert its structure (an element, a link,
// a form field, a table row) rather than a substring.
func mustDoc(t *testing.T, body string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse page: %v", err)
	}
	return doc
}
