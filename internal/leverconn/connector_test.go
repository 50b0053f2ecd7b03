package leverconn_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/keyring"
	"winnow/internal/lever"
	"winnow/internal/leverconn"
	"winnow/internal/leversandbox"
	"winnow/internal/sqlstore"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// fixture is a sandbox, a store with one org, and what a connector needs.
type fixture struct {
	sb     *leversandbox.Server
	url    string
	store  *sqlstore.Store
	keys   *keyring.Keyring
	orgID  string
	config lever.Config
}

func newFixture(t *testing.T, e dbtest.Engine, opts leversandbox.Options) *fixture {
	t.Helper()
	opts.RateLimit = rate.Inf
	sb, err := leversandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sb)
	t.Cleanup(func() { ts.Close(); sb.Close() })
	store := sqlstore.NewStore(e.Open(t), nil, nil)
	org := &winnow.Org{Name: "Org " + dbtest.RandomHex(4)}
	if err := store.CreateOrg(t.Context(), org); err != nil {
		t.Fatal(err)
	}
	keys, err := keyring.New(dbtest.RandomHex(32))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{sb: sb, url: ts.URL, store: store, keys: keys, orgID: org.ID, config: lever.Config{
		APIURL: ts.URL + "/v1", AuthURL: ts.URL, ClientID: sb.ClientID(), ClientSecret: sb.ClientSecret(),
		RedirectURL: "http://127.0.0.1:1/callback", RefreshLeeway: time.Second,
		Retry: lever.Retry{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
	}}
}

func (f *fixture) connector() *leverconn.Connector {
	return leverconn.New(leverconn.Options{Store: f.store, Sealer: f.keys, Lever: f.config,
		Limiters: lever.NewLimiters(rate.Inf, 1)})
}

func (f *fixture) seal(t *testing.T, s string) string {
	t.Helper()
	v, err := f.keys.Seal(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// connectOAuth runs Lever's consent flow in the sandbox and stores the tokens as the
// callback would.
func (f *fixture) connectOAuth(t *testing.T) {
	t.Helper()
	o := lever.NewOAuth(f.config)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	u, _ := url.Parse(o.AuthCodeURL("st"))
	form := u.Query()
	form.Set("decision", "accept")
	resp, err := noRedirect.PostForm(u.Scheme+"://"+u.Host+u.Path, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	tok, err := o.Exchange(t.Context(), loc.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.store.EnsureLeverConnection(t.Context(), f.orgID)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	expiry := tok.Expiry
	c.Mode, c.State, c.ConnectedAt, c.AccountID = winnow.LeverOAuth, winnow.LeverConnected, &now, lever.AccountID(tok.AccessToken)
	c.AccessToken, c.RefreshToken, c.TokenExpiry = f.seal(t, tok.AccessToken), f.seal(t, tok.RefreshToken), &expiry
	if err := f.store.SaveLeverConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
}

// TestSharedRefresh: two processes (two connectors on one database) calling Lever at
// once when the access token is due refresh it exactly once, and Lever, which revokes
// a grant whose spent refresh token is used again, keeps answering both.
func TestSharedRefresh(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		f := newFixture(t, e, leversandbox.Options{TokenTTL: 3 * time.Second})
		f.connectOAuth(t)
		procs := []*leverconn.Connector{f.connector(), f.connector()}
		call := func() {
			var wg sync.WaitGroup
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					client, _, err := procs[i%2].Client(t.Context(), f.orgID)
					if err == nil {
						_, err = client.ListStages(t.Context())
					}
					if err != nil {
						t.Errorf("call %d: %v", i, err)
					}
				}()
			}
			wg.Wait()
		}
		call()
		if n := f.sb.Stats().Refreshes; n != 0 {
			t.Fatalf("%d refreshes with a fresh token", n)
		}
		for round := 1; round <= 2; round++ {
			time.Sleep(2100 * time.Millisecond) // within the one-second leeway of expiry (expires_in is whole seconds)
			call()
			if n := f.sb.Stats().Refreshes; n != round {
				t.Fatalf("round %d: %d refreshes, want %d", round, n, round)
			}
		}
		c, err := f.store.FindLeverConnection(t.Context(), f.orgID)
		if err != nil || c.State != winnow.LeverConnected {
			t.Fatalf("connection after refreshes: %v %+v", err, c)
		}
	})
}

// TestRevokedRefresh: when Lever refuses the refresh (access revoked), the connection
// needs reconnecting, once, and the client says its access is lost.
func TestRevokedRefresh(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		f := newFixture(t, e, leversandbox.Options{TokenTTL: 2 * time.Second})
		f.connectOAuth(t)
		conn := f.connector()
		f.sb.Revoke()
		time.Sleep(1100 * time.Millisecond)
		client, _, err := conn.Client(t.Context(), f.orgID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.ListStages(t.Context()); !errors.Is(err, lever.ErrAuthLost) {
			t.Fatalf("after revoke: %v, want ErrAuthLost", err)
		}
		c, _ := f.store.FindLeverConnection(t.Context(), f.orgID)
		if c.State != winnow.LeverNeedsReconnecting || c.StateReason == "" {
			t.Fatalf("state %q %q", c.State, c.StateReason)
		}
		if _, _, err := conn.Client(t.Context(), f.orgID); err != nil {
			t.Fatalf("a connection that needs reconnecting still has a client (its writes pause): %v", err)
		}
	})
}

// TestAPIKeyClient: an API-key connection authenticates with Basic auth; a disconnected
// org has no client; a new key replaces the cached client.
func TestAPIKeyClient(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		f := newFixture(t, e, leversandbox.Options{})
		conn := f.connector()
		_, _, err := conn.Client(t.Context(), f.orgID)
		if winnow.ErrorCode(err) != winnow.ECONFLICT {
			t.Fatalf("never connected: %v", err)
		}
		c, _ := f.store.EnsureLeverConnection(t.Context(), f.orgID)
		now := time.Now()
		c.Mode, c.State, c.ConnectedAt, c.APIKey = winnow.LeverAPIKey, winnow.LeverConnected, &now, f.seal(t, "wrong-key")
		if err := f.store.SaveLeverConnection(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		client, _, err := conn.Client(t.Context(), f.orgID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.ListStages(t.Context()); !errors.Is(err, lever.ErrAuthLost) {
			t.Fatalf("wrong key: %v", err)
		}
		later := now.Add(time.Second)
		c.APIKey, c.ConnectedAt = f.seal(t, f.sb.APIKey()), &later
		if err := f.store.SaveLeverConnection(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		client, _, err = conn.Client(t.Context(), f.orgID)
		if err != nil {
			t.Fatal(err)
		}
		if stages, err := client.ListStages(context.Background()); err != nil || len(stages) == 0 {
			t.Fatalf("right key: %v %d", err, len(stages))
		}
		c.Disconnect(time.Now())
		if err := f.store.SaveLeverConnection(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		if _, _, err := conn.Client(t.Context(), f.orgID); winnow.ErrorCode(err) != winnow.ECONFLICT {
			t.Fatalf("disconnected: %v", err)
		}
	})
}
