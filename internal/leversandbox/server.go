package leversandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Default OAuth app credentials of the sandbox; RunCommand prints them.
const (
	// DefaultClientID is the OAuth client id the sandbox accepts by default.
	DefaultClientID = "winnow-sandbox"
	// DefaultClientSecret is the matching client secret.
	DefaultClientSecret = "winnow-sandbox-secret"
)

// Options configure a Server. Zero fields get defaults.
type Options struct {
	// ClientID and ClientSecret are the one OAuth app the sandbox knows
	// (defaults DefaultClientID, DefaultClientSecret).
	ClientID, ClientSecret string
	// RedirectURI, if set, is the only accepted OAuth callback; otherwise
	// any http(s) callback on a loopback host is accepted.
	RedirectURI string
	// TokenTTL is the access-token lifetime (default 1h, as Lever).
	TokenTTL time.Duration
	// CodeTTL is the authorization-code lifetime (default 1 minute).
	CodeTTL time.Duration
	// RateLimit and RateBurst set the API's token bucket per account
	// (defaults 10/s, burst 20). rate.Inf switches it off.
	RateLimit rate.Limit
	RateBurst int
	// WebhookRetryGap is the wait before the first webhook retry; each of
	// the 5 retries waits twice as long as the one before (default 5s).
	WebhookRetryGap time.Duration
	// WebhookClient delivers webhooks (default: 10s timeout). Redirects
	// are not followed: a 3xx counts as a failure, as in Lever.
	WebhookClient *http.Client
	// MaxBodyBytes bounds request bodies (default 1 MiB).
	MaxBodyBytes int64
	// HangFor bounds how long a "timeout after write" fault holds the
	// connection before dropping it (default 30s; the client's own timeout
	// usually ends it sooner).
	HangFor time.Duration
	// Now tells the time of the recruiting data: when candidates apply, notes are
	// written (a note dated after it is refused, as in Lever) and stages change. Nil
	// is the wall clock; tests that move a fake clock forward share it here. Tokens
	// and webhook deliveries always run on the wall clock.
	Now func() time.Time
	// StateFile, if set, is loaded at start and rewritten after changes.
	StateFile string
	// Logger receives the sandbox's log lines; nil discards them.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultClientSecret
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = time.Hour
	}
	if o.CodeTTL <= 0 {
		o.CodeTTL = time.Minute
	}
	if o.RateLimit == 0 {
		o.RateLimit = 10
	}
	if o.RateBurst == 0 {
		o.RateBurst = 20
	}
	if o.WebhookRetryGap <= 0 {
		o.WebhookRetryGap = 5 * time.Second
	}
	if o.WebhookClient == nil {
		o.WebhookClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.HangFor <= 0 {
		o.HangFor = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// now is the time of the recruiting data (Options.Now).
func (s *Server) now() time.Time { return s.opts.Now() }

var (
	errNotFound = errors.New("not found")
	errClosed   = errors.New("sandbox is closed")
)

// webhookRetries is how often a failed delivery is repeated: Lever "will
// continue trying to send the webhook five times", read here as the first
// attempt plus 5 retries, 6 attempts in all.
const webhookRetries = 5

// Server is the Lever stand-in. It is an http.Handler; Start serves it on
// an address of its own. Close stops webhook retries and saves state.
type Server struct {
	opts    Options
	log     *slog.Logger
	handler http.Handler
	// limiters are the API's token buckets, one per account (credential.account).
	limiters map[string]*rate.Limiter
	hooks    *http.Client
	pages    *pages

	ctx    context.Context // cancelled by Close; ends deliveries and hangs
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool // set by Close; no new deliveries start
	st     *state
	faults Faults
	stats  Stats

	httpSrv *http.Server
	url     string
}

// New returns a sandbox seeded with stages, users and postings, or loaded
// from opts.StateFile when that file exists.
func New(opts Options) (*Server, error) {
	opts = opts.withDefaults()
	s := &Server{
		opts:     opts,
		log:      opts.Logger,
		limiters: map[string]*rate.Limiter{},
		stats:    Stats{ByStatus: map[string]int{}},
	}
	hc := *opts.WebhookClient
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.hooks = &hc
	s.ctx, s.cancel = context.WithCancel(context.Background())

	if opts.StateFile != "" {
		st, err := loadState(opts.StateFile)
		if err != nil {
			return nil, err
		}
		s.st = st
	}
	if s.st == nil {
		s.st = seedState(time.Now())
	}
	if len(s.st.APIKeys) == 0 {
		s.st.APIKeys = append(s.st.APIKeys, newAPIKey())
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	s.pages = p
	s.handler = s.routes()
	s.saveLocked()
	return s, nil
}

// allow takes a token from the account's bucket, reporting whether there was one.
func (s *Server) allow(account string) bool {
	s.mu.Lock()
	lim, ok := s.limiters[account]
	if !ok {
		lim = rate.NewLimiter(s.opts.RateLimit, s.opts.RateBurst)
		s.limiters[account] = lim
	}
	s.mu.Unlock()
	return lim.Allow()
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Start listens on addr (e.g. "127.0.0.1:0") and serves in the background.
// URL then returns the address in use.
func (s *Server) Start(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s.StartListener(l)
	return nil
}

// StartListener serves on l in the background.
func (s *Server) StartListener(l net.Listener) {
	s.mu.Lock()
	s.url = "http://" + l.Addr().String()
	s.httpSrv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	srv := s.httpSrv
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sandbox serve", "error", err)
		}
	}()
}

// URL returns the base URL after Start, e.g. "http://127.0.0.1:9090".
// WINNOW_LEVER_AUTH_URL is this URL and WINNOW_LEVER_API_URL is URL+"/v1".
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close stops the HTTP server (if started), ends webhook retries and
// hanging requests, waits for them, and saves the state file.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.mu.Lock()
	srv := s.httpSrv
	s.mu.Unlock()
	var err error
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if serr := srv.Shutdown(ctx); serr != nil {
			err = fmt.Errorf("shutdown: %w", serr)
			srv.Close()
		}
	}
	s.wg.Wait()
	s.mu.Lock()
	s.saveLocked()
	s.mu.Unlock()
	return err
}

// saveLocked rewrites the state file, if any. Callers hold s.mu (New runs
// before the server is shared).
func (s *Server) saveLocked() {
	if s.opts.StateFile == "" {
		return
	}
	if err := saveState(s.opts.StateFile, s.st); err != nil {
		s.log.Error("sandbox save state", "error", err)
	}
}

// APIKey returns an API key the sandbox accepts (HTTP Basic, key as user).
func (s *Server) APIKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.APIKeys[0]
}

// MintAPIKey creates and returns a new API key.
func (s *Server) MintAPIKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := newAPIKey()
	s.st.APIKeys = append(s.st.APIKeys, k)
	s.saveLocked()
	return k
}

func newAPIKey() string { return "sbx_" + randomToken(20) }

// ClientID returns the OAuth client id the sandbox accepts.
func (s *Server) ClientID() string { return s.opts.ClientID }

// ClientSecret returns the OAuth client secret the sandbox accepts.
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// Stats counts what the API answered, for tests and the UI.
type Stats struct {
	// Requests counts /v1 requests.
	Requests int `json:"requests"`
	// ByStatus counts /v1 answers by HTTP status code.
	ByStatus map[string]int `json:"byStatus"`
	// RateLimited counts 429 answers.
	RateLimited int `json:"rateLimited"`
	// TokensIssued counts successful token-endpoint answers.
	TokensIssued int `json:"tokensIssued"`
	// Refreshes counts successful refresh_token grants.
	Refreshes int `json:"refreshes"`
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.stats
	c.ByStatus = make(map[string]int, len(s.stats.ByStatus))
	for k, v := range s.stats.ByStatus {
		c.ByStatus[k] = v
	}
	return c
}

// routes builds the one handler for OAuth, API, control API and UI.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	mux.HandleFunc("GET /authorize", s.handleAuthorize)
	mux.HandleFunc("POST /authorize", s.handleAuthorizeDecision)
	mux.HandleFunc("POST /oauth/token", s.handleToken)

	api := http.NewServeMux()
	api.HandleFunc("GET /v1/opportunities/{id}", s.need("opportunities:read:admin", s.apiGetOpportunity))
	api.HandleFunc("POST /v1/opportunities/{id}/addTags", s.need("opportunities:write:admin", s.apiTags(true)))
	api.HandleFunc("POST /v1/opportunities/{id}/removeTags", s.need("opportunities:write:admin", s.apiTags(false)))
	api.HandleFunc("PUT /v1/opportunities/{id}/stage", s.need("opportunities:write:admin", s.apiChangeStage))
	api.HandleFunc("POST /v1/opportunities/{id}/notes", s.need("notes:write:admin", s.apiAddNote))
	api.HandleFunc("GET /v1/opportunities/{id}/notes", s.need("notes:read:admin", s.apiListNotes))
	api.HandleFunc("GET /v1/postings", s.need("postings:read:admin", s.apiListPostings))
	api.HandleFunc("GET /v1/stages", s.need("stages:read:admin", s.apiListStages))
	api.HandleFunc("GET /v1/users", s.need("users:read:admin", s.apiListUsers))
	api.HandleFunc("GET /v1/webhooks", s.need("webhooks:read:admin", s.apiListWebhooks))
	api.HandleFunc("POST /v1/webhooks", s.need("webhooks:write:admin", s.apiCreateWebhook))
	api.HandleFunc("DELETE /v1/webhooks/{id}", s.need("webhooks:write:admin", s.apiDeleteWebhook))
	api.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "ResourceNotFound", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	mux.Handle("/v1/", s.apiMiddleware(api))

	s.controlRoutes(mux)
	s.uiRoutes(mux)

	return http.NewCrossOriginProtection().Handler(mux)
}
