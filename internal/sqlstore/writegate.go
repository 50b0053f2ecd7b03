package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"strconv"
	"strings"
	"time"
)

// writeGate lets one connection of a SQLite database write at a time, queueing the
// others in Go.
//
// SQLite itself admits one writer and makes the others wait through its busy handler,
// which sleeps 1, 2, 5, 10… milliseconds between tries: with River, the intake
// committer and the stores' transactions all writing, most of the time a transaction
// waited was spent asleep after the lock had come free, and processing ran on one of
// the two cores. The gate hands the write lock over as soon as it is let go. SQLite's
// busy handler stays as the safety net for writers the gate does not see (another
// process, a statement classified as a read that writes).
type writeGate chan struct{}

// newWriteGate returns an open gate.
func newWriteGate() writeGate { return make(writeGate, 1) }

// enter waits for the gate, or for ctx to be done, for at most SQLite's busy timeout:
// a writer waiting longer (most likely one whose own transaction holds the gate on
// another connection) fails as SQLite would have failed it.
func (g writeGate) enter(ctx context.Context) error {
	select {
	case g <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(sqliteBusyTimeout * time.Millisecond)
	defer t.Stop()
	select {
	case g <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errWriteGateTimeout
	}
}

// errWriteGateTimeout is the error of a writer that waited the busy timeout for the gate.
var errWriteGateTimeout = errors.New("database is locked: waited " + strconv.Itoa(sqliteBusyTimeout/1000) + "s for the writer before it")

// leave opens the gate for the next writer.
func (g writeGate) leave() { <-g }

// readsOnly tells whether a statement run outside a transaction only reads: a SELECT.
// Anything else (INSERT, UPDATE … RETURNING, WITH, PRAGMA) goes through the gate.
func readsOnly(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	return len(q) >= 6 && strings.EqualFold(q[:6], "SELECT")
}

// gatedTx is a transaction holding its connection's write gate until it ends.
type gatedTx struct {
	driver.Tx
	conn *cachingConn
}

// Commit commits and lets the next writer in.
func (t *gatedTx) Commit() error {
	defer t.conn.endTx()
	return t.Tx.Commit()
}

// Rollback rolls back and lets the next writer in.
func (t *gatedTx) Rollback() error {
	defer t.conn.endTx()
	return t.Tx.Rollback()
}

// gatedRows are the rows of a writing statement run outside a transaction: SQLite
// holds the write lock until they are closed, and so does the gate.
type gatedRows struct {
	driver.Rows
	gate writeGate
	open bool
}

// Close closes the rows and lets the next writer in.
func (r *gatedRows) Close() error {
	err := r.Rows.Close()
	if r.open {
		r.open = false
		r.gate.leave()
	}
	return err
}
