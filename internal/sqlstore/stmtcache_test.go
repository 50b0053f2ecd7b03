package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// openCacheTestDB opens a scratch SQLite database with a table of n numbered rows, and
// pins one connection of its pool so the test sees that connection's cache.
func openCacheTestDB(t *testing.T, n int) (*sql.Conn, *DB) {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "cache.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.ExecContext(ctx, `CREATE TABLE nums (n INTEGER PRIMARY KEY, label TEXT)`); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := conn.ExecContext(ctx, `INSERT INTO nums (n, label) VALUES ($1, $2)`, i, fmt.Sprint("n", i)); err != nil {
			t.Fatal(err)
		}
	}
	return conn, db
}

// cached returns how many statements conn keeps and whether query is one of them.
func cached(t *testing.T, conn *sql.Conn, query string) (n int, has bool) {
	t.Helper()
	if err := conn.Raw(func(dc any) error {
		c, ok := dc.(*cachingConn)
		if !ok {
			return fmt.Errorf("driver connection is %T, not the caching one", dc)
		}
		_, has = c.byQuery[query]
		n = c.lru.Len()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n, has
}

func TestStmtCacheReusesStatements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, _ := openCacheTestDB(t, 5)
	const q = `SELECT label FROM nums WHERE n = $1`
	for i := range 5 {
		var label string
		if err := conn.QueryRowContext(ctx, q, i).Scan(&label); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprint("n", i); label != want {
			t.Fatalf("row %d: label %q, want %q (a reused statement must bind its new arguments)", i, label, want)
		}
	}
	if _, has := cached(t, conn, q); !has {
		t.Fatal("the query is not in the connection's cache after five runs")
	}
}

// TestStmtCacheSameQueryWhileRowsOpen runs a query again while its own rows are being
// read, as a loop over results that looks each one up can: the busy statement must
// not be reset under the open rows.
func TestStmtCacheSameQueryWhileRowsOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, _ := openCacheTestDB(t, 10)
	const q = `SELECT n FROM nums WHERE n >= $1 ORDER BY n`
	rows, err := conn.QueryContext(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var outer []int
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		outer = append(outer, n)
		inner, err := conn.QueryContext(ctx, q, n)
		if err != nil {
			t.Fatal(err)
		}
		count := 0
		for inner.Next() {
			count++
		}
		if err := inner.Close(); err != nil {
			t.Fatal(err)
		}
		if want := 10 - n; count != want {
			t.Fatalf("inner query from %d read %d rows, want %d", n, count, want)
		}
		// An exec of the busy statement's text must not disturb it either.
		if _, err := conn.ExecContext(ctx, q, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if len(outer) != 10 {
		t.Fatalf("outer query read %d rows, want 10: the inner queries disturbed it", len(outer))
	}
}

// TestStmtCacheIsBounded runs more distinct queries than the cache holds.
func TestStmtCacheIsBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, _ := openCacheTestDB(t, 1)
	for i := range stmtCacheSize + 50 {
		var got int
		if err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT n + %d FROM nums`, i)).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != i {
			t.Fatalf("query %d answered %d", i, got)
		}
	}
	if n, _ := cached(t, conn, ""); n > stmtCacheSize {
		t.Fatalf("the cache holds %d statements, more than its bound %d", n, stmtCacheSize)
	}
	if _, has := cached(t, conn, `SELECT n + 0 FROM nums`); has {
		t.Fatal("the least recently used statement is still cached past the bound")
	}
}

// TestStmtCacheFollowsSchemaChanges checks that a cached statement sees a column added
// after it was prepared (SQLite re-prepares it).
func TestStmtCacheFollowsSchemaChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, _ := openCacheTestDB(t, 1)
	const q = `SELECT * FROM nums`
	cols := func() int {
		rows, err := conn.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		c, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		return len(c)
	}
	if n := cols(); n != 2 {
		t.Fatalf("%d columns, want 2", n)
	}
	if _, err := conn.ExecContext(ctx, `ALTER TABLE nums ADD COLUMN extra TEXT`); err != nil {
		t.Fatal(err)
	}
	if n := cols(); n != 3 {
		t.Fatalf("%d columns after ALTER TABLE, want 3", n)
	}
}
