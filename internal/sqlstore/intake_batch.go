package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"winnow"
)

// MaxIntakeBatch is the most webhook deliveries an IntakeBatcher writes in one
// transaction. A few hundred keep a commit well under a few milliseconds on both
// engines while a burst is absorbed at one fsync per batch (see shared/stack.md,
// "Webhook intake").
const MaxIntakeBatch = 256

// intakeQueue is how many requests may wait for the committer before callers block on
// the queue itself: a few batches' worth.
const intakeQueue = 4 * MaxIntakeBatch

// intakeCommitTimeout bounds one batch's transaction. Requests are answered by then
// (with an error if it ran out), so that Lever's retries take over from a stuck
// database rather than connections piling up.
const intakeCommitTimeout = 10 * time.Second

// insertChunkMax is the most deliveries one INSERT writes (17 parameters each). A
// batch is cut into statements of 128, 64, 32, … rows, so that a handful of statement
// texts serve every batch size: SQLite's connections keep them prepared (stmtcache.go)
// and PostgreSQL's driver caches their descriptions. On SQLite the parameters are
// plain "?" (insertDeliveriesSQL), which it binds by position; "$n" ones it looked up
// in a list at every bind, the square of their number, which was most of the intake's
// CPU at 128 rows.
const insertChunkMax = 128

// Messages of intake that could not store a delivery; Lever retries on a 503.
const (
	msgIntakeFailed  = "Winnow could not store this webhook just now. Lever sends it again."
	msgIntakeStopped = "Winnow is shutting down and takes no more webhooks. Lever sends this one again."
)

// IntakeBatcher records webhook deliveries by group commit: concurrent callers of
// RecordLeverDelivery queue their delivery to a committer (see intakeCommitters),
// which takes whatever is queued (up to MaxIntakeBatch,
// without waiting for more), writes it all in one transaction (rows and River jobs),
// and then answers every caller of the batch. A busy process so pays one commit for
// hundreds of webhooks; an idle one answers a single webhook after one commit, with no
// added delay. A batch that fails stores nothing and answers EUNAVAILABLE to each of
// its callers (Lever retries). Build it with Store.NewIntakeBatcher and stop it with
// Close.
type IntakeBatcher struct {
	s     *Store
	queue chan *intakeRequest
	done  chan struct{}

	mu     sync.RWMutex // held for reading while sending to queue, for writing to close it
	closed bool

	// touched is when each org's last-webhook time was last written by a committed
	// batch (wall clock), so that a burst writes it once a second rather than in every
	// batch: a statement saved per batch, and with several committers on PostgreSQL
	// that row's lock would make each batch wait for the commit of the one before it.
	touchMu sync.Mutex
	touched map[string]time.Time
}

// committer is one of an IntakeBatcher's committers, with its own connection held
// from batch to batch (see begin).
type committer struct {
	b    *IntakeBatcher
	conn *sql.Conn
}

// touchEvery is how often intake writes an org's last-webhook time during a burst:
// the time it shows is up to this old.
const touchEvery = time.Second

// intakeCommitters is how many batches an IntakeBatcher writes at once. SQLite takes
// one writer at a time, so a second committer would only wait for the lock. On
// PostgreSQL a second committer fills and writes the next batch while the first waits
// for its commit, but on 2 cores (winnow bench intake) that halved the batches and
// cost the server 30 % more CPU per webhook (123-131 µs against 95 closed loop,
// 81-83 against 72 at 10,000/s offered) for no more webhooks a second: the server's
// CPU, not the wait, is what bounds intake there.
const intakeCommitters = 1

// intakeRequest is one caller's delivery waiting for its batch. The committer works on
// d, a copy, and closes answered once stored and err are set.
type intakeRequest struct {
	ctx      context.Context
	d        winnow.LeverDelivery
	stored   bool
	err      error
	answered chan struct{}
}

// NewIntakeBatcher starts the committers of s's webhook intake. There should be one
// batcher per process: more would only compete for the database's write lock.
func (s *Store) NewIntakeBatcher() *IntakeBatcher {
	b := &IntakeBatcher{s: s, queue: make(chan *intakeRequest, intakeQueue), done: make(chan struct{})}
	var wg sync.WaitGroup
	for range intakeCommitters {
		c := &committer{b: b}
		wg.Go(c.run)
	}
	go func() {
		wg.Wait()
		close(b.done)
	}()
	return b
}

// RecordLeverDelivery is Store.RecordLeverDelivery through the committer: it returns
// once the batch holding d has committed (or failed). If ctx ends first it returns
// ctx's error, and the delivery may or may not be stored: Lever's retry of it is then
// recorded, or acknowledged as a duplicate.
func (b *IntakeBatcher) RecordLeverDelivery(ctx context.Context, d *winnow.LeverDelivery) (stored bool, err error) {
	if err := checkLeverDelivery(d); err != nil {
		return false, err
	}
	req := &intakeRequest{ctx: ctx, d: *d, answered: make(chan struct{})}
	if err := b.enqueue(ctx, req); err != nil {
		return false, err
	}
	select {
	case <-req.answered:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	if req.err != nil {
		return false, req.err
	}
	if req.stored {
		*d = req.d
	}
	return req.stored, nil
}

// enqueue hands req to the committer, unless the batcher is closed or ctx ends.
func (b *IntakeBatcher) enqueue(ctx context.Context, req *intakeRequest) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return winnow.Errorf(winnow.EUNAVAILABLE, msgIntakeStopped)
	}
	select {
	case b.queue <- req:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops taking deliveries, commits and answers those already queued, and returns
// once the committer has stopped. Stop the HTTP server first, so that no handler is
// still on its way in; a later call answers EUNAVAILABLE.
func (b *IntakeBatcher) Close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	<-b.done
}

// begin starts a batch's transaction on the committer's own connection, taken from
// the pool once and kept: a burst of webhooks often comes with a burst of jobs, whose
// workers would otherwise queue for the pool's few connections (four on SQLite) ahead
// of the committer, while every webhook of the batch waits.
func (c *committer) begin(ctx context.Context) (*sql.Tx, error) {
	if c.conn == nil {
		conn, err := c.b.s.db.db.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("intake connection: %w", err)
		}
		if c.b.s.db.dialect == DialectSQLite {
			// Each multi-row INSERT after the first of a transaction keeps a copy of
			// the pages it changes (a statement journal, to undo that statement
			// alone), which SQLite writes to a temporary file once it passes 64 KiB:
			// a write system call per page. In memory it is a copy.
			if _, err := conn.ExecContext(ctx, `PRAGMA temp_store = MEMORY`); err != nil {
				conn.Close()
				return nil, fmt.Errorf("intake connection: %w", err)
			}
		}
		c.conn = conn
	}
	tx, err := c.conn.BeginTx(ctx, nil)
	if err != nil {
		c.dropConn()
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	return tx, nil
}

// dropConn gives the committer's connection back after a failure, so that the next
// batch starts on a sound one.
func (c *committer) dropConn() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// run is the committer: it blocks for the first request, takes what else is queued
// without waiting, commits the batch, and repeats until the queue is closed and empty.
func (c *committer) run() {
	defer c.dropConn()
	b := c.b
	batch := make([]*intakeRequest, 0, MaxIntakeBatch)
	for first := range b.queue {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < MaxIntakeBatch {
			select {
			case r, ok := <-b.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		c.commit(batch)
	}
}

// commit writes the batch's live requests in one transaction and answers all of them.
// Callers who gave up already are answered with their context's error and not
// written. When the batch fails because one delivery's org is gone (ENOTFOUND), each
// delivery is tried on its own, so that one bad request does not fail its neighbours.
func (c *committer) commit(batch []*intakeRequest) {
	live := make([]*intakeRequest, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.answer(false, err)
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	err := c.write(live)
	if err != nil && len(live) > 1 && winnow.ErrorCode(err) == winnow.ENOTFOUND {
		for _, r := range live {
			if err := c.write([]*intakeRequest{r}); err != nil {
				r.answer(false, err)
			}
		}
		return
	}
	if err != nil {
		for _, r := range live {
			r.answer(false, err)
		}
	}
}

// write records the requests' deliveries in one transaction and, if it commits,
// answers each request. It returns the batch's error, unanswered, otherwise.
func (c *committer) write(reqs []*intakeRequest) error {
	ctx, cancel := context.WithTimeout(context.Background(), intakeCommitTimeout)
	defer cancel()
	ds := make([]*winnow.LeverDelivery, len(reqs))
	for i, r := range reqs {
		d := r.d
		ds[i] = &d
	}
	stored, err := c.b.s.recordLeverDeliveries(ctx, ds, c)
	if err != nil {
		c.dropConn()
		if code := winnow.ErrorCode(err); code != winnow.EINTERNAL {
			return err
		}
		return &winnow.Error{Code: winnow.EUNAVAILABLE, Message: msgIntakeFailed, Err: err}
	}
	for i, r := range reqs {
		if stored[i] {
			r.d = *ds[i]
		}
		r.answer(stored[i], nil)
	}
	return nil
}

// answer sets the request's outcome and wakes its caller.
func (r *intakeRequest) answer(stored bool, err error) {
	r.stored, r.err = stored, err
	close(r.answered)
}

// untouched returns those of orgs whose last-webhook time no committed batch wrote
// within touchEvery.
func (b *IntakeBatcher) untouched(orgs []string) []string {
	b.touchMu.Lock()
	defer b.touchMu.Unlock()
	var due []string
	for _, org := range orgs {
		if at, ok := b.touched[org]; !ok || time.Since(at) >= touchEvery {
			due = append(due, org)
		}
	}
	return due
}

// touch notes that a committed batch wrote the last-webhook time of orgs just now.
func (b *IntakeBatcher) touch(orgs []string) {
	if len(orgs) == 0 {
		return
	}
	b.touchMu.Lock()
	defer b.touchMu.Unlock()
	if b.touched == nil {
		b.touched = make(map[string]time.Time)
	}
	now := time.Now()
	for org, at := range b.touched {
		if now.Sub(at) >= touchEvery {
			delete(b.touched, org) // a batcher meets many orgs over its life
		}
	}
	for _, org := range orgs {
		b.touched[org] = now
	}
}

// deliveryKey is what makes two deliveries the same one: the org and the dedup key.
type deliveryKey struct{ org, dedup string }

// recordLeverDeliveries is RecordLeverDelivery for many deliveries in one transaction:
// every row, the orgs' last-webhook times and the processing jobs of the new ones
// commit together or not at all. Deliveries that repeat one earlier in ds collapse
// into it; stored[i] reports whether ds[i] was written (and filled in: ID,
// ReceivedAt), as opposed to being a duplicate of a delivery stored before or earlier
// in ds.
// c, when set, is the committer whose connection to use, and whose batcher's record
// of last-webhook times spares writing them again within touchEvery; nil means a
// transaction from the pool.
func (s *Store) recordLeverDeliveries(ctx context.Context, ds []*winnow.LeverDelivery, c *committer) (stored []bool, err error) {
	now := s.now()
	first := make(map[deliveryKey]int, len(ds))
	rows := make([]*winnow.LeverDelivery, 0, len(ds))
	for i, d := range ds {
		k := deliveryKey{d.OrgID, d.DedupKey()}
		if _, seen := first[k]; seen {
			continue
		}
		first[k] = i
		d.ID, d.ReceivedAt, d.TriggeredAt, d.ProcessedAt = newID(), now, dbTime(d.TriggeredAt), dbTimePtr(d.ProcessedAt)
		rows = append(rows, d)
	}
	// One order for every writer, so that two processes inserting the same keys wait
	// for each other on PostgreSQL instead of deadlocking.
	slices.SortFunc(rows, func(a, b *winnow.LeverDelivery) int {
		return cmp.Or(strings.Compare(a.OrgID, b.OrgID), strings.Compare(a.DedupKey(), b.DedupKey()))
	})
	var tx *sql.Tx
	if c != nil {
		tx, err = c.begin(ctx)
	} else {
		tx, err = s.db.beginTx(ctx)
	}
	if err != nil {
		return nil, err
	}
	defer rollback(tx)
	inserted := make(map[string]bool, len(rows))
	for chunk := range powerChunks(rows, insertChunkMax) {
		if err := s.insertDeliveries(ctx, tx, chunk, inserted); err != nil {
			return nil, err
		}
	}
	var orgs []string
	for _, d := range rows {
		if len(orgs) == 0 || orgs[len(orgs)-1] != d.OrgID {
			orgs = append(orgs, d.OrgID)
		}
	}
	if c != nil {
		orgs = c.b.untouched(orgs)
	}
	// A time written within touchEvery is left as it is: every writer of the same org
	// would otherwise queue on its connection row, one commit after another (6 ms a
	// delivery on PostgreSQL when deliveries were recorded one by one, concurrently).
	for _, org := range orgs {
		if _, err := tx.ExecContext(ctx, `UPDATE lever_connections SET last_webhook_at = $1
			WHERE org_id = $2 AND (last_webhook_at IS NULL OR last_webhook_at <= $3)`,
			now, org, now.Add(-touchEvery)); err != nil {
			return nil, fmt.Errorf("touch lever connection: %w", err)
		}
	}
	var fresh []*winnow.LeverDelivery
	for _, d := range rows {
		if inserted[d.ID] && d.Status == winnow.LeverDeliveryReceived {
			fresh = append(fresh, d)
		}
	}
	if len(fresh) > 0 {
		if err := s.plan("lever delivery", func(fx Effects) error { return fx.LeverDeliveriesRecorded(ctx, s.view(tx), fresh) }); err != nil {
			return nil, err
		}
	}
	if err := commit(tx); err != nil {
		return nil, err
	}
	if c != nil {
		c.b.touch(orgs)
	}
	stored = make([]bool, len(ds))
	for i, d := range ds {
		stored[i] = first[deliveryKey{d.OrgID, d.DedupKey()}] == i && inserted[d.ID]
	}
	return stored, nil
}

// deliveryColumnCount is the number of columns in leverDeliveryColumns.
const deliveryColumnCount = 17

// powerChunks yields xs in chunks of max, then of the powers of two below it that
// make up the rest (for 300 and 128: 128, 128, 32, 8, 4), so that batches of any size
// run the same few statements.
func powerChunks[T any](xs []T, max int) func(yield func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(xs) > 0 {
			n := max
			for n > len(xs) {
				n /= 2
			}
			if !yield(xs[:n]) {
				return
			}
			xs = xs[n:]
		}
	}
}

// insertDeliveriesSQL is the statement that inserts n deliveries, skipping those whose
// org has the dedup key already and returning the IDs of the rows written. Its
// parameters are "$n" on PostgreSQL and plain "?" on SQLite (see insertChunkMax).
func (s *Store) insertDeliveriesSQL(n int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO lever_deliveries (` + leverDeliveryColumns + `) VALUES `)
	if s.db.dialect == DialectSQLite {
		q.WriteString(plainValuesList(n, deliveryColumnCount))
	} else {
		q.WriteString(valuesList(n, deliveryColumnCount))
	}
	q.WriteString(` ON CONFLICT (org_id, dedup_key) DO NOTHING RETURNING id`)
	return q.String()
}

// insertDeliveries writes ds in one statement, skipping those whose org has the dedup
// key already, and notes in inserted the IDs of the rows written.
func (s *Store) insertDeliveries(ctx context.Context, tx *sql.Tx, ds []*winnow.LeverDelivery, inserted map[string]bool) error {
	args := make([]any, 0, deliveryColumnCount*len(ds))
	for _, d := range ds {
		var archived sql.NullBool
		if d.Archived != nil {
			archived = sql.NullBool{Bool: *d.Archived, Valid: true}
		}
		args = append(args, d.ID, d.OrgID, d.Event, d.Token, d.DedupKey(), d.TriggeredAt, d.OpportunityID, d.ApplicationID,
			d.ToStageID, d.FromStageID, archived, d.ArchiveReason, string(d.Status), d.Outcome, d.ApplicantID,
			d.ReceivedAt, nullTime(d.ProcessedAt))
	}
	rows, err := tx.QueryContext(ctx, s.insertDeliveriesSQL(len(ds)), args...)
	if err != nil {
		return deliveryInsertErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("insert lever deliveries: %w", err)
		}
		inserted[id] = true
	}
	if err := rows.Err(); err != nil {
		return deliveryInsertErr(err)
	}
	return nil
}

// deliveryInsertErr is ENOTFOUND for a delivery of an org that does not exist (a
// foreign key), the wrapped error otherwise.
func deliveryInsertErr(err error) error {
	if isForeignKey(err) {
		return winnow.Errorf(winnow.ENOTFOUND, msgOrgNotFound)
	}
	return fmt.Errorf("insert lever deliveries: %w", err)
}
