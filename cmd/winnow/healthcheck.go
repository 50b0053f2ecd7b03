package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"
)

// healthcheckTimeout bounds one health check, so a container runtime's check never hangs.
const healthcheckTimeout = 5 * time.Second

// healthcheckCommand asks a running server's /healthz and exits non-zero unless it
// answers 200. It is the container image's HEALTHCHECK: the image has no shell or curl.
func healthcheckCommand(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("winnow healthcheck", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	target := fs.String("url", "", "the health URL to ask (default: /healthz on 127.0.0.1 at the port of WINNOW_ADDR)")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: winnow healthcheck [--url URL]\n\nAsks a running Winnow whether it and its database answer; exits 0 if so, 1 if not.\n\nFlags:")
		fs.PrintDefaults()
	}
	cfg, err := loadConfig(fs, args, e)
	if err != nil {
		return err
	}
	if *target == "" {
		_, port, err := net.SplitHostPort(cfg.Addr)
		if err != nil || port == "" || port == "0" {
			return fmt.Errorf("cannot tell the port from WINNOW_ADDR %q: pass --url", cfg.Addr)
		}
		*target = "http://" + net.JoinHostPort("127.0.0.1", port) + "/healthz"
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *target, nil)
	if err != nil {
		return fmt.Errorf("health URL: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New("unhealthy: " + resp.Status)
	}
	fmt.Fprintln(e.stdout, "healthy")
	return nil
}
