package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"

	"winnow"
	"winnow/internal/config"
	"winnow/internal/leversandbox"
)

const demoUsage = `Usage: winnow demo [--data DIR] [--addr ADDR] [--lever-addr ADDR] [--reset]

Runs the whole loop on this machine, with no Lever account and no mail server:
Winnow on SQLite in the data folder, the built-in Lever sandbox on a second
loopback port, and email kept in the outbox for the mail viewer. The first run
makes a secret key, an organization, an admin and a sample job; every run
prints a walkthrough. Running it again reuses the data; --reset starts over.
For a demo only: "winnow serve" needs its own WINNOW_SECRET_KEY.

Flags:
`

// demoOptions are winnow demo's flags.
type demoOptions struct {
	Dir       string // the data folder
	Addr      string // Winnow's address
	LeverAddr string // the sandbox's address; empty: the port after Addr's, or :0 with Addr
	Reset     bool   // delete the data folder first
	LogLevel  string // WINNOW_LOG_LEVEL for Winnow; empty: warn, so the walkthrough stays readable
}

func demoCommand(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("winnow demo", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var o demoOptions
	fs.StringVar(&o.Dir, "data", "./demo-data", "folder for the demo's database, uploads, secret key and sandbox state")
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "address Winnow listens on (port 0 picks a free one)")
	fs.StringVar(&o.LeverAddr, "lever-addr", "", "address the Lever sandbox listens on (default: the port after --addr's; a free one when that is 0)")
	fs.BoolVar(&o.Reset, "reset", false, "delete the data folder first and start over")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, demoUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	o.LogLevel = e.getenv("WINNOW_LOG_LEVEL")
	d, err := startDemo(ctx, o, e)
	if err != nil {
		return err
	}
	d.walkthrough(e.stdout)
	<-ctx.Done()
	fmt.Fprintln(e.stderr, "winnow demo: stopping")
	return d.Close()
}

// demo is a running demo: Winnow and the Lever sandbox, with what the walkthrough
// prints.
type demo struct {
	Main     *Main
	Sandbox  *leversandbox.Server
	Dir      string
	Admin    *winnow.User
	Password string
	Funnel   *winnow.Funnel
	Posting  string // the sandbox posting the walkthrough links the job to
	// Reused says the data folder held an earlier run's data.
	Reused bool
}

// startDemo prepares the data folder, starts the sandbox and Winnow, and seeds what
// is missing. It is the whole of winnow demo but the walkthrough and the wait, so
// tests start the demo the way the command does.
func startDemo(ctx context.Context, o demoOptions, e env) (_ *demo, err error) {
	reused, err := prepareDemoDir(o.Dir, o.Reset)
	if err != nil {
		return nil, err
	}
	key, err := demoSecret(filepath.Join(o.Dir, demoKeyFile), 32)
	if err != nil {
		return nil, err
	}
	leverAddr, err := demoLeverAddr(o.Addr, o.LeverAddr)
	if err != nil {
		return nil, err
	}
	level := o.LogLevel
	if level == "" {
		level = "warn"
	}
	sbLogger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("component", "lever-sandbox")
	sb, err := leversandbox.New(leversandbox.Options{StateFile: filepath.Join(o.Dir, demoSandboxFile), Logger: sbLogger})
	if err != nil {
		return nil, fmt.Errorf("lever sandbox: %w", err)
	}
	d := &demo{Sandbox: sb, Dir: o.Dir, Reused: reused}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if err := sb.Start(leverAddr); err != nil {
		return nil, fmt.Errorf("lever sandbox on %s: %w (choose another with --lever-addr)", leverAddr, err)
	}
	// Only what the demo needs: an operator's WINNOW_DATABASE_URL or WINNOW_SMTP_URL
	// must not send the demo to a real database or real inboxes.
	vars := map[string]string{
		"WINNOW_ADDR": o.Addr, "WINNOW_DATA_DIR": o.Dir, "WINNOW_SECRET_KEY": key,
		"WINNOW_LOG_LEVEL": level, "WINNOW_LOG_FORMAT": "text",
		"WINNOW_LEVER_API_URL": sb.URL() + "/v1", "WINNOW_LEVER_AUTH_URL": sb.URL(),
		"WINNOW_LEVER_CLIENT_ID": sb.ClientID(), "WINNOW_LEVER_CLIENT_SECRET": sb.ClientSecret(),
	}
	cfg, err := config.Load(flag.NewFlagSet("demo", flag.ContinueOnError), nil, func(k string) string { return vars[k] })
	if err != nil {
		return nil, err
	}
	d.Main = NewMain(cfg, newLogger(cfg, e.stderr))
	if err := d.Main.Run(ctx); err != nil {
		if opErr := (*net.OpError)(nil); errors.As(err, &opErr) && opErr.Op == "listen" {
			return nil, fmt.Errorf("%w (choose another address with --addr)", err)
		}
		return nil, err
	}
	// The webhooks Winnow registered in an earlier run point at that run's address.
	sb.RepointWebhooks(winnow.LeverWebhookPath, cfg.BaseURL)
	if err := d.seed(ctx); err != nil {
		return nil, fmt.Errorf("seed the demo: %w", err)
	}
	return d, nil
}

// Close stops Winnow, then the sandbox (which saves its state).
func (d *demo) Close() error {
	var errs []error
	if d.Main != nil {
		errs = append(errs, d.Main.Close())
	}
	if d.Sandbox != nil {
		errs = append(errs, d.Sandbox.Close())
	}
	return errors.Join(errs...)
}

// BaseURL is Winnow's URL, known once it listens.
func (d *demo) BaseURL() string { return d.Main.Config.BaseURL }

// SandboxURL is the Lever sandbox's URL.
func (d *demo) SandboxURL() string { return d.Sandbox.URL() }

// demoLeverAddr is the sandbox's address: the one asked for, else the loopback port
// after Winnow's, else (Winnow on port 0) a free one.
func demoLeverAddr(addr, leverAddr string) (string, error) {
	if leverAddr != "" {
		return leverAddr, nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--addr %q: %w", addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p >= 65535 {
		return "", fmt.Errorf("--addr %q: the port must be a number below 65535", addr)
	}
	if p == 0 {
		return "127.0.0.1:0", nil
	}
	return "127.0.0.1:" + strconv.Itoa(p+1), nil
}
