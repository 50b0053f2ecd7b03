// Command winnow runs Winnow: the web server and workers (serve), database migrations
// (migrate), and bootstrap tasks such as creating the first admin (user create).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"winnow/internal/leversandbox"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "winnow:", err)
		os.Exit(1)
	}
}

// env is how subcommands read the environment, so tests can pass their own.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

const usage = `Winnow qualifies candidates before they reach your hiring team, and keeps Lever in sync.

Usage:
  winnow demo           try the whole loop on this machine: Winnow, a Lever sandbox, the mail viewer
  winnow serve          run the web server and background workers
  winnow migrate        apply database migrations
  winnow user create    create a user (and the organization, if new)
  winnow token create   create an API token for an organization and print it
  winnow lever-sandbox  run a stand-in for Lever, to try and test Winnow without a Lever account
  winnow bench          measure webhook intake and processing, Lever's rate budget and worker memory on loopback
  winnow healthcheck    ask a running server whether it is healthy (for container health checks)
  winnow version        print the version

Run "winnow COMMAND --help" for a command's options and environment variables.
`

// run dispatches to a subcommand.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	e := env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serveCommand(ctx, rest, e)
	case "migrate":
		return migrateCommand(ctx, rest, e)
	case "user":
		if len(rest) == 0 || rest[0] != "create" {
			return errors.New(`unknown command: try "winnow user create --help"`)
		}
		return userCreateCommand(ctx, rest[1:], e)
	case "token":
		if len(rest) == 0 || rest[0] != "create" {
			return errors.New(`unknown command: try "winnow token create --help"`)
		}
		return tokenCreateCommand(ctx, rest[1:], e)
	case "lever-sandbox":
		return leversandbox.RunCommand(ctx, rest, stdout, stderr)
	case "bench":
		return benchMain(ctx, rest, e)
	case "demo":
		return demoCommand(ctx, rest, e)
	case "healthcheck":
		return healthcheckCommand(ctx, rest, e)
	case "version", "--version":
		fmt.Fprintln(stdout, "winnow", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}
