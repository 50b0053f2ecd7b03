package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// benchCommand is one `winnow bench` subcommand: a benchmark that starts what it needs
// on loopback and prints one table of figures.
type benchCommand struct {
	summary string
	run     func(ctx context.Context, args []string, e env) error
}

// benchCommands are the benchmarks `winnow bench` runs, by name.
var benchCommands = map[string]benchCommand{
	"intake": {summary: "Lever webhooks answered per second and their latency, beside a no-op handler", run: benchIntakeCommand},
}

// benchMain dispatches `winnow bench NAME [options]`.
func benchMain(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(e.stdout, benchUsage())
		if len(args) == 0 {
			return fmt.Errorf("no benchmark given")
		}
		return nil
	}
	c, ok := benchCommands[args[0]]
	if !ok {
		fmt.Fprint(e.stderr, benchUsage())
		return fmt.Errorf("unknown benchmark %q", args[0])
	}
	return c.run(ctx, args[1:], e)
}

// benchUsage lists the benchmarks.
func benchUsage() string {
	var b strings.Builder
	b.WriteString("Usage: winnow bench NAME [--engine sqlite|postgres] [options]\n\nBenchmarks:\n")
	names := make([]string, 0, len(benchCommands))
	for n := range benchCommands {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-9s %s\n", n, benchCommands[n].summary)
	}
	b.WriteString("\nRun \"winnow bench NAME --help\" for a benchmark's options.\n")
	return b.String()
}
