// Package mail turns Winnow's emails into MIME messages (text and HTML alternatives,
// List-Unsubscribe) and sends them through an SMTP server with go-mail. It knows
// nothing of the database: the email worker in internal/jobs decides what to send and
// records what became of it.
package mail

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one email, ready to send.
type Message struct {
	// ID identifies the email; the Message-ID is derived from it, so a retry of the
	// same email carries the same Message-ID and receivers can tell it is a duplicate.
	ID      string
	From    string // "Name <address>" or a bare address
	To      string
	Subject string
	Text    string
	HTML    string
	// ListUnsubscribe is the URL of the candidate's "no longer interested" page. It is
	// sent as List-Unsubscribe with List-Unsubscribe-Post (RFC 8058 one-click), so the
	// page must opt out on a POST without further confirmation.
	ListUnsubscribe string
	// ReplyTo, when set, is where a candidate's reply goes: the org's own address
	// rather than Winnow's sender, which nobody reads.
	ReplyTo string
	Date    time.Time
}

// Sender sends messages. SMTP is the real one; without a server configured Winnow keeps
// email in its outbox and uses no Sender at all.
type Sender interface {
	Send(ctx context.Context, m *Message) error
}

// build turns m into a go-mail message: a multipart/alternative of text and HTML.
func build(m *Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(m.From); err != nil {
		return nil, fmt.Errorf("sender %q: %w", m.From, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", m.To, err)
	}
	if m.ReplyTo != "" {
		if err := msg.ReplyTo(m.ReplyTo); err != nil {
			return nil, fmt.Errorf("reply-to %q: %w", m.ReplyTo, err)
		}
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(messageID(m.ID, m.From))
	if !m.Date.IsZero() {
		msg.SetDateWithValue(m.Date)
	} else {
		msg.SetDate()
	}
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	if m.ListUnsubscribe != "" {
		msg.SetGenHeader(gomail.HeaderListUnsubscribe, "<"+m.ListUnsubscribe+">")
		msg.SetGenHeader(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// messageID is the Message-ID value for email id: id at the sender's domain.
func messageID(id, from string) string {
	domain := "winnow.localhost"
	if a, err := mail.ParseAddress(from); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 && i < len(a.Address)-1 {
			domain = a.Address[i+1:]
		}
	}
	return id + "@" + domain
}

// CheckFrom reports whether from is a usable sender address.
func CheckFrom(from string) error {
	if _, err := mail.ParseAddress(from); err != nil {
		return fmt.Errorf("WINNOW_MAIL_FROM %q is not an address such as \"Acme Hiring <jobs@acme.example>\"", from)
	}
	return nil
}
