package mail_test

import (
	"context"
	"crypto/tls"
	"mime"
	"strconv"
	"strings"
	"testing"
	"time"

	"winnow/internal/mail"
	"winnow/internal/mail/mailtest"
)

// TestParseURL reads every form of WINNOW_SMTP_URL and refuses bad ones without
// repeating the password.
func TestParseURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		url     string
		want    mail.Server
		wantErr string
	}{
		{"smtp defaults to 587 and opportunistic STARTTLS", "smtp://mail.example.com",
			mail.Server{Host: "mail.example.com", Port: 587, Security: mail.STARTTLSOpportunistic}, ""},
		{"credentials, port and required STARTTLS", "smtp://ada:s%40cret@mail.example.com:2525?starttls=required",
			mail.Server{Host: "mail.example.com", Port: 2525, Security: mail.STARTTLSRequired, Username: "ada", Password: "s@cret"}, ""},
		{"smtps defaults to 465 and implicit TLS", "smtps://u:p@mail.example.com",
			mail.Server{Host: "mail.example.com", Port: 465, Security: mail.ImplicitTLS, Username: "u", Password: "p"}, ""},
		{"unknown scheme", "http://mail.example.com", mail.Server{}, "must start with smtp://"},
		{"no host", "smtp://:25", mail.Server{}, "no host"},
		{"bad port", "smtp://mail.example.com:99999", mail.Server{}, "bad port"},
		{"unknown option", "smtp://u:hunter2@mail.example.com?tls=1", mail.Server{}, "unknown option"},
		{"bad starttls value", "smtp://mail.example.com?starttls=maybe", mail.Server{}, "not understood"},
		{"starttls with smtps", "smtps://mail.example.com?starttls=required", mail.Server{}, "does not go with smtps"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := mail.ParseURL(c.url)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want %q", err, c.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error repeats the password: %v", err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

// message is a test email with a UTF-8 subject and both parts.
func message() *mail.Message {
	return &mail.Message{ID: "0192-email-1", From: "ignored@example.com", To: "ada@example.com",
		Subject: "Ihre Bewerbung – nächster Schritt", Text: "Hello Ada,\n\nhttps://winnow.test/c/tok",
		HTML: "<p>Hello Ada,</p>", ListUnsubscribe: "https://winnow.test/c/tok/opt-out", ReplyTo: "hiring@acme.example",
		Date: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

// sender returns an SMTP sender for srv with the given URL scheme and query.
func sender(t *testing.T, srv *mailtest.Server, scheme, userinfo, query string) *mail.SMTP {
	t.Helper()
	u := scheme + "://" + userinfo + "127.0.0.1:" + strconv.Itoa(srv.Port) + query
	server, err := mail.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	s, err := mail.NewSMTP(server, "Acme Hiring <jobs@acme.example>",
		mail.WithTLSConfig(&tls.Config{RootCAs: srv.Roots}), mail.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSendDelivers sends through real SMTP servers on 127.0.0.1 in every security mode
// and checks the message as received.
func TestSendDelivers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		opts     mailtest.Options
		scheme   string
		userinfo string
		query    string
		wantTLS  bool
		wantUser string
	}{
		{"plain server, opportunistic", mailtest.Options{}, "smtp", "", "", false, ""},
		{"STARTTLS offered, opportunistic", mailtest.Options{STARTTLS: true}, "smtp", "", "", true, ""},
		{"STARTTLS required", mailtest.Options{STARTTLS: true}, "smtp", "", "?starttls=required", true, ""},
		{"STARTTLS with AUTH PLAIN", mailtest.Options{STARTTLS: true, User: "ada", Password: "s@cret"}, "smtp", "ada:s%40cret@", "", true, "ada"},
		{"implicit TLS with AUTH", mailtest.Options{Implicit: true, User: "ada", Password: "pw"}, "smtps", "ada:pw@", "", true, "ada"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := mailtest.NewServer(t, c.opts)
			if err := sender(t, srv, c.scheme, c.userinfo, c.query).Send(context.Background(), message()); err != nil {
				t.Fatalf("send: %v", err)
			}
			got := srv.Wait(1, 5*time.Second)[0]
			if got.TLS != c.wantTLS || got.User != c.wantUser {
				t.Fatalf("TLS %v user %q, want %v %q", got.TLS, got.User, c.wantTLS, c.wantUser)
			}
			h := got.Header
			checks := map[string]string{
				"From":                  `"Acme Hiring" <jobs@acme.example>`,
				"To":                    "<ada@example.com>",
				"Message-Id":            "<0192-email-1@acme.example>",
				"List-Unsubscribe":      "<https://winnow.test/c/tok/opt-out>",
				"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
				"Reply-To":              "<hiring@acme.example>",
			}
			for k, want := range checks {
				if h.Get(k) != want {
					t.Errorf("%s = %q, want %q", k, h.Get(k), want)
				}
			}
			if subj, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); subj != "Ihre Bewerbung – nächster Schritt" {
				t.Errorf("subject %q", subj)
			}
			if got.From != "jobs@acme.example" || len(got.To) != 1 || got.To[0] != "ada@example.com" {
				t.Errorf("envelope %s → %v", got.From, got.To)
			}
			if !strings.HasPrefix(h.Get("Content-Type"), "multipart/alternative") ||
				strings.TrimSpace(strings.ReplaceAll(got.Text, "\r\n", "\n")) != "Hello Ada,\n\nhttps://winnow.test/c/tok" ||
				!strings.Contains(got.HTML, "<p>Hello Ada,</p>") {
				t.Errorf("body: %s\ntext %q\nhtml %q", h.Get("Content-Type"), got.Text, got.HTML)
			}
		})
	}
}

// TestSendFailures classifies each way a send can fail: certainly not delivered (retry),
// refused for good, or unknown.
func TestSendFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		opts     mailtest.Options
		userinfo string
		query    string
		prepare  func(srv *mailtest.Server)
		want     mail.Outcome
		reason   string
	}{
		{"server down", mailtest.Options{}, "", "", func(s *mailtest.Server) { s.Stop() }, mail.NotDelivered, "Could not connect"},
		{"STARTTLS required but not offered", mailtest.Options{}, "", "?starttls=required", nil, mail.NotDelivered, "does not offer STARTTLS"},
		{"wrong password", mailtest.Options{STARTTLS: true, User: "ada", Password: "right"}, "ada:wrong@", "", nil, mail.NotDelivered, "refused to sign in"},
		{"no plain-text password without TLS", mailtest.Options{User: "ada", Password: "pw"}, "ada:pw@", "", nil, mail.NotDelivered, "refused to sign in"},
		{"recipient refused", mailtest.Options{}, "", "", func(s *mailtest.Server) { s.Reject("ada@example.com", 550) }, mail.Refused, "refused the message (550"},
		{"recipient deferred", mailtest.Options{}, "", "", func(s *mailtest.Server) { s.Reject("ada@example.com", 451) }, mail.NotDelivered, "try again later (451)"},
		{"connection dropped after DATA", mailtest.Options{}, "", "", func(s *mailtest.Server) { s.DropAfterData(1) }, mail.Unknown, "may or may not have arrived"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := mailtest.NewServer(t, c.opts)
			s := sender(t, srv, "smtp", c.userinfo, c.query)
			if c.prepare != nil {
				c.prepare(srv)
			}
			err := s.Send(context.Background(), message())
			if err == nil {
				t.Fatal("send succeeded")
			}
			if mail.OutcomeOf(err) != c.want || !strings.Contains(mail.Reason(err), c.reason) {
				t.Fatalf("outcome %v reason %q (%v), want %v %q", mail.OutcomeOf(err), mail.Reason(err), err, c.want, c.reason)
			}
			if strings.Contains(err.Error(), "right") || strings.Contains(mail.Reason(err), "wrong") {
				t.Fatalf("error carries a password: %v", err)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Fatalf("server recorded %d messages", n)
			}
		})
	}
}

// TestNewSMTPChecksFrom refuses a bad sender and describes the server without
// credentials.
func TestNewSMTPChecksFrom(t *testing.T) {
	t.Parallel()
	if _, err := mail.NewSMTP(mail.Server{Host: "h", Port: 25}, "not an address"); err == nil || !strings.Contains(err.Error(), "WINNOW_MAIL_FROM") {
		t.Fatalf("err = %v", err)
	}
	s, err := mail.NewSMTP(mail.Server{Host: "mail.example.com", Port: 587, Security: mail.STARTTLSRequired, Password: "hunter2"}, "jobs@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if m := s.Mode(); m.Outbox || m.Server != "mail.example.com:587" || m.TLS != "STARTTLS required" || strings.Contains(m.Server+m.TLS+m.From, "hunter2") {
		t.Fatalf("mode %+v", m)
	}
}
