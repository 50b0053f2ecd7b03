package web

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"winnow"
	"winnow/internal/keyring"
	"winnow/internal/web/auth"
	"winnow/internal/web/recruiter"
	"winnow/internal/web/render"
	"winnow/ui"
)

// newTestServer builds a Server with no stores: enough for the routes that need none.
func newTestServer(t *testing.T, ping func(context.Context) error) *Server {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	r, err := render.New(ui.Templates, logger)
	if err != nil {
		t.Fatal(err)
	}
	return &Server{Sessions: &auth.Sessions{Logger: logger, Clock: winnow.SystemClock{}}, Render: r, Logger: logger, Ping: ping,
		Registry: prometheus.NewRegistry()}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		ping   func(context.Context) error
		status int
		body   string
	}{
		{"database answers", func(context.Context) error { return nil }, 200, "ok\n"},
		{"database down", func(context.Context) error { return errors.New("connection refused") }, 503, "database unavailable\n"},
		{"database hangs", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, 503, "database unavailable\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(newTestServer(t, c.ping).Handler())
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || string(body) != c.body {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, body, c.status, c.body)
			}
			if strings.Contains(string(body), "refused") {
				t.Fatal("internal error text leaked")
			}
		})
	}
}

func TestSecurityHeadersAndNotFound(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newTestServer(t, func(context.Context) error { return nil }).Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/no/such/page")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(body), "There is no page at this address.") {
		t.Fatalf("got %d\n%s", resp.StatusCode, body)
	}
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("CSP = %q", resp.Header.Get("Content-Security-Policy"))
	}
}

func TestMetricsCountRequestsByRoute(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newTestServer(t, func(context.Context) error { return nil }).Handler())
	defer srv.Close()
	for range 3 {
		resp, err := http.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `winnow_http_requests_total{method="GET",route="GET /healthz",status="200"} 3`
	if !strings.Contains(string(body), want) {
		t.Fatalf("metrics lack %q:\n%s", want, body)
	}
}

func TestPanicBecomesErrorPage(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, nil)
	h := s.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("secret detail") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret detail") || !strings.Contains(rec.Body.String(), "Something went wrong") {
		t.Fatalf("got %d\n%s", rec.Code, rec.Body.String())
	}
}

func TestGuardAnonymous(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, nil)
	ok := func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("in")) }
	cases := []struct {
		name, method string
		access       access
		status       int
		location     string
	}{
		{"public", "GET", public, 200, ""},
		{"page sends to sign-in", "GET", signedIn, 303, "/login?next=%2Fjobs%3Fx%3D1"},
		{"form post is refused", "POST", admin, 401, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			s.guard(c.access, ok).ServeHTTP(rec, httptest.NewRequest(c.method, "/jobs?x=1", nil))
			if rec.Code != c.status || rec.Header().Get("Location") != c.location {
				t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Header().Get("Location"), c.status, c.location)
			}
		})
	}
}

// TestGuardRoles checks each access level against each role.
func TestGuardRoles(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, nil)
	ok := func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("in")) }
	want := map[access]map[winnow.Role]int{
		signedIn: {winnow.RoleAdmin: 200, winnow.RoleMember: 200, winnow.RoleLimited: 200},
		member:   {winnow.RoleAdmin: 200, winnow.RoleMember: 200, winnow.RoleLimited: 403},
		admin:    {winnow.RoleAdmin: 200, winnow.RoleMember: 403, winnow.RoleLimited: 403},
	}
	for a, roles := range want {
		for role, status := range roles {
			req := httptest.NewRequest("GET", "/x", nil)
			u := &winnow.User{ID: "u", OrgID: "o", Role: role}
			req = req.WithContext(auth.WithIdentity(req.Context(), &auth.Identity{User: u, Org: &winnow.Org{ID: "o", Name: "Acme", CreatedAt: time.Now()}}))
			rec := httptest.NewRecorder()
			s.guard(a, ok).ServeHTTP(rec, req)
			if rec.Code != status {
				t.Errorf("access %d role %s: %d, want %d", a, role, rec.Code, status)
			}
		}
	}
}

// brokenInvites is an InviteService whose database is down.
type brokenInvites struct{ winnow.InviteService }

func (brokenInvites) FindInviteByToken(context.Context, string, time.Time) (*winnow.Invite, error) {
	return nil, errors.New("connection reset while reading invites")
}

// TestLogsHoldNoTokens sends requests whose paths carry a candidate link's or a member
// invitation's token and checks that no log line holds the token: paths the router
// cleans and redirects (a doubled slash, a dot segment, a step back), and an invitation
// link whose page fails with an internal error.
func TestLogsHoldNoTokens(t *testing.T) {
	t.Parallel()
	const token = "S3cr3tT0kenValue0123456789"
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r, err := render.New(ui.Templates, logger)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.New(strings.Repeat("k", 32))
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Sessions: &auth.Sessions{Logger: logger, Clock: winnow.SystemClock{}}, Render: r, Logger: logger,
		Registry:  prometheus.NewRegistry(),
		Recruiter: &recruiter.Handler{Invites: brokenInvites{}, Keyring: kr, Clock: winnow.SystemClock{}, Render: r, Logger: logger}}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	cases := []struct {
		method, target string
		status         int // 0: any (the router redirects to the cleaned path)
	}{
		{"POST", "//c/" + token + "/start", 0},
		{"GET", "/./c/" + token, 0},
		{"GET", "/x/../c/" + token, 0},
		{"GET", "/invite/" + token, http.StatusInternalServerError},
	}
	for _, c := range cases {
		status, body := rawRequest(t, srv.Listener.Addr().String(), c.method, c.target)
		if (c.status != 0 && status != c.status) || strings.Contains(body, "connection reset") {
			t.Errorf("%s %s: %d, want %d\n%s", c.method, c.target, status, c.status, body)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "/c/{token}") || !strings.Contains(logs.String(), "connection reset") {
		t.Fatalf("the requests were not logged:\n%s", logs.String())
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, token) {
			t.Errorf("a log line holds the token: %s", line)
		}
	}
}

func TestTransferAllowance(t *testing.T) {
	t.Parallel()
	limits := Timeouts{Read: 2 * time.Second, MinTransferRate: 1 << 10, MaxTransfer: time.Minute}.withDefaults()
	if limits.Write != DefaultWriteTimeout || limits.Read != 2*time.Second {
		t.Fatalf("withDefaults = %+v", limits)
	}
	cases := []struct {
		name  string
		bytes int64
		want  time.Duration
	}{
		{"nothing yet: the grace", 0, 2 * time.Second},
		{"a KiB buys a second", 1 << 10, 3 * time.Second},
		{"half a KiB, half a second", 512, 2500 * time.Millisecond},
		{"never past the maximum", 1 << 30, time.Minute},
	}
	for _, c := range cases {
		if got := limits.allowance(limits.Read, c.bytes); got != c.want {
			t.Errorf("%s: allowance(%d) = %s, want %s", c.name, c.bytes, got, c.want)
		}
	}
}

func TestPathValues(t *testing.T) {
	t.Parallel()
	for pattern, want := range map[string]string{
		"GET /jobs":                      "",
		"GET /{$}":                       "",
		"GET /jobs/{id}/steps/{step}":    "id step",
		"POST /c/{token}/steps/{step}":   "token step",
		"GET /files/{path...}":           "path",
		"GET /settings/emails/{kind}":    "kind",
		"/api/v1/":                       "",
		"GET /applicants/{id}/decision/": "id",
	} {
		if got := strings.Join(wildcards(pattern), " "); got != want {
			t.Errorf("wildcards(%q) = %q, want %q", pattern, got, want)
		}
	}
	cases := []struct {
		name, wildcard, value string
		ok                    bool
	}{
		{"UUID", "id", "01a239d2-cb8c-778f-a40f-42c807caa6d5", true},
		{"link token", "token", "s5koIdoNU69gQH_7CV4iSWBdR8OyqWwwO79D5zSLI7o", true},
		{"empty ID", "id", "", false},
		{"NUL in an ID", "id", "abc\x00", false},
		{"not UTF-8", "id", "\xff", false},
		{"dot in an ID", "id", "a.b", false},
		{"very long ID", "id", strings.Repeat("a", maxIDLen+1), false},
		{"step ID", "step", "s_1", true},
		{"step ID with accents", "step", "étape-1", true},
		{"step ID with NUL", "step", "s\x00", false},
		{"step ID not UTF-8", "step", "s\xff", false},
		{"control character", "kind", "a\tb", false},
		{"very long value", "step", strings.Repeat("s", maxPathValueLen+1), false},
	}
	for _, c := range cases {
		if got := validPathValue(c.wildcard, c.value); got != c.ok {
			t.Errorf("%s: validPathValue(%s, %q) = %v, want %v", c.name, c.wildcard, c.value, got, c.ok)
		}
	}
}

// rawRequest sends one request with target as the request line has it (an HTTP client
// would clean it or read "//c/…" as a host) and returns the status and body.
func rawRequest(t *testing.T, addr, method, target string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: winnow.test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", method, target)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// lockedWriter serialises writes from the server's goroutines.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
