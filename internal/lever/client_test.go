package lever_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"winnow/internal/lever"
	"winnow/internal/leversandbox"
)

// TestEveryEndpoint walks the OAuth flow and then calls every client
// method against the sandbox, checking the result on both sides.
func TestEveryEndpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sb := startSandbox(t, leversandbox.Options{})
	c, _, _ := mustOAuthClient(t, sb, sb.config())

	stages, err := c.ListStages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range stages {
		ids = append(ids, s.ID)
	}
	if !slices.Contains(ids, lever.StageNewApplicant) || !slices.Contains(ids, lever.StageOffer) {
		t.Fatalf("stages %v lack built-ins", ids)
	}

	users, err := c.ListUsers(ctx, "")
	if err != nil || len(users) < 2 {
		t.Fatalf("list users: %v (%d)", err, len(users))
	}
	one, err := c.ListUsers(ctx, users[1].Email)
	if err != nil || len(one) != 1 || one[0].ID != users[1].ID || !one[0].Active() {
		t.Fatalf("list users by email: %v %+v", err, one)
	}

	oppID := sb.mustApply(t, c, "Grace Hopper", "grace@example.com")
	opp, err := c.GetOpportunity(ctx, oppID)
	if err != nil {
		t.Fatal(err)
	}
	if opp.Name != "Grace Hopper" || opp.Email() != "grace@example.com" || opp.PostingID() == "" ||
		opp.Stage.ID != lever.StageNewApplicant || opp.CreatedAt.IsZero() || opp.URLs.Show == "" {
		t.Fatalf("opportunity = %+v", opp)
	}

	if _, err := c.AddTags(ctx, oppID, []string{"CP-Sent", "CP-InProg"}); err != nil {
		t.Fatal(err)
	}
	got, err := c.RemoveTags(ctx, oppID, []string{"CP-Sent"}, lever.PerformAs(users[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Tags, []string{"CP-InProg"}) {
		t.Fatalf("tags = %v", got.Tags)
	}

	first, err := c.AddNote(ctx, oppID, lever.NewNote{Value: "Invitation sent"}, lever.PerformAs(users[0].ID))
	if err != nil || first == "" {
		t.Fatalf("add note: %q %v", first, err)
	}
	if _, err := c.AddNote(ctx, oppID, lever.NewNote{Value: "Qualified"}); err != nil {
		t.Fatal(err)
	}
	notes, err := c.ListNotes(ctx, oppID)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 2 || notes[0].ID != first || notes[0].Value() != "Invitation sent" ||
		notes[0].User != users[0].ID || notes[1].Value() != "Qualified" || notes[1].User != "" {
		t.Fatalf("notes = %+v", notes)
	}

	moved, err := c.ChangeStage(ctx, oppID, lever.StageOffer)
	if err != nil {
		t.Fatal(err)
	}
	if moved.Stage.ID != lever.StageOffer || len(moved.StageChanges) != 2 {
		t.Fatalf("after stage change: %+v", moved)
	}

	state, ok := sb.Opportunity(oppID)
	if !ok || state.Stage != lever.StageOffer || !slices.Equal(state.Tags, []string{"CP-InProg"}) ||
		len(state.Notes) != 2 || state.Notes[0].Value != "Qualified" {
		t.Fatalf("sandbox state = %+v", state)
	}

	hook, err := c.CreateWebhook(ctx, lever.NewWebhook{URL: "http://127.0.0.1:1/hook", Event: lever.EventApplicationCreated})
	if err != nil {
		t.Fatal(err)
	}
	if hook.ID == "" || hook.Configuration.SignatureToken == "" {
		t.Fatalf("created webhook = %+v", hook)
	}
	hooks, err := c.ListWebhooks(ctx)
	if err != nil || len(hooks) != 1 || hooks[0].ID != hook.ID || hooks[0].Event != lever.EventApplicationCreated {
		t.Fatalf("list webhooks: %v %+v", err, hooks)
	}
	if err := c.DeleteWebhook(ctx, hook.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteWebhook(ctx, hook.ID); !errors.Is(err, lever.ErrNotFound) || !errors.Is(err, lever.ErrPermanent) {
		t.Fatalf("second delete: %v", err)
	}
}

// TestPostingsAcrossPages lists five postings two at a time: three pages,
// with the opaque next token passed back unchanged.
func TestPostingsAcrossPages(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, leversandbox.Options{})
	c, err := lever.New(sb.config(), lever.APIKeyAuth(sb.APIKey()))
	if err != nil {
		t.Fatal(err)
	}
	before := sb.Stats().Requests
	ps, err := c.ListPostings(context.Background(), lever.ListPostingsOptions{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 5 {
		t.Fatalf("got %d postings, want 5", len(ps))
	}
	if pages := sb.Stats().Requests - before; pages != 3 {
		t.Fatalf("took %d requests, want 3 pages", pages)
	}
	seen := map[string]bool{}
	for _, p := range ps {
		if seen[p.ID] || p.Text == "" {
			t.Fatalf("bad or duplicate posting %+v", p)
		}
		seen[p.ID] = true
	}
	published, err := c.ListPostings(context.Background(), lever.ListPostingsOptions{States: []string{"published", "internal"}, PageSize: 1})
	if err != nil || len(published) != 4 {
		t.Fatalf("published+internal: %v (%d)", err, len(published))
	}
}

func TestAPIKeyAuth(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, leversandbox.Options{})
	cases := []struct {
		name    string
		key     string
		wantErr error
	}{
		{"valid key", sb.APIKey(), nil},
		{"minted key", sb.MintAPIKey(), nil},
		{"wrong key", "nope", lever.ErrAuthLost},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := lever.New(sb.config(), lever.APIKeyAuth(tc.key))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ListStages(context.Background())
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestAuthorizeDenied(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, leversandbox.Options{})
	cb := consent(t, lever.NewOAuth(sb.config()), "st", "deny")
	if cb.Query().Get("error") != "access_denied" || cb.Query().Get("state") != "st" || cb.Query().Get("code") != "" {
		t.Fatalf("callback = %s", cb)
	}
}

func TestAuthCodeURL(t *testing.T) {
	t.Parallel()
	o := lever.NewOAuth(lever.Config{ClientID: "cid", RedirectURL: "https://winnow.example/cb"})
	u := o.AuthCodeURL("xyz")
	for _, want := range []string{
		"https://auth.lever.co/authorize?", "audience=https%3A%2F%2Fapi.lever.co%2Fv1%2F",
		"client_id=cid", "state=xyz", "response_type=code", "offline_access", "prompt=consent",
	} {
		if !strings.Contains(u, want) {
			t.Errorf("authorize URL %s lacks %s", u, want)
		}
	}
}

// TestConcurrentRefresh: ten callers meet an expired token; exactly one
// refresh happens, its rotated token is persisted once, and everyone
// carries on with the new access token.
func TestConcurrentRefresh(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, leversandbox.Options{})
	cfg := sb.config()
	o := lever.NewOAuth(cfg)
	tok := mustToken(t, o)
	tok.Expiry = time.Now().Add(-time.Minute) // as if stored an hour ago
	store := &tokenStore{}
	ts := o.TokenSource(tok, store.persist)
	c, err := lever.New(cfg, lever.BearerAuth(ts))
	if err != nil {
		t.Fatal(err)
	}
	before := sb.Stats().Refreshes

	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() {
			if _, err := c.ListStages(context.Background()); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("caller failed: %v", err)
	}
	if n := sb.Stats().Refreshes - before; n != 1 {
		t.Fatalf("sandbox saw %d refreshes, want 1", n)
	}
	if store.count() != 1 || store.saved[0].RefreshToken == tok.RefreshToken {
		t.Fatalf("persisted %d tokens (want 1 with a rotated refresh token)", store.count())
	}
	if _, err := c.ListUsers(context.Background(), ""); err != nil {
		t.Fatalf("after refresh: %v", err)
	}
}

// TestRevokeMeansAuthLost: after "Revoke access" the API answers 401 and
// the refresh answers invalid_grant; both surface as ErrAuthLost.
func TestRevokeMeansAuthLost(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, leversandbox.Options{})
	cfg := sb.config()
	o := lever.NewOAuth(cfg)
	tok := mustToken(t, o)
	live, err := lever.New(cfg, lever.BearerAuth(o.TokenSource(tok, nil)))
	if err != nil {
		t.Fatal(err)
	}
	expiredTok := *tok
	expiredTok.Expiry = time.Now().Add(-time.Second)
	expired, err := lever.New(cfg, lever.BearerAuth(o.TokenSource(&expiredTok, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := live.ListStages(context.Background()); err != nil {
		t.Fatal(err)
	}
	sb.control(t, http.MethodPost, "/_sandbox/revoke", nil, nil)

	cases := []struct {
		name string
		c    *lever.Client
	}{
		{"access token answers 401", live},
		{"refresh answers invalid_grant", expired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.c.ListStages(context.Background())
			if !errors.Is(err, lever.ErrAuthLost) {
				t.Fatalf("err = %v, want ErrAuthLost", err)
			}
			if errors.Is(err, lever.ErrTransient) || errors.Is(err, lever.ErrPermanent) {
				t.Fatalf("err %v also classified otherwise", err)
			}
		})
	}
}

// TestRetries covers which calls are repeated after a 503.
func TestRetries(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		failNext int
		call     func(c *lever.Client, oppID string) error
		wantErr  error
		want503s int
	}{
		{"read retried until it succeeds", 2, func(c *lever.Client, _ string) error {
			_, err := c.ListStages(context.Background())
			return err
		}, nil, 2},
		{"read gives up after MaxAttempts", 10, func(c *lever.Client, _ string) error {
			_, err := c.ListStages(context.Background())
			return err
		}, lever.ErrTransient, 4},
		{"stage change retried", 1, func(c *lever.Client, id string) error {
			_, err := c.ChangeStage(context.Background(), id, lever.StageOffer)
			return err
		}, nil, 1},
		{"tags retried", 1, func(c *lever.Client, id string) error {
			_, err := c.AddTags(context.Background(), id, []string{"x"})
			return err
		}, nil, 1},
		{"note not retried after 5xx", 1, func(c *lever.Client, id string) error {
			_, err := c.AddNote(context.Background(), id, lever.NewNote{Value: "n"})
			return err
		}, lever.ErrTransient, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := startSandbox(t, leversandbox.Options{})
			c, err := lever.New(sb.config(), lever.APIKeyAuth(sb.APIKey()))
			if err != nil {
				t.Fatal(err)
			}
			oppID := sb.mustApply(t, c, "Ann", "ann@example.com")
			sb.control(t, http.MethodPost, "/_sandbox/faults", map[string]int{"failNext": tc.failNext}, nil)
			before := sb.Stats().ByStatus["503"]
			err = tc.call(c, oppID)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if n := sb.Stats().ByStatus["503"] - before; n != tc.want503s {
				t.Fatalf("sandbox answered 503 %d times, want %d", n, tc.want503s)
			}
		})
	}
}

// TestTimeoutAfterWrite: the sandbox stores a note and never answers; the
// client reports a transient error without writing the note again.
func TestTimeoutAfterWrite(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, leversandbox.Options{})
	cfg := sb.config()
	cfg.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond}
	c, err := lever.New(cfg, lever.APIKeyAuth(sb.APIKey()))
	if err != nil {
		t.Fatal(err)
	}
	oppID := sb.mustApply(t, c, "Tim", "tim@example.com")
	sb.control(t, http.MethodPost, "/_sandbox/faults", map[string]float64{"timeoutAfterWriteRate": 1}, nil)
	_, err = c.AddNote(context.Background(), oppID, lever.NewNote{Value: "maybe stored"})
	if !errors.Is(err, lever.ErrTransient) {
		t.Fatalf("err = %v, want ErrTransient", err)
	}
	state, _ := sb.Opportunity(oppID)
	if len(state.Notes) != 1 {
		t.Fatalf("sandbox has %d notes, want exactly the 1 stored before the timeout", len(state.Notes))
	}
}

// TestLimiterAvoids429 sends 200 calls from 20 goroutines through a
// shared limiter slightly under the sandbox's own limit: the sandbox never
// answers 429. Rates are scaled up (100/s) so the test stays fast.
func TestLimiterAvoids429(t *testing.T) {
	t.Parallel()
	// The client paces at half the server's rate: with 20 callers at most 20 requests are
	// ever in flight, which a full server bucket of 20 absorbs however the scheduler
	// bunches them, and at half the rate the server's bucket is full again between bunches.
	sb := startSandbox(t, leversandbox.Options{RateLimit: 100, RateBurst: 20})
	reg := lever.NewLimiters(50, 5)
	cfg := sb.config()
	cfg.Limiter = reg.For("account-1")
	cfg.Retry.MaxAttempts = 1 // a 429 would surface as an error
	c, err := lever.New(cfg, lever.APIKeyAuth(sb.APIKey()))
	if err != nil {
		t.Fatal(err)
	}
	other, err := lever.New(cfg, lever.APIKeyAuth(sb.APIKey())) // same account, same limiter
	if err != nil {
		t.Fatal(err)
	}
	if reg.For("account-1") != cfg.Limiter || reg.For("account-2") == cfg.Limiter {
		t.Fatal("registry does not share limiters per account")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for g := range 20 {
		cl := c
		if g%2 == 1 {
			cl = other
		}
		wg.Go(func() {
			for range 10 {
				if _, err := cl.ListStages(context.Background()); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("call failed: %v", err)
	}
	if st := sb.Stats(); st.RateLimited != 0 || st.Requests < 200 {
		t.Fatalf("sandbox stats %+v: want 200+ requests and no 429", st)
	}
}

// TestRateLimitedClassified: without pacing, the sandbox's 429 surfaces
// as ErrRateLimited once retries are used up.
func TestRateLimitedClassified(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, leversandbox.Options{RateLimit: 0.001, RateBurst: 1})
	cfg := sb.config()
	cfg.Retry.MaxAttempts = 2
	c, err := lever.New(cfg, lever.APIKeyAuth(sb.APIKey()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListStages(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err = c.ListStages(context.Background())
	var apiErr *lever.APIError
	if !errors.Is(err, lever.ErrRateLimited) || !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.Code == "" {
		t.Fatalf("err = %v, want ErrRateLimited with Lever's code", err)
	}
}

// TestRetryAfter: a Retry-After longer than MaxRetryAfter is handed to the
// caller at once; a short one is waited out.
func TestRetryAfter(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		retryAfter string
		wantCalls  int
		wantErr    error
	}{
		{"too long: returned to caller", "120", 1, lever.ErrRateLimited},
		{"short: waited and retried", "0", 2, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			calls := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				calls++
				n := calls
				mu.Unlock()
				if n == 1 {
					w.Header().Set("Retry-After", tc.retryAfter)
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				_, _ = w.Write([]byte(`{"data":[],"hasNext":false}`))
			}))
			t.Cleanup(srv.Close)
			c, err := lever.New(lever.Config{
				APIURL: srv.URL + "/v1", Limiter: rate.NewLimiter(rate.Inf, 0),
				Retry: lever.Retry{BaseDelay: time.Millisecond, MaxRetryAfter: time.Minute},
			}, lever.APIKeyAuth("k"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ListStages(context.Background())
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			var apiErr *lever.APIError
			if tc.wantErr != nil && (!errors.As(err, &apiErr) || apiErr.RetryAfter != 120*time.Second) {
				t.Fatalf("RetryAfter not reported: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if calls != tc.wantCalls {
				t.Fatalf("server saw %d calls, want %d", calls, tc.wantCalls)
			}
		})
	}
}

// TestRedirectAuthorization: the Authorization header follows a redirect
// only to trusted hosts (Lever's own, for EU accounts).
func TestRedirectAuthorization(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		trust    bool
		wantAuth bool
	}{
		{"trusted host keeps header", true, true},
		{"other host drops header", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var gotAuth string
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				gotAuth = r.Header.Get("Authorization")
				mu.Unlock()
				_, _ = w.Write([]byte(`{"data":[{"id":"offer","text":"Offer"}],"hasNext":false}`))
			}))
			t.Cleanup(target.Close)
			origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+r.URL.RequestURI(), http.StatusMovedPermanently)
			}))
			t.Cleanup(origin.Close)
			targetHost := strings.TrimPrefix(target.URL, "http://")
			c, err := lever.New(lever.Config{
				APIURL: origin.URL + "/v1", Limiter: rate.NewLimiter(rate.Inf, 0),
				TrustRedirect: func(host string) bool { return tc.trust && host == targetHost },
			}, lever.APIKeyAuth("secret-key"))
			if err != nil {
				t.Fatal(err)
			}
			stages, err := c.ListStages(context.Background())
			if err != nil || len(stages) != 1 {
				t.Fatalf("list stages via redirect: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if (gotAuth != "") != tc.wantAuth {
				t.Fatalf("Authorization at target = %q, want present=%v", gotAuth, tc.wantAuth)
			}
		})
	}
}

// TestPermanentErrorCarriesLeverCode: an unknown opportunity is a
// permanent ErrNotFound with Lever's code and message.
func TestPermanentErrorCarriesLeverCode(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, leversandbox.Options{})
	c, err := lever.New(sb.config(), lever.APIKeyAuth(sb.APIKey()))
	if err != nil {
		t.Fatal(err)
	}
	before := sb.Stats().Requests
	_, err = c.GetOpportunity(context.Background(), "no-such-id")
	var apiErr *lever.APIError
	if !errors.Is(err, lever.ErrNotFound) || !errors.As(err, &apiErr) || apiErr.Code != "ResourceNotFound" || apiErr.Message == "" {
		t.Fatalf("err = %v", err)
	}
	if n := sb.Stats().Requests - before; n != 1 {
		t.Fatalf("permanent error was sent %d times, want 1", n)
	}
	_, err = c.ChangeStage(context.Background(), "no-such-id", "offer")
	if !errors.Is(err, lever.ErrPermanent) {
		t.Fatalf("change stage: %v", err)
	}
}
