package leversandbox

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// RunCommand runs `winnow lever-sandbox`: it parses args, serves the
// sandbox until ctx is cancelled, and prints where everything is and the
// environment that points Winnow at it.
func RunCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lever-sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9090", "address to listen on")
	clientID := fs.String("client-id", DefaultClientID, "OAuth client id to accept")
	clientSecret := fs.String("client-secret", DefaultClientSecret, "OAuth client secret to accept")
	redirectURI := fs.String("redirect-uri", "", "the only OAuth callback to accept (default: any loopback URL)")
	stateFile := fs.String("state-file", "", "JSON file to load state from and save it to (default: memory only)")
	tokenTTL := fs.Duration("token-ttl", time.Hour, "access-token lifetime")
	retryGap := fs.Duration("webhook-retry-gap", 5*time.Second, "wait before the first webhook retry (doubles each retry)")
	verbose := fs.Bool("v", false, "log every webhook attempt")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: winnow lever-sandbox [flags]")
		fmt.Fprintln(stderr, "Serves a stand-in for Lever's OAuth server, Data API and webhooks.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("parse flags: %w", err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	s, err := New(Options{
		ClientID: *clientID, ClientSecret: *clientSecret, RedirectURI: *redirectURI,
		StateFile: *stateFile, TokenTTL: *tokenTTL, WebhookRetryGap: *retryGap, Logger: logger,
	})
	if err != nil {
		return fmt.Errorf("lever sandbox: %w", err)
	}
	if err := s.Start(*addr); err != nil {
		return fmt.Errorf("lever sandbox: %w", err)
	}
	base := s.URL()
	fmt.Fprintf(stdout, `Lever sandbox running.

  UI:         %[1]s/
  Authorize:  %[1]s/authorize
  Token:      %[1]s/oauth/token
  API:        %[1]s/v1
  Control:    %[1]s/_sandbox/

Point Winnow at it:

  export WINNOW_LEVER_AUTH_URL=%[1]s
  export WINNOW_LEVER_API_URL=%[1]s/v1
  export WINNOW_LEVER_CLIENT_ID=%[2]s
  export WINNOW_LEVER_CLIENT_SECRET=%[3]s

API key (HTTP Basic, key as user name): %[4]s
Press Ctrl-C to stop.
`, base, s.ClientID(), s.ClientSecret(), s.APIKey())
	<-ctx.Done()
	if err := s.Close(); err != nil {
		return fmt.Errorf("lever sandbox: %w", err)
	}
	return nil
}
