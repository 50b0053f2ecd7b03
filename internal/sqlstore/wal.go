package sqlstore

import (
	"context"
	"database/sql/driver"
	"fmt"
	"os"
	"strconv"
	"time"
)

// SQLite's WAL. Every commit appends to the WAL file; a checkpoint copies what it can
// into the database file, and the WAL starts over from its beginning only once all of
// it has been copied and no reader still reads from it. SQLite checkpoints by itself
// (PASSIVE, every 4 MB), but with readers always at work (River's pollers, pages) the
// copying lags and the WAL is never found fully copied when a write begins: it was
// measured growing to 458 MB beside a 115 MB database. journal_size_limit (in the DSN)
// cuts the file back when it does start over; the checkpointer below makes it start
// over, once the writer is idle.

// walCheckEvery is how often the checkpointer looks at the WAL.
const walCheckEvery = time.Second

// walTruncateWait is how long the idle checkpointer's TRUNCATE may wait for readers to
// leave the WAL, in milliseconds. Meanwhile it holds off writers, so it is short: when
// readers stay longer it gives up and the next idle moment tries again.
const walTruncateWait = 100

// walCloseWait is how long, in milliseconds, the TRUNCATE of Close may wait for other
// processes' readers.
const walCloseWait = 3000

// startCheckpointer starts the goroutine that checkpoints the WAL every walCheckEvery:
// PASSIVE, which copies what it can and never waits; then, when that copied every frame
// and no frame was added since the last look (the writer is idle), TRUNCATE, which
// empties the WAL file. Close stops it.
func (db *DB) startCheckpointer() {
	lastFrames := -1
	db.startBackground(walCheckEvery, func(ctx context.Context) {
		frames, copied, err := db.passiveCheckpoint(ctx)
		if err != nil {
			return // the database is busy or closing: the next tick tries again
		}
		if frames > 0 && frames == copied && frames == lastFrames {
			if done, err := db.checkpoint(ctx, "TRUNCATE", walTruncateWait); err == nil && done {
				frames = 0
			}
		}
		lastFrames = frames
	})
}

// passiveCheckpoint copies what it can of the WAL into the database file without
// waiting for anyone, and returns how many frames the WAL holds and how many of them
// are copied.
func (db *DB) passiveCheckpoint(ctx context.Context) (frames, copied int, err error) {
	var busy int
	err = db.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
	if err != nil {
		return 0, 0, fmt.Errorf("checkpoint: %w", err)
	}
	return frames, copied, nil
}

// checkpoint runs a blocking checkpoint (mode TRUNCATE or RESTART) on a connection of
// its own whose busy timeout is waitMS, so that it holds off writers no longer, and
// reports whether it completed.
func (db *DB) checkpoint(ctx context.Context, mode string, waitMS int) (bool, error) {
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA busy_timeout = `+strconv.Itoa(waitMS)); err != nil {
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	var busy, frames, copied int
	cerr := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &frames, &copied)
	// Give the connection back to the pool as it came, or not at all.
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA busy_timeout = `+strconv.Itoa(sqliteBusyTimeout)); err != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	if cerr != nil {
		return false, fmt.Errorf("checkpoint %s: %w", mode, cerr)
	}
	return busy == 0, nil
}

// WALBytes returns the size of SQLite's WAL file; 0 on PostgreSQL or when there is
// none.
func (db *DB) WALBytes() int64 {
	if db.path == "" {
		return 0
	}
	st, err := os.Stat(db.path + "-wal")
	if err != nil {
		return 0
	}
	return st.Size()
}
