package sqlstore

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgreSQL plans each statement from its tables' planner statistics, which
// autovacuum refreshes (ANALYZE) once a table has changed by a tenth. But autovacuum
// visits a database about once a minute (autovacuum_naptime), and until a table's
// first ANALYZE the planner knows nothing of how its rows spread. A new install that
// takes a burst of webhooks grows its tables from nothing to thousands of rows inside
// that minute, and the statements each pooled connection keeps prepared hold on to
// plans chosen meanwhile. Measured with `winnow bench process` on PostgreSQL:
// look-ups by org and id (`WHERE org_id = $1 AND id = $2`) ran on indexes led by
// org_id alone, reading every row of the org in lever_writes (about 10,000 index
// entries a scan by the end) and hundreds in applicants, so that processing slowed
// as the tables grew. ANALYZE also invalidates those cached plans.
//
// The statistics keeper below runs ANALYZE on Winnow's tables that have changed by
// at least as many rows as they held at their last ANALYZE (and by statsMinChanges):
// a table growing from empty is analysed at about 1,000, 2,000, 4,000… rows, after
// which autovacuum's own thresholds take over. Every process runs it; an advisory
// lock lets one of them analyse at a time.

// statsCheckEvery is how often the statistics keeper looks at the tables.
const statsCheckEvery = 5 * time.Second

// statsMinChanges is the fewest changed rows for which the keeper analyses a table.
const statsMinChanges = 1000

// statsLockKey is the advisory lock held while analysing ("winnow stats").
const statsLockKey = 0x77696e6e6f777374

// statsAnalyzeTimeout bounds one round of ANALYZE.
const statsAnalyzeTimeout = time.Minute

// startStatsKeeper starts the goroutine that runs analyzeGrown every statsCheckEvery.
// Close stops it.
func (db *DB) startStatsKeeper() {
	db.startBackground(statsCheckEvery, func(ctx context.Context) {
		// A failure (the server restarting, the database dropped) is retried at the
		// next tick; autovacuum still covers what this misses.
		ctx, cancel := context.WithTimeout(ctx, statsAnalyzeTimeout)
		defer cancel()
		_, _ = db.analyzeGrown(ctx)
	})
}

// analyzeGrown runs ANALYZE on those tables of the current schema this role may
// analyse that have changed by at least statsMinChanges rows and by at least the
// number of rows they held at their last ANALYZE or VACUUM (any number, if never), and
// returns their names. It does nothing, and returns none, while another process holds
// statsLockKey.
func (db *DB) analyzeGrown(ctx context.Context) ([]string, error) {
	// Only tables this role may analyse (their owner's, or the database owner's): on
	// others ANALYZE would only warn in the server's log, every round.
	rows, err := db.db.QueryContext(ctx, `SELECT t.relname FROM pg_stat_user_tables t JOIN pg_class c ON c.oid = t.relid
		WHERE t.schemaname = current_schema() AND t.n_mod_since_analyze >= $1
			AND t.n_mod_since_analyze >= c.reltuples
			AND (pg_has_role(c.relowner, 'USAGE')
				OR pg_has_role((SELECT datdba FROM pg_database WHERE datname = current_database()), 'USAGE'))
		ORDER BY t.relname`, statsMinChanges)
	if err != nil {
		return nil, fmt.Errorf("find tables to analyze: %w", err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find tables to analyze: %w", err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find tables to analyze: %w", err)
	}
	if len(tables) == 0 {
		return nil, nil
	}
	// A connection of its own holds the advisory lock, and runs each ANALYZE as a
	// statement of its own, so that it holds one table's lock at a time: a migration
	// that locks tables in another order cannot deadlock with it.
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	defer conn.Close()
	var locked bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, int64(statsLockKey)).Scan(&locked); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	if !locked {
		return nil, nil
	}
	defer func() {
		// A connection that cannot say it let go is not given back to the pool.
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(statsLockKey)); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	for i, t := range tables {
		if _, err := conn.ExecContext(ctx, `ANALYZE `+pgx.Identifier{t}.Sanitize()); err != nil {
			return tables[:i], fmt.Errorf("analyze %s: %w", t, err)
		}
		db.analyzed.Add(1)
	}
	return tables, nil
}

// TablesAnalyzed returns how many times this process's statistics keeper has run
// ANALYZE on a table since Open; always 0 on SQLite.
func (db *DB) TablesAnalyzed() int64 { return db.analyzed.Load() }
