package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// txGroupMax bounds how many small transactions share one commit.
const txGroupMax = 64

// txGroup commits the small transactions of concurrent callers together (group
// commit) on SQLite.
//
// SQLite has one writer, and a commit there writes every page the transaction touched
// to the WAL and waits for the disk: with River's workers each claiming and finishing
// Lever writes and emails in transactions of a few statements, processing spent most
// of its time in commits (5 per candidate, half a millisecond each). The group runs the
// functions of whoever is waiting one after another in one transaction and commits
// once. The first caller to arrive leads: it runs the batch of everyone queued by then,
// hands the lead to the first caller queued meanwhile and returns.
//
// The functions must be re-runnable from the start and use only the transaction they
// are given: when one fails, the whole transaction is rolled back and each function
// runs again in a transaction of its own, so that a failure (or a cancelled caller)
// touches no one else's change. On PostgreSQL, where writers run side by side and the
// server already flushes concurrent commits together, each function simply runs in its
// own transaction.
type txGroup struct {
	db *DB

	mu    sync.Mutex
	queue []*txGroupCall
	busy  bool // a leader is running a batch; while false, queue is empty
}

// txGroupCall is one caller's function and where its outcome goes.
type txGroupCall struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan txGroupResult // buffered: the leader never waits for a caller
}

// txGroupResult is a caller's outcome, or (lead) its turn to run the next batch.
type txGroupResult struct {
	err  error
	lead bool
}

// inTx runs fn in a transaction that commits when fn returns nil, on SQLite shared
// with other callers' (see txGroup). fn may run more than once (each time from a new
// transaction); its results are final only once inTx returns nil.
func (db *DB) inTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if db.dialect != DialectSQLite {
		return runAlone(ctx, db, fn)
	}
	return db.group.do(ctx, fn)
}

// do queues fn, leads a batch when it is fn's turn, and returns fn's outcome.
func (g *txGroup) do(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	call := &txGroupCall{ctx: ctx, fn: fn, done: make(chan txGroupResult, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, call)
	lead := !g.busy
	g.busy = true
	g.mu.Unlock()
	if !lead {
		res := <-call.done
		if !res.lead {
			return res.err
		}
	}
	// call is first in the queue: as leader, it is in the batch it runs.
	g.mu.Lock()
	n := min(len(g.queue), txGroupMax)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	g.run(batch)

	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].done <- txGroupResult{lead: true}
	} else {
		g.busy = false
		g.queue = nil
	}
	g.mu.Unlock()
	return (<-call.done).err
}

// run commits the batch's functions in one transaction, or each alone when that fails,
// and hands every caller its outcome.
func (g *txGroup) run(batch []*txGroupCall) {
	if len(batch) == 1 {
		c := batch[0]
		c.done <- txGroupResult{err: runAlone(c.ctx, g.db, c.fn)}
		return
	}
	if err := g.runTogether(batch); err == nil {
		for _, c := range batch {
			c.done <- txGroupResult{}
		}
		return
	}
	for _, c := range batch {
		c.done <- txGroupResult{err: runAlone(c.ctx, g.db, c.fn)}
	}
}

// runTogether runs every function of the batch in one transaction and commits it; it
// fails, leaving nothing, when any function or the commit does.
func (g *txGroup) runTogether(batch []*txGroupCall) error {
	// The transaction serves callers whose contexts may end at any time: only each
	// function's own statements follow its caller's context.
	tx, err := g.db.beginTx(context.WithoutCancel(batch[0].ctx))
	if err != nil {
		return err
	}
	defer rollback(tx)
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			return err
		}
		if err := c.fn(c.ctx, tx); err != nil {
			return err
		}
	}
	return commit(tx)
}

// runAlone runs fn in a transaction of its own.
func runAlone(ctx context.Context, db *DB, fn func(ctx context.Context, tx *sql.Tx) error) error {
	tx, err := db.beginTx(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	if err := fn(ctx, tx); err != nil {
		return err
	}
	return commit(tx)
}
