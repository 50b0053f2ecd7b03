package sqlstore_test

import (
	"context"
	"database/sql"
	"os"
	"slices"
	"testing"
	"time"

	"winnow/internal/dbtest"
	"winnow/internal/sqlstore"
)

// TestStatsKeeperAnalyzesGrownTables checks PostgreSQL's statistics keeper: a table
// that grew by thousands of rows since its planner statistics were taken is analysed
// (and the planner then knows its size); one that changed by a few rows is left to
// autovacuum; and a table analysed once is not analysed again until it has grown as
// much again.
func TestStatsKeeperAnalyzesGrownTables(t *testing.T) {
	t.Parallel()
	if os.Getenv(dbtest.EnvPostgresURL) == "" {
		t.Skip("set " + dbtest.EnvPostgresURL + " to run on PostgreSQL")
	}
	ctx := context.Background()
	db := dbtest.Postgres.Open(t)
	q := db.SQL()
	for _, stmt := range []string{
		`CREATE TABLE stats_grown (id INTEGER PRIMARY KEY, org_id TEXT NOT NULL)`,
		`CREATE TABLE stats_small (id INTEGER PRIMARY KEY)`,
		`INSERT INTO stats_grown SELECT g, 'org' FROM generate_series(1, 3000) g`,
		`INSERT INTO stats_small SELECT g FROM generate_series(1, 10) g`,
	} {
		if _, err := q.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	// Backends report their row counts to the statistics system within a second or
	// so of going idle.
	waitChanges(t, q, "stats_grown", 3000)
	waitChanges(t, q, "stats_small", 10)

	// While another process analyses, this one leaves it to them.
	other, err := q.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, sqlstore.StatsLockKey); err != nil {
		t.Fatal(err)
	}
	if tables, err := db.AnalyzeGrown(ctx); err != nil || len(tables) > 0 || analyzeCount(t, q, "stats_grown") != 0 {
		t.Fatalf("analysed %v (error %v) while another process held the lock", tables, err)
	}
	if _, err := other.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, sqlstore.StatsLockKey); err != nil {
		t.Fatal(err)
	}

	if _, err := db.AnalyzeGrown(ctx); err != nil {
		t.Fatal(err)
	}
	// The keeper of db itself may have got there first: the outcome is the same.
	if n := analyzeCount(t, q, "stats_grown"); n != 1 {
		t.Fatalf("stats_grown analysed %d times, want 1", n)
	}
	if n := db.TablesAnalyzed(); n < 1 {
		t.Fatalf("TablesAnalyzed = %d after analysing stats_grown", n)
	}
	if n := analyzeCount(t, q, "stats_small"); n != 0 {
		t.Fatalf("stats_small analysed %d times, want 0 (10 rows changed)", n)
	}
	var tuples float64
	if err := q.QueryRowContext(ctx, `SELECT reltuples FROM pg_class WHERE relname = 'stats_grown'`).Scan(&tuples); err != nil {
		t.Fatal(err)
	}
	if tuples != 3000 {
		t.Fatalf("planner's row count of stats_grown = %v, want 3000", tuples)
	}

	// 1,500 more rows is half the size it had: not yet.
	if _, err := q.ExecContext(ctx, `INSERT INTO stats_grown SELECT g, 'org' FROM generate_series(3001, 4500) g`); err != nil {
		t.Fatal(err)
	}
	waitChanges(t, q, "stats_grown", 1500)
	tables, err := db.AnalyzeGrown(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(tables, "stats_grown") || analyzeCount(t, q, "stats_grown") != 1 {
		t.Fatalf("stats_grown analysed again after growing by half (this round: %v)", tables)
	}
}

// waitChanges waits until the statistics system counts at least n rows of table
// changed since its last ANALYZE.
func waitChanges(t *testing.T, q *sql.DB, table string, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var changed int64
		if err := q.QueryRow(`SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = $1`, table).Scan(&changed); err != nil {
			t.Fatal(err)
		}
		if changed >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d rows changed after 30 s, want %d", table, changed, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// analyzeCount returns how many times table was analysed by an ANALYZE statement.
func analyzeCount(t *testing.T, q *sql.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := q.QueryRow(`SELECT analyze_count FROM pg_stat_user_tables WHERE relname = $1`, table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStatsKeeperRunsOnItsOwn checks that an open PostgreSQL database analyses a grown
// table by itself, within a few of the keeper's rounds.
func TestStatsKeeperRunsOnItsOwn(t *testing.T) {
	t.Parallel()
	if os.Getenv(dbtest.EnvPostgresURL) == "" {
		t.Skip("set " + dbtest.EnvPostgresURL + " to run on PostgreSQL")
	}
	db := dbtest.Postgres.Open(t)
	q := db.SQL()
	for _, stmt := range []string{
		`CREATE TABLE stats_alone (id INTEGER PRIMARY KEY)`,
		`INSERT INTO stats_alone SELECT g FROM generate_series(1, 2000) g`,
	} {
		if _, err := q.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for analyzeCount(t, q, "stats_alone") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("stats_alone not analysed a minute after growing by 2,000 rows")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
