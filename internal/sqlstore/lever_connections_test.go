package sqlstore_test

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"winnow"
	"winnow/internal/sqlstore"
)

// TestLeverConnections runs the Lever connection cases on both engines.
func TestLeverConnections(t *testing.T) {
	runSuite(t, []suiteCase{
		{"RoundTrip", testLeverConnectionRoundTrip},
		{"RefreshLease", testLeverRefreshLease},
		{"NeedsReconnecting", testLeverNeedsReconnecting},
		{"OAuthStates", testLeverOAuthStates},
		{"Isolation", testLeverConnectionIsolation},
		{"SettingsKeepTokens", testLeverSettingsKeepTokens},
		{"PostingFeedsOneOpenJob", testLeverPostingOneOpenJob},
		{"ReconnectEmailsOnce", testLeverReconnectEmailsOnce},
	})
}

func testLeverConnectionRoundTrip(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	_, err := env.Store.FindLeverConnection(ctx, org.ID)
	wantCode(t, err, winnow.ENOTFOUND)
	c, err := env.Store.EnsureLeverConnection(ctx, org.ID)
	if err != nil || len(c.OrgKey) != 32 || c.State != "" || c.TagPrefix != winnow.LeverDefaultTagPrefix {
		t.Fatalf("ensure: %v %+v", err, c)
	}
	again, err := env.Store.EnsureLeverConnection(ctx, org.ID)
	if err != nil || again.OrgKey != c.OrgKey {
		t.Fatalf("ensure twice changed the org key: %v %q %q", err, again.OrgKey, c.OrgKey)
	}
	now := env.Clock.Now().UTC().Truncate(time.Microsecond)
	expiry := now.Add(time.Hour)
	c.Mode, c.State, c.AccountID, c.ConnectedBy, c.ConnectedAt = winnow.LeverOAuth, winnow.LeverConnected, "acct", "user1", &now
	c.Scopes = []string{"offline_access", "notes:write:admin"}
	c.AccessToken, c.RefreshToken, c.TokenExpiry = "sealed-a", "sealed-r", &expiry
	c.Webhooks = []winnow.LeverWebhook{{ID: "w1", Event: winnow.LeverApplicationCreated, SignatureToken: "sealed-s"}}
	c.QualifiedStageID, c.QualifiedStageName, c.TagPrefix = "stage1", "On-site", "WN-"
	c.PerformAs, c.PerformAsName = "u1", "Ada"
	if err := env.Store.SaveLeverConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := env.Store.FindLeverConnectionByKey(ctx, c.OrgKey)
	if err != nil {
		t.Fatal(err)
	}
	if got.Mode != c.Mode || got.State != c.State || got.AccountID != "acct" || len(got.Scopes) != 2 || got.Scopes[1] != "notes:write:admin" ||
		got.AccessToken != "sealed-a" || !got.TokenExpiry.Equal(expiry) || !got.ConnectedAt.Equal(now) || len(got.Webhooks) != 1 ||
		got.Webhooks[0].SignatureToken != "sealed-s" || got.TagPrefix != "WN-" || got.QualifiedStageName != "On-site" || got.PerformAsName != "Ada" {
		t.Fatalf("round trip: %+v", got)
	}
	if err := env.Store.TouchLeverConnection(ctx, org.ID, true, now); err != nil {
		t.Fatal(err)
	}
	if got, _ := env.Store.FindLeverConnection(ctx, org.ID); got.LastVerifiedAt == nil || got.LastWebhookAt != nil {
		t.Fatalf("touch: %+v %+v", got.LastVerifiedAt, got.LastWebhookAt)
	}
	active, err := env.Store.ListActiveLeverConnections(ctx)
	if err != nil || !containsOrg(active, org.ID) {
		t.Fatalf("active: %v %d", err, len(active))
	}
	c.Disconnect(now)
	if err := env.Store.SaveLeverConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, _ = env.Store.FindLeverConnection(ctx, org.ID)
	if got.State != winnow.LeverDisconnected || got.AccessToken != "" || got.Webhooks != nil || got.OrgKey != c.OrgKey || got.QualifiedStageID != "stage1" {
		t.Fatalf("after disconnect: %+v", got)
	}
	if active, _ := env.Store.ListActiveLeverConnections(ctx); containsOrg(active, org.ID) {
		t.Fatal("a disconnected connection is listed as active")
	}
	bad := *got
	bad.TagPrefix = "x\x00"
	wantCode(t, env.Store.SaveLeverConnection(ctx, &bad), winnow.EINVALID)
	_, err = env.Store.EnsureLeverConnection(ctx, "no-such-org")
	wantCode(t, err, winnow.ENOTFOUND)
}

func containsOrg(list []*winnow.LeverConnection, orgID string) bool {
	for _, c := range list {
		if c.OrgID == orgID {
			return true
		}
	}
	return false
}

// testLeverRefreshLease: of many processes asking at once, one holds the refresh lease;
// it passes on after its tokens are stored or it lets go, or when it runs out.
func testLeverRefreshLease(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	c, _ := env.Store.EnsureLeverConnection(ctx, org.ID)
	c.Mode, c.State = winnow.LeverOAuth, winnow.LeverConnected
	if err := env.Store.SaveLeverConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(time.Minute)
	var claimed atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ok, err := env.Store.ClaimLeverRefresh(ctx, org.ID, "p"+string(rune('a'+i)), until)
			if err != nil {
				t.Error(err)
			}
			if ok {
				claimed.Add(1)
			}
		}()
	}
	wg.Wait()
	if claimed.Load() != 1 {
		t.Fatalf("%d processes hold the lease, want 1", claimed.Load())
	}
	// Find the holder, store tokens as it, and see the lease free again.
	var holder string
	for i := range 8 {
		if _, ok, _ := env.Store.ClaimLeverRefresh(ctx, org.ID, "p"+string(rune('a'+i)), until); ok {
			holder = "p" + string(rune('a'+i))
		}
	}
	expiry := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	if err := env.Store.StoreLeverTokens(ctx, org.ID, holder, "a2", "r2", expiry); err != nil {
		t.Fatal(err)
	}
	got, ok, err := env.Store.ClaimLeverRefresh(ctx, org.ID, "other", until)
	if err != nil || !ok || got.AccessToken != "a2" || got.RefreshToken != "r2" || !got.TokenExpiry.Equal(expiry) {
		t.Fatalf("after store: ok=%v %v %+v", ok, err, got)
	}
	if err := env.Store.ReleaseLeverRefresh(ctx, org.ID, "other"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := env.Store.ClaimLeverRefresh(ctx, org.ID, "third", time.Now().Add(-time.Second)); !ok {
		t.Fatal("released lease not free")
	}
	if _, ok, _ := env.Store.ClaimLeverRefresh(ctx, org.ID, "fourth", until); !ok {
		t.Fatal("a lease that ran out should pass on")
	}
}

func testLeverNeedsReconnecting(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	c, _ := env.Store.EnsureLeverConnection(ctx, org.ID)
	c.Mode, c.State = winnow.LeverAPIKey, winnow.LeverConnected
	if err := env.Store.SaveLeverConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	changed, err := env.Store.MarkLeverNeedsReconnecting(ctx, org.ID, "revoked")
	if err != nil || !changed {
		t.Fatalf("first: %v %v", changed, err)
	}
	if changed, _ := env.Store.MarkLeverNeedsReconnecting(ctx, org.ID, "again"); changed {
		t.Fatal("second mark changed the state again")
	}
	got, _ := env.Store.FindLeverConnection(ctx, org.ID)
	if got.State != winnow.LeverNeedsReconnecting || got.StateReason != "revoked" {
		t.Fatalf("state %q %q", got.State, got.StateReason)
	}
	if n := count(t, env, "lever_connections", "org_id = $1 AND incidents = 1", org.ID); n != 1 {
		t.Fatal("the incident was not counted once")
	}
}

func testLeverOAuthStates(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	st := winnow.LeverOAuthState{StateHash: "h1", OrgID: org.ID, UserID: "u1", SessionHash: "s1", ExpiresAt: env.Clock.Now().Add(winnow.LeverOAuthStateTTL)}
	if err := env.Store.CreateLeverOAuthState(ctx, st); err != nil {
		t.Fatal(err)
	}
	got, err := env.Store.TakeLeverOAuthState(ctx, "h1")
	if err != nil || got.OrgID != org.ID || got.SessionHash != "s1" {
		t.Fatalf("take: %v %+v", err, got)
	}
	_, err = env.Store.TakeLeverOAuthState(ctx, "h1")
	wantCode(t, err, winnow.ENOTFOUND)
	st.StateHash = "h2"
	if err := env.Store.CreateLeverOAuthState(ctx, st); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(winnow.LeverOAuthStateTTL + time.Second)
	_, err = env.Store.TakeLeverOAuthState(ctx, "h2")
	wantCode(t, err, winnow.ENOTFOUND)
}

func testLeverConnectionIsolation(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	a, b := mustOrg(t, env), mustOrg(t, env)
	ca, _ := env.Store.EnsureLeverConnection(ctx, a.ID)
	cb, _ := env.Store.EnsureLeverConnection(ctx, b.ID)
	if ca.OrgKey == cb.OrgKey {
		t.Fatal("two orgs share an org key")
	}
	ca.APIKey, ca.Mode, ca.State = "sealed-a", winnow.LeverAPIKey, winnow.LeverConnected
	if err := env.Store.SaveLeverConnection(ctx, ca); err != nil {
		t.Fatal(err)
	}
	if got, _ := env.Store.FindLeverConnection(ctx, b.ID); got.APIKey != "" || got.State != "" {
		t.Fatalf("org B sees org A's connection: %+v", got)
	}
}

// testLeverSettingsKeepTokens: saving settings from a copy read before a refresh keeps
// the refreshed tokens (the old refresh token is spent: writing it back would lose the
// grant) and the state.
func testLeverSettingsKeepTokens(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org := mustOrg(t, env)
	c, _ := env.Store.EnsureLeverConnection(ctx, org.ID)
	c.Mode, c.State, c.AccessToken, c.RefreshToken = winnow.LeverOAuth, winnow.LeverConnected, "old-a", "old-r"
	if err := env.Store.SaveLeverConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.StoreLeverTokens(ctx, org.ID, "", "new-a", "new-r", env.Clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	c.QualifiedStageID, c.QualifiedStageName, c.TagPrefix, c.SignatureToken = "s1", "Screen", "X-", "sealed-sig"
	c.PerformAs, c.PerformAsName, c.PerformAsWarning = "", "", "nobody"
	c.Webhooks = []winnow.LeverWebhook{{ID: "w1", Event: winnow.LeverCandidateDeleted, SignatureToken: "sealed-w"}}
	if err := env.Store.SaveLeverSettings(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, _ := env.Store.FindLeverConnection(ctx, org.ID)
	if got.AccessToken != "new-a" || got.RefreshToken != "new-r" || got.State != winnow.LeverConnected || got.QualifiedStageName != "Screen" ||
		got.TagPrefix != "X-" || got.SignatureToken != "sealed-sig" || got.PerformAsWarning != "nobody" || len(got.Webhooks) != 1 {
		t.Fatalf("after saving settings: %+v", got)
	}
	c.TagPrefix = strings.Repeat("x", winnow.MaxLeverTagPrefixLength+1)
	wantCode(t, env.Store.SaveLeverSettings(ctx, c), winnow.EINVALID)
	other := &winnow.LeverConnection{OrgID: "no-such-org"}
	wantCode(t, env.Store.SaveLeverSettings(ctx, other), winnow.ENOTFOUND)
}

// testLeverPostingOneOpenJob: a posting feeds at most one open job. Creating or
// updating a second open job with it, or opening a draft linked to it, is ECONFLICT
// naming the job that has it; drafts and closed jobs may share it; another org may use
// the same posting ID.
func testLeverPostingOneOpenJob(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	org, org2 := mustOrg(t, env), mustOrg(t, env)
	steps := []winnow.Step{{Kind: winnow.StepQuestions, Questions: []winnow.Question{{Text: "Ready?", Type: winnow.QuestionYesNo}}}}
	job := func(orgID, title string, status winnow.FunnelStatus, posting string) *winnow.Funnel {
		return &winnow.Funnel{OrgID: orgID, Title: title, Status: status, Steps: steps, LeverPostingID: posting}
	}
	a := job(org.ID, "Backend hiring", winnow.FunnelOpen, "p1")
	if err := env.Store.CreateFunnel(ctx, a); err != nil {
		t.Fatal(err)
	}
	named := func(err error) {
		t.Helper()
		wantCode(t, err, winnow.ECONFLICT)
		if !strings.Contains(winnow.ErrorMessage(err), "“Backend hiring”") {
			t.Fatalf("conflict does not name the job: %q", winnow.ErrorMessage(err))
		}
	}
	named(env.Store.CreateFunnel(ctx, job(org.ID, "Second", winnow.FunnelOpen, "p1")))
	b := job(org.ID, "Second", winnow.FunnelOpen, "p2")
	if err := env.Store.CreateFunnel(ctx, b); err != nil {
		t.Fatal(err)
	}
	b.LeverPostingID = "p1"
	named(env.Store.UpdateFunnel(ctx, b))
	c := job(org.ID, "Draft", winnow.FunnelDraft, "p1")
	if err := env.Store.CreateFunnel(ctx, c); err != nil {
		t.Fatalf("a draft may share the posting: %v", err)
	}
	c.Status = winnow.FunnelOpen
	named(env.Store.UpdateFunnel(ctx, c))
	if err := env.Store.CreateFunnel(ctx, job(org2.ID, "Elsewhere", winnow.FunnelOpen, "p1")); err != nil {
		t.Fatalf("another org's job: %v", err)
	}
	a.Status = winnow.FunnelClosed
	if err := env.Store.UpdateFunnel(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.UpdateFunnel(ctx, c); err != nil {
		t.Fatalf("opening the draft once the other job closed: %v", err)
	}
	if got, _ := env.Store.FindFunnelByID(ctx, org.ID, b.ID); got.LeverPostingID != "p2" {
		t.Fatalf("a refused update changed the job: %q", got.LeverPostingID)
	}
}

// testLeverReconnectEmailsOnce: an email to an admin about the org (no applicant) is
// added once per kind, incident and address, however often the effects that add it
// run; the next incident adds one more.
func testLeverReconnectEmailsOnce(t *testing.T, e engine) {
	env := open(t, e)
	org := mustOrg(t, env)
	notice := func(seq int, to string) *winnow.Email {
		return &winnow.Email{OrgID: org.ID, Kind: winnow.EmailLeverReconnect, Seq: seq, To: to, Status: winnow.EmailQueued}
	}
	for range 2 {
		inTx(t, env, func(tx *sqlstore.Tx) error {
			_, err := tx.AddEmails(t.Context(), []*winnow.Email{notice(1, "a@x.test"), notice(1, "b@x.test")})
			return err
		})
	}
	inTx(t, env, func(tx *sqlstore.Tx) error {
		added, err := tx.AddEmails(t.Context(), []*winnow.Email{notice(1, "a@x.test"), notice(2, "a@x.test")})
		if err == nil && (len(added) != 1 || added[0].Seq != 2) {
			t.Errorf("added %d, want only the new incident's", len(added))
		}
		return err
	})
	if n := count(t, env, "emails", "org_id = $1 AND kind = $2", org.ID, string(winnow.EmailLeverReconnect)); n != 3 {
		t.Fatalf("%d reconnect emails, want 3", n)
	}
}
