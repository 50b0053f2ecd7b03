package main

import (
	"flag"
	"io"

	"winnow/internal/config"
)

// loadConfig reads the configuration for a subcommand from the environment and flags.
func loadConfig(fs *flag.FlagSet, args []string, e env) (*config.Config, error) {
	return config.Load(fs, args, e.getenv)
}

func configHelp(w io.Writer) { config.PrintVars(w) }
