package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
)

// benchCommand is one "winnow bench" subcommand: it starts what it needs on loopback,
// measures, and prints one table.
type benchCommand struct {
	summary string
	run     func(ctx context.Context, args []string, e env) error
}

// benchCommands are the benchmarks a user can run, by name.
var benchCommands = map[string]benchCommand{
	"intake":    {summary: "Lever webhooks answered per second and their latency, beside a no-op handler", run: benchIntakeCommand},
	"process":   {summary: "10,000 queued applicationCreated worked to CP-Sent in the sandbox; webhook → CP-Sent at idle", run: benchProcess},
	"drain":     {summary: "one account's backlog drained at Winnow's Lever rate budget, with a second org served meanwhile", run: benchDrain},
	"reminders": {summary: "a worker process's memory, idle and with 1,000,000 reminders scheduled", run: benchReminders},
}

// benchMain dispatches "winnow bench NAME [flags]".
func benchMain(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		benchUsage(e.stdout)
		if len(args) == 0 {
			return errors.New("no benchmark given")
		}
		return nil
	}
	c, ok := benchCommands[args[0]]
	if !ok {
		benchUsage(e.stderr)
		return fmt.Errorf("unknown benchmark %q", args[0])
	}
	return c.run(ctx, args[1:], e)
}

// benchUsage lists the benchmarks.
func benchUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: winnow bench NAME [--engine sqlite|postgres] [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Runs a benchmark on loopback (a scratch database, the built-in Lever sandbox) and prints one table.")
	fmt.Fprintln(w, "PostgreSQL comes from --postgres-url or WINNOW_TEST_POSTGRES_URL; a scratch database is created there and dropped.")
	fmt.Fprintln(w)
	names := make([]string, 0, len(benchCommands))
	for n := range benchCommands {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, benchCommands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "winnow bench NAME --help" for a benchmark's flags.`)
}
