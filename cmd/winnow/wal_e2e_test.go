package main

import (
	"net/http"
	"strings"
	"testing"

	"winnow/internal/dbtest"
)

// TestWALMetric checks that /metrics reports the size of SQLite's WAL file, and that
// PostgreSQL, whose WAL is the server's, reports none.
func TestWALMetric(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		m := MustStart(t, testEnv(t, e.URL(t)))
		s, body := newBrowser(t, m).get("/metrics")
		if s != http.StatusOK {
			t.Fatalf("metrics: %d", s)
		}
		has := strings.Contains(body, "\nwinnow_sqlite_wal_bytes ")
		if has != (e == dbtest.SQLite) {
			t.Fatalf("winnow_sqlite_wal_bytes reported: %v, on %s", has, e.Name)
		}
	})
}
