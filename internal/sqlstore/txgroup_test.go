package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"
)

// insertFn is a group function inserting n into t, counting its runs.
func insertFn(n int, runs *int, mu *sync.Mutex, fail error) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		mu.Lock()
		*runs++
		mu.Unlock()
		if _, err := tx.ExecContext(ctx, `INSERT INTO t (n) VALUES ($1)`, n); err != nil {
			return err
		}
		return fail
	}
}

// queueBehindTx starts calls inTx callers while a transaction holds SQLite's writer, waits
// until all of them are queued, then lets the writer go. It returns each caller's error.
func queueBehindTx(t *testing.T, db *DB, fns []func(context.Context, *sql.Tx) error) []error {
	t.Helper()
	ctx := context.Background()
	hold, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = db.inTx(ctx, fn) })
	}
	// The first caller leads, takes itself alone and waits for the writer; the others
	// queue behind it.
	for deadline := time.Now().Add(10 * time.Second); ; {
		db.group.mu.Lock()
		queued := len(db.group.queue)
		db.group.mu.Unlock()
		if queued == len(fns)-1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d callers queued", queued, len(fns)-1)
		}
		time.Sleep(time.Millisecond)
	}
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	return errs
}

func TestTxGroupCommitsQueuedCallersTogether(t *testing.T) {
	t.Parallel()
	db := openGateTestDB(t)
	var mu sync.Mutex
	runs := 0
	txs := map[*sql.Tx]bool{}
	fns := make([]func(context.Context, *sql.Tx) error, 20)
	for i := range fns {
		insert := insertFn(i, &runs, &mu, nil)
		fns[i] = func(ctx context.Context, tx *sql.Tx) error {
			mu.Lock()
			txs[tx] = true
			mu.Unlock()
			return insert(ctx, tx)
		}
	}
	for i, err := range queueBehindTx(t, db, fns) {
		if err != nil {
			t.Errorf("caller %d: %v", i, err)
		}
	}
	if n := countRows(t, db); n != len(fns) {
		t.Fatalf("%d rows, want %d", n, len(fns))
	}
	if runs != len(fns) {
		t.Fatalf("the functions ran %d times, want once each (%d)", runs, len(fns))
	}
	// The leader's own transaction, then one for everyone queued behind it.
	if len(txs) != 2 {
		t.Fatalf("%d callers ran in %d transactions, want 2", len(fns), len(txs))
	}
}

func TestTxGroupFailureTouchesNoOneElse(t *testing.T) {
	t.Parallel()
	db := openGateTestDB(t)
	var mu sync.Mutex
	runs := 0
	bad := errors.New("this change is refused")
	fns := make([]func(context.Context, *sql.Tx) error, 10)
	for i := range fns {
		var fail error
		if i == 6 {
			fail = bad
		}
		fns[i] = insertFn(i, &runs, &mu, fail)
	}
	errs := queueBehindTx(t, db, fns)
	for i, err := range errs {
		if i == 6 && !errors.Is(err, bad) {
			t.Errorf("the failing caller got %v, want its own error", err)
		}
		if i != 6 && err != nil {
			t.Errorf("caller %d: %v", i, err)
		}
	}
	var n6 int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM t WHERE n = 6`).Scan(&n6); err != nil {
		t.Fatal(err)
	}
	if n6 != 0 {
		t.Fatal("the failed change's row was kept")
	}
	if n := countRows(t, db); n != len(fns)-1 {
		t.Fatalf("%d rows, want %d: each other change once", n, len(fns)-1)
	}
}

func TestTxGroupCancelledCaller(t *testing.T) {
	t.Parallel()
	db := openGateTestDB(t)
	var mu sync.Mutex
	runs := 0
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := db.inTx(ctx, insertFn(1, &runs, &mu, nil))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller got %v", err)
	}
	if err := db.inTx(context.Background(), insertFn(2, &runs, &mu, nil)); err != nil {
		t.Fatalf("the next caller: %v", err)
	}
	if n := countRows(t, db); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}
