package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"golang.org/x/time/rate"

	"winnow"
	"winnow/internal/lever"
	"winnow/internal/leverconn"
	"winnow/internal/leversandbox"
	"winnow/internal/mail/mailtest"
)

// qualifiedStage is the sandbox stage the world's connection moves qualified
// candidates to.
const qualifiedStage = "c2d9f4a7-1e6b-4b38-8f05-7d4e2a9c3b03" // "On-site interview"

// runningClock is the time as it passes, plus however far the test has moved it on:
// workers, the store and the sandbox see one time that keeps running (leases and
// backoffs end by themselves) and that a test moves days ahead to reach a deadline.
type runningClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *runningClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.offset)
}

func (c *runningClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// loopWorld is a real Main connected to a real Lever sandbox over HTTP on 127.0.0.1:
// an org with an admin, a connection made directly in the store, the sandbox's
// webhooks pointing at Main's URL for the org, a posting and the job linked to it, and
// an SMTP server receiving the emails.
type loopWorld struct {
	t       *testing.T
	m       *Main
	sb      *leversandbox.Server
	smtp    *mailtest.Server
	clock   *runningClock
	org     string
	admin   *winnow.User
	posting string
	funnel  *winnow.Funnel
}

// loopWorldOptions say how the world is made.
type loopWorldOptions struct {
	oauth bool          // connect through the sandbox's consent page; else with its API key
	steps []winnow.Step // the job's steps; nil is one plain question
}

func startLoopWorld(t *testing.T, dbURL string, o loopWorldOptions) *loopWorld {
	t.Helper()
	clock := &runningClock{}
	// Lever retries a webhook Winnow did not take 5 times, waiting longer each time: a
	// second, then doubling, lets a Winnow slowed by a loaded machine take it.
	sb, err := leversandbox.New(leversandbox.Options{RateLimit: rate.Inf, WebhookRetryGap: time.Second,
		Now: clock.Now, HangFor: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := sb.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	smtp := mailtest.NewServer(t, mailtest.Options{})
	env := testEnv(t, dbURL)
	env["WINNOW_LEVER_API_URL"] = sb.URL() + "/v1"
	env["WINNOW_LEVER_AUTH_URL"] = sb.URL()
	env["WINNOW_LEVER_CLIENT_ID"] = sb.ClientID()
	env["WINNOW_LEVER_CLIENT_SECRET"] = sb.ClientSecret()
	env["WINNOW_SMTP_URL"] = "smtp://127.0.0.1:" + strconv.Itoa(smtp.Port)
	env["WINNOW_MAIL_FROM"] = "Acme Hiring <jobs@acme.example>"
	m := mustStartWith(t, env, func(m *Main) {
		m.Clock = clock
		m.LeverOptions = func(lo *leverconn.Options) {
			// The sandbox has no rate limit here, so neither has the client; a write
			// the sandbox holds gets a second's patience.
			lo.Limiters = lever.NewLimiters(rate.Inf, 1)
			lo.Lever.HTTPClient = &http.Client{Timeout: time.Second}
			lo.Lever.Retry = lever.Retry{BaseDelay: 5 * time.Millisecond, MaxDelay: 50 * time.Millisecond}
		}
	})
	w := &loopWorld{t: t, m: m, sb: sb, smtp: smtp, clock: clock}
	w.admin = MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
	w.org = w.admin.OrgID
	if o.oauth {
		w.connectOAuth()
	} else {
		w.connect(func(c *winnow.LeverConnection) {
			c.Mode, c.APIKey = winnow.LeverAPIKey, w.seal(sb.APIKey())
		})
	}
	if w.posting, err = sb.CreatePosting(leversandbox.PostingInput{Text: "Backend Engineer"}); err != nil {
		t.Fatal(err)
	}
	steps := o.steps
	if steps == nil {
		steps = oneQuestion()
	}
	w.funnel = MustFunnel(t, m, &winnow.Funnel{OrgID: w.org, Title: "Backend Engineer", Status: winnow.FunnelOpen,
		Team: []string{w.admin.ID}, Steps: steps, LeverPostingID: w.posting})
	return w
}

func (w *loopWorld) seal(s string) string {
	w.t.Helper()
	v, err := w.m.Keyring.Seal(s)
	if err != nil {
		w.t.Fatal(err)
	}
	return v
}

// connect stores the org's connection as connected, with creds setting its
// credentials, and adds in the sandbox (as a Super Admin would in Lever's settings) a
// webhook per event Winnow handles, pointing at the org's URL, whose signature tokens
// it keeps.
func (w *loopWorld) connect(creds func(*winnow.LeverConnection)) {
	w.t.Helper()
	ctx := context.Background()
	c, err := w.m.Store.EnsureLeverConnection(ctx, w.org)
	if err != nil {
		w.t.Fatal(err)
	}
	now := w.clock.Now()
	c.State, c.StateReason, c.ConnectedAt, c.ConnectedBy = winnow.LeverConnected, "", &now, w.admin.ID
	c.QualifiedStageID, c.QualifiedStageName = qualifiedStage, "On-site interview"
	creds(c)
	if len(c.Webhooks) == 0 {
		for _, ev := range winnow.LeverWebhookEvents {
			info, err := w.sb.AddWebhook(leversandbox.WebhookInput{URL: w.m.Config.BaseURL + winnow.LeverWebhookPath + "/" + c.OrgKey, Event: ev})
			if err != nil {
				w.t.Fatal(err)
			}
			c.Webhooks = append(c.Webhooks, winnow.LeverWebhook{ID: info.ID, Event: ev, SignatureToken: w.seal(info.SignatureToken)})
		}
	}
	if err := w.m.Store.SaveLeverConnection(ctx, c); err != nil {
		w.t.Fatal(err)
	}
}

// connectOAuth grants Winnow access on the sandbox's consent page (Accept) and stores
// the tokens as the OAuth callback would, over any connection the org had.
func (w *loopWorld) connectOAuth() {
	w.t.Helper()
	o := lever.NewOAuth(lever.Config{APIURL: w.sb.URL() + "/v1", AuthURL: w.sb.URL(), ClientID: w.sb.ClientID(),
		ClientSecret: w.sb.ClientSecret(), RedirectURL: w.m.Config.BaseURL + winnow.LeverOAuthCallbackPath})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	u, _ := url.Parse(o.AuthCodeURL("state-" + strconv.FormatInt(time.Now().UnixNano(), 36)))
	form := u.Query()
	form.Set("decision", "accept")
	resp, err := noRedirect.PostForm(u.Scheme+"://"+u.Host+u.Path, form)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	tok, err := o.Exchange(context.Background(), loc.Query().Get("code"))
	if err != nil {
		w.t.Fatal(err)
	}
	w.connect(func(c *winnow.LeverConnection) {
		expiry := tok.Expiry
		c.Mode, c.AccountID, c.APIKey = winnow.LeverOAuth, lever.AccountID(tok.AccessToken), ""
		c.AccessToken, c.RefreshToken, c.TokenExpiry = w.seal(tok.AccessToken), w.seal(tok.RefreshToken), &expiry
		c.Scopes = strings.Fields("offline_access opportunities:write:admin notes:write:admin stages:read:admin postings:read:admin webhooks:write:admin users:read:admin")
	})
}

// conn is the org's connection as stored.
func (w *loopWorld) conn() *winnow.LeverConnection {
	w.t.Helper()
	c, err := w.m.Store.FindLeverConnection(context.Background(), w.org)
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

// apply applies in the sandbox and returns the opportunity.
func (w *loopWorld) apply(name, email string) string {
	w.t.Helper()
	a, err := w.sb.Apply(leversandbox.ApplyInput{PostingID: w.posting, Name: name, Email: email})
	if err != nil {
		w.t.Fatal(err)
	}
	return a.OpportunityID
}

// applicant waits for the applicant of opportunity opp and returns it.
func (w *loopWorld) applicant(opp string) *winnow.Applicant {
	w.t.Helper()
	var found *winnow.Applicant
	w.eventually(90*time.Second, func() error {
		list, err := w.m.Store.ListApplicants(context.Background(), w.org, winnow.ApplicantFilter{FunnelID: w.funnel.ID})
		if err != nil {
			return err
		}
		for _, a := range list {
			if a.LeverOpportunityID == opp {
				found = a
				return nil
			}
		}
		return fmt.Errorf("no applicant of opportunity %s yet", opp)
	})
	return found
}

// reload returns a as stored now.
func (w *loopWorld) reload(a *winnow.Applicant) *winnow.Applicant {
	w.t.Helper()
	got, err := w.m.Store.FindApplicantByID(context.Background(), a.OrgID, a.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return got
}

// move applies a transition to a through the store, as a page would.
func (w *loopWorld) move(a *winnow.Applicant, fn func(x *winnow.Applicant, now time.Time) (winnow.Event, error)) *winnow.Applicant {
	w.t.Helper()
	now := w.clock.Now()
	got, err := w.m.Store.TransitionApplicant(context.Background(), a.OrgID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) { return fn(x, now) })
	if err != nil {
		w.t.Fatalf("transition: %v", err)
	}
	return got
}

// settled waits until every write to Lever planned for a is done or otherwise final,
// and returns them, oldest first.
func (w *loopWorld) settled(a *winnow.Applicant) []*winnow.LeverWrite {
	w.t.Helper()
	var writes []*winnow.LeverWrite
	w.eventually(60*time.Second, func() error {
		list, err := w.m.Store.ListLeverWrites(context.Background(), a.OrgID, winnow.LeverWriteFilter{ApplicantID: a.ID, Limit: 1000})
		if err != nil {
			return err
		}
		for _, x := range list {
			if !x.Status.Final() {
				return fmt.Errorf("write %d (%s) is %s: %s (attempts %d)%s", x.Seq, x.Kind, x.Status, x.LastError, x.Attempts, w.jobsOf(x.ID))
			}
		}
		writes = list
		return nil
	})
	for i, j := 0, len(writes)-1; i < j; i, j = i+1, j-1 {
		writes[i], writes[j] = writes[j], writes[i]
	}
	return writes
}

// jobsOf describes the River jobs of the write with this ID, for failure messages.
func (w *loopWorld) jobsOf(writeID string) string {
	res, err := w.m.River.JobList(context.Background(), river.NewJobListParams().Kinds("lever_write").First(10000))
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, j := range res.Jobs {
		if strings.Contains(string(j.EncodedArgs), writeID) {
			fmt.Fprintf(&b, "\n  job %d %s attempt %d scheduled %s errors %d", j.ID, j.State, j.Attempt, j.ScheduledAt.Format(time.RFC3339Nano), len(j.Errors))
			for _, e := range j.Errors {
				fmt.Fprintf(&b, "\n    %s", e.Error)
			}
		}
	}
	return b.String()
}

// lever returns the sandbox's opportunity.
func (w *loopWorld) lever(opp string) leversandbox.OpportunityState {
	w.t.Helper()
	st, ok := w.sb.Opportunity(opp)
	if !ok {
		w.t.Fatalf("no opportunity %s in the sandbox", opp)
	}
	return st
}

// eventually retries check until it passes or timeout runs out.
func (w *loopWorld) eventually(timeout time.Duration, check func() error) {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runDue makes River work every job due by the world's clock, which a test moved
// ahead of River's: scheduled and retryable jobs whose time has come are made
// available, until none is left.
func (w *loopWorld) runDue() {
	w.t.Helper()
	ctx := context.Background()
	for range 50 {
		res, err := w.m.River.JobList(ctx, river.NewJobListParams().
			States(rivertype.JobStateScheduled, rivertype.JobStateRetryable).First(10000))
		if err != nil {
			w.t.Fatal(err)
		}
		due := 0
		for _, j := range res.Jobs {
			if !j.ScheduledAt.After(w.clock.Now()) {
				if _, err := w.m.River.JobRetry(ctx, j.ID); err != nil && !errors.Is(err, river.ErrNotFound) {
					w.t.Fatal(err)
				}
				due++
			}
		}
		if due == 0 {
			return
		}
		w.eventually(30*time.Second, func() error {
			res, err := w.m.River.JobList(ctx, river.NewJobListParams().
				States(rivertype.JobStateAvailable, rivertype.JobStateRunning).First(1))
			if err == nil && len(res.Jobs) > 0 {
				err = errors.New("jobs still running")
			}
			return err
		})
	}
	w.t.Fatal("jobs kept coming due")
}

// noteValues are the opportunity's notes, oldest first.
func noteValues(st leversandbox.OpportunityState) []string {
	out := make([]string, 0, len(st.Notes))
	for i := len(st.Notes) - 1; i >= 0; i-- {
		out = append(out, st.Notes[i].Value)
	}
	return out
}
