package main

import (
	"net/http"
	"strings"
	"testing"

	"winnow/internal/dbtest"
)

// TestDatabaseMetrics checks that /metrics reports the size of SQLite's WAL file on
// SQLite, and on PostgreSQL (whose WAL is the server's) the tables the statistics
// keeper analysed instead.
func TestDatabaseMetrics(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		s, body := newBrowser(t, m).get("/metrics")
		if s != http.StatusOK {
			t.Fatalf("metrics: %d", s)
		}
		wal := strings.Contains(body, "\nwinnow_sqlite_wal_bytes ")
		analyzed := strings.Contains(body, "\nwinnow_postgres_tables_analyzed_total ")
		if wal != (e == dbtest.SQLite) || analyzed != (e == dbtest.Postgres) {
			t.Fatalf("on %s: winnow_sqlite_wal_bytes reported: %v, winnow_postgres_tables_analyzed_total: %v", e.Name, wal, analyzed)
		}
	})
}
