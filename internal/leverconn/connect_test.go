package leverconn_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/time/rate"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/lever"
	"winnow/internal/leverconn"
	"winnow/internal/leversandbox"
)

// service returns a connector that connects orgs, as serve builds it, with the server
// at base; scopes, when set, are what it asks Lever for.
func (f *fixture) service(base string, scopes []string, onReconnect func(context.Context, string)) *leverconn.Connector {
	cfg := f.config
	cfg.Scopes = scopes
	return leverconn.New(leverconn.Options{Store: f.store, Sealer: f.keys, Lever: cfg, Limiters: lever.NewLimiters(rate.Inf, 1),
		BaseURL: func() string { return base }, OnReconnect: onReconnect})
}

// admin is who connects in these tests: Ada, the sandbox's Super Admin, in one session.
func (f *fixture) admin(email string) winnow.LeverAdmin {
	return winnow.LeverAdmin{OrgID: f.orgID, UserID: "user-1", Email: email, Session: "session-1"}
}

// oauth runs the whole OAuth flow with the sandbox's consent page (Accept).
func (f *fixture) oauth(t *testing.T, c *leverconn.Connector, admin winnow.LeverAdmin) *winnow.LeverConnectResult {
	t.Helper()
	to, err := c.StartLeverOAuth(t.Context(), admin)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(to)
	form := u.Query()
	form.Set("decision", "accept")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(f.url+"/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, _ := url.Parse(resp.Header.Get("Location"))
	res, err := c.FinishLeverOAuth(t.Context(), admin, winnow.LeverCallback{State: back.Query().Get("state"), Code: back.Query().Get("code")})
	if err != nil {
		t.Fatalf("finish oauth: %v", err)
	}
	return res
}

// TestConnectPartialGrant: a grant without webhooks:write:admin and users:read:admin
// connects; the connection says which scopes are missing and what stops working,
// registers no webhook and says so, and attributes notes to no one, with a warning.
func TestConnectPartialGrant(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		f := newFixture(t, e, leversandbox.Options{})
		scopes := slices.DeleteFunc(slices.Clone(lever.DefaultScopes), func(s string) bool {
			return s == "webhooks:write:admin" || s == "users:read:admin"
		})
		c := f.service("http://127.0.0.1:1", scopes, nil)
		res := f.oauth(t, c, f.admin("ada@example.com"))
		conn, _ := f.store.FindLeverConnection(t.Context(), f.orgID)
		var missing []string
		for _, m := range conn.MissingScopes() {
			missing = append(missing, m.Scope)
		}
		if strings.Join(missing, " ") != "webhooks:write:admin users:read:admin" {
			t.Fatalf("missing %v", missing)
		}
		if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "register webhooks") || len(f.sb.Webhooks()) != 0 || conn.Webhooks != nil {
			t.Fatalf("warnings %q, %d webhooks", res.Warnings, len(f.sb.Webhooks()))
		}
		if conn.PerformAs != "" || !strings.Contains(conn.PerformAsWarning, "could not look up your Lever user") {
			t.Fatalf("perform as %q %q", conn.PerformAs, conn.PerformAsWarning)
		}
		if _, err := c.RegisterLeverWebhooks(t.Context(), f.orgID); err != nil {
			t.Fatal(err)
		}
		if len(f.sb.Webhooks()) != 0 {
			t.Fatal("registered webhooks without the scope")
		}
	})
}

// TestConnectFindsNoLeverUser: an admin whose email no active Lever user has gets no
// perform-as user and a warning naming the email; a deactivated user cannot be chosen.
func TestConnectFindsNoLeverUser(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		f := newFixture(t, e, leversandbox.Options{})
		if err := f.sb.DeactivateUser("rui@example.com"); err != nil {
			t.Fatal(err)
		}
		c := f.service("http://127.0.0.1:1", nil, nil)
		for _, email := range []string{"nobody@example.com", "rui@example.com"} {
			f.oauth(t, c, f.admin(email))
			conn, _ := f.store.FindLeverConnection(t.Context(), f.orgID)
			if conn.PerformAs != "" || !strings.Contains(conn.PerformAsWarning, email) {
				t.Fatalf("%s: perform as %q %q", email, conn.PerformAs, conn.PerformAsWarning)
			}
		}
		panel, err := c.LeverPanel(t.Context(), f.orgID)
		if err != nil || panel.Unreachable != "" || len(panel.Users) != 2 {
			t.Fatalf("panel: %v %+v", err, panel)
		}
		none := ""
		if _, err := c.UpdateLeverSettings(t.Context(), f.orgID, winnow.LeverSettings{PerformAs: &none}); err != nil {
			t.Fatalf("clearing perform as: %v", err)
		}
		mina := panel.Users[1].ID
		conn, err := c.UpdateLeverSettings(t.Context(), f.orgID, winnow.LeverSettings{PerformAs: &mina})
		if err != nil || conn.PerformAs != mina || conn.PerformAsName != "Mina Manager" || conn.PerformAsWarning != "" {
			t.Fatalf("choosing Mina: %v %+v", err, conn)
		}
		client, err := lever.New(f.config, lever.APIKeyAuth(f.sb.APIKey()))
		if err != nil {
			t.Fatal(err)
		}
		users, err := client.ListUsers(t.Context(), "rui@example.com")
		if err != nil || len(users) != 1 || users[0].Active() {
			t.Fatalf("rui: %v %+v", err, users)
		}
		if _, err := c.UpdateLeverSettings(t.Context(), f.orgID, winnow.LeverSettings{PerformAs: &users[0].ID}); winnow.ErrorCode(err) != winnow.EINVALID {
			t.Fatalf("choosing a deactivated user: %v", err)
		}
	})
}

// TestRegisterWebhooksIdempotent: registering again keeps Winnow's webhooks; one at the
// org's URL whose token Winnow lost is replaced by one it knows; one deleted in Lever
// is created again.
func TestRegisterWebhooksIdempotent(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		f := newFixture(t, e, leversandbox.Options{})
		c := f.service("http://127.0.0.1:1", nil, nil)
		f.oauth(t, c, f.admin("ada@example.com"))
		first, _ := f.store.FindLeverConnection(t.Context(), f.orgID)
		if len(first.Webhooks) != 4 || len(f.sb.Webhooks()) != 4 {
			t.Fatalf("%d webhooks", len(first.Webhooks))
		}
		// Forget the first webhook's token, as if the row lost it.
		lost := first.Webhooks[0]
		first.Webhooks = first.Webhooks[1:]
		if err := f.store.SaveLeverSettings(t.Context(), first); err != nil {
			t.Fatal(err)
		}
		if w, err := c.RegisterLeverWebhooks(t.Context(), f.orgID); err != nil || len(w) != 0 {
			t.Fatalf("register: %v %q", err, w)
		}
		again, _ := f.store.FindLeverConnection(t.Context(), f.orgID)
		hooks := f.sb.Webhooks()
		if len(hooks) != 4 || len(again.Webhooks) != 4 {
			t.Fatalf("%d in the sandbox, %d stored", len(hooks), len(again.Webhooks))
		}
		for i, h := range again.Webhooks {
			if i > 0 && h.ID != first.Webhooks[i-1].ID {
				t.Fatalf("webhook %s was recreated", h.Event)
			}
			if h.ID == lost.ID {
				t.Fatal("the webhook without a token was kept")
			}
			if !slices.ContainsFunc(hooks, func(x leversandbox.WebhookInfo) bool { return x.ID == h.ID }) {
				t.Fatalf("stored webhook %s is not in Lever", h.ID)
			}
		}
	})
}

// TestReconnectResumes: OnReconnect runs when an org that needed reconnecting connects
// again, and not on a first connection or a reconnection of a working one.
func TestReconnectResumes(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		f := newFixture(t, e, leversandbox.Options{})
		var resumed atomic.Int32
		c := f.service("http://127.0.0.1:1", nil, func(_ context.Context, orgID string) {
			if orgID == f.orgID {
				resumed.Add(1)
			}
		})
		f.oauth(t, c, f.admin("ada@example.com"))
		f.oauth(t, c, f.admin("ada@example.com"))
		if n := resumed.Load(); n != 0 {
			t.Fatalf("resumed %d times without an incident", n)
		}
		if err := c.NeedsReconnecting(t.Context(), f.orgID, "revoked"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ConnectLeverAPIKey(t.Context(), f.admin("ada@example.com"), f.sb.APIKey()); err != nil {
			t.Fatal(err)
		}
		if n := resumed.Load(); n != 1 {
			t.Fatalf("resumed %d times after reconnecting", n)
		}
	})
}

// TestPanelWithLeverDown: the panel shows what is stored when Lever does not answer,
// and a key cannot be checked, so it is not stored.
func TestPanelWithLeverDown(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		f := newFixture(t, e, leversandbox.Options{})
		c := f.service("http://127.0.0.1:1", nil, nil)
		if _, err := c.ConnectLeverAPIKey(t.Context(), f.admin("ada@example.com"), f.sb.APIKey()); err != nil {
			t.Fatal(err)
		}
		if err := f.sb.SetFaults(leversandbox.Faults{ErrorRate: 1}); err != nil {
			t.Fatal(err)
		}
		panel, err := c.LeverPanel(t.Context(), f.orgID)
		if err != nil || !strings.Contains(panel.Unreachable, "could not be reached") || panel.Connection.State != winnow.LeverConnected ||
			len(panel.Connection.Webhooks) != 4 {
			t.Fatalf("panel: %v %+v", err, panel)
		}
		if _, err := c.LeverPostings(t.Context(), f.orgID); winnow.ErrorCode(err) != winnow.EUNAVAILABLE {
			t.Fatalf("postings: %v", err)
		}
		if _, err := c.ConnectLeverAPIKey(t.Context(), f.admin("ada@example.com"), f.sb.MintAPIKey()); winnow.ErrorCode(err) != winnow.EUNAVAILABLE {
			t.Fatalf("key with Lever down: %v", err)
		}
		conn, _ := f.store.FindLeverConnection(t.Context(), f.orgID)
		if key, _ := f.keys.Open(conn.APIKey); key != f.sb.APIKey() {
			t.Fatal("a key Lever could not check replaced the stored one")
		}
	})
}
