package sqlstore

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// openGateTestDB opens a scratch SQLite database with an empty table t (n INTEGER).
func openGateTestDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "gate.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.SQL().Exec(`CREATE TABLE t (n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	return db
}

// countRows returns how many rows table t of db has.
func countRows(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWriteGateQueuesWritersBehindATransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openGateTestDB(t)
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO t (n) VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	// A read on another connection does not wait for the writer.
	if n := countRows(t, db); n != 0 {
		t.Fatalf("a reader saw %d rows of an uncommitted transaction", n)
	}
	wrote := make(chan error, 1)
	go func() {
		_, err := db.SQL().ExecContext(ctx, `INSERT INTO t (n) VALUES (2)`)
		wrote <- err
	}()
	select {
	case err := <-wrote:
		t.Fatalf("a write outside the transaction went through while it was open (err %v)", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-wrote; err != nil {
		t.Fatalf("the queued write failed: %v", err)
	}
	if n := countRows(t, db); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
}

func TestWriteGateHeldUntilWritingRowsClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openGateTestDB(t)
	rows, err := db.SQL().QueryContext(ctx, `INSERT INTO t (n) VALUES (1), (2) RETURNING n`)
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatalf("no row returned: %v", rows.Err())
	}
	began := make(chan error, 1)
	go func() {
		tx, err := db.SQL().BeginTx(ctx, nil)
		if err == nil {
			err = tx.Rollback()
		}
		began <- err
	}()
	select {
	case err := <-began:
		t.Fatalf("a transaction began while a writing statement's rows were open (err %v)", err)
	case <-time.After(100 * time.Millisecond):
	}
	rows.Close()
	if err := <-began; err != nil {
		t.Fatalf("the transaction waiting for the rows failed: %v", err)
	}
}

func TestWriteGateManyWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openGateTestDB(t)
	const writers, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				tx, err := db.SQL().BeginTx(ctx, nil)
				if err != nil {
					errs <- err
					continue
				}
				if _, err := tx.Exec(`INSERT INTO t (n) VALUES ($1)`, w*each+i); err != nil {
					tx.Rollback()
					errs <- err
					continue
				}
				if i%5 == 0 {
					errs <- tx.Rollback()
					continue
				}
				errs <- tx.Commit()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, want := countRows(t, db), writers*each*4/5; n != want {
		t.Fatalf("%d rows, want %d", n, want)
	}
}

func TestWriteGateReadsOnly(t *testing.T) {
	t.Parallel()
	for q, want := range map[string]bool{
		"SELECT 1":                        true,
		"\n\t  select n FROM t":           true,
		"(SELECT 1) UNION (SELECT 2)":     true,
		"INSERT INTO t VALUES (1)":        false,
		"WITH x AS (SELECT 1) SELECT * x": false,
		"PRAGMA wal_checkpoint(PASSIVE)":  false,
		"UPDATE t SET n = 1 RETURNING n":  false,
		"SEL":                             false,
	} {
		if got := readsOnly(q); got != want {
			t.Errorf("readsOnly(%q) = %v, want %v", q, got, want)
		}
	}
}
