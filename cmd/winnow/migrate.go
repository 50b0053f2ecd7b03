package main

import (
	"context"
	"flag"
	"fmt"

	"winnow"
	"winnow/internal/config"
	"winnow/internal/sqlstore"
)

func migrateCommand(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("winnow migrate", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: winnow migrate [flags]\n\nApplies Winnow's and River's database migrations. Safe to run again.\n\nFlags:")
		fs.PrintDefaults()
	}
	cfg, err := loadConfig(fs, args, e)
	if err != nil {
		return err
	}
	db, err := sqlstore.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(e.stdout, "%s database is up to date\n", db.Dialect())
	return nil
}

// openStore opens and migrates the configured database for a command that runs once,
// such as user create or token create. Those change nothing that has effects, so the
// store plans none. The caller closes the DB.
func openStore(ctx context.Context, cfg *config.Config) (*sqlstore.DB, *sqlstore.Store, error) {
	db, err := sqlstore.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, nil, fmt.Errorf("open database: %w", err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("migrate: %w", err)
	}
	return db, sqlstore.NewStore(db, winnow.SystemClock{}, nil), nil
}
