package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"html"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"winnow"
	"winnow/internal/config"
	"winnow/internal/dbtest"
	"winnow/internal/mail/mailtest"
)

// lockedBuffer collects a server's logs; handlers write to it from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// mustStartLogged starts a real Main like MustStart, logging everything down to debug
// into the returned buffer, so that a test can check what the logs never contain.
func mustStartLogged(t *testing.T, env map[string]string) (*Main, *lockedBuffer) {
	t.Helper()
	cfg, err := config.Load(flag.NewFlagSet("test", flag.ContinueOnError), nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	m := NewMain(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatalf("start winnow: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if t.Failed() {
			t.Log(logs.String())
		}
	})
	return m, logs
}

// waitInviteEmail waits until the org's invitation to address has an email in status,
// and returns the invitation.
func waitInviteEmail(t *testing.T, m *Main, orgID, address string, status winnow.EmailStatus) *winnow.Invite {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		invs, err := m.Store.ListInvites(context.Background(), orgID, m.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, inv := range invs {
			if inv.Email == address && inv.EmailStatus == status {
				return inv
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no invitation to %s with its email %s after 20 s: %+v", address, status, invs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// inviteLinkIn returns the first invitation link of m in s, or fails the test.
func inviteLinkIn(t *testing.T, m *Main, s string) string {
	t.Helper()
	prefix := m.Config.BaseURL + "/invite/"
	i := strings.Index(s, prefix)
	if i < 0 {
		t.Fatalf("no invitation link in:\n%s", s)
	}
	end := strings.IndexAny(s[i+len(prefix):], " \t\r\n\"<")
	if end < 0 {
		end = len(s) - i - len(prefix)
	}
	return s[i : i+len(prefix)+end]
}

// assertNotStored fails the test if the link's token is anywhere in the emails or
// invites tables in plain text.
func assertNotStored(t *testing.T, m *Main, link string) {
	t.Helper()
	token := link[strings.LastIndex(link, "/")+1:]
	checks := []struct{ table, where string }{
		{"emails", "subject LIKE $1 OR body_text LIKE $1 OR body_html LIKE $1 OR last_error LIKE $1"},
		{"invites", "token_hash LIKE $1"},
	}
	for _, c := range checks {
		var n int
		if err := m.DB.SQL().QueryRow(`SELECT COUNT(*) FROM `+c.table+` WHERE `+c.where, "%"+token+"%").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("the invitation token is stored in plain text in %d %s rows", n, c.table)
		}
	}
}

// acceptInvite follows link as a new browser: the form shows the invited address, and
// setting a password signs the invitee in.
func acceptInvite(t *testing.T, m *Main, link, address string) *browser {
	t.Helper()
	base := "http://" + m.Addr()
	if !strings.HasPrefix(link, base+"/invite/") {
		t.Fatalf("link %s does not lead to this server (%s)", link, base)
	}
	path := strings.TrimPrefix(link, base)
	b := newBrowser(t, m)
	if s, body := b.get(path); s != http.StatusOK || !strings.Contains(body, address) {
		t.Fatalf("GET %s: %d\n%s", path, s, body)
	}
	pw := "correct horse battery"
	if s, _, h := b.post(path, url.Values{"name": {"Grace Hopper"}, "password": {pw}, "password_confirm": {pw}}); s != http.StatusSeeOther || h.Get("Location") != "/jobs" {
		t.Fatalf("accept: %d %s", s, h.Get("Location"))
	}
	if s, body := b.get("/jobs"); s != http.StatusOK || !strings.Contains(body, "Grace Hopper") {
		t.Fatalf("the invitee is not signed in: %d\n%s", s, body)
	}
	return b
}

// TestMemberInviteEmailed invites a member with an SMTP server on 127.0.0.1: the page
// says the invitation was emailed, the invitee receives exactly one email, its link
// signs them up and in, running the send job again sends nothing, and neither the
// database nor the logs hold the link.
func TestMemberInviteEmailed(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		srv := mailtest.NewServer(t, mailtest.Options{})
		env := testEnv(t, e.URL(t))
		env["WINNOW_SMTP_URL"] = "smtp://127.0.0.1:" + strconv.Itoa(srv.Port)
		env["WINNOW_MAIL_FROM"] = "Acme Hiring <jobs@acme.example>"
		m, logs := mustStartLogged(t, env)
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		b := signedIn(t, m, "admin@acme.test")

		s, body := followInvite(t, b, url.Values{"email": {"Grace@Acme.test"}, "role": {"member"}})
		if s != http.StatusOK || !strings.Contains(body, "Invitation emailed to grace@acme.test") {
			t.Fatalf("invite: %d\n%s", s, body)
		}
		shown := inviteLinkIn(t, m, body) // the fallback for the admin

		msg := srv.Wait(1, 20*time.Second)[0]
		subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil || msg.To[0] != "grace@acme.test" || subject != "Join Acme on Winnow" {
			t.Fatalf("received %v %q (%v)", msg.To, subject, err)
		}
		link := inviteLinkIn(t, m, msg.Text)
		if link != shown || !has(t, msg.HTML, fmt.Sprintf("a[href=%q]", link)) {
			t.Fatalf("emailed link %s, shown %s", link, shown)
		}
		inv := waitInviteEmail(t, m, admin.OrgID, "grace@acme.test", winnow.EmailSent)
		if s, body := b.get("/settings/members"); s != http.StatusOK || !strings.Contains(body, "grace@acme.test") ||
			!strings.Contains(body, ">Sent<") || strings.Contains(body, "/invite/") {
			t.Fatalf("members page: %d\n%s", s, body)
		}

		// River runs the finished send job again: the email is final, nothing is sent.
		ctx := context.Background()
		res, err := m.River.JobList(ctx, river.NewJobListParams().Kinds("email_send"))
		if err != nil || len(res.Jobs) != 1 {
			t.Fatalf("send jobs: %d (%v)", len(res.Jobs), err)
		}
		id := res.Jobs[0].ID
		waitJob(t, m, id, 1)
		if _, err := m.River.JobRetry(ctx, id); err != nil {
			t.Fatal(err)
		}
		waitJob(t, m, id, 2)
		if n := len(srv.Messages()); n != 1 {
			t.Fatalf("%d messages after the job ran again, want 1", n)
		}
		em, err := m.Store.FindEmailByID(ctx, admin.OrgID, inv.EmailID)
		if err != nil || em.Attempts != 1 || em.Status != winnow.EmailSent || !em.Sealed {
			t.Fatalf("email %+v, %v", em, err)
		}

		assertNotStored(t, m, link)
		acceptInvite(t, m, link, "grace@acme.test")
		token := link[strings.LastIndex(link, "/")+1:]
		if l := logs.String(); strings.Contains(l, token) || !strings.Contains(l, "member invited") {
			t.Fatal("the logs hold the invitation token, or say nothing of the invitation")
		}
	})
}

// waitJob waits until River has completed job id's attempt.
func waitJob(t *testing.T, m *Main, id int64, attempt int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		j, err := m.River.JobGet(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Attempt == attempt && j.State == rivertype.JobStateCompleted {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d: attempt %d, state %s after 20 s; want attempt %d completed", id, j.Attempt, j.State, attempt)
		}
	}
}

// TestMemberInviteOutbox invites a member without an SMTP server: the page says the
// email is in the outbox and not delivered and shows the link; the members page and
// the mail viewer show the email as held, the viewer with its link decrypted for the
// org's admin and for nobody else, and that link works.
func TestMemberInviteOutbox(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		MustUser(t, m, "Acme", "member@acme.test", winnow.RoleMember)
		MustUser(t, m, "Other", "admin@other.test", winnow.RoleAdmin)
		b := signedIn(t, m, "admin@acme.test")

		s, body := followInvite(t, b, url.Values{"email": {"grace@acme.test"}, "role": {"limited"}})
		if s != http.StatusOK || !strings.Contains(body, "in the outbox") || !strings.Contains(body, "not delivered") {
			t.Fatalf("invite: %d\n%s", s, body)
		}
		shown := inviteLinkIn(t, m, body)
		inv := waitInviteEmail(t, m, admin.OrgID, "grace@acme.test", winnow.EmailOutbox)
		if !has(t, body, fmt.Sprintf("a[href=%q]", "/settings/mail/"+inv.EmailID)) {
			t.Fatalf("the page does not lead to the held email:\n%s", body)
		}
		assertNotStored(t, m, shown)

		pages := []struct {
			name, path string
			want       []string
		}{
			{"members page", "/settings/members", []string{"grace@acme.test", "In outbox (not delivered)", `href="/settings/mail/` + inv.EmailID + `"`}},
			{"mail viewer list", "/settings/mail", []string{"grace@acme.test", "Join Acme on Winnow", "Member invitation"}},
			{"mail viewer message", "/settings/mail/" + inv.EmailID, []string{"Join Acme on Winnow", shown, "as Limited member"}},
			{"mail viewer HTML part", "/settings/mail/" + inv.EmailID + "/html", []string{`href="` + shown + `"`}},
		}
		for _, p := range pages {
			t.Run(p.name, func(t *testing.T) {
				s, body := b.get(p.path)
				if s != http.StatusOK {
					t.Fatalf("GET %s: %d\n%s", p.path, s, body)
				}
				for _, w := range p.want {
					if !strings.Contains(body, w) {
						t.Errorf("GET %s lacks %q", p.path, w)
					}
				}
			})
		}

		token := shown[strings.LastIndex(shown, "/")+1:]
		refusals := []struct {
			name, who, path string
			status          int
		}{
			{"member opens the email", "member@acme.test", "/settings/mail/" + inv.EmailID, http.StatusForbidden},
			{"member opens the HTML part", "member@acme.test", "/settings/mail/" + inv.EmailID + "/html", http.StatusForbidden},
			{"another org's admin opens the email", "admin@other.test", "/settings/mail/" + inv.EmailID, http.StatusNotFound},
			{"another org's admin lists the outbox", "admin@other.test", "/settings/mail", http.StatusOK},
		}
		for _, c := range refusals {
			t.Run(c.name, func(t *testing.T) {
				if s, body := signedIn(t, m, c.who).get(c.path); s != c.status || strings.Contains(body, token) ||
					strings.Contains(body, "grace@acme.test") {
					t.Fatalf("status %d, want %d, or the invitation shows", s, c.status)
				}
			})
		}

		acceptInvite(t, m, shown, "grace@acme.test")
	})
}

// TestInviteExistingAccount refuses to invite an address that already signs in: a
// member of the admin's org is named as one; an account in another org gets a neutral
// refusal that says nothing of that org or account. Neither leaves an invitation.
func TestInviteExistingAccount(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		MustUser(t, m, "Acme", "member@acme.test", winnow.RoleMember)
		MustUser(t, m, "Globex", "hank@globex.test", winnow.RoleLimited)
		b := signedIn(t, m, "admin@acme.test")
		tests := []struct {
			name, email, want string
			never             []string
		}{
			{"member of this org", "Member@Acme.test", "member@acme.test is already a member of this organization.", nil},
			{"account in another org", "hank@globex.test", winnow.MsgNotInvitable,
				[]string{"Globex", "already", "has a Winnow account", "exists"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s, body := followInvite(t, b, url.Values{"email": {tt.email}, "role": {"member"}})
				if s != http.StatusConflict || !strings.Contains(body, html.EscapeString(tt.want)) {
					t.Fatalf("status %d, want 409 with %q\n%s", s, tt.want, body)
				}
				for _, w := range tt.never {
					if strings.Contains(body, w) {
						t.Fatalf("the page says %q\n%s", w, body)
					}
				}
			})
		}
		invs, err := m.Store.ListInvites(context.Background(), admin.OrgID, m.Clock.Now())
		if err != nil || len(invs) != 0 {
			t.Fatalf("invitations %+v (%v), want none", invs, err)
		}
	})
}
