package lever

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Default endpoints of Lever production. The app reads WINNOW_LEVER_API_URL
// and WINNOW_LEVER_AUTH_URL and falls back to these.
const (
	// DefaultAPIURL is the base of Lever's Data API.
	DefaultAPIURL = "https://api.lever.co/v1"
	// DefaultAuthURL is the base of Lever's OAuth server (/authorize,
	// /oauth/token).
	DefaultAuthURL = "https://auth.lever.co"
)

// maxResponseBytes bounds how much of a response body the client reads.
const maxResponseBytes = 16 << 20

// Config says where Lever is and how the client behaves. Zero fields get
// defaults; the caller fills it from the environment.
type Config struct {
	// APIURL is the Data API base, e.g. DefaultAPIURL or http://ADDR/v1.
	APIURL string
	// AuthURL is the OAuth server base, e.g. DefaultAuthURL or http://ADDR.
	AuthURL string
	// ClientID and ClientSecret identify Winnow's OAuth app.
	ClientID, ClientSecret string
	// RedirectURL is the OAuth callback registered with Lever.
	RedirectURL string
	// Scopes are requested on authorize; empty means DefaultScopes.
	Scopes []string
	// Audience is sent on authorize; empty means APIURL + "/" (Lever wants
	// e.g. "https://api.lever.co/v1/").
	Audience string
	// HTTPClient makes every request; nil means a client with a 30s timeout.
	// The client is copied and given its own redirect policy.
	HTTPClient *http.Client
	// Limiter paces requests; share one per Lever account (see Limiters). A
	// *Budget also hears of every 429, to slow the account down. nil means a
	// private Budget at BudgetRate. Pass rate.NewLimiter(rate.Inf, 0) to switch
	// pacing off.
	Limiter Pacer
	// Retry configures retries of rate-limited and transient failures.
	Retry Retry
	// RefreshLeeway is how long before expiry an access token is refreshed
	// (default 5 minutes).
	RefreshLeeway time.Duration
	// TrustRedirect reports whether a redirect target host (host[:port])
	// may receive the Authorization header; nil means IsLeverHost.
	TrustRedirect func(host string) bool
	// Logger receives debug lines about retries; nil discards them.
	Logger *slog.Logger
	// UserAgent is sent on every request (default "winnow").
	UserAgent string
}

func (c Config) withDefaults() Config {
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	if c.AuthURL == "" {
		c.AuthURL = DefaultAuthURL
	}
	if len(c.Scopes) == 0 {
		c.Scopes = DefaultScopes
	}
	if c.Audience == "" {
		c.Audience = c.APIURL + "/"
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if c.Limiter == nil {
		c.Limiter = NewBudget(BudgetRate, BudgetBurst)
	}
	c.Retry = c.Retry.withDefaults()
	if c.RefreshLeeway <= 0 {
		c.RefreshLeeway = 5 * time.Minute
	}
	if c.TrustRedirect == nil {
		c.TrustRedirect = IsLeverHost
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.UserAgent == "" {
		c.UserAgent = "winnow"
	}
	return c
}

// IsLeverHost reports whether host (with or without port) is lever.co or one
// of its subdomains, such as api.eu.lever.co for EU accounts.
func IsLeverHost(host string) bool {
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "lever.co" || strings.HasSuffix(host, ".lever.co")
}

// Client calls Lever's Data API for one account. It is safe for concurrent
// use; create one per connection and reuse it.
type Client struct {
	cfg   Config
	base  *url.URL
	hc    *http.Client
	creds Credentials
}

// New returns a client for the account that creds belong to.
func New(cfg Config, creds Credentials) (*Client, error) {
	if creds == nil {
		return nil, errors.New("lever: no credentials")
	}
	cfg = cfg.withDefaults()
	base, err := url.Parse(cfg.APIURL)
	if err != nil {
		return nil, fmt.Errorf("parse api url: %w", err)
	}
	hc := *cfg.HTTPClient
	c := &Client{cfg: cfg, base: base, hc: &hc, creds: creds}
	hc.CheckRedirect = c.checkRedirect
	return c, nil
}

// checkRedirect keeps the Authorization header on redirects to trusted
// (Lever) hosts, which Lever uses to route EU accounts, and strips it
// everywhere else.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if c.cfg.TrustRedirect(req.URL.Host) {
		if auth := via[0].Header.Get("Authorization"); auth != "" {
			req.Header.Set("Authorization", auth)
		}
		c.cfg.Logger.Debug("lever redirect", "host", req.URL.Host)
		return nil
	}
	req.Header.Del("Authorization")
	return nil
}

// Take takes the turn of this client's next request in its account's budget if it
// comes within hold (see Budget.Take): the returned context carries it, and release
// gives it back if no request spent it. When the turn is further off, ok is false
// and later is how long to put the job off: workers with other accounts' work to do
// snooze rather than hold a worker while it waits. A pacer other than a Budget
// always says ok.
func (c *Client) Take(ctx context.Context, hold time.Duration) (_ context.Context, release func(), later time.Duration, ok bool) {
	if t, is := c.cfg.Limiter.(taker); is {
		return t.Take(ctx, hold)
	}
	return ctx, func() {}, 0, true
}

// TakeNew is Take for new work, which gives way to work already begun (see
// Budget.TakeNew).
func (c *Client) TakeNew(ctx context.Context, hold time.Duration) (_ context.Context, release func(), later time.Duration, ok bool) {
	if t, is := c.cfg.Limiter.(taker); is {
		return t.TakeNew(ctx, hold)
	}
	return ctx, func() {}, 0, true
}

// call is one logical API call, possibly sent several times.
type call struct {
	method string
	path   string // relative to the API base, starting with "/"
	query  url.Values
	body   any
	out    any
	mode   idempotency
}

// do sends cl, retrying per cl.mode, and decodes the "data" of a 2xx
// response into cl.out.
func (c *Client) do(ctx context.Context, cl call) error {
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return fmt.Errorf("encode %s body: %w", cl.path, err)
		}
	}
	for attempt := 1; ; attempt++ {
		if err := c.cfg.Limiter.Wait(ctx); err != nil {
			return fmt.Errorf("wait for rate limit: %w", err)
		}
		err := c.once(ctx, cl, payload)
		if err == nil {
			return nil
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.Kind == ErrRateLimited {
			if t, ok := c.cfg.Limiter.(throttler); ok {
				t.Throttled(apiErr.RetryAfter)
			}
		}
		if attempt >= c.cfg.Retry.MaxAttempts || !retryable(err, cl.mode) {
			return err
		}
		wait := c.cfg.Retry.delay(attempt)
		if apiErr != nil && apiErr.RetryAfter > 0 {
			if apiErr.RetryAfter > c.cfg.Retry.MaxRetryAfter {
				return err
			}
			wait = max(wait, apiErr.RetryAfter)
		}
		c.cfg.Logger.DebugContext(ctx, "lever retry", "method", cl.method, "path", cl.path,
			"attempt", attempt, "wait", wait, "error", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (gave up waiting to retry: %w)", err, ctx.Err())
		case <-t.C:
		}
	}
}

// once sends one attempt.
func (c *Client) once(ctx context.Context, cl call, payload []byte) error {
	u := *c.base
	u.RawPath = c.base.EscapedPath() + cl.path
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return fmt.Errorf("build path: %w", err)
	}
	u.Path = p
	u.RawQuery = cl.query.Encode()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u.String(), body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := c.creds.authorize(ctx, req); err != nil {
		return err
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	rec := recorderFrom(ctx)
	if err != nil {
		rec.add(cl.method, u.Path, 0, time.Since(start))
		if ctx.Err() != nil {
			return fmt.Errorf("%s %s: %w", cl.method, cl.path, ctx.Err())
		}
		return &APIError{Kind: ErrTransient, Method: cl.method, Path: cl.path, Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	rec.add(cl.method, u.Path, resp.StatusCode, time.Since(start))
	if err != nil {
		return &APIError{Kind: ErrTransient, Method: cl.method, Path: cl.path, StatusCode: resp.StatusCode, Err: fmt.Errorf("read response: %w", err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return responseError(cl, resp, raw)
	}
	if cl.out == nil || len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, cl.out); err != nil {
		return &APIError{Kind: ErrPermanent, Method: cl.method, Path: cl.path, StatusCode: resp.StatusCode, Err: fmt.Errorf("decode response: %w", err)}
	}
	return nil
}

// responseError builds the classified error of a non-2xx response.
func responseError(cl call, resp *http.Response, raw []byte) error {
	e := &APIError{
		Kind:       kindForStatus(resp.StatusCode),
		Method:     cl.method,
		Path:       cl.path,
		StatusCode: resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	var body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &body) == nil && (body.Code != "" || body.Message != "") {
		e.Code, e.Message = body.Code, body.Message
	} else if text := strings.TrimSpace(string(raw)); text != "" {
		e.Message = truncate(text, 200)
	}
	return e
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// envelope is Lever's success body: the payload sits under "data".
type envelope[T any] struct {
	Data T `json:"data"`
}

// page is one page of a list response.
type page[T any] struct {
	Data    []T    `json:"data"`
	HasNext bool   `json:"hasNext"`
	Next    string `json:"next"`
}

// maxPages stops a list that never ends (a server bug) from looping forever.
const maxPages = 10000

// listAll fetches every page of a list endpoint, passing each "next" token
// back unchanged as "offset".
func listAll[T any](ctx context.Context, c *Client, path string, query url.Values, pageSize int) ([]T, error) {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	if pageSize > 0 {
		q.Set("limit", fmt.Sprint(min(pageSize, 100)))
	}
	var all []T
	for range maxPages {
		var p page[T]
		if err := c.do(ctx, call{method: http.MethodGet, path: path, query: q, out: &p}); err != nil {
			return nil, err
		}
		all = append(all, p.Data...)
		if !p.HasNext {
			return all, nil
		}
		if p.Next == "" {
			return nil, &APIError{Kind: ErrPermanent, Method: http.MethodGet, Path: path, Message: "hasNext without a next token"}
		}
		q.Set("offset", p.Next)
	}
	return nil, &APIError{Kind: ErrPermanent, Method: http.MethodGet, Path: path, Message: "too many pages"}
}

// CallOption adjusts one write call.
type CallOption func(url.Values)

// PerformAs attributes a write to the Lever user with the given id (the
// note's author, the stage change's user). Without it Lever records no user.
func PerformAs(userID string) CallOption {
	return func(q url.Values) {
		if userID != "" {
			q.Set("perform_as", userID)
		}
	}
}

func applyOptions(opts []CallOption) url.Values {
	q := url.Values{}
	for _, o := range opts {
		o(q)
	}
	return q
}

// escape makes an id safe to use as one path segment.
func escape(id string) string { return url.PathEscape(id) }
