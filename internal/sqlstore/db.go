// Package sqlstore holds all of Winnow's SQL. It implements the domain's service
// interfaces on SQLite (modernc.org/sqlite, the embedded default) and PostgreSQL (pgx),
// with one set of queries written with $n placeholders and one schema per dialect.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"winnow"
)

// The dialects a DB can speak.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// sqliteParams are appended to every SQLite DSN. WAL lets readers run beside the one
// writer; busy_timeout makes a second writer wait instead of failing; synchronous=FULL
// makes a commit durable before it is acknowledged (design rule 5); _txlock=immediate
// takes the write lock at BEGIN, because upgrading a deferred transaction from read to
// write fails at once with SQLITE_BUSY, which busy_timeout cannot help; the time
// settings store every time as sortable UTC text; journal_size_limit shrinks the WAL
// file back to that size whenever it starts over after a checkpoint, instead of
// keeping the largest size it ever reached (see checkpointer).
var sqliteParams = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(" + strconv.Itoa(sqliteBusyTimeout) + ")&_pragma=synchronous(FULL)" +
	"&_pragma=foreign_keys(1)&_pragma=journal_size_limit(" + strconv.Itoa(sqliteJournalSizeLimit) + ")" +
	"&_txlock=immediate&_time_format=sqlite&_timezone=UTC"

// sqliteBusyTimeout is how long, in milliseconds, a SQLite connection waits for a lock
// another holds before it fails with SQLITE_BUSY.
const sqliteBusyTimeout = 10000

// sqliteJournalSizeLimit is the size in bytes the WAL file is cut back to when it
// starts over: a few times the 4 MB at which SQLite checkpoints by itself, so that it is
// not cut and grown again all the time.
const sqliteJournalSizeLimit = 16 << 20

// sqliteMaxConns is the SQLite pool size. River documents one connection as the safe
// choice, but then any use of the pool while a transaction is open on that connection
// (a db.Query instead of tx.Query, client.Insert instead of InsertTx, a handler reading
// while River's producer holds a tx) blocks until its context ends. With
// _txlock=immediate and busy_timeout, four connections were measured with no
// SQLITE_BUSY errors and about twice the transaction rate of one, and WAL readers no
// longer queue behind River's writes. Writers are still serialised by SQLite itself.
// One more is held by the intake committer from batch to batch (intake_batch.go), so
// that everything else still has the four: with three, the Lever tests under -race
// stalled for a minute with River unable to begin a transaction.
const sqliteMaxConns = 5

// postgresMaxConns bounds the PostgreSQL pool so that several winnow processes fit
// under the server's default max_connections of 100.
const postgresMaxConns = 20

// DB is a connection pool to Winnow's database, SQLite or PostgreSQL. From Open to
// Close it also runs, on SQLite, the checkpointer that keeps the WAL file small and,
// on PostgreSQL, the statistics keeper that analyses tables as they grow.
type DB struct {
	db      *sql.DB
	dialect string
	path    string  // the SQLite file; empty on PostgreSQL
	group   txGroup // group commit of small transactions (SQLite)

	// stopBackground ends the background goroutine: SQLite's checkpointer
	// (wal.go) or PostgreSQL's statistics keeper (pgstats.go).
	stopBackground context.CancelFunc
	background     sync.WaitGroup
	analyzed       atomic.Int64 // tables the statistics keeper analysed (TablesAnalyzed)
	closeOnce      sync.Once
	closeErr       error
}

// Open opens the database named by rawURL, creating the SQLite file and its folder if
// needed, and checks that it answers:
//
//   - "" is the SQLite file winnow.db in dataDir;
//   - "sqlite:///abs/path.db", "file:path.db?…" or a plain path ending in .db, .sqlite
//     or .sqlite3 is that SQLite file;
//   - "postgres://…" or "postgresql://…" is PostgreSQL through pgx's database/sql driver.
//
// It does not migrate; call Migrate for that.
func Open(ctx context.Context, rawURL, dataDir string) (*DB, error) {
	dialect, dsn, path, err := parseURL(rawURL, dataDir)
	if err != nil {
		return nil, err
	}
	var db *sql.DB
	switch dialect {
	case DialectSQLite:
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create data folder: %w", err)
		}
		connector, err := newSQLiteConnector(dsn)
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		db = sql.OpenDB(connector)
		db.SetMaxOpenConns(sqliteMaxConns)
		db.SetMaxIdleConns(sqliteMaxConns)
	case DialectPostgres:
		db, err = sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db.SetMaxOpenConns(postgresMaxConns)
		// As many kept idle as may be open: with fewer, River's workers opened and
		// closed server backends all through a burst (milliseconds of server CPU
		// each). Connections idle for five minutes close.
		db.SetMaxIdleConns(postgresMaxConns)
		db.SetConnMaxIdleTime(5 * time.Minute)
	}
	d := &DB{db: db, dialect: dialect, path: path}
	d.group.db = d
	if err := d.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if dialect == DialectSQLite {
		d.startCheckpointer()
	} else {
		d.startStatsKeeper()
	}
	return d, nil
}

// startBackground runs fn every interval, in a goroutine of its own, until Close:
// SQLite's checkpointer (wal.go) or PostgreSQL's statistics keeper (pgstats.go). fn's
// context ends with Close.
func (db *DB) startBackground(every time.Duration, fn func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	db.stopBackground = cancel
	db.background.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			fn(ctx)
		}
	})
}

// DialectOf tells which engine the database URL names, as Open reads it, without
// opening it.
func DialectOf(rawURL, dataDir string) (string, error) {
	dialect, _, _, err := parseURL(rawURL, dataDir)
	return dialect, err
}

// parseURL tells the dialect of rawURL and returns the driver's DSN and, for SQLite,
// the file's path.
func parseURL(rawURL, dataDir string) (dialect, dsn, path string, err error) {
	var query string
	switch {
	case rawURL == "":
		if dataDir == "" {
			return "", "", "", winnow.Errorf(winnow.EINVALID, "Set a database URL or a data folder.")
		}
		path = filepath.Join(dataDir, "winnow.db")
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return DialectPostgres, rawURL, "", nil
	case strings.HasPrefix(rawURL, "sqlite://"):
		path, query, _ = strings.Cut(strings.TrimPrefix(rawURL, "sqlite://"), "?")
	case strings.HasPrefix(rawURL, "file:"):
		path, query, _ = strings.Cut(strings.TrimPrefix(rawURL, "file:"), "?")
	case hasSQLiteExt(rawURL) && !strings.Contains(rawURL, "://"):
		path = rawURL
	default:
		return "", "", "", winnow.Errorf(winnow.EINVALID,
			"Unsupported database URL: use postgres://…, sqlite:///path/winnow.db or a path ending in .db.")
	}
	if path == "" {
		return "", "", "", winnow.Errorf(winnow.EINVALID, "The SQLite database URL names no file.")
	}
	if !filepath.IsAbs(path) {
		if path, err = filepath.Abs(path); err != nil {
			return "", "", "", fmt.Errorf("resolve database path: %w", err)
		}
	}
	if query != "" {
		if _, err := url.ParseQuery(query); err != nil {
			return "", "", "", winnow.Errorf(winnow.EINVALID, "The SQLite database URL has a malformed query.")
		}
		query = "&" + query
	}
	return DialectSQLite, "file:" + path + "?" + sqliteParams + query, path, nil
}

func hasSQLiteExt(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".db", ".sqlite", ".sqlite3":
		return true
	}
	return false
}

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// SQL returns the underlying pool, for River and for tests.
func (db *DB) SQL() *sql.DB { return db.db }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", db.dialect, err)
	}
	return nil
}

// Close closes the pool. Stop River clients built on it first. On SQLite it first stops
// the checkpointer and checkpoints the WAL into the database file, leaving the WAL
// empty even while another process (winnow user create) has the database open.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.stopBackground()
		db.background.Wait()
		if db.dialect == DialectSQLite {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if _, err := db.checkpoint(ctx, "TRUNCATE", walCloseWait); err != nil {
				db.closeErr = fmt.Errorf("checkpoint on close: %w", err)
			}
			cancel()
		}
		if err := db.db.Close(); err != nil {
			db.closeErr = errors.Join(db.closeErr, err)
		}
	})
	return db.closeErr
}

// RiverDriver returns the River driver for this engine, so that callers build one
// *river.Client[*sql.Tx] the same way on both: riversqlite on SQLite and
// riverdatabasesql (poll-only, works jobs too) on PostgreSQL. Both share the pool, so
// jobs inserted with InsertTx commit or roll back with the store's own writes.
func (db *DB) RiverDriver() riverdriver.Driver[*sql.Tx] {
	if db.dialect == DialectPostgres {
		return riverdatabasesql.New(db.db)
	}
	return riversqlite.New(db.db)
}

// beginTx starts a transaction. On SQLite _txlock=immediate makes it take the write
// lock at once, which serialises read-modify-write sequences without FOR UPDATE.
func (db *DB) beginTx(ctx context.Context) (*sql.Tx, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	return tx, nil
}

// forUpdate is the row-lock suffix for a SELECT that precedes an UPDATE in the same
// transaction: FOR UPDATE on PostgreSQL, nothing on SQLite, where the immediate
// transaction already holds the database's write lock.
func (db *DB) forUpdate() string {
	if db.dialect == DialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}
