package main

import (
	"context"
	"flag"
	"fmt"
)

const serveUsage = `Usage: winnow serve [flags]

Runs the web server and the background workers in one process (--role all, the
default). To scale out, run any number of processes of each role on one PostgreSQL
database, with uploads in a shared bucket (WINNOW_BLOB_URL):

  --role web     the web server only: pages, the API and webhooks; it queues jobs
                 and never works them
  --role worker  the background workers only; on WINNOW_ADDR it serves nothing but
                 /healthz and /metrics

On SQLite, one process with --role all is the only shape.

Flags:
`

func serveCommand(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("winnow serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprint(e.stderr, serveUsage)
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
