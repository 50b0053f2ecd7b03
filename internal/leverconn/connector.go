// Package leverconn connects orgs to their Lever accounts: it builds a Lever API
// client for an org from the connection stored for it, with OAuth tokens that are
// refreshed at most once at a time per connection across every process sharing the
// database, and a rate limiter shared by everything that talks to the same account.
// It sits between internal/lever, which knows nothing of the database, and the store.
package leverconn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"winnow"
	"winnow/internal/keyring"
	"winnow/internal/lever"
)

// Store is what the connector needs from the database; *sqlstore.Store implements it,
// and its methods of the same names document each.
type Store interface {
	FindLeverConnection(ctx context.Context, orgID string) (*winnow.LeverConnection, error)
	ClaimLeverRefresh(ctx context.Context, orgID, owner string, until time.Time) (*winnow.LeverConnection, bool, error)
	StoreLeverTokens(ctx context.Context, orgID, owner, access, refresh string, expiry time.Time) error
	ReleaseLeverRefresh(ctx context.Context, orgID, owner string) error
	MarkLeverNeedsReconnecting(ctx context.Context, orgID, reason string) (bool, error)

	// Connecting, settings and job links.
	EnsureLeverConnection(ctx context.Context, orgID string) (*winnow.LeverConnection, error)
	SaveLeverConnection(ctx context.Context, c *winnow.LeverConnection) error
	SaveLeverSettings(ctx context.Context, c *winnow.LeverConnection) error
	CreateLeverOAuthState(ctx context.Context, st winnow.LeverOAuthState) error
	TakeLeverOAuthState(ctx context.Context, stateHash string) (*winnow.LeverOAuthState, error)
	FindFunnelByID(ctx context.Context, orgID, id string) (*winnow.Funnel, error)
	UpdateFunnel(ctx context.Context, f *winnow.Funnel) error
}

// Sealer encrypts secrets at rest and opens them; *keyring.Keyring is the one Winnow uses.
type Sealer interface {
	Seal(plaintext string) (string, error)
	Open(sealed string) (string, error)
}

// Connector hands out Lever clients for orgs. Build it with New; it is safe for
// concurrent use and meant to be shared by the whole process.
type Connector struct {
	store    Store
	sealer   Sealer
	cfg      lever.Config
	oauth    *lever.OAuth
	limiters *lever.Limiters
	logger   *slog.Logger
	owner    string // this process's name on refresh leases
	clock    winnow.Clock
	baseURL  func() string
	// onReconnect resumes an org's paused Lever work once it is connected again.
	onReconnect func(ctx context.Context, orgID string)

	mu      sync.Mutex
	clients map[string]*orgClient
}

// orgClient is a built client and what it was built from.
type orgClient struct {
	fingerprint string
	client      *lever.Client
}

// Options configure New.
type Options struct {
	Store  Store
	Sealer Sealer
	// Lever says where Lever is (API and OAuth URLs), which OAuth app Winnow is (client
	// id and secret, redirect URL), and the HTTP client and retry policy to use. Its
	// Limiter is ignored: each account gets one from Limiters.
	Lever lever.Config
	// Limiters paces calls per Lever account; nil means Lever's documented rate.
	Limiters *lever.Limiters
	Logger   *slog.Logger
	// BaseURL returns the public URL of this server, under which the OAuth callback
	// (winnow.LeverOAuthCallbackPath) and the webhook URLs live. It is a function
	// because serve learns the URL only once it listens. nil means Lever.RedirectURL is
	// the callback and webhook URLs cannot be made (registration is skipped).
	BaseURL func() string
	// OnReconnect, when set, is called after an org whose connection needed
	// reconnecting is connected again, to resume its paused Lever work at once.
	OnReconnect func(ctx context.Context, orgID string)
	// Clock stamps connections and OAuth states; nil means the system clock.
	Clock winnow.Clock
}

// New returns a connector.
func New(o Options) *Connector {
	if o.Limiters == nil {
		o.Limiters = lever.NewLimiters(0, 0)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = winnow.SystemClock{}
	}
	return &Connector{store: o.Store, sealer: o.Sealer, cfg: o.Lever, oauth: lever.NewOAuth(o.Lever), limiters: o.Limiters,
		logger: o.Logger, owner: keyring.Token()[:16], clients: map[string]*orgClient{}, clock: o.Clock,
		baseURL: o.BaseURL, onReconnect: o.OnReconnect}
}

// OAuth returns the helper for Lever's authorization-code flow of Winnow's app.
func (c *Connector) OAuth() *lever.OAuth { return c.oauth }

// OAuthConfigured reports whether the server has an OAuth app for Lever (a client id and
// secret); without one, admins connect with an API key.
func (c *Connector) OAuthConfigured() bool { return c.cfg.ClientID != "" && c.cfg.ClientSecret != "" }

// Client returns a Lever client for the org and its connection as stored now. It is
// built once per connection and rebuilt when the org reconnects. An org whose
// connection is not active (never connected, or disconnected) gets ECONFLICT.
func (c *Connector) Client(ctx context.Context, orgID string) (*lever.Client, *winnow.LeverConnection, error) {
	conn, err := c.store.FindLeverConnection(ctx, orgID)
	if winnow.ErrorCode(err) == winnow.ENOTFOUND || (err == nil && !conn.Active()) {
		return nil, conn, winnow.Errorf(winnow.ECONFLICT, "Lever is not connected.")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load lever connection: %w", err)
	}
	fp := fingerprint(conn)
	c.mu.Lock()
	oc := c.clients[orgID]
	c.mu.Unlock()
	if oc != nil && oc.fingerprint == fp {
		return oc.client, conn, nil
	}
	client, err := c.build(conn)
	if err != nil {
		return nil, conn, err
	}
	c.mu.Lock()
	if cur := c.clients[orgID]; cur != nil && cur.fingerprint == fp {
		client = cur.client // another caller built it meanwhile: share one token source
	} else {
		c.clients[orgID] = &orgClient{fingerprint: fp, client: client}
	}
	c.mu.Unlock()
	return client, conn, nil
}

// Take takes the turn of the org's next Lever call in its account's rate budget if it
// comes within hold (lever.Client.Take): the returned context carries it to the call,
// and release gives it back if no call was made. When the turn is further off, ok is
// false and later is how long to put the job off. It reads only the client this
// process built already (none yet: ok, and the call waits as usual), so that a worker
// may ask before every call without touching the database.
func (c *Connector) Take(ctx context.Context, orgID string, hold time.Duration) (_ context.Context, release func(), later time.Duration, ok bool) {
	c.mu.Lock()
	oc := c.clients[orgID]
	c.mu.Unlock()
	if oc == nil {
		return ctx, func() {}, 0, true
	}
	return oc.client.Take(ctx, hold)
}

// TakeNew is Take for new work: the read that starts a new candidate, which gives way
// to the writes of candidates already begun (lever.Budget.TakeNew).
func (c *Connector) TakeNew(ctx context.Context, orgID string, hold time.Duration) (_ context.Context, release func(), later time.Duration, ok bool) {
	c.mu.Lock()
	oc := c.clients[orgID]
	c.mu.Unlock()
	if oc == nil {
		return ctx, func() {}, 0, true
	}
	return oc.client.TakeNew(ctx, hold)
}

// Forget drops the org's cached client, after a disconnection.
func (c *Connector) Forget(orgID string) {
	c.mu.Lock()
	delete(c.clients, orgID)
	c.mu.Unlock()
}

// NeedsReconnecting records that Lever refused the org's credentials; the org's Lever
// work pauses until an admin reconnects. Calling it again changes nothing.
func (c *Connector) NeedsReconnecting(ctx context.Context, orgID, reason string) error {
	changed, err := c.store.MarkLeverNeedsReconnecting(ctx, orgID, reason)
	if err != nil {
		return fmt.Errorf("mark lever connection: %w", err)
	}
	if changed {
		c.logger.WarnContext(ctx, "lever connection needs reconnecting", "org_id", orgID, "reason", reason)
	}
	c.Forget(orgID)
	return nil
}

// fingerprint changes whenever the connection's credentials are replaced (a new OAuth
// grant or API key), but not when its tokens are refreshed.
func fingerprint(conn *winnow.LeverConnection) string {
	connected := ""
	if conn.ConnectedAt != nil {
		connected = conn.ConnectedAt.UTC().Format(time.RFC3339Nano)
	}
	return string(conn.Mode) + "|" + string(conn.State) + "|" + conn.APIKey + "|" + connected
}

// build makes the client for conn: Basic auth with the API key, or bearer tokens shared
// across processes for OAuth; paced by the account's limiter.
func (c *Connector) build(conn *winnow.LeverConnection) (*lever.Client, error) {
	cfg := c.cfg
	var creds lever.Credentials
	account := conn.AccountID
	switch conn.Mode {
	case winnow.LeverAPIKey:
		key, err := c.sealer.Open(conn.APIKey)
		if err != nil {
			return nil, fmt.Errorf("open lever api key: %w", err)
		}
		creds, account = lever.APIKeyAuth(key), keyAccount(key)
	case winnow.LeverOAuth:
		creds = lever.BearerAuth(&sharedTokens{c: c, orgID: conn.OrgID})
		if account == "" {
			account = "org:" + conn.OrgID
		}
	default:
		return nil, fmt.Errorf("lever connection of org %s has no mode", conn.OrgID)
	}
	cfg.Limiter = c.limiters.For(account)
	if cfg.Logger == nil {
		cfg.Logger = c.logger
	}
	return lever.New(cfg, creds)
}

// keyAccount names the Lever account of an API key for rate limiting (Lever's limit is
// per key) without keeping the key itself.
func keyAccount(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "key:" + hex.EncodeToString(sum[:8])
}
