package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"winnow"
)

// Group commit of Lever's applicationCreated deliveries. Each delivery's job reads the
// opportunity from Lever and then calls ProcessLeverApplication; under a burst (River
// runs 50 such jobs at once on SQLite, 100 on PostgreSQL) most of those calls would
// each pay a transaction of their own: on SQLite a commit, an fsync, behind the one
// writer; on PostgreSQL a commit and a round trip per statement. Instead the calls
// that arrive while a batch is being written queue, and the next batch writes them
// together in one transaction; should one of them fail, the batch is written again
// with each delivery inside its own SAVEPOINT, so that the one that fails rolls back
// alone and gets its own error while the others commit. Every caller is answered once
// the batch has committed.
//
// There is no committer of its own: a caller who finds fewer batches being written
// than the engine takes at once (applicationWriters) writes its delivery at once, in
// a transaction of its own, as an idle process does; the others queue. A caller who
// has written a batch takes the next one off the queue (the oldest deliveries) and
// hands it to the first caller in it to write, or leaves if none waits. Nothing is to
// start or stop.
//
// Within a batch, what every delivery would write to the same rows is summed and
// written once before the commit: the jobs the effects plan (one InsertManyTx), the
// applicant counts and the insights' day counts. The funnels read are kept for the
// batch's transaction.

// maxApplicationBatch is the most deliveries one transaction processes: enough to
// take all of River's concurrent delivery jobs at once, few enough that a batch
// commits in tens of milliseconds.
const maxApplicationBatch = 128

// applicationBatchTimeout bounds one batch's transaction. Its callers' jobs are
// retried if it runs out; the delivery row says whether they were processed.
const applicationBatchTimeout = 30 * time.Second

// applicationWriters is how many batches one process writes at once: one on SQLite,
// whose single writer would make more only wait for its lock (holding a pooled
// connection each); a few on PostgreSQL, which writes them in parallel, so that one
// batch's round trips do not hold up the next.
func (db *DB) applicationWriters() int {
	if db.dialect == DialectPostgres {
		return 4
	}
	return 1
}

// applicationBatcher queues the concurrent calls of ProcessLeverApplication. Requests
// wait in pending only while active (the batches being written) is at the engine's
// limit.
type applicationBatcher struct {
	mu      sync.Mutex
	pending []*applicationRequest
	active  int
}

// applicationRequest is one call of ProcessLeverApplication waiting for its batch.
type applicationRequest struct {
	ctx                      context.Context
	orgID, deliveryID, token string
	c                        winnow.LeverCandidate

	d        *winnow.LeverDelivery
	err      error
	answered chan struct{}
	lead     chan []*applicationRequest // a batch, headed by this request, for its caller to write
}

func (r *applicationRequest) answer(d *winnow.LeverDelivery, err error) {
	r.d, r.err = d, err
	close(r.answered)
}

// ProcessLeverApplication acts on an applicationCreated delivery with what Lever's API
// said of the candidate (c), in one transaction with the delivery's processed mark, so
// that a repeated job changes nothing:
//
//   - a posting linked to no open job: the delivery is ignored;
//   - an opportunity without an email address: the delivery is processed and Lever
//     gets a note saying it was not invited;
//   - a candidate already in the job (same opportunity or same address): processed,
//     nothing else changes;
//   - otherwise the applicant is created with its invitation and Lever writes (the
//     effects of an invitation), and the webhook goes on its timeline.
//
// token is the new applicant's link token. Concurrent calls are written together
// (group commit, see applicationBatcher); each returns once its delivery's batch has
// committed, with its own outcome. A call whose ctx ends while it waits is answered
// when its batch is written: the delivery row then says whether it was processed.
func (s *Store) ProcessLeverApplication(ctx context.Context, orgID, deliveryID string, c winnow.LeverCandidate, token string) (*winnow.LeverDelivery, error) {
	req := &applicationRequest{ctx: ctx, orgID: orgID, deliveryID: deliveryID, c: c, token: token,
		answered: make(chan struct{}), lead: make(chan []*applicationRequest, 1)}
	b := &s.apps
	var batch []*applicationRequest
	b.mu.Lock()
	if b.active < s.db.applicationWriters() {
		b.active++
		batch = []*applicationRequest{req}
	} else {
		b.pending = append(b.pending, req)
	}
	b.mu.Unlock()
	if batch == nil {
		select {
		case <-req.answered:
			return req.d, req.err
		case batch = <-req.lead:
		}
	}
	s.writeApplications(ctx, batch)
	<-req.answered // it was in the batch just written
	return req.d, req.err
}

// writeApplications writes batch, then hands the next one (the oldest requests
// waiting) to the caller of its first request, or ends.
func (s *Store) writeApplications(ctx context.Context, batch []*applicationRequest) {
	b := &s.apps
	defer func() {
		// After a panic, whoever waits on the batch is answered, and the lead goes on.
		for _, r := range batch {
			select {
			case <-r.answered:
			default:
				r.answer(nil, errors.New("process lever application: the batch's writer stopped"))
			}
		}
		b.mu.Lock()
		if len(b.pending) > 0 {
			n := min(len(b.pending), maxApplicationBatch)
			next := slices.Clone(b.pending[:n])
			b.pending = slices.Delete(b.pending, 0, n)
			next[0].lead <- next
		} else {
			b.active--
		}
		b.mu.Unlock()
	}()
	// The batch is the callers' together: it is not cut short when the leader's own
	// job ends.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), applicationBatchTimeout)
	defer cancel()
	s.processApplications(bctx, batch)
}

// processApplications writes the batch's live requests in one transaction and answers
// each. The batch is first written without savepoints, which cost two statements a
// delivery (two round trips on PostgreSQL) and are needed only when one fails: then
// it is written again with them. When the batch as a whole fails (its commit, the
// summed writes, a savepoint that would not roll back), each request is written again
// on its own, so that whatever failed it answers only the request it belongs to.
func (s *Store) processApplications(ctx context.Context, batch []*applicationRequest) {
	live := make([]*applicationRequest, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.answer(nil, err)
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	// One order for every batch, as for intake's: two processes whose batches hold
	// the same delivery (a job taken over) or opportunity then wait for each other on
	// PostgreSQL rather than deadlock.
	slices.SortFunc(live, func(a, b *applicationRequest) int {
		return cmp.Or(strings.Compare(a.orgID, b.orgID), strings.Compare(a.c.OpportunityID, b.c.OpportunityID),
			strings.Compare(a.deliveryID, b.deliveryID))
	})
	err := s.applicationTx(ctx, live, false)
	// A delivery alone meeting ECONFLICT raced another transaction inviting the same
	// candidate, which has committed since: written again, it finds them invited.
	if errors.Is(err, errDeliveryFailed) || (len(live) == 1 && winnow.ErrorCode(err) == winnow.ECONFLICT) {
		err = s.applicationTx(ctx, live, true)
	}
	if err == nil {
		return
	}
	if len(live) == 1 {
		live[0].answer(nil, err)
		return
	}
	for _, r := range live {
		if err := s.applicationTx(ctx, []*applicationRequest{r}, false); err != nil {
			r.answer(nil, err)
		}
	}
}

// errDeliveryFailed is applicationTx's answer, without savepoints, when one of several
// deliveries failed: the batch is to be written again with them.
var errDeliveryFailed = errors.New("a delivery of the batch failed")

// applicationTx processes the requests in one transaction and answers them all once
// it has committed. With savepoints, each delivery has its own, and one that fails
// rolls back alone and is answered with its error; without, one that fails rolls back
// the batch (errDeliveryFailed, or its own error when it is alone). It returns the
// transaction's error, unanswered, otherwise.
func (s *Store) applicationTx(ctx context.Context, reqs []*applicationRequest, savepoints bool) error {
	tx, err := s.db.beginTx(ctx)
	if err != nil {
		return err
	}
	defer rollback(tx)
	b := newTxBatch()
	savepoints = savepoints && len(reqs) > 1
	ds := make([]*winnow.LeverDelivery, len(reqs))
	errs := make([]error, len(reqs))
	for i, r := range reqs {
		if !savepoints {
			d, err := s.processApplicationTx(ctx, tx, b, r.orgID, r.deliveryID, r.c, r.token)
			switch {
			case err != nil && len(reqs) == 1:
				return err
			case err != nil:
				return errDeliveryFailed
			}
			b.keep()
			ds[i] = d
			continue
		}
		var txErr error
		ds[i], errs[i], txErr = s.savepointApplication(ctx, tx, b, r)
		if winnow.ErrorCode(errs[i]) == winnow.ECONFLICT && txErr == nil {
			// Another transaction invited the candidate meanwhile (see
			// processApplications): now committed, it is found.
			ds[i], errs[i], txErr = s.savepointApplication(ctx, tx, b, r)
		}
		if txErr != nil {
			return txErr
		}
	}
	if err := b.flush(ctx, s, tx); err != nil {
		return err
	}
	if err := commit(tx); err != nil {
		return err
	}
	for i, r := range reqs {
		r.answer(ds[i], errs[i])
	}
	return nil
}

// savepointApplication processes r in tx inside a savepoint: rolled back, with r's
// part of b, when it fails (err), released otherwise. txErr is a failure of the
// savepoint itself, which is the transaction's.
func (s *Store) savepointApplication(ctx context.Context, tx *sql.Tx, b *txBatch, r *applicationRequest) (d *winnow.LeverDelivery, err, txErr error) {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT lever_application`); err != nil {
		return nil, nil, fmt.Errorf("savepoint: %w", err)
	}
	d, err = s.processApplicationTx(ctx, tx, b, r.orgID, r.deliveryID, r.c, r.token)
	if err != nil {
		d = nil
		b.drop()
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT lever_application`); rerr != nil {
			return nil, nil, fmt.Errorf("rollback to savepoint: %w", rerr)
		}
	} else {
		b.keep()
	}
	if _, rerr := tx.ExecContext(ctx, `RELEASE SAVEPOINT lever_application`); rerr != nil {
		return nil, nil, fmt.Errorf("release savepoint: %w", rerr)
	}
	return d, err, nil
}

// jobInserter inserts River jobs in a transaction: the effects' own insert, handed to
// Tx.CollectJobs.
type jobInserter func(ctx context.Context, tx *sql.Tx, params []river.InsertManyParams) error

// txBatch is what the changes of one batch's transaction share: the funnels read, and
// the writes summed to be made once before the commit (see flush). Each delivery's own
// part is kept apart (cur…) until its savepoint is released (keep) or rolled back
// (drop).
type txBatch struct {
	funnels  map[[2]string]*winnow.Funnel // by org and ID
	postings map[[2]string]*winnow.Funnel // the open job linked to an org's posting; nil: none
	conns    map[string]connRead          // the orgs' Lever connections, by org

	insert      jobInserter
	jobs        []river.InsertManyParams
	events      [][]any // rows of applicant_events, in eventColumns's order
	insights    [][]any // rows of applicant_insights, in insightColumns's order
	counts      map[countRow]int
	days        map[dayRow]int
	curJobs     []river.InsertManyParams
	curEvents   [][]any
	curInsights [][]any
	curCnt      map[countRow]int
	curDays     map[dayRow]int
}

// countRow is a row of applicant_counts.
type countRow struct {
	org, funnel, status string
	shard               int64
}

// dayRow is a row of insight_days.
type dayRow struct {
	org, funnel string
	dayKey
	shard int64
}

func newTxBatch() *txBatch {
	return &txBatch{funnels: map[[2]string]*winnow.Funnel{}, postings: map[[2]string]*winnow.Funnel{}, conns: map[string]connRead{},
		counts: map[countRow]int{}, days: map[dayRow]int{}, curCnt: map[countRow]int{}, curDays: map[dayRow]int{}}
}

// collect queues the jobs of the current delivery, to be inserted with the batch's.
func (b *txBatch) collect(insert jobInserter, params []river.InsertManyParams) {
	b.insert = insert
	b.curJobs = append(b.curJobs, params...)
}

// count adds delta to a row of applicant_counts for the current delivery.
func (b *txBatch) count(r countRow, delta int) { b.curCnt[r] += delta }

// countDays adds the current delivery's change d to the job's insight_days, in shard
// (durations' buckets in shard 0, as dayCounts.apply does).
func (b *txBatch) countDays(orgID, funnelID string, shard int64, d dayCounts) {
	for k, n := range d {
		sh := shard
		if bucketed(k.metric) {
			sh = 0
		}
		b.curDays[dayRow{orgID, funnelID, k, sh}] += n
	}
}

// keep adds the current delivery's part to the batch's: its savepoint was released.
func (b *txBatch) keep() {
	b.jobs = append(b.jobs, b.curJobs...)
	b.events = append(b.events, b.curEvents...)
	b.insights = append(b.insights, b.curInsights...)
	for r, n := range b.curCnt {
		b.counts[r] += n
	}
	for r, n := range b.curDays {
		b.days[r] += n
	}
	b.drop()
}

// drop forgets the current delivery's part: its savepoint was rolled back. So are the
// funnels read since, which is no loss.
func (b *txBatch) drop() {
	b.curJobs, b.curEvents, b.curInsights = nil, nil, nil
	clear(b.curCnt)
	clear(b.curDays)
}

// flush makes the batch's writes in tx, before its commit: the timeline entries and
// insight rows, many a statement; the jobs; then the insights' day counts, the
// applicant counts last, so that on PostgreSQL their row locks are held only until
// the commit. Rows are written in one order (sorted) by every batch, so that two
// batches counting the same rows wait rather than deadlock.
func (b *txBatch) flush(ctx context.Context, s *Store, tx *sql.Tx) error {
	chunk := 100
	if s.db.dialect == DialectSQLite {
		chunk = 8 // SQLite looks up each $n in a list: see insertChunkSQLite
	}
	for _, t := range []struct {
		table, columns string
		n              int
		rows           [][]any
	}{
		{"applicant_events", eventColumns, 14, b.events},
		{"applicant_insights", insightColumns, 17, b.insights},
	} {
		for part := range slices.Chunk(t.rows, chunk) {
			args := make([]any, 0, t.n*len(part))
			for _, r := range part {
				args = append(args, r...)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO `+t.table+` (`+t.columns+`) VALUES `+valuesList(len(part), t.n),
				args...); err != nil {
				return fmt.Errorf("insert batch's %s: %w", t.table, err)
			}
		}
	}
	if len(b.jobs) > 0 {
		if err := b.insert(ctx, tx, b.jobs); err != nil {
			return fmt.Errorf("enqueue batch's jobs: %w", err)
		}
	}
	days := slices.SortedFunc(maps.Keys(b.days), func(a, c dayRow) int {
		return cmp.Or(strings.Compare(a.org, c.org), strings.Compare(a.funnel, c.funnel), cmp.Compare(a.day, c.day),
			strings.Compare(a.metric, c.metric), strings.Compare(a.key, c.key), cmp.Compare(a.shard, c.shard))
	})
	days = slices.DeleteFunc(days, func(r dayRow) bool { return b.days[r] == 0 })
	for part := range slices.Chunk(days, chunk) {
		args := make([]any, 0, 7*len(part))
		for _, r := range part {
			args = append(args, r.org, r.funnel, r.day, r.metric, r.key, r.shard, b.days[r])
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO insight_days (org_id, funnel_id, day, metric, key, shard, n) VALUES `+
			valuesList(len(part), 7)+` ON CONFLICT (org_id, funnel_id, day, metric, key, shard) DO UPDATE SET n = insight_days.n + excluded.n`,
			args...); err != nil {
			return fmt.Errorf("insights: count batch: %w", err)
		}
	}
	counts := slices.SortedFunc(maps.Keys(b.counts), func(a, c countRow) int {
		return cmp.Or(strings.Compare(a.org, c.org), strings.Compare(a.funnel, c.funnel), strings.Compare(a.status, c.status),
			cmp.Compare(a.shard, c.shard))
	})
	counts = slices.DeleteFunc(counts, func(r countRow) bool { return b.counts[r] == 0 })
	for part := range slices.Chunk(counts, chunk) {
		args := make([]any, 0, 5*len(part))
		for _, r := range part {
			args = append(args, r.org, r.funnel, r.status, r.shard, b.counts[r])
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO applicant_counts (org_id, funnel_id, status, shard, n) VALUES `+
			valuesList(len(part), 5)+` ON CONFLICT (org_id, funnel_id, status, shard) DO UPDATE SET n = applicant_counts.n + excluded.n`,
			args...); err != nil {
			return fmt.Errorf("count batch's applicants: %w", err)
		}
	}
	return nil
}

// connRead is a Lever connection as read, or the ENOTFOUND of an org without one.
type connRead struct {
	c   *winnow.LeverConnection
	err error
}

// leverConnection is Tx.FindLeverConnection for a change of the batch: the org's
// connection is read once per batch (every invitation's Lever writes need it).
func (b *txBatch) leverConnection(ctx context.Context, tx *sql.Tx, orgID string) (*winnow.LeverConnection, error) {
	if r, ok := b.conns[orgID]; ok {
		return r.c, r.err
	}
	c, err := findLeverConnectionTx(ctx, tx, orgID)
	if err != nil && winnow.ErrorCode(err) != winnow.ENOTFOUND {
		return nil, err
	}
	b.conns[orgID] = connRead{c, err}
	return c, err
}

// funnelOfPosting returns the org's open job linked to the Lever posting, in tx, or
// nil when none is; b, when set, keeps what was read for the batch's transaction.
func funnelOfPosting(ctx context.Context, tx *sql.Tx, b *txBatch, orgID, postingID string) (*winnow.Funnel, error) {
	key := [2]string{orgID, postingID}
	if b != nil {
		if f, ok := b.postings[key]; ok {
			return f, nil
		}
	}
	f, err := scanFunnel(tx.QueryRowContext(ctx, `SELECT `+funnelColumns+` FROM funnels
		WHERE org_id = $1 AND lever_posting_id = $2 AND status = $3 AND lever_posting_id <> ''
		ORDER BY created_at LIMIT 1`, orgID, postingID, string(winnow.FunnelOpen)))
	switch {
	case err == sql.ErrNoRows:
		f = nil
	case err != nil:
		return nil, fmt.Errorf("find job of posting: %w", err)
	}
	if b != nil {
		b.postings[key] = f
		if f != nil {
			b.funnels[[2]string{f.OrgID, f.ID}] = f
		}
	}
	return f, nil
}
