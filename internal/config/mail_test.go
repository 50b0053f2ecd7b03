package config

import (
	"flag"
	"strings"
	"testing"
)

// TestMailSettings reads the SMTP URL and sender, and never prints the SMTP password.
func TestMailSettings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		env     map[string]string
		args    []string
		url     string
		from    string
		printed string
	}{
		{"unset keeps the outbox", nil, nil, "", "", `WINNOW_SMTP_URL=""`},
		{"from the environment", map[string]string{"WINNOW_SMTP_URL": "smtp://ada:hunter2@mail.example.com:587?starttls=required",
			"WINNOW_MAIL_FROM": "Acme <jobs@acme.example>"}, nil,
			"smtp://ada:hunter2@mail.example.com:587?starttls=required", "Acme <jobs@acme.example>",
			`WINNOW_SMTP_URL="smtp://ada:REDACTED@mail.example.com:587?starttls=required"`},
		{"flags win", map[string]string{"WINNOW_SMTP_URL": "smtp://a@one.example"}, []string{"--smtp-url", "smtps://u:pw@two.example", "--mail-from", "x@two.example"},
			"smtps://u:pw@two.example", "x@two.example", `WINNOW_SMTP_URL="smtps://u:REDACTED@two.example"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Load(flag.NewFlagSet("t", flag.ContinueOnError), c.args, func(k string) string { return c.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if cfg.SMTPURL != c.url || cfg.MailFrom != c.from {
				t.Fatalf("url %q from %q", cfg.SMTPURL, cfg.MailFrom)
			}
			s := cfg.String()
			if !strings.Contains(s, c.printed) || strings.Contains(s, "hunter2") || strings.Contains(s, ":pw@") {
				t.Fatalf("printed %s", s)
			}
		})
	}
}
