package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"
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
	ctx, cancel := context.WithCancel(context.Background())
	db.stopBackground = cancel
	db.background.Go(func() {
		tick := time.NewTicker(statsCheckEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			// A failure (the server restarting, the database dropped) is retried at
			// the next tick; autovacuum still covers what this misses.
			actx, cancel := context.WithTimeout(ctx, statsAnalyzeTimeout)
			_, _ = db.analyzeGrown(actx)
			cancel()
		}
	})
}

// analyzeGrown runs ANALYZE on the tables of the current schema that have changed by
// at least statsMinChanges rows and by at least the number of rows they held at
// their last ANALYZE or VACUUM (any number, if never), and returns their names. It
// does nothing, and returns none, while another process holds statsLockKey.
func (db *DB) analyzeGrown(ctx context.Context) ([]string, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT t.relname FROM pg_stat_user_tables t JOIN pg_class c ON c.oid = t.relid
		WHERE t.schemaname = current_schema() AND t.n_mod_since_analyze >= $1
			AND t.n_mod_since_analyze >= c.reltuples
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
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	defer rollback(tx)
	var locked bool
	if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1)`, int64(statsLockKey)).Scan(&locked); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	if !locked {
		return nil, nil
	}
	quoted := make([]string, len(tables))
	for i, t := range tables {
		quoted[i] = quoteIdent(t)
	}
	if _, err := tx.ExecContext(ctx, `ANALYZE `+strings.Join(quoted, ", ")); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	if err := commit(tx); err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	return tables, nil
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
