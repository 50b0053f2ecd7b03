package sqlstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"winnow/internal/dbtest"
	"winnow/internal/sqlstore"
)

// grow writes about n bytes to the database in transactions of 256 KiB, which the
// WAL holds until a checkpoint copies them.
func grow(t *testing.T, db *sqlstore.DB, n int) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.SQL().ExecContext(ctx, `CREATE TABLE IF NOT EXISTS wal_ballast (b BLOB)`); err != nil {
		t.Fatal(err)
	}
	chunk := []byte(strings.Repeat("w", 256<<10))
	for written := 0; written < n; written += len(chunk) {
		if _, err := db.SQL().ExecContext(ctx, `INSERT INTO wal_ballast (b) VALUES ($1)`, chunk); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSQLiteJournalSizeLimit checks that every connection cuts the WAL back to the
// limit when it starts over, rather than keeping the largest size it reached.
func TestSQLiteJournalSizeLimit(t *testing.T) {
	t.Parallel()
	db := dbtest.SQLite.Open(t)
	for range 3 { // several connections of the pool
		var limit int64
		if err := db.SQL().QueryRowContext(context.Background(), `PRAGMA journal_size_limit`).Scan(&limit); err != nil {
			t.Fatal(err)
		}
		if limit <= 0 || limit > 64<<20 {
			t.Fatalf("journal_size_limit = %d, want a bound under 64 MB", limit)
		}
	}
}

// TestWALTruncatedWhenIdle writes a few megabytes and checks that, once nothing
// writes, the checkpointer empties the WAL file. SQLite's own checkpoints copy the WAL
// into the database but leave the file as large as it grew.
func TestWALTruncatedWhenIdle(t *testing.T) {
	t.Parallel()
	db := dbtest.SQLite.Open(t)
	grow(t, db, 6<<20)
	if n := db.WALBytes(); n < 1<<20 {
		t.Fatalf("WAL = %d bytes after writing 6 MB; the test needs it to have grown", n)
	}
	deadline := time.Now().Add(15 * time.Second)
	for db.WALBytes() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the WAL still holds %d bytes after 15 s without writes", db.WALBytes())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCloseTruncatesWAL checks that Close empties the WAL even while another process
// (here another pool) has the database open, so that SQLite does not do it itself.
func TestCloseTruncatesWAL(t *testing.T) {
	t.Parallel()
	url := dbtest.SQLite.URL(t)
	db, err := sqlstore.Open(context.Background(), url, "")
	if err != nil {
		t.Fatal(err)
	}
	other := dbtest.MustOpen(t, url)
	if err := other.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	grow(t, db, 2<<20)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if n := other.WALBytes(); n != 0 {
		t.Fatalf("WAL = %d bytes after Close, want 0", n)
	}
}

// TestWALBytesPostgres checks that WALBytes reports nothing on PostgreSQL, whose WAL
// is the server's business.
func TestWALBytesPostgres(t *testing.T) {
	t.Parallel()
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		if e == dbtest.SQLite {
			return
		}
		if n := e.Open(t).WALBytes(); n != 0 {
			t.Fatalf("WALBytes = %d on PostgreSQL", n)
		}
	})
}
