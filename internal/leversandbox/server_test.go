package leversandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"winnow/internal/leversandbox"
)

const callback = "http://127.0.0.1:1/cb"

func mustStart(t *testing.T, opts leversandbox.Options) (*leversandbox.Server, string) {
	t.Helper()
	if opts.RateLimit == 0 {
		opts.RateLimit = rate.Inf
	}
	s, err := leversandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close() })
	return s, ts.URL
}

var noFollow = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       5 * time.Second,
}

type result struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request; auth is "" (none), "key:K" (Basic) or a bearer token.
func do(t *testing.T, method, u, auth, contentType string, body io.Reader) result {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	switch {
	case strings.HasPrefix(auth, "key:"):
		req.SetBasicAuth(strings.TrimPrefix(auth, "key:"), "")
	case auth != "":
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header, b}
}

func mustJSON(t *testing.T, r result, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// leverError checks Lever's {code, message} error shape.
func leverError(t *testing.T, r result, status int, code string) {
	t.Helper()
	var e struct{ Code, Message string }
	if r.status != status {
		t.Fatalf("status %d, want %d (%s)", r.status, status, r.body)
	}
	mustJSON(t, r, &e)
	if e.Code != code || e.Message == "" {
		t.Fatalf("error %+v, want code %s with a message", e, code)
	}
}

// authorize runs the consent flow and returns the code.
func authorize(t *testing.T, base, scope string) string {
	t.Helper()
	q := url.Values{
		"client_id": {leversandbox.DefaultClientID}, "redirect_uri": {callback}, "response_type": {"code"},
		"state": {"s1"}, "audience": {base + "/v1/"}, "scope": {scope}, "decision": {"accept"},
	}
	r := do(t, "POST", base+"/authorize", "", "application/x-www-form-urlencoded", strings.NewReader(q.Encode()))
	if r.status != http.StatusFound {
		t.Fatalf("authorize: %d %s", r.status, r.body)
	}
	loc, _ := url.Parse(r.header.Get("Location"))
	return loc.Query().Get("code")
}

func token(t *testing.T, base string, form url.Values) (int, map[string]any) {
	t.Helper()
	r := do(t, "POST", base+"/oauth/token", "", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	var m map[string]any
	mustJSON(t, r, &m)
	return r.status, m
}

func exchange(t *testing.T, base, code string) (int, map[string]any) {
	t.Helper()
	return token(t, base, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback},
		"client_id": {leversandbox.DefaultClientID}, "client_secret": {leversandbox.DefaultClientSecret},
	})
}

func refresh(t *testing.T, base, rt string) (int, map[string]any) {
	t.Helper()
	return token(t, base, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"client_id": {leversandbox.DefaultClientID}, "client_secret": {leversandbox.DefaultClientSecret},
	})
}

func mustApply(t *testing.T, s *leversandbox.Server) string {
	t.Helper()
	id, err := s.CreatePosting(leversandbox.PostingInput{Text: "Test posting"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Apply(leversandbox.ApplyInput{PostingID: id, Name: "Ada", Email: "ada.l@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return a.OpportunityID
}

// TestAPIBadInput: every kind of bad request gets a clear status and
// Lever's {code, message}, and nothing is stored.
func TestAPIBadInput(t *testing.T) {
	t.Parallel()
	s, base := mustStart(t, leversandbox.Options{MaxBodyBytes: 1024})
	key := "key:" + s.APIKey()
	opp := mustApply(t, s)
	big := `{"tags":["` + strings.Repeat("x", 2048) + `"]}`
	cases := []struct {
		name, method, path, auth, body string
		status                         int
		code                           string
	}{
		{"malformed json", "POST", "/v1/opportunities/" + opp + "/addTags", key, `{"tags":[`, 400, "BadRequestError"},
		{"wrong json type", "POST", "/v1/opportunities/" + opp + "/addTags", key, `{"tags":"a"}`, 400, "BadRequestError"},
		{"missing tags", "POST", "/v1/opportunities/" + opp + "/addTags", key, `{}`, 400, "BadRequestError"},
		{"oversized body", "POST", "/v1/opportunities/" + opp + "/addTags", key, big, 413, "RequestEntityTooLarge"},
		{"unknown opportunity", "GET", "/v1/opportunities/nope", key, "", 404, "ResourceNotFound"},
		{"unknown opportunity notes", "POST", "/v1/opportunities/nope/notes", key, `{"value":"x"}`, 404, "ResourceNotFound"},
		{"unknown stage", "PUT", "/v1/opportunities/" + opp + "/stage", key, `{"stage":"nope"}`, 400, "BadRequestError"},
		{"empty note", "POST", "/v1/opportunities/" + opp + "/notes", key, `{"value":""}`, 400, "BadRequestError"},
		{"bad score", "POST", "/v1/opportunities/" + opp + "/notes", key, `{"value":"x","score":9}`, 400, "BadRequestError"},
		{"unknown perform_as", "POST", "/v1/opportunities/" + opp + "/notes?perform_as=ghost", key, `{"value":"x"}`, 400, "BadRequestError"},
		{"unknown webhook", "DELETE", "/v1/webhooks/nope", key, "", 404, "ResourceNotFound"},
		{"bad webhook event", "POST", "/v1/webhooks", key, `{"url":"http://127.0.0.1:1/","event":"nope"}`, 400, "BadRequestError"},
		{"bad webhook url", "POST", "/v1/webhooks", key, `{"url":"ftp://x","event":"applicationCreated"}`, 400, "BadRequestError"},
		{"limit too big", "GET", "/v1/postings?limit=101", key, "", 400, "BadRequestError"},
		{"limit zero", "GET", "/v1/postings?limit=0", key, "", 400, "BadRequestError"},
		{"forged offset", "GET", "/v1/postings?offset=%5B1%2C%22x%22%5D", key, "", 400, "BadRequestError"},
		{"unknown endpoint", "GET", "/v1/nothing", key, "", 404, "ResourceNotFound"},
		{"no auth", "GET", "/v1/stages", "", "", 401, "UnauthorizedError"},
		{"wrong api key", "GET", "/v1/stages", "key:wrong", "", 401, "UnauthorizedError"},
		{"unknown bearer", "GET", "/v1/stages", "not-a-token", "", 401, "UnauthorizedError"},
		{"control malformed", "POST", "/_sandbox/apply", "", `{"postingId":`, 400, "BadRequestError"},
		{"control unknown posting", "POST", "/_sandbox/apply", "", `{"postingId":"nope","name":"A"}`, 404, "ResourceNotFound"},
		{"control missing name", "POST", "/_sandbox/apply", "", `{"postingId":"nope"}`, 400, "BadRequestError"},
		{"control bad email", "POST", "/_sandbox/apply", "", `{"postingId":"nope","name":"A","email":"not an email"}`, 400, "BadRequestError"},
		{"control oversized", "POST", "/_sandbox/faults", "", `{"errorRate":0` + strings.Repeat(" ", 2048) + `}`, 413, "RequestEntityTooLarge"},
		{"control bad faults", "POST", "/_sandbox/faults", "", `{"errorRate":2}`, 400, "BadRequestError"},
		{"control unknown opportunity", "GET", "/_sandbox/opportunities/nope", "", "", 404, "ResourceNotFound"},
		{"control unknown webhook", "POST", "/_sandbox/verify-webhook/nope", "", "", 404, "ResourceNotFound"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			leverError(t, do(t, tc.method, base+tc.path, tc.auth, "application/json", body), tc.status, tc.code)
		})
	}
	t.Cleanup(func() {
		if st, _ := s.Opportunity(opp); len(st.Tags) != 0 || len(st.Notes) != 0 || st.Stage != "applicant-new" {
			t.Errorf("bad requests changed the opportunity: %+v", st)
		}
	})
}

// TestOAuth covers the token endpoint: single-use codes, rotation with
// reuse detection, client checks, expiry and missing scopes.
func TestOAuth(t *testing.T) {
	t.Parallel()
	t.Run("code is single use", func(t *testing.T) {
		t.Parallel()
		_, base := mustStart(t, leversandbox.Options{})
		code := authorize(t, base, "offline_access stages:read:admin")
		if st, m := exchange(t, base, code); st != 200 || m["refresh_token"] == nil || m["token_type"] != "Bearer" || m["expires_in"] != 3600.0 {
			t.Fatalf("first exchange: %d %v", st, m)
		}
		if st, m := exchange(t, base, code); st != 403 || m["error"] != "invalid_grant" {
			t.Fatalf("second exchange: %d %v", st, m)
		}
	})
	t.Run("code expires", func(t *testing.T) {
		t.Parallel()
		_, base := mustStart(t, leversandbox.Options{CodeTTL: time.Millisecond})
		code := authorize(t, base, "offline_access")
		time.Sleep(10 * time.Millisecond)
		if st, m := exchange(t, base, code); st != 403 || m["error"] != "invalid_grant" {
			t.Fatalf("late exchange: %d %v", st, m)
		}
	})
	t.Run("wrong client secret", func(t *testing.T) {
		t.Parallel()
		_, base := mustStart(t, leversandbox.Options{})
		code := authorize(t, base, "offline_access")
		st, m := token(t, base, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback},
			"client_id": {leversandbox.DefaultClientID}, "client_secret": {"wrong"}})
		if st != 401 || m["error"] != "invalid_client" {
			t.Fatalf("%d %v", st, m)
		}
	})
	t.Run("refresh rotates and reuse revokes", func(t *testing.T) {
		t.Parallel()
		_, base := mustStart(t, leversandbox.Options{})
		_, m := exchange(t, base, authorize(t, base, "offline_access stages:read:admin"))
		rt1 := m["refresh_token"].(string)
		st, m2 := refresh(t, base, rt1)
		if st != 200 || m2["refresh_token"] == rt1 {
			t.Fatalf("refresh: %d %v", st, m2)
		}
		at2 := m2["access_token"].(string)
		if r := do(t, "GET", base+"/v1/stages", at2, "", nil); r.status != 200 {
			t.Fatalf("new access token: %d", r.status)
		}
		if st, m3 := refresh(t, base, rt1); st != 403 || m3["error"] != "invalid_grant" {
			t.Fatalf("reused refresh token: %d %v", st, m3)
		}
		if r := do(t, "GET", base+"/v1/stages", at2, "", nil); r.status != 401 {
			t.Fatalf("after reuse the grant should be revoked, got %d", r.status)
		}
	})
	t.Run("access token expires", func(t *testing.T) {
		t.Parallel()
		_, base := mustStart(t, leversandbox.Options{TokenTTL: 50 * time.Millisecond})
		_, m := exchange(t, base, authorize(t, base, "stages:read:admin"))
		if m["refresh_token"] != nil {
			t.Fatal("refresh token without offline_access")
		}
		at := m["access_token"].(string)
		if r := do(t, "GET", base+"/v1/stages", at, "", nil); r.status != 200 {
			t.Fatalf("fresh token: %d", r.status)
		}
		time.Sleep(80 * time.Millisecond)
		leverError(t, do(t, "GET", base+"/v1/stages", at, "", nil), 401, "UnauthorizedError")
	})
	t.Run("missing scope is 403", func(t *testing.T) {
		t.Parallel()
		_, base := mustStart(t, leversandbox.Options{})
		_, m := exchange(t, base, authorize(t, base, "stages:read:admin"))
		leverError(t, do(t, "GET", base+"/v1/users", m["access_token"].(string), "", nil), 403, "ForbiddenError")
	})
	t.Run("json token request", func(t *testing.T) {
		t.Parallel()
		_, base := mustStart(t, leversandbox.Options{})
		code := authorize(t, base, "offline_access")
		b, _ := json.Marshal(map[string]string{"grant_type": "authorization_code", "code": code, "redirect_uri": callback,
			"client_id": leversandbox.DefaultClientID, "client_secret": leversandbox.DefaultClientSecret})
		if r := do(t, "POST", base+"/oauth/token", "", "application/json", bytes.NewReader(b)); r.status != 200 {
			t.Fatalf("json exchange: %d %s", r.status, r.body)
		}
	})
}

// TestAuthorizeValidation: bad clients and callbacks get an error page;
// other problems go back to the callback as invalid_request.
func TestAuthorizeValidation(t *testing.T) {
	t.Parallel()
	_, base := mustStart(t, leversandbox.Options{})
	good := url.Values{
		"client_id": {leversandbox.DefaultClientID}, "redirect_uri": {callback}, "response_type": {"code"},
		"state": {"s"}, "audience": {base + "/v1/"}, "scope": {"offline_access"},
	}
	with := func(k, v string) url.Values {
		q := url.Values{}
		for a, b := range good {
			q[a] = b
		}
		q.Set(k, v)
		return q
	}
	cases := []struct {
		name      string
		q         url.Values
		status    int
		wantError string
	}{
		{"valid shows consent", good, 200, ""},
		{"unknown client", with("client_id", "x"), 400, ""},
		{"non-loopback callback", with("redirect_uri", "https://evil.example/cb"), 400, ""},
		{"missing audience", with("audience", ""), 302, "invalid_request"},
		{"missing state", with("state", ""), 302, "invalid_request"},
		{"wrong response type", with("response_type", "token"), 302, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, "GET", base+"/authorize?"+tc.q.Encode(), "", "", nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d", r.status, tc.status)
			}
			if tc.wantError != "" {
				loc, _ := url.Parse(r.header.Get("Location"))
				if loc.Query().Get("error") != tc.wantError || !strings.HasPrefix(loc.String(), callback) {
					t.Fatalf("redirect %s", loc)
				}
			}
		})
	}
}

// TestPagination walks postings one page at a time through raw HTTP.
func TestPagination(t *testing.T) {
	t.Parallel()
	s, base := mustStart(t, leversandbox.Options{})
	key := "key:" + s.APIKey()
	next, pages, total := "", 0, 0
	for {
		u := base + "/v1/postings?limit=2"
		if next != "" {
			u += "&offset=" + url.QueryEscape(next)
		}
		var p struct {
			Data    []map[string]any `json:"data"`
			HasNext bool             `json:"hasNext"`
			Next    string           `json:"next"`
		}
		mustJSON(t, do(t, "GET", u, key, "", nil), &p)
		pages++
		total += len(p.Data)
		if !p.HasNext {
			break
		}
		next = p.Next
	}
	if pages != 3 || total != 5 {
		t.Fatalf("%d pages, %d postings; want 3 and 5", pages, total)
	}
}

// TestRateLimit: past the burst the API answers 429 with Lever's shape.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	s, base := mustStart(t, leversandbox.Options{RateLimit: 0.001, RateBurst: 3})
	key := "key:" + s.APIKey()
	for range 3 {
		if r := do(t, "GET", base+"/v1/stages", key, "", nil); r.status != 200 {
			t.Fatalf("within burst: %d", r.status)
		}
	}
	leverError(t, do(t, "GET", base+"/v1/stages", key, "", nil), 429, "TooManyRequests")
	if s.Stats().RateLimited != 1 {
		t.Fatalf("stats %+v", s.Stats())
	}
}

// TestUI renders every page, applies through the form, and refuses a
// cross-origin form post.
func TestUI(t *testing.T) {
	t.Parallel()
	s, base := mustStart(t, leversandbox.Options{})
	pid, _ := s.CreatePosting(leversandbox.PostingInput{Text: "UI posting"})
	r := do(t, "POST", base+"/ui/apply", "", "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"postingId": {pid}, "name": {"Form Person"}, "email": {"form@example.com"}}.Encode()))
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/ui/opportunities/") {
		t.Fatalf("apply form: %d %s", r.status, r.header.Get("Location"))
	}
	oppPage := r.header.Get("Location")
	if _, err := s.AddWebhook(leversandbox.WebhookInput{URL: "http://127.0.0.1:1/h"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/ui/postings/" + pid, "/ui/opportunities", oppPage, "/ui/webhooks", "/ui/deliveries", "/ui/settings", "/ui/style.css"} {
		r := do(t, "GET", base+p, "", "", nil)
		if r.status != 200 {
			t.Errorf("GET %s: %d", p, r.status)
		}
		if p == oppPage && !strings.Contains(string(r.body), "Form Person") {
			t.Errorf("opportunity page lacks the name")
		}
	}
	if r := do(t, "GET", base+"/ui/opportunities/nope", "", "", nil); r.status != 404 {
		t.Errorf("unknown opportunity page: %d", r.status)
	}
	req, _ := http.NewRequest("POST", base+"/ui/revoke", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin POST: %d, want 403", resp.StatusCode)
	}
}

// TestStateFile: state survives a restart through the JSON file.
func TestStateFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sandbox.json")
	s1 := openStateFile(t, path)
	opp := mustApply(t, s1)
	key := s1.APIKey()
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openStateFile(t, path)
	defer s2.Close()
	if _, ok := s2.Opportunity(opp); !ok || s2.APIKey() != key {
		t.Fatal("state not restored")
	}
}

// syncBuffer is a goroutine-safe bytes.Buffer for command output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestRunCommand starts the command on a free port, reads the printed
// URLs, calls the API, and stops it through the context.
func TestRunCommand(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- leversandbox.RunCommand(ctx, []string{"--addr", "127.0.0.1:0", "--client-id", "cid", "--token-ttl", "2m"}, &out, &errOut)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "WINNOW_LEVER_API_URL=") {
		if time.Now().After(deadline) {
			t.Fatalf("no banner; stderr: %s", errOut.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	var apiURL, key string
	for _, line := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "export WINNOW_LEVER_API_URL="); ok {
			apiURL = v
		}
		if v, ok := strings.CutPrefix(line, "API key (HTTP Basic, key as user name): "); ok {
			key = v
		}
	}
	if !strings.HasPrefix(apiURL, "http://127.0.0.1:") || !strings.Contains(out.String(), "WINNOW_LEVER_CLIENT_ID=cid") {
		t.Fatalf("banner:\n%s", out.String())
	}
	if r := do(t, "GET", apiURL+"/stages", "key:"+key, "", nil); r.status != 200 {
		t.Fatalf("api via printed URL: %d", r.status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("RunCommand: %v", err)
	}
	if err := leversandbox.RunCommand(context.Background(), []string{"--bogus"}, io.Discard, io.Discard); err == nil {
		t.Fatal("unknown flag accepted")
	}
}

// TestInjectedClock: with Options.Now the recruiting data runs on the caller's clock, so
// a note dated by a test's fake clock, days ahead of the wall clock, is taken, while
// one dated after that clock is refused as in Lever.
func TestInjectedClock(t *testing.T) {
	t.Parallel()
	ahead := time.Now().Add(20 * 24 * time.Hour)
	s, base := mustStart(t, leversandbox.Options{Now: func() time.Time { return ahead }})
	key := "key:" + s.APIKey()
	opp := mustApply(t, s)
	dated := strconv.FormatInt(ahead.Add(-time.Minute).UnixMilli(), 10)
	if r := do(t, "POST", base+"/v1/opportunities/"+opp+"/notes", key, "application/json",
		strings.NewReader(`{"value":"x","createdAt":`+dated+`}`)); r.status != http.StatusCreated {
		t.Fatalf("note dated by the injected clock: %d %s", r.status, r.body)
	}
	future := strconv.FormatInt(ahead.Add(time.Minute).UnixMilli(), 10)
	leverError(t, do(t, "POST", base+"/v1/opportunities/"+opp+"/notes", key, "application/json",
		strings.NewReader(`{"value":"y","createdAt":`+future+`}`)), http.StatusBadRequest, "BadRequestError")
	if st, _ := s.Opportunity(opp); st.CreatedAt.Before(ahead.Add(-time.Second)) || len(st.Notes) != 1 {
		t.Fatalf("opportunity %+v not on the injected clock", st)
	}
}
