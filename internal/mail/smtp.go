package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"winnow"
)

// Security is how the connection to the SMTP server is protected.
type Security int

// The security modes of WINNOW_SMTP_URL.
const (
	// STARTTLSOpportunistic upgrades with STARTTLS whenever the server offers it and
	// sends in the clear when it does not (smtp://).
	STARTTLSOpportunistic Security = iota
	// STARTTLSRequired refuses to send unless the server offers STARTTLS
	// (smtp://…?starttls=required).
	STARTTLSRequired
	// ImplicitTLS speaks TLS from the first byte (smtps://).
	ImplicitTLS
)

// String describes the mode in words, for status pages.
func (s Security) String() string {
	switch s {
	case STARTTLSRequired:
		return "STARTTLS required"
	case ImplicitTLS:
		return "implicit TLS"
	}
	return "STARTTLS when offered"
}

// Server is a parsed WINNOW_SMTP_URL.
type Server struct {
	Host     string
	Port     int
	Security Security
	Username string
	Password string
}

// ParseURL reads an SMTP URL: smtp://[user[:pass]@]host[:port][?starttls=required] (port
// 587 by default) or smtps://[user[:pass]@]host[:port] (port 465 by default). The user
// and password are URL-encoded. Errors never repeat the password.
func ParseURL(raw string) (Server, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Server{}, errors.New("WINNOW_SMTP_URL is not a URL such as smtp://user:pass@mail.example.com:587")
	}
	var s Server
	switch u.Scheme {
	case "smtp":
		s.Port = 587
	case "smtps":
		s.Port, s.Security = 465, ImplicitTLS
	default:
		return Server{}, fmt.Errorf("WINNOW_SMTP_URL must start with smtp:// or smtps://, not %q", u.Scheme+"://")
	}
	s.Host = u.Hostname()
	if s.Host == "" {
		return Server{}, errors.New("WINNOW_SMTP_URL names no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Server{}, fmt.Errorf("WINNOW_SMTP_URL has a bad port %q", p)
		}
		s.Port = n
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	q := u.Query()
	for k := range q {
		if k != "starttls" {
			return Server{}, fmt.Errorf("WINNOW_SMTP_URL has an unknown option %q; the only one is starttls=required", k)
		}
	}
	switch v := q.Get("starttls"); v {
	case "":
	case "required":
		if s.Security == ImplicitTLS {
			return Server{}, errors.New("WINNOW_SMTP_URL: starttls=required does not go with smtps://, which is TLS already")
		}
		s.Security = STARTTLSRequired
	default:
		return Server{}, fmt.Errorf("WINNOW_SMTP_URL: starttls=%q is not understood; use starttls=required", v)
	}
	return s, nil
}

// Addr is host:port.
func (s Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// SMTP sends messages through one SMTP server, one connection per message. With a user
// name it authenticates with the strongest mechanism the server offers, and never with a
// plain-text password over an unencrypted connection.
type SMTP struct {
	server    Server
	from      string
	tlsConfig *tls.Config
	timeout   time.Duration
}

// Option changes how SMTP connects.
type Option func(*SMTP)

// WithTLSConfig sets the TLS configuration, for example to trust a private CA. Its
// ServerName defaults to the server's host.
func WithTLSConfig(c *tls.Config) Option { return func(s *SMTP) { s.tlsConfig = c } }

// WithTimeout bounds each connection; the default is 30 seconds.
func WithTimeout(d time.Duration) Option { return func(s *SMTP) { s.timeout = d } }

// NewSMTP returns a Sender for server that sends as from.
func NewSMTP(server Server, from string, opts ...Option) (*SMTP, error) {
	if err := CheckFrom(from); err != nil {
		return nil, err
	}
	s := &SMTP{server: server, from: from, timeout: 30 * time.Second}
	for _, o := range opts {
		o(s)
	}
	if s.tlsConfig == nil {
		s.tlsConfig = &tls.Config{}
	}
	s.tlsConfig = s.tlsConfig.Clone()
	if s.tlsConfig.ServerName == "" {
		s.tlsConfig.ServerName = server.Host
	}
	if s.tlsConfig.MinVersion == 0 {
		s.tlsConfig.MinVersion = tls.VersionTLS12
	}
	return s, nil
}

// From returns the sender address messages go out with.
func (s *SMTP) From() string { return s.from }

// Mode describes the server for status pages, without credentials.
func (s *SMTP) Mode() winnow.MailMode {
	return winnow.MailMode{Server: s.server.Addr(), TLS: s.server.Security.String(), From: s.from}
}

// Send delivers m, whose From is replaced by the configured sender. A failure is a
// *SendError that says whether the message certainly did not arrive (retry), was
// refused for good, or may or may not have arrived.
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	mm := *m
	mm.From = s.from
	msg, err := build(&mm)
	if err != nil {
		return &SendError{Outcome: Refused, Reason: "The message could not be built: the address is not valid.", Err: err}
	}
	opts := []gomail.Option{
		gomail.WithPort(s.server.Port),
		gomail.WithTimeout(s.timeout),
		gomail.WithTLSConfig(s.tlsConfig),
	}
	switch s.server.Security {
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case STARTTLSRequired:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.server.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.server.Username), gomail.WithPassword(s.server.Password))
	}
	c, err := gomail.NewClient(s.server.Host, opts...)
	if err != nil {
		return &SendError{Outcome: NotDelivered, Reason: "The mail client could not be set up.", Err: err}
	}
	err = c.DialAndSendWithContext(ctx, msg)
	if msg.IsDelivered() {
		// The server accepted the message; a failure after that (RSET, QUIT) is noise.
		return nil
	}
	if err == nil {
		return &SendError{Outcome: Unknown, Reason: "The mail client reported no error but no delivery either.", Err: errors.New("not delivered")}
	}
	return classify(err, s.server)
}

// classify turns a go-mail error into a SendError.
func classify(err error, server Server) *SendError {
	where := "the mail server " + server.Addr()
	var se *gomail.SendError
	if !errors.As(err, &se) {
		// Dialing, TLS, EHLO or AUTH failed: nothing was handed over.
		reason := "Could not connect to " + where + "."
		switch msg := err.Error(); {
		case strings.Contains(msg, "STARTTLS"):
			reason = "The mail server " + server.Addr() + " does not offer STARTTLS, which WINNOW_SMTP_URL requires."
		case strings.Contains(msg, "SMTP AUTH") || strings.Contains(msg, "AUTH type") || errors.Is(err, gomail.ErrNoSupportedAuthDiscovered):
			reason = "The mail server " + server.Addr() + " refused to sign in with the credentials in WINNOW_SMTP_URL."
		}
		return &SendError{Outcome: NotDelivered, Reason: reason, Err: err}
	}
	code := se.ErrorCode()
	switch {
	case se.Reason == gomail.ErrSMTPDataClose && code == 0:
		// The whole message was written and the connection failed while waiting for
		// the server's verdict: it may have been accepted.
		return &SendError{Outcome: Unknown, Reason: "Lost the connection to " + where +
			" after handing the message over; it may or may not have arrived.", Err: err}
	case code >= 500:
		return &SendError{Outcome: Refused, Reason: fmt.Sprintf("The mail server refused the message (%d %s).", code, se.EnhancedStatusCode()), Err: err}
	case code >= 400:
		return &SendError{Outcome: NotDelivered, Reason: fmt.Sprintf("The mail server asked to try again later (%d).", code), Err: err}
	}
	return &SendError{Outcome: NotDelivered, Reason: "The connection to " + where + " failed before the message was handed over.", Err: err}
}
