package main

import (
	"errors"
	"fmt"
	"log/slog"

	"winnow"
	"winnow/internal/config"
	"winnow/internal/mail"
)

// outboxFrom is the sender shown on emails kept in the outbox when WINNOW_MAIL_FROM is
// not set; nothing is delivered in that mode.
const outboxFrom = "Winnow <winnow@localhost>"

// newMailer returns the SMTP sender WINNOW_SMTP_URL names, or no sender (outbox mode)
// when it is empty, with the mode for status pages.
func newMailer(cfg *config.Config) (mail.Sender, winnow.MailMode, error) {
	if cfg.SMTPURL == "" {
		from := cfg.MailFrom
		if from == "" {
			from = outboxFrom
		} else if err := mail.CheckFrom(from); err != nil {
			return nil, winnow.MailMode{}, err
		}
		return nil, winnow.MailMode{Outbox: true, From: from}, nil
	}
	server, err := mail.ParseURL(cfg.SMTPURL)
	if err != nil {
		return nil, winnow.MailMode{}, err
	}
	if cfg.MailFrom == "" {
		return nil, winnow.MailMode{}, errors.New(`WINNOW_MAIL_FROM must be set with WINNOW_SMTP_URL, e.g. "Acme Hiring <jobs@acme.example>"`)
	}
	s, err := mail.NewSMTP(server, cfg.MailFrom)
	if err != nil {
		return nil, winnow.MailMode{}, fmt.Errorf("email: %w", err)
	}
	return s, s.Mode(), nil
}

// logMailMode says at start how email leaves, loudly when it does not.
func logMailMode(logger *slog.Logger, mode winnow.MailMode, baseURL string) {
	if mode.Outbox {
		logger.Warn("no SMTP server configured (WINNOW_SMTP_URL): email is kept in the outbox and NOT delivered",
			"mail_viewer", baseURL+"/settings/mail")
		return
	}
	logger.Info("email goes out through SMTP", "smtp_server", mode.Server, "tls", mode.TLS, "from", mode.From)
}
