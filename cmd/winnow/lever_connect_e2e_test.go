package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/time/rate"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/leversandbox"
)

// leverWorld is a real Winnow pointed at a real Lever sandbox over HTTP, with an admin
// of Acme whose email is that of the sandbox's Super Admin (Ada), signed in.
type leverWorld struct {
	m     *Main
	sb    *leversandbox.Server
	sbURL string
	admin *winnow.User
	b     *browser
}

// startLeverWorld starts the sandbox and Winnow on engine e; edit, when set, changes the
// Main before it runs (a fake clock).
func startLeverWorld(t *testing.T, e dbtest.Engine, edit func(*Main)) *leverWorld {
	t.Helper()
	sb, err := leversandbox.New(leversandbox.Options{RateLimit: rate.Inf})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sb)
	t.Cleanup(func() { ts.Close(); sb.Close() })
	env := testEnv(t, e.URL(t))
	env["WINNOW_LEVER_API_URL"], env["WINNOW_LEVER_AUTH_URL"] = ts.URL+"/v1", ts.URL
	env["WINNOW_LEVER_CLIENT_ID"], env["WINNOW_LEVER_CLIENT_SECRET"] = sb.ClientID(), sb.ClientSecret()
	m := mustStartWith(t, env, edit)
	w := &leverWorld{m: m, sb: sb, sbURL: ts.URL, admin: MustUser(t, m, "Acme", "ada@example.com", winnow.RoleAdmin)}
	w.b = signedIn(t, m, w.admin.Email)
	return w
}

// noRedirect is a client for the sandbox that shows every redirect.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// consent starts OAuth in b's session and answers Lever's consent page with decision
// ("accept" or "deny"), returning the callback path (with its query) Lever sends the
// browser back to.
func (w *leverWorld) consent(t *testing.T, b *browser, decision string) string {
	t.Helper()
	s, body, h := b.do("GET", "/settings/integrations/lever/connect", nil, nil)
	authorize := h.Get("Location")
	if s != http.StatusSeeOther || !strings.HasPrefix(authorize, w.sbURL+"/authorize?") {
		t.Fatalf("connect: %d to %q\n%s", s, authorize, body)
	}
	au, _ := url.Parse(authorize)
	q := au.Query()
	if q.Get("audience") != w.sbURL+"/v1/" || q.Get("redirect_uri") != "http://"+w.m.Addr()+winnow.LeverOAuthCallbackPath ||
		!slices.Contains(strings.Fields(q.Get("scope")), "offline_access") || q.Get("state") == "" {
		t.Fatalf("authorize URL: %s", authorize)
	}
	// The sandbox's consent page, as the admin's browser shows it.
	res, err := noRedirect.Get(authorize)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	doc := mustDoc(t, string(page))
	form := url.Values{"decision": {decision}}
	doc.Find(`form[action="/authorize"] input[type=hidden]`).Each(func(_ int, s *goquery.Selection) {
		form.Set(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	if res.StatusCode != 200 || form.Get("state") != q.Get("state") {
		t.Fatalf("consent page: %d\n%s", res.StatusCode, page)
	}
	res, err = noRedirect.PostForm(w.sbURL+"/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || back.Path != winnow.LeverOAuthCallbackPath {
		t.Fatalf("consent answer: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	return back.RequestURI()
}

// connection returns the org's stored connection.
func (w *leverWorld) connection(t *testing.T) *winnow.LeverConnection {
	t.Helper()
	c, err := w.m.Store.FindLeverConnection(context.Background(), w.admin.OrgID)
	if err != nil {
		t.Fatalf("find connection: %v", err)
	}
	return c
}

// open opens a sealed value with the server's keyring.
func (w *leverWorld) open(t *testing.T, sealed string) string {
	t.Helper()
	v, err := w.m.Keyring.Open(sealed)
	if err != nil {
		t.Fatalf("open sealed value: %v", err)
	}
	return v
}

// sandboxUserID returns the id of the sandbox's user with this email.
func (w *leverWorld) sandboxUserID(t *testing.T, email string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", w.sbURL+"/v1/users?email="+url.QueryEscape(email), nil)
	req.SetBasicAuth(w.sb.APIKey(), "")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var v any
	body, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("users: %v %s", err, body)
	}
	id, _ := get(v, "data", 0, "id").(string)
	if id == "" {
		t.Fatalf("no sandbox user %s: %s", email, body)
	}
	return id
}

// panelError is the error the Lever panel shows, "" when none.
func panelError(t *testing.T, body string) string {
	t.Helper()
	return strings.TrimSpace(mustDoc(t, body).Find("#lever .error").First().Text())
}

// TestLeverConnectOAuth connects through the sandbox's consent page (Accept): the
// tokens are stored sealed, the webhooks are registered in the sandbox with the org's
// URL and their signature tokens kept sealed, notes are attributed to the admin's Lever
// user, and the panel says so. Connecting again registers nothing twice; replaying the
// callback is refused and changes nothing.
func TestLeverConnectOAuth(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		w := startLeverWorld(t, e, nil)
		back := w.consent(t, w.b, "accept")
		s, body, h := w.b.do("GET", back, nil, nil)
		if s != http.StatusSeeOther || h.Get("Location") != "/settings/integrations?lever=connected#lever" {
			t.Fatalf("callback: %d to %q\n%s", s, h.Get("Location"), body)
		}
		c := w.connection(t)
		if c.State != winnow.LeverConnected || c.Mode != winnow.LeverOAuth || c.AccountID == "" || c.ConnectedBy != w.admin.ID ||
			c.ConnectedAt == nil || c.TokenExpiry == nil || !slices.Contains(c.Scopes, "webhooks:write:admin") || len(c.MissingScopes()) != 0 {
			t.Fatalf("connection: %+v", c)
		}
		access, refresh := w.open(t, c.AccessToken), w.open(t, c.RefreshToken)
		if access == "" || refresh == "" || strings.Contains(c.AccessToken, access) || strings.Contains(c.RefreshToken, refresh) {
			t.Fatal("tokens are not stored sealed")
		}
		if c.PerformAs != w.sandboxUserID(t, "ada@example.com") || c.PerformAsName != "Ada Admin" || c.PerformAsWarning != "" {
			t.Fatalf("perform as: %q %q %q", c.PerformAs, c.PerformAsName, c.PerformAsWarning)
		}
		hookURL := "http://" + w.m.Addr() + winnow.LeverWebhookPath + "/" + c.OrgKey
		w.checkWebhooks(t, c, hookURL)

		body = mustPage(t, w.b, "/settings/integrations?lever=connected", "Lever is connected.", hookURL)
		doc := mustDoc(t, body)
		if got := strings.TrimSpace(doc.Find("#lever-state").Text()); got != "Connected" {
			t.Fatalf("state on the panel: %q", got)
		}
		if has(t, body, "#lever-missing") || doc.Find("#lever-stage option").Length() < 3 ||
			!strings.Contains(doc.Find("#lever-webhooks").Text(), "candidateDeleted") ||
			doc.Find(`#lever-perform-as option[selected]`).Text() != "Ada Admin (ada@example.com)" {
			t.Fatalf("panel:\n%s", doc.Find("#lever").Text())
		}
		if strings.Contains(body, access) || strings.Contains(body, refresh) || strings.Contains(body, c.AccessToken) {
			t.Fatal("the panel shows a token")
		}

		// The same callback again: refused, nothing changes.
		s, body, _ = w.b.do("GET", back, nil, nil)
		if s != http.StatusUnprocessableEntity || !strings.Contains(panelError(t, body), "unknown or was already used") {
			t.Fatalf("replayed callback: %d %q", s, panelError(t, body))
		}
		if again := w.connection(t); !again.ConnectedAt.Equal(*c.ConnectedAt) || again.AccessToken != c.AccessToken {
			t.Fatal("a replayed callback changed the connection")
		}

		// Connecting again reuses the webhooks: none is created twice.
		if s, body, _ := w.b.do("GET", w.consent(t, w.b, "accept"), nil, nil); s != http.StatusSeeOther {
			t.Fatalf("second connect: %d\n%s", s, body)
		}
		c2 := w.connection(t)
		w.checkWebhooks(t, c2, hookURL)
		for i := range c.Webhooks {
			if c2.Webhooks[i].ID != c.Webhooks[i].ID {
				t.Fatalf("webhook %s recreated", c.Webhooks[i].Event)
			}
		}
	})
}

// checkWebhooks fails unless the sandbox has exactly Winnow's four webhooks at url and
// the connection holds each with its signature token, sealed.
func (w *leverWorld) checkWebhooks(t *testing.T, c *winnow.LeverConnection, url string) {
	t.Helper()
	hooks := w.sb.Webhooks()
	if len(hooks) != len(winnow.LeverWebhookEvents) || len(c.Webhooks) != len(hooks) {
		t.Fatalf("%d webhooks in the sandbox, %d stored: %+v", len(hooks), len(c.Webhooks), hooks)
	}
	for i, h := range hooks {
		stored := c.Webhooks[i]
		if h.URL != url || !h.ViaAPI || h.Event != winnow.LeverWebhookEvents[i] || len(h.Origins) != 6 ||
			stored.ID != h.ID || stored.Event != h.Event || stored.SignatureToken == h.SignatureToken ||
			w.open(t, stored.SignatureToken) != h.SignatureToken {
			t.Fatalf("webhook %d: sandbox %+v, stored %+v", i, h, stored)
		}
	}
}

// TestLeverConnectRefused: Deny at Lever, a state from another session or another
// admin, an expired state, a missing code and a missing state each give a clear message
// on the panel and store nothing.
func TestLeverConnectRefused(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		clock := dbtest.NewClock(time.Now().UTC())
		w := startLeverWorld(t, e, func(m *Main) { m.Clock = clock })
		admin2 := MustUser(t, w.m, "Acme", "rui@example.com", winnow.RoleAdmin)
		nothingStored := func(what string) {
			t.Helper()
			c := w.connection(t)
			if c.State != "" || c.AccessToken != "" || c.RefreshToken != "" || c.ConnectedAt != nil || len(c.Webhooks) != 0 {
				t.Fatalf("%s stored something: %+v", what, c)
			}
			if n := len(w.sb.Webhooks()); n != 0 {
				t.Fatalf("%s registered %d webhooks", what, n)
			}
		}
		cases := []struct {
			name   string
			back   func() (string, *browser) // the callback and who follows it
			status int
			says   string
		}{
			{"deny", func() (string, *browser) { return w.consent(t, w.b, "deny"), w.b }, 422, "You declined access in Lever"},
			{"other session", func() (string, *browser) {
				return w.consent(t, w.b, "accept"), signedIn(t, w.m, w.admin.Email)
			}, 403, "another browser session"},
			{"other admin", func() (string, *browser) {
				return w.consent(t, w.b, "accept"), signedIn(t, w.m, admin2.Email)
			}, 403, "started by someone else"},
			{"expired", func() (string, *browser) {
				back := w.consent(t, w.b, "accept")
				clock.Advance(winnow.LeverOAuthStateTTL + time.Second)
				return back, w.b
			}, 422, "expired"},
			{"no code", func() (string, *browser) {
				back, _ := url.Parse(w.consent(t, w.b, "accept"))
				q := back.Query()
				q.Del("code")
				back.RawQuery = q.Encode()
				return back.RequestURI(), w.b
			}, 422, "no authorization code"},
			{"no state", func() (string, *browser) { return winnow.LeverOAuthCallbackPath + "?code=abc", w.b }, 422, "no state"},
			{"forged state", func() (string, *browser) { return winnow.LeverOAuthCallbackPath + "?code=abc&state=forged", w.b }, 422, "unknown"},
		}
		for _, tc := range cases {
			back, who := tc.back()
			s, body, _ := who.do("GET", back, nil, nil)
			if msg := panelError(t, body); s != tc.status || !strings.Contains(msg, tc.says) || !strings.Contains(msg, "Nothing was changed") {
				t.Fatalf("%s: %d %q, want %d saying %q", tc.name, s, msg, tc.status, tc.says)
			}
			if !has(t, body, "#lever-oauth") {
				t.Fatalf("%s: the panel offers no way to connect again", tc.name)
			}
			nothingStored(tc.name)
		}
	})
}

// TestLeverAPIKey: a key Lever refuses is not stored; a good one connects in API-key
// mode, sealed, with the webhooks registered; a signature token pasted from Lever is
// stored sealed; the qualified stage, tag prefix and perform-as user save; disconnect
// deletes the webhooks in the sandbox and forgets the credentials but keeps the rest.
func TestLeverAPIKey(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		w := startLeverWorld(t, e, nil)
		s, body, _ := w.b.post("/settings/integrations/lever/api-key", url.Values{"api_key": {"sbx_wrong"}})
		if msg := panelError(t, body); s != 422 || !strings.Contains(msg, "Lever did not accept this API key") {
			t.Fatalf("bad key: %d %q", s, msg)
		}
		if c := w.connection(t); c.State != "" || c.APIKey != "" {
			t.Fatalf("a refused key was stored: %+v", c)
		}
		key := w.sb.APIKey()
		mustPost(t, w.b, "/settings/integrations/lever/api-key", url.Values{"api_key": {" " + key + " "}}, "/settings/integrations?lever=key#lever")
		c := w.connection(t)
		if c.State != winnow.LeverConnected || c.Mode != winnow.LeverAPIKey || c.APIKey == key || w.open(t, c.APIKey) != key ||
			c.AccessToken != "" || c.PerformAsName != "Ada Admin" {
			t.Fatalf("api key connection: %+v", c)
		}
		w.checkWebhooks(t, c, "http://"+w.m.Addr()+winnow.LeverWebhookPath+"/"+c.OrgKey)
		if body := mustPage(t, w.b, "/settings/integrations", "API key"); strings.Contains(body, key) || strings.Contains(body, c.APIKey) {
			t.Fatal("the panel shows the key")
		} else if !has(t, body, "#lever-failed") || mustDoc(t, body).Find("#lever-failed tbody tr").Length() != 0 {
			t.Fatal("the panel does not show the (empty) list of failed writes")
		}

		// A signature token pasted from Lever.
		mustPost(t, w.b, "/settings/integrations/lever/signature-token", url.Values{"signature_token": {"pasted-token-1"}},
			"/settings/integrations?lever=token#lever")
		if c := w.connection(t); c.SignatureToken == "pasted-token-1" || w.open(t, c.SignatureToken) != "pasted-token-1" {
			t.Fatal("signature token not stored sealed")
		}
		if s, body, _ := w.b.post("/settings/integrations/lever/signature-token", url.Values{"signature_token": {"two words"}}); s != 422 ||
			!strings.Contains(panelError(t, body), "single word") {
			t.Fatalf("bad signature token: %d %q", s, panelError(t, body))
		}

		// Settings: the stage from Lever's list, a prefix, another Lever user.
		doc := mustDoc(t, mustPage(t, w.b, "/settings/integrations"))
		stage := doc.Find(`#lever-stage option`).Eq(5)
		stageID, stageName := stage.AttrOr("value", ""), stage.Text()
		rui := doc.Find(`#lever-perform-as option:contains("Rui Recruiter")`).AttrOr("value", "")
		mustPost(t, w.b, "/settings/integrations/lever/settings", url.Values{"qualified_stage": {stageID}}, "/settings/integrations?lever=stage#lever")
		mustPost(t, w.b, "/settings/integrations/lever/settings", url.Values{"tag_prefix": {"WN-"}}, "/settings/integrations?lever=prefix#lever")
		mustPost(t, w.b, "/settings/integrations/lever/settings", url.Values{"perform_as": {rui}}, "/settings/integrations?lever=performas#lever")
		c = w.connection(t)
		if stageID == "" || c.QualifiedStageID != stageID || c.QualifiedStageName != stageName || c.TagPrefix != "WN-" ||
			c.PerformAs != rui || c.PerformAsName != "Rui Recruiter" || w.open(t, c.APIKey) != key {
			t.Fatalf("settings: %+v", c)
		}
		for _, bad := range []url.Values{{"qualified_stage": {"no-such-stage"}}, {"perform_as": {"nobody"}}, {"tag_prefix": {strings.Repeat("x", 21)}}} {
			if s, body, _ := w.b.post("/settings/integrations/lever/settings", bad); s != 422 || panelError(t, body) == "" {
				t.Fatalf("bad setting %v: %d", bad, s)
			}
		}
		if got := w.connection(t); got.QualifiedStageID != stageID || got.TagPrefix != "WN-" || got.PerformAs != rui {
			t.Fatalf("a refused setting changed the connection: %+v", got)
		}

		// Disconnect: the webhooks go from the sandbox, the credentials are forgotten,
		// the org key and settings stay.
		mustPost(t, w.b, "/settings/integrations/lever/disconnect", url.Values{}, "/settings/integrations?lever=disconnected#lever")
		if n := len(w.sb.Webhooks()); n != 0 {
			t.Fatalf("%d webhooks left in the sandbox", n)
		}
		d := w.connection(t)
		if d.State != winnow.LeverDisconnected || d.APIKey != "" || d.SignatureToken != "" || d.Webhooks != nil ||
			d.OrgKey != c.OrgKey || d.QualifiedStageID != stageID || d.TagPrefix != "WN-" {
			t.Fatalf("after disconnect: %+v", d)
		}
		mustPage(t, w.b, "/settings/integrations?lever=disconnected", "Lever is disconnected.", "Use this API key")
	})
}

// TestLeverDisconnectWhileLeverDown: a disconnect when Lever does not answer still
// forgets the credentials, and says that the webhooks may be left in Lever.
func TestLeverDisconnectWhileLeverDown(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		w := startLeverWorld(t, e, nil)
		mustPost(t, w.b, "/settings/integrations/lever/api-key", url.Values{"api_key": {w.sb.APIKey()}}, "/settings/integrations?lever=key#lever")
		if err := w.sb.SetFaults(leversandbox.Faults{ErrorRate: 1}); err != nil {
			t.Fatal(err)
		}
		body := mustPage(t, w.b, "/settings/integrations", "Connected")
		if !strings.Contains(mustDoc(t, body).Find("#lever-unreachable").Text(), "could not be reached") {
			t.Fatalf("the panel does not say Lever is unreachable:\n%s", mustDoc(t, body).Find("#lever").Text())
		}
		s, body, _ := w.b.post("/settings/integrations/lever/disconnect", url.Values{})
		warning := mustDoc(t, body).Find("#lever .warning").First().Text()
		if s != 200 || !strings.Contains(warning, "could not delete its 4 webhooks") {
			t.Fatalf("disconnect with Lever down: %d %q", s, warning)
		}
		if c := w.connection(t); c.State != winnow.LeverDisconnected || c.APIKey != "" {
			t.Fatalf("after disconnect: %+v", c)
		}
	})
}

// TestLeverWithoutOAuthApp: a server without a Lever OAuth app offers the API key only,
// with an explanation, and refuses to start OAuth; the admins' reconnect email is a
// template the org edits like the others, with a preview, and jobs have no copy of it.
func TestLeverWithoutOAuthApp(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		w := startLeverWorld(t, e, func(m *Main) { m.Config.LeverClientID, m.Config.LeverClientSecret = "", "" })
		body := mustPage(t, w.b, "/settings/integrations", "Use this API key")
		if !has(t, body, "#lever-no-oauth") || has(t, body, "#lever-oauth") {
			t.Fatal("the panel offers OAuth without an OAuth app")
		}
		s, body, _ := w.b.do("GET", "/settings/integrations/lever/connect", nil, nil)
		if s != http.StatusConflict || !strings.Contains(panelError(t, body), "no Lever OAuth app") {
			t.Fatalf("connect without an app: %d %q", s, panelError(t, body))
		}
		mustPost(t, w.b, "/settings/integrations/lever/api-key", url.Values{"api_key": {w.sb.APIKey()}}, "/settings/integrations?lever=key#lever")

		mustPage(t, w.b, "/settings/emails/lever_reconnect", "Lever needs reconnecting for {{.Company}}")
		// The preview is the editor's frame: the email as sent, with example values.
		doc := mustDoc(t, mustPage(t, w.b, "/settings/emails/lever_reconnect/preview", "Lever needs reconnecting for Acme"))
		if preview := doc.Text(); !strings.Contains(preview, "Lever needs reconnecting for Acme") ||
			!strings.Contains(preview, "http://"+w.m.Addr()+winnow.LeverPanelPath) {
			t.Fatalf("preview:\n%s", preview)
		}
		mustPost(t, w.b, "/settings/emails/lever_reconnect", url.Values{"action": {"save"}, "subject": {"Reconnect Lever, {{.Company}}"},
			"body": {"Please reconnect: {{.Link}} ({{.Reason}})"}}, "/settings/emails/lever_reconnect?saved=1")
		f := MustFunnel(t, w.m, &winnow.Funnel{OrgID: w.admin.OrgID, Title: "Job", Steps: oneQuestion()})
		if s, _ := w.b.get("/jobs/" + f.ID + "/emails/lever_reconnect"); s == http.StatusOK {
			t.Fatal("a job has its own reconnect email")
		}
	})
}

// fakeLeverWrites is a LeverWriteService holding one org's writes, for the panel's
// failed writes until the store implements the service.
type fakeLeverWrites struct {
	mu      sync.Mutex
	writes  []*winnow.LeverWrite
	retried []string
}

func (f *fakeLeverWrites) ListLeverWrites(_ context.Context, orgID string, filter winnow.LeverWriteFilter) ([]*winnow.LeverWrite, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*winnow.LeverWrite
	for _, w := range f.writes {
		if w.OrgID == orgID && (filter.Status == "" || w.Status == filter.Status) {
			out = append(out, w)
		}
	}
	return out, nil
}

func (f *fakeLeverWrites) RetryLeverWrite(_ context.Context, orgID, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, w := range f.writes {
		if w.OrgID == orgID && w.ID == id {
			if w.Status != winnow.LeverWriteFailed {
				return winnow.Errorf(winnow.ECONFLICT, "This write has not failed.")
			}
			w.Status = winnow.LeverWriteQueued
			f.retried = append(f.retried, id)
			return nil
		}
	}
	return winnow.Errorf(winnow.ENOTFOUND, "No such write.")
}

// TestLeverFailedWrites: the panel lists the writes Lever refused, each with Retry,
// which queues it again once; another org's write is not found.
func TestLeverFailedWrites(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		fake := &fakeLeverWrites{}
		w := startLeverWorld(t, e, func(m *Main) { m.LeverWrites = fake })
		fake.writes = []*winnow.LeverWrite{
			{ID: "w1", OrgID: w.admin.OrgID, ApplicantID: "a1", OpportunityID: "o1", Kind: winnow.LeverNote, Status: winnow.LeverWriteFailed,
				LastError: "Lever refused the note: the opportunity is confidential.", UpdatedAt: time.Now()},
			{ID: "w2", OrgID: "another-org", OpportunityID: "o2", Kind: winnow.LeverNote, Status: winnow.LeverWriteFailed},
		}
		doc := mustDoc(t, mustPage(t, w.b, "/settings/integrations"))
		rows := doc.Find("#lever-failed tbody tr")
		if rows.Length() != 1 || !strings.Contains(rows.Text(), "the opportunity is confidential") ||
			rows.Find(`form[action="/settings/integrations/lever/writes/w1/retry"] button`).Length() != 1 {
			t.Fatalf("failed writes:\n%s", doc.Find("#lever-failed").Text())
		}
		mustPost(t, w.b, "/settings/integrations/lever/writes/w1/retry", url.Values{}, "/settings/integrations?lever=retried#lever")
		if s, _, _ := w.b.post("/settings/integrations/lever/writes/w1/retry", url.Values{}); s != http.StatusConflict {
			t.Fatalf("retrying a queued write: %d", s)
		}
		if s, _, _ := w.b.post("/settings/integrations/lever/writes/w2/retry", url.Values{}); s != http.StatusNotFound {
			t.Fatalf("retrying another org's write: %d", s)
		}
		if strings.Join(fake.retried, " ") != "w1" {
			t.Fatalf("retried %v", fake.retried)
		}
		mustPage(t, w.b, "/settings/integrations?lever=retried", "The write is queued again.", "None: every write Lever was sent")
	})
}
