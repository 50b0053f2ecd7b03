package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations
var migrationsFS embed.FS

// riverVersion is the goose version of the Go migration that brings River's schema up
// to the River release in go.mod. River keeps its own river_migration table, so the
// step is idempotent. When a River upgrade brings new River migrations (the test
// TestRiverSchemaCurrent fails), add a goose Go migration with the next free version
// that calls the same functions; do not renumber this one.
const riverVersion = 2

// Migrate applies Winnow's migrations and River's, forward only. Running it again is a
// no-op. Several processes may run it at once: on PostgreSQL goose holds a session
// advisory lock for the whole run, River's step included; on SQLite an exclusive lock
// on a file beside the database does the same (on Unix; elsewhere one process should
// migrate at a time), so that `winnow user create` may run while `serve` starts.
func (db *DB) Migrate(ctx context.Context) error {
	if db.path != "" {
		unlock, err := lockFile(ctx, db.path+".migrate-lock")
		if err != nil {
			return fmt.Errorf("lock for migration: %w", err)
		}
		defer unlock()
	}
	p, err := db.migrationProvider()
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", db.dialect, err)
	}
	return nil
}

func (db *DB) migrationProvider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrationsFS, "migrations/"+db.dialect)
	if err != nil {
		return nil, fmt.Errorf("open migrations: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	var dialect goose.Dialect
	switch db.dialect {
	case DialectPostgres:
		dialect = goose.DialectPostgres
		// River's migrations run outside one transaction on PostgreSQL: version 4
		// adds an enum value that version 6 uses, which PostgreSQL forbids within a
		// single transaction. River then runs each of its versions in its own.
		opts = append(opts, goose.WithGoMigrations(goose.NewGoMigration(riverVersion,
			&goose.GoFunc{RunDB: migrateRiverPostgres}, nil)))
		opts = append(opts, goose.WithGoMigrations(goose.NewGoMigration(insightsVersion,
			&goose.GoFunc{RunTx: migrateInsights(DialectPostgres)}, nil)))
		// Poll the lock every second (the default is five) for at most five minutes.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, fmt.Errorf("create migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	default:
		dialect = goose.DialectSQLite3
		// On SQLite River's step shares goose's transaction, so the step and its
		// version row commit together.
		opts = append(opts, goose.WithGoMigrations(goose.NewGoMigration(riverVersion,
			&goose.GoFunc{RunTx: migrateRiverSQLite}, nil)))
		opts = append(opts, goose.WithGoMigrations(goose.NewGoMigration(insightsVersion,
			&goose.GoFunc{RunTx: migrateInsights(DialectSQLite)}, nil)))
	}
	p, err := goose.NewProvider(dialect, db.db, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("create migration provider: %w", err)
	}
	return p, nil
}

func migrateRiverSQLite(ctx context.Context, tx *sql.Tx) error {
	m, err := rivermigrate.New(riversqlite.New(nil), nil)
	if err != nil {
		return fmt.Errorf("create river migrator: %w", err)
	}
	if _, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	return nil
}

func migrateRiverPostgres(ctx context.Context, db *sql.DB) error {
	m, err := rivermigrate.New(riverdatabasesql.New(db), nil)
	if err != nil {
		return fmt.Errorf("create river migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	return nil
}
