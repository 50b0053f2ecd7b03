package main

import (
	"context"
	"flag"
	"fmt"
)

func serveCommand(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("winnow serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: winnow serve [flags]\n\nRuns the web server and the background workers.\n\nFlags:")
		fs.PrintDefaults()
		fmt.Fprintln(e.stderr)
		configHelp(e.stderr)
	}
	cfg, err := loadConfig(fs, args, e)
	if err != nil {
		return err
	}
	logger := newLogger(cfg, e.stderr)
	m := NewMain(cfg, logger)
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	err = m.Wait(ctx)
	logger.Info("shutting down")
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	return err
}
