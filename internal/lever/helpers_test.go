package lever_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"winnow/internal/lever"
	"winnow/internal/leversandbox"
)

const redirectURL = "http://127.0.0.1:1/callback"

// sandbox is a running stand-in with its base URL.
type sandbox struct {
	*leversandbox.Server
	URL string
}

// startSandbox serves a fresh sandbox on 127.0.0.1 for one test.
func startSandbox(t testing.TB, opts leversandbox.Options) *sandbox {
	t.Helper()
	if opts.WebhookRetryGap == 0 {
		opts.WebhookRetryGap = 5 * time.Millisecond
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = rate.Inf
	}
	s, err := leversandbox.New(opts)
	if err != nil {
		t.Fatalf("new sandbox: %v", err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		ts.Close()
		if err := s.Close(); err != nil {
			t.Errorf("close sandbox: %v", err)
		}
	})
	return &sandbox{Server: s, URL: ts.URL}
}

// config returns a client config pointing at sb with fast retries and no
// pacing unless the test sets its own.
func (sb *sandbox) config() lever.Config {
	return lever.Config{
		APIURL:       sb.URL + "/v1",
		AuthURL:      sb.URL,
		ClientID:     sb.ClientID(),
		ClientSecret: sb.ClientSecret(),
		RedirectURL:  redirectURL,
		Limiter:      rate.NewLimiter(rate.Inf, 0),
		Retry:        lever.Retry{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
	}
}

// noRedirect is an HTTP client that shows redirects instead of following.
var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       5 * time.Second,
}

// consent walks the authorize page and presses the given button; it
// returns the callback URL the sandbox redirected to.
func consent(t *testing.T, o *lever.OAuth, state, decision string) *url.URL {
	t.Helper()
	authURL := o.AuthCodeURL(state)
	resp, err := noRedirect.Get(authURL)
	if err != nil {
		t.Fatalf("authorize page: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("authorize page: status %d", resp.StatusCode)
	}
	u, _ := url.Parse(authURL)
	form := u.Query()
	form.Set("decision", decision)
	resp, err = noRedirect.PostForm(u.Scheme+"://"+u.Host+u.Path, form)
	if err != nil {
		t.Fatalf("authorize decision: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize decision: status %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("callback location: %v", err)
	}
	return loc
}

// mustToken runs the whole OAuth flow and returns the first tokens.
func mustToken(t *testing.T, o *lever.OAuth) *oauth2.Token {
	t.Helper()
	cb := consent(t, o, "state-123", "accept")
	if got := cb.Query().Get("state"); got != "state-123" {
		t.Fatalf("callback state = %q", got)
	}
	tok, err := o.Exchange(context.Background(), cb.Query().Get("code"))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token despite offline_access")
	}
	return tok
}

// tokenStore records persisted tokens.
type tokenStore struct {
	mu    sync.Mutex
	saved []*oauth2.Token
}

func (s *tokenStore) persist(_ context.Context, tok *oauth2.Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saved = append(s.saved, tok)
	return nil
}

func (s *tokenStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.saved)
}

// mustOAuthClient returns a client authenticated through the OAuth flow.
func mustOAuthClient(t *testing.T, sb *sandbox, cfg lever.Config) (*lever.Client, *lever.TokenSource, *tokenStore) {
	t.Helper()
	o := lever.NewOAuth(cfg)
	store := &tokenStore{}
	ts := o.TokenSource(mustToken(t, o), store.persist)
	c, err := lever.New(cfg, lever.BearerAuth(ts))
	if err != nil {
		t.Fatal(err)
	}
	return c, ts, store
}

// control calls the sandbox's JSON control API and decodes the answer.
func (sb *sandbox) control(t *testing.T, method, path string, in, out any) {
	t.Helper()
	var body bytes.Buffer
	if in != nil {
		if err := json.NewEncoder(&body).Encode(in); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, sb.URL+path, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: status %d", method, path, resp.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
}

// mustApply applies as a candidate to the first published posting.
func (sb *sandbox) mustApply(t *testing.T, c *lever.Client, name, email string) string {
	t.Helper()
	ps, err := c.ListPostings(context.Background(), lever.ListPostingsOptions{States: []string{"published"}})
	if err != nil || len(ps) == 0 {
		t.Fatalf("list postings: %v (%d)", err, len(ps))
	}
	var out struct {
		OpportunityID string `json:"opportunityId"`
	}
	sb.control(t, http.MethodPost, "/_sandbox/apply", map[string]string{"postingId": ps[0].ID, "name": name, "email": email}, &out)
	if out.OpportunityID == "" {
		t.Fatal("apply returned no opportunity id")
	}
	return out.OpportunityID
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
