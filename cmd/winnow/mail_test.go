package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/mail/mailtest"
)

// mustInvite creates an invited applicant of f directly in m's store.
func mustInvite(t *testing.T, m *Main, f *winnow.Funnel, name, email string) *winnow.Applicant {
	t.Helper()
	a, err := winnow.NewApplicant(f, name, email, dbtest.RandomHex(16), m.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Store.CreateApplicant(context.Background(), a, ""); err != nil {
		t.Fatal(err)
	}
	return a
}

// waitEmails waits until a has at least n emails in status, and returns them.
func waitEmails(t *testing.T, m *Main, a *winnow.Applicant, status winnow.EmailStatus, n int) []*winnow.Email {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		list, err := m.Store.ListEmails(context.Background(), a.OrgID, winnow.EmailFilter{ApplicantID: a.ID, Statuses: []winnow.EmailStatus{status}})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) >= n {
			return list
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d emails %s after 20 s, want %d", len(list), status, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mustOpenFunnel creates an open job of the user's org.
func mustOpenFunnel(t *testing.T, m *Main, u *winnow.User, title string) *winnow.Funnel {
	t.Helper()
	f := &winnow.Funnel{OrgID: u.OrgID, Title: title, Status: winnow.FunnelOpen, Team: []string{u.ID}, Steps: oneQuestion()}
	if err := m.Store.CreateFunnel(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestOutboxEmail runs serve without an SMTP server: the invitation is kept in the
// outbox, the admin's Emails page says nothing is delivered, the mail viewer shows the
// message in a sandboxed frame, and only admins see any of it.
func TestOutboxEmail(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		MustUser(t, m, "Acme", "member@acme.test", winnow.RoleMember)
		MustUser(t, m, "Other", "admin@other.test", winnow.RoleAdmin)
		f := mustOpenFunnel(t, m, admin, "Backend Engineer")
		a := mustInvite(t, m, f, "Ada Lovelace", "ada@example.com")
		inv := waitEmails(t, m, a, winnow.EmailOutbox, 1)[0]
		if !strings.Contains(inv.Text, m.Config.BaseURL+"/c/"+a.Token) {
			t.Fatalf("invitation text lacks the link:\n%s", inv.Text)
		}

		b := newBrowser(t, m)
		b.login("admin@acme.test", "password-admin@acme.test")
		pages := []struct {
			path string
			want []string
		}{
			{"/settings/emails", []string{"outbox only", "not delivered", `href="/settings/mail"`, "Invitation", "In outbox (not delivered)"}},
			// The job's review is blind and Ada is not decided: the viewer holds her address back.
			{"/settings/mail", []string{"Applicant #", "blind review", "Your application for Backend Engineer at Acme", "/settings/mail/" + inv.ID}},
			{"/settings/mail/" + inv.ID, []string{`src="/settings/mail/` + inv.ID + `/html"`, "sandbox=", "Hi Ada,"}},
		}
		for _, p := range pages {
			s, body := b.get(p.path)
			if s != http.StatusOK {
				t.Fatalf("GET %s: %d\n%s", p.path, s, body)
			}
			for _, w := range p.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s lacks %q", p.path, w)
				}
			}
		}
		for _, p := range []string{"/settings/mail", "/settings/mail/" + inv.ID} {
			if _, body := b.get(p); strings.Contains(body, "ada@example.com") || strings.Contains(body, `href="/applicants/`+a.ID+`">applicant`) {
				t.Errorf("GET %s shows the address or links the card under blind review", p)
			}
		}
		s, body, h := b.do("GET", "/settings/mail/"+inv.ID+"/html", nil, nil)
		if s != http.StatusOK || !has(t, body, fmt.Sprintf("a[href=%q]", m.Config.BaseURL+"/c/"+a.Token)) {
			t.Fatalf("html part: %d\n%s", s, body)
		}
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "default-src 'none'") ||
			h.Get("X-Frame-Options") != "SAMEORIGIN" {
			t.Fatalf("html part headers: CSP %q, XFO %q", csp, h.Get("X-Frame-Options"))
		}

		refusals := []struct {
			name, who, path string
			status          int
		}{
			{"member opens the viewer", "member@acme.test", "/settings/mail", http.StatusForbidden},
			{"member opens the HTML part", "member@acme.test", "/settings/mail/" + inv.ID + "/html", http.StatusForbidden},
			{"another org's admin opens the email", "admin@other.test", "/settings/mail/" + inv.ID, http.StatusNotFound},
			{"another org's admin opens the HTML part", "admin@other.test", "/settings/mail/" + inv.ID + "/html", http.StatusNotFound},
		}
		for _, c := range refusals {
			t.Run(c.name, func(t *testing.T) {
				ob := newBrowser(t, m)
				ob.login(c.who, "password-"+c.who)
				if s, body := ob.get(c.path); s != c.status || strings.Contains(body, "Hi Ada") {
					t.Fatalf("status %d, want %d", s, c.status)
				}
			})
		}
	})
}

// TestCardEmailAddresses shows on the applicant card where each email went, from the
// email itself: the address under open review, never under blind review. The
// timeline's messages name no address at all, so blind review needs no scrubbing.
func TestCardEmailAddresses(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		ctx := context.Background()
		admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
		blind := mustOpenFunnel(t, m, admin, "Backend Engineer")
		open := mustOpenFunnel(t, m, admin, "Designer")
		open.OpenReview = true
		if err := m.Store.UpdateFunnel(ctx, open); err != nil {
			t.Fatal(err)
		}
		b := signedIn(t, m, "admin@acme.test")
		for _, c := range []struct {
			job    *winnow.Funnel
			email  string
			showTo bool
		}{{blind, "ada@example.com", false}, {open, "grace@example.com", true}} {
			a := mustInvite(t, m, c.job, "Someone", c.email)
			waitEmails(t, m, a, winnow.EmailOutbox, 1)
			events, err := m.Store.ListEvents(ctx, a.OrgID, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range events {
				if strings.Contains(ev.Message, "@") {
					t.Errorf("event %s names an address: %q", ev.Kind, ev.Message)
				}
			}
			s, body := b.get("/applicants/" + a.ID)
			if s != http.StatusOK {
				t.Fatalf("card: %d\n%s", s, body)
			}
			held := mustDoc(t, body).Find("ol.timeline li.ev-" + string(winnow.EventEmailHeld))
			if held.Length() != 1 || !strings.Contains(held.Text(), "kept in the outbox") {
				t.Fatalf("%s: timeline entries of the held email: %d %q", c.job.Title, held.Length(), held.Text())
			}
			if got := strings.Contains(held.Text(), "to "+c.email); got != c.showTo {
				t.Errorf("%s: the held email's entry shows the address: %v, want %v (%q)", c.job.Title, got, c.showTo, held.Text())
			}
			if !c.showTo && strings.Contains(body, c.email) {
				t.Errorf("%s: the blind card holds the address", c.job.Title)
			}

			// An integration's entry shows the call it records, on either card.
			_, err = m.Store.TransitionApplicant(ctx, a.OrgID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) {
				return winnow.Event{Kind: "lever_note_added", Message: "Note added in Lever",
					Call: &winnow.Call{Method: "POST", Path: "/opportunities/opp-1/notes", Status: 201, Duration: 42 * time.Millisecond}}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			_, body = b.get("/applicants/" + a.ID)
			call := mustDoc(t, body).Find("ol.timeline li.ev-lever_note_added code.call")
			if got := call.Text(); got != "POST /opportunities/opp-1/notes → 201, 42ms" {
				t.Errorf("%s: the call shows as %q", c.job.Title, got)
			}
		}
	})
}

// TestTemplateEditor previews, refuses with the line at fault, saves and overrides per
// job through the pages.
func TestTemplateEditor(t *testing.T) {
	t.Parallel()
	m := MustStart(t, testEnv(t, dbtest.SQLite.URL(t)))
	admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
	MustUser(t, m, "Acme", "member@acme.test", winnow.RoleMember)
	MustUser(t, m, "Acme", "limited@acme.test", winnow.RoleLimited)
	f := mustOpenFunnel(t, m, admin, "Designer")
	b := newBrowser(t, m)
	b.login("admin@acme.test", "password-admin@acme.test")

	// Preview posts into the preview frame: the email as sent, under the mail viewer's policy.
	s, body, h := b.post("/settings/emails/invitation", url.Values{"action": {"preview"},
		"subject": {"Hello {{.FirstName}} from {{.Company}}"}, "body": {"Hi {{.FirstName}},\n\n{{.Link}}"}})
	if s != http.StatusOK || !strings.Contains(body, "Hello Ada from Acme") || !strings.Contains(body, `style="`) ||
		!strings.Contains(h.Get("Content-Security-Policy"), "style-src 'unsafe-inline'") || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("preview: %d %v\n%s", s, h, body)
	}
	if s, body := b.get("/settings/emails/invitation"); s != 200 || !has(t, body, `iframe[name="email-preview"][src="/settings/emails/invitation/preview"]`) ||
		!has(t, body, `button[value="preview"][formtarget="email-preview"]`) {
		t.Fatalf("editor: %d\n%s", s, body)
	}
	if s, body := b.get("/settings/emails/invitation/preview"); s != 200 || !strings.Contains(body, "Your application for Designer at Acme") &&
		!strings.Contains(body, "Your application for Backend Engineer at Acme") {
		t.Fatalf("preview of the template in force: %d\n%s", s, body)
	}
	if s, body, _ := b.post("/settings/emails/invitation", url.Values{"action": {"preview"}, "subject": {"Hi"},
		"body": {"see {{.Lnik}}"}}); s != http.StatusUnprocessableEntity || !strings.Contains(body, "{{.Lnik}}") {
		t.Fatalf("preview of a broken template: %d\n%s", s, body)
	}
	if got, _ := m.Store.FindTemplate(context.Background(), admin.OrgID, "", winnow.EmailInvitation); got.Source != winnow.SourceDefault {
		t.Fatal("preview stored the template")
	}
	s, body, _ = b.post("/settings/emails/invitation", url.Values{"action": {"save"}, "subject": {"Hi"},
		"body": {"Hello,\n\nsee {{.Lnik}}"}})
	if s != http.StatusUnprocessableEntity || !strings.Contains(body, "Body, line 3") || !strings.Contains(body, "{{.Lnik}}") {
		t.Fatalf("invalid template: %d\n%s", s, body)
	}
	s, _, h = b.post("/settings/emails/invitation", url.Values{"action": {"save"}, "subject": {"Join {{.Company}}"},
		"body": {"Hi {{.FirstName}}: {{.Link}}"}})
	if s != http.StatusSeeOther || h.Get("Location") != "/settings/emails/invitation?saved=1" {
		t.Fatalf("save: %d %s", s, h.Get("Location"))
	}
	// The list shows the subject filled in, as a candidate reads it.
	if s, body := b.get("/settings/emails"); s != 200 || !strings.Contains(body, ">Join Acme<") || !strings.Contains(body, "Your own") {
		t.Fatalf("settings after save: %d", s)
	}

	member := newBrowser(t, m)
	member.login("member@acme.test", "password-member@acme.test")
	s, _, h = member.post("/jobs/"+f.ID+"/emails/qualified", url.Values{"action": {"save"}, "subject": {"Welcome"},
		"body": {"See you, {{.FirstName}}."}, "enabled": {"1"}})
	if s != http.StatusSeeOther {
		t.Fatalf("member saves a job template: %d", s)
	}
	if s, body := member.get("/jobs/" + f.ID + "/emails"); s != 200 || !strings.Contains(body, "This job's own") {
		t.Fatalf("job templates: %d\n%s", s, body)
	}
	got, err := m.Store.FindTemplate(context.Background(), admin.OrgID, f.ID, winnow.EmailQualified)
	if err != nil || got.Source != winnow.SourceFunnel || !got.Enabled {
		t.Fatalf("job template %+v %v", got, err)
	}

	refusals := []struct {
		name, who, method, path string
		status                  int
	}{
		{"member edits org templates", "member@acme.test", "POST", "/settings/emails/invitation", http.StatusForbidden},
		{"limited member edits job templates", "limited@acme.test", "POST", "/jobs/" + f.ID + "/emails/reminder", http.StatusForbidden},
		{"unknown kind", "admin@acme.test", "GET", "/settings/emails/spam", http.StatusNotFound},
		{"member invitation has no job version", "admin@acme.test", "GET", "/jobs/" + f.ID + "/emails/member_invite", http.StatusNotFound},
	}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			ob := newBrowser(t, m)
			ob.login(c.who, "password-"+c.who)
			var form url.Values
			if c.method == "POST" {
				form = url.Values{"action": {"save"}, "subject": {"x"}, "body": {"y"}}
			}
			if s, _, _ := ob.do(c.method, c.path, form, nil); s != c.status {
				t.Fatalf("status %d, want %d", s, c.status)
			}
		})
	}
}

// TestResendAndExtend sends the invitation again and extends the deadline from the
// applicant card's buttons; only admins of the applicant's org may.
func TestResendAndExtend(t *testing.T) {
	t.Parallel()
	m := MustStart(t, testEnv(t, dbtest.SQLite.URL(t)))
	admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
	MustUser(t, m, "Acme", "member@acme.test", winnow.RoleMember)
	MustUser(t, m, "Other", "admin@other.test", winnow.RoleAdmin)
	f := mustOpenFunnel(t, m, admin, "Designer")
	a := mustInvite(t, m, f, "Ada Lovelace", "ada@example.com")
	waitEmails(t, m, a, winnow.EmailOutbox, 1)

	for _, c := range []struct {
		name, who, action string
		status            int
	}{
		{"member resends", "member@acme.test", "resend", http.StatusForbidden},
		{"another org's admin extends", "admin@other.test", "extend", http.StatusNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			ob := newBrowser(t, m)
			ob.login(c.who, "password-"+c.who)
			if s, _, _ := ob.post("/applicants/"+a.ID+"/"+c.action, url.Values{}); s != c.status {
				t.Fatalf("status %d, want %d", s, c.status)
			}
		})
	}

	b := newBrowser(t, m)
	b.login("admin@acme.test", "password-admin@acme.test")
	if s, body := b.get("/applicants/" + a.ID); s != 200 || !has(t, body, fmt.Sprintf("form[action=%q]", "/applicants/"+a.ID+"/resend")) ||
		!has(t, body, fmt.Sprintf("form[action=%q]", "/applicants/"+a.ID+"/extend")) || !strings.Contains(body, "Open until") {
		t.Fatalf("the admin's card has no invitation buttons: %d\n%s", s, body)
	}
	mb := newBrowser(t, m)
	mb.login("member@acme.test", "password-member@acme.test")
	if s, body := mb.get("/applicants/" + a.ID); s != 200 || strings.Contains(body, "/resend") {
		t.Fatalf("a member's card offers the admin-only buttons: %d", s)
	}
	s, _, h := b.post("/applicants/"+a.ID+"/resend", url.Values{})
	if s != http.StatusSeeOther || h.Get("Location") != "/applicants/"+a.ID+"?done=resent" {
		t.Fatalf("resend: %d %s", s, h.Get("Location"))
	}
	list := waitEmails(t, m, a, winnow.EmailOutbox, 2)
	if list[0].Text != list[1].Text {
		t.Fatalf("the resent invitation differs:\n%s\n---\n%s", list[0].Text, list[1].Text)
	}
	before := m.Clock.Now()
	s, _, h = b.post("/applicants/"+a.ID+"/extend", url.Values{})
	if s != http.StatusSeeOther || h.Get("Location") != "/applicants/"+a.ID+"?done=extended" {
		t.Fatalf("extend: %d %s", s, h.Get("Location"))
	}
	got, _ := m.Store.FindApplicantByID(context.Background(), a.OrgID, a.ID)
	if got.Deadline.Before(before.Add(420*time.Hour)) || !got.Deadline.After(a.Deadline) {
		t.Fatalf("deadline %v, was %v", got.Deadline, a.Deadline)
	}
	evs, _ := m.Store.ListEvents(context.Background(), a.OrgID, a.ID)
	var kinds []string
	for _, ev := range evs {
		kinds = append(kinds, string(ev.Kind))
	}
	if k := strings.Join(kinds, " "); !strings.Contains(k, "invitation_resent") || !strings.Contains(k, "invitation_extended") || !strings.Contains(k, "email_held") {
		t.Fatalf("timeline %s", k)
	}
	// Once the applicant has opted out there is nothing to resend.
	if _, err := m.Store.TransitionApplicant(context.Background(), a.OrgID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) {
		return x.OptOut(m.Clock.Now(), "declined")
	}); err != nil {
		t.Fatal(err)
	}
	if s, body, _ := b.post("/applicants/"+a.ID+"/resend", url.Values{}); s != http.StatusConflict || !strings.Contains(body, "opted out") {
		t.Fatalf("resend after opt-out: %d\n%s", s, body)
	}
	if _, body := b.get("/applicants/" + a.ID); strings.Contains(body, "/resend") {
		t.Fatal("the card offers to resend an ended invitation")
	}
}

// TestSMTPDelivery runs serve with WINNOW_SMTP_URL pointing at a real SMTP server on
// 127.0.0.1: the invitation arrives there, the Emails page names the server and never
// the password, and the mail viewer does not exist.
func TestSMTPDelivery(t *testing.T) {
	t.Parallel()
	srv := mailtest.NewServer(t, mailtest.Options{})
	env := testEnv(t, dbtest.SQLite.URL(t))
	env["WINNOW_SMTP_URL"] = "smtp://127.0.0.1:" + strconv.Itoa(srv.Port)
	env["WINNOW_MAIL_FROM"] = "Acme Hiring <jobs@acme.example>"
	m := MustStart(t, env)
	admin := MustUser(t, m, "Acme", "admin@acme.test", winnow.RoleAdmin)
	f := mustOpenFunnel(t, m, admin, "Designer")
	a := mustInvite(t, m, f, "Ada Lovelace", "ada@example.com")
	msg := srv.Wait(1, 20*time.Second)[0]
	if msg.To[0] != "ada@example.com" || msg.From != "jobs@acme.example" ||
		msg.Header.Get("List-Unsubscribe") != "<"+m.Config.BaseURL+"/c/"+a.Token+"/opt-out>" {
		t.Fatalf("received %+v", msg.Header)
	}
	waitEmails(t, m, a, winnow.EmailSent, 1)

	b := newBrowser(t, m)
	b.login("admin@acme.test", "password-admin@acme.test")
	if s, body := b.get("/settings/emails"); s != 200 || !strings.Contains(body, "127.0.0.1:"+strconv.Itoa(srv.Port)) || strings.Contains(body, "outbox only") {
		t.Fatalf("emails page: %d\n%s", s, body)
	}
	if s, _ := b.get("/settings/mail"); s != http.StatusNotFound {
		t.Fatalf("mail viewer in SMTP mode: %d", s)
	}
}

// TestServeChecksMailSettings refuses to start with an SMTP server but no sender, or a
// malformed SMTP URL, and never repeats the password.
func TestServeChecksMailSettings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, url, from, want string
	}{
		{"no sender", "smtp://u:hunter2@127.0.0.1:2525", "", "WINNOW_MAIL_FROM must be set"},
		{"bad scheme", "imap://u:hunter2@127.0.0.1", "x@example.com", "smtp:// or smtps://"},
		{"bad sender", "smtp://127.0.0.1", "not an address", "WINNOW_MAIL_FROM"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := testEnv(t, dbtest.SQLite.URL(t))
			env["WINNOW_SMTP_URL"], env["WINNOW_MAIL_FROM"] = c.url, c.from
			var out strings.Builder
			err := run(context.Background(), []string{"serve"}, nil, &out, &out, func(k string) string { return env[k] })
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error()+out.String(), "hunter2") {
				t.Fatalf("err = %v\n%s", err, out.String())
			}
		})
	}
}
