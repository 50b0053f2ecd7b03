package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// riverRows inserts River jobs for the insert-only client, writing the rows of the
// jobs it can reproduce itself with plain multi-row INSERTs and handing the rest to
// River's InsertManyTx. River's bulk insert cost more than the rest of a batch: on
// SQLite it encodes the batch as one JSON document that the statement takes apart
// again with json_each and a dozen json_extract per row (55 µs a job on 2 cores, all
// of it inside SQLite's one write lock); on PostgreSQL its database/sql driver sends
// arrays that pgx renders as text and parses back (20 µs a job).
//
// A row written here is the row River writes for the same InsertManyParams, options
// resolved as River resolves them (explicit InsertOpts over the args' InsertOpts()
// over the client's defaults; TestRiverRowsAsRiverWrites compares the two for every
// kind the planners emit). Jobs unique by args alone (the planners' send and
// opt-out jobs) get River's unique key and states (river_unique.go), and a job whose
// key a row in those states holds is skipped, as River skips it. The jobs it leaves
// to River are those it cannot reproduce exactly: jobs unique otherwise, pending
// ones, jobs of another queue than the default, args with hooks or plugins of their
// own, and options River would refuse (so that River returns its error). Callers
// learn nothing of which jobs were skipped as duplicates. On SQLite River also
// puts a random nonce into the metadata of every job its returning insert writes,
// only to tell its own rows from existing ones in what the statement returns; rows
// written here go without it.
//
// It assumes the client is NewInserter's: no hooks, middleware, schema or stubbed
// time, and maxAttempts as its default.
type riverRows struct {
	client *Client
	driver riverdriver.Driver[*sql.Tx]
	sqlite bool
	// maxAttempts is the client's default, for jobs whose options set none.
	maxAttempts int
	// lastNotify is when notify last sent River's insert notification (UnixNano).
	lastNotify atomic.Int64
}

// newRiverRows returns the writer of client's jobs, whose default max attempts is
// maxAttempts (River's MaxAttemptsDefault unless its Config sets one).
func newRiverRows(client *Client, maxAttempts int) *riverRows {
	driver := client.Driver()
	_, sqlite := driver.(*riversqlite.Driver)
	return &riverRows{client: client, driver: driver, sqlite: sqlite, maxAttempts: maxAttempts}
}

// riverRow is one job as River writes it.
type riverRow struct {
	kind        string
	args        []byte
	maxAttempts int
	priority    int
	queue       string
	tags        []string
	metadata    []byte
	// scheduledAt is when a scheduled job runs; zero for an available one, which
	// runs from its insert.
	scheduledAt time.Time
	// uniqueKey and uniqueStates are River's unique key and unique states bitmask;
	// nil and 0 for a job that is not unique.
	uniqueKey    []byte
	uniqueStates byte
}

// insert inserts the jobs of params in tx: those it can reproduce in a few
// statements, the rest with InsertManyTx. The batch is split rather than handed to
// River whole when one job needs River; only the order of the job IDs across the
// two parts differs from one InsertManyTx, and River orders the work of the default
// queue by priority and scheduled time before ID.
//
// Like InsertManyTx, it refuses a batch that holds one unique job twice: River's
// SQLite driver checks for it, and its PostgreSQL upsert cannot touch a row twice in
// a statement; the error is errRiverUniqueRepeated here.
func (r *riverRows) insert(ctx context.Context, tx *sql.Tx, params []river.InsertManyParams) error {
	rows := make([]riverRow, 0, len(params))
	var rest []river.InsertManyParams
	var keys map[string]bool
	for _, p := range params {
		row, ok, err := r.resolve(p)
		if err != nil {
			return err
		}
		if !ok {
			rest = append(rest, p)
			continue
		}
		if row.uniqueKey != nil {
			if keys == nil {
				keys = make(map[string]bool, len(params))
			}
			if keys[string(row.uniqueKey)] {
				return fmt.Errorf("insert %s job: %w", row.kind, errRiverUniqueRepeated)
			}
			keys[string(row.uniqueKey)] = true
		}
		rows = append(rows, row)
	}
	if err := r.write(ctx, tx, rows); err != nil {
		return err
	}
	if len(rest) > 0 {
		if _, err := r.client.InsertManyTx(ctx, tx, rest); err != nil {
			return err
		}
	}
	return nil
}

// resolve returns the row River writes for p, or false when it is one River must
// write (see riverRows), following River's insertParamsFromConfigArgsAndOptions.
func (r *riverRows) resolve(p river.InsertManyParams) (riverRow, bool, error) {
	if _, ok := p.Args.(river.JobArgsWithHooks); ok {
		return riverRow{}, false, nil
	}
	if _, ok := p.Args.(river.JobArgsWithPlugins); ok {
		return riverRow{}, false, nil
	}
	opts := p.InsertOpts
	if opts == nil {
		opts = &river.InsertOpts{}
	}
	var kindOpts river.InsertOpts
	if a, ok := p.Args.(river.JobArgsWithInsertOpts); ok {
		kindOpts = a.InsertOpts()
	}
	// River takes the explicit UniqueOpts whole if they ask for anything, else the
	// kind's.
	unique := opts.UniqueOpts
	if uniqueOptsEmpty(unique) {
		unique = kindOpts.UniqueOpts
	}
	if opts.Pending || !uniqueOptsEmpty(unique) && !uniqueByArgsOnly(unique) {
		return riverRow{}, false, nil
	}
	row := riverRow{
		kind:        p.Args.Kind(),
		maxAttempts: cmp.Or(opts.MaxAttempts, kindOpts.MaxAttempts, r.maxAttempts),
		priority:    cmp.Or(opts.Priority, kindOpts.Priority, river.PriorityDefault),
		queue:       cmp.Or(opts.Queue, kindOpts.Queue, river.QueueDefault),
		tags:        opts.Tags,
		metadata:    opts.Metadata,
		scheduledAt: opts.ScheduledAt,
	}
	if row.tags == nil {
		row.tags = kindOpts.Tags
	}
	if row.tags == nil {
		row.tags = []string{}
	}
	if len(row.metadata) == 0 {
		row.metadata = []byte("{}")
	}
	if row.scheduledAt.IsZero() {
		row.scheduledAt = kindOpts.ScheduledAt
	}
	if row.queue != river.QueueDefault || row.priority < 1 || row.priority > 4 ||
		row.maxAttempts < 1 || row.maxAttempts > 32767 || !json.Valid(row.metadata) {
		return riverRow{}, false, nil
	}
	for _, t := range row.tags {
		if !riverTag(t) {
			return riverRow{}, false, nil
		}
	}
	args, err := json.Marshal(p.Args)
	if err != nil {
		return riverRow{}, false, fmt.Errorf("encode %s job: %w", row.kind, err)
	}
	row.args = args
	if !uniqueOptsEmpty(unique) {
		key, ok := riverUniqueKey(p.Args, row.kind, args)
		if !ok {
			return riverRow{}, false, nil
		}
		row.uniqueKey, row.uniqueStates = key, riverUniqueStatesDefault
	}
	return row, true, nil
}

// errRiverUniqueRepeated is insert's error for a batch that holds a unique job twice.
var errRiverUniqueRepeated = errors.New("unique key appears more than once in batch")

// uniqueOptsEmpty reports whether o asks for no uniqueness.
func uniqueOptsEmpty(o river.UniqueOpts) bool {
	return !o.ByArgs && o.ByPeriod == 0 && !o.ByQueue && o.ByState == nil && !o.ExcludeKind
}

// riverTag reports whether River accepts t as a tag: 3 to 255 letters, digits, '_'
// or '-', neither first nor last a '-'.
func riverTag(t string) bool {
	if len(t) < 3 || len(t) > 255 || t[0] == '-' || t[len(t)-1] == '-' {
		return false
	}
	for i := range len(t) {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// riverRowsChunk is the most jobs one INSERT writes. Batches are cut into statements
// of 64, 32, 16, … rows, so that a handful of statement texts serve every batch size
// (prepared once per connection where the store caches statements).
const riverRowsChunk = 64

// write writes rows in tx, and sends River's insert notification if one of them is
// available.
func (r *riverRows) write(ctx context.Context, tx *sql.Tx, rows []riverRow) error {
	available := false
	for i := range rows {
		available = available || rows[i].scheduledAt.IsZero()
	}
	for len(rows) > 0 {
		n := riverRowsChunk
		for n > len(rows) {
			n /= 2
		}
		if err := r.writeChunk(ctx, tx, rows[:n]); err != nil {
			return err
		}
		rows = rows[n:]
	}
	if !available {
		return nil
	}
	return r.notify(ctx, tx)
}

// riverRowParams is how many parameters each row of an INSERT takes.
const riverRowParams = 11

// writeChunk writes rows in one statement.
func (r *riverRows) writeChunk(ctx context.Context, tx *sql.Tx, rows []riverRow) error {
	args := make([]any, 0, 1+riverRowParams*len(rows))
	// PostgreSQL: River's created_at, and scheduled_at of available jobs.
	now := postgresTime(time.Now())
	if !r.sqlite {
		args = append(args, now)
	}
	for _, row := range rows {
		state, scheduledAt := rivertype.JobStateAvailable, any(nil)
		if !row.scheduledAt.IsZero() {
			state, scheduledAt = rivertype.JobStateScheduled, row.scheduledAt
		}
		var tags string
		if r.sqlite {
			encoded, err := json.Marshal(row.tags)
			if err != nil {
				return fmt.Errorf("encode %s job tags: %w", row.kind, err)
			}
			tags = string(encoded)
			if scheduledAt != nil {
				scheduledAt = sqliteTime(row.scheduledAt)
			}
		} else {
			tags = postgresTextArray(row.tags)
			if scheduledAt == nil {
				scheduledAt = now
			} else {
				scheduledAt = postgresTime(row.scheduledAt)
			}
		}
		uniqueKey, uniqueStates := any(nil), any(nil)
		if row.uniqueKey != nil {
			uniqueKey, uniqueStates = row.uniqueKey, int64(row.uniqueStates)
		}
		args = append(args, row.kind, string(row.args), int64(row.maxAttempts), string(row.metadata),
			int64(row.priority), row.queue, string(state), tags, scheduledAt, uniqueKey, uniqueStates)
	}
	if _, err := tx.ExecContext(ctx, r.insertSQL(len(rows)), args...); err != nil {
		return fmt.Errorf("insert river jobs: %w", err)
	}
	return nil
}

// insertSQL is the INSERT of n jobs, riverRowParams parameters a row in the order of
// its columns (after PostgreSQL's $1, the insert's time). Created and available jobs'
// scheduled times are the insert's: SQLite's clock, as River takes it there, and
// the client's on PostgreSQL, as River's database/sql driver takes it.
//
// A unique job whose key a row in one of its unique states already holds is skipped:
// River's unique index holds only such rows, and the ON CONFLICT clause names it by
// its predicate, which it must repeat. River's own statement updates the row it
// conflicts with to itself (DO UPDATE SET kind = river_job.kind), only so that
// RETURNING gives it; DO NOTHING leaves the row as it is and unlocked. (insert has
// refused batches holding one key twice, as River does.)
func (r *riverRows) insertSQL(n int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO river_job (kind, args, max_attempts, metadata, priority, queue, state, tags, scheduled_at, unique_key, unique_states, created_at) VALUES `)
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		if r.sqlite {
			// Plain "?" parameters: SQLite looks numbered or named ones up in a list at
			// every bind. River stores JSON as JSONB.
			q.WriteString(`(?, jsonb(?), ?, jsonb(?), ?, ?, ?, jsonb(?), coalesce(?, datetime('now', 'subsec')), ?, ?, datetime('now', 'subsec'))`)
			continue
		}
		p := func(k int) string { return "$" + strconv.Itoa(2+riverRowParams*i+k) }
		q.WriteString(`(` + p(0) + `, ` + p(1) + `::jsonb, ` + p(2) + `::smallint, ` + p(3) + `::jsonb, ` +
			p(4) + `::smallint, ` + p(5) + `, ` + p(6) + `::river_job_state, ` + p(7) + `::varchar(255)[], ` +
			p(8) + `::timestamptz, ` + p(9) + `::bytea, ` + p(10) + `::integer::bit(8), $1::timestamptz)`)
	}
	if r.sqlite {
		q.WriteString(` ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND unique_states IS NOT NULL AND CASE state` +
			` WHEN 'available' THEN unique_states & (1 << 0) WHEN 'cancelled' THEN unique_states & (1 << 1)` +
			` WHEN 'completed' THEN unique_states & (1 << 2) WHEN 'discarded' THEN unique_states & (1 << 3)` +
			` WHEN 'pending' THEN unique_states & (1 << 4) WHEN 'retryable' THEN unique_states & (1 << 5)` +
			` WHEN 'running' THEN unique_states & (1 << 6) WHEN 'scheduled' THEN unique_states & (1 << 7)` +
			` ELSE 0 END >= 1 DO NOTHING`)
	} else {
		q.WriteString(` ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND unique_states IS NOT NULL` +
			` AND river_job_state_in_bitmask(unique_states, state) DO NOTHING`)
	}
	return q.String()
}

// sqliteTime is t as River's SQLite driver stores times: UTC, to the millisecond, in
// the one format SQLite's date functions compare correctly.
func sqliteTime(t time.Time) string {
	return t.UTC().Round(time.Millisecond).Format("2006-01-02 15:04:05.000")
}

// postgresTime is t as River's database/sql driver sends times to PostgreSQL (pgx
// renders its arrays as text): to the nanosecond, for PostgreSQL to round to the
// microsecond it keeps. pgx would truncate a time.Time parameter instead.
func postgresTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.999999999Z07:00")
}

// postgresTextArray is ss as a PostgreSQL array literal.
func postgresTextArray(ss []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range ss {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		for _, c := range []byte(s) {
			if c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// insertNotifyInterval is how often notify sends River's insert notification at most:
// the workers' fetch cooldown (riverTuning), so that a job is never left for the next
// poll when the workers could have fetched it. River limits its own clients' to its
// default FetchCooldown, 100 ms, but each client has its own limit, and one riverRows
// serves both intake and the effects of changes: with 100 ms, the invitation's jobs,
// inserted a few milliseconds after the delivery's notification, waited for the next
// poll (webhook → CP-Sent at idle went from 60 to 100 ms at the median).
const insertNotifyInterval = 10 * time.Millisecond

// notify sends River's insert notification for the default queue in tx, as River does
// after inserting available jobs (it wakes a listening client's producer), at most
// once per insertNotifyInterval.
func (r *riverRows) notify(ctx context.Context, tx *sql.Tx) error {
	if !r.driver.SupportsListenNotify() {
		return nil
	}
	now, last := time.Now().UnixNano(), r.lastNotify.Load()
	if now-last < int64(insertNotifyInterval) || !r.lastNotify.CompareAndSwap(last, now) {
		return nil
	}
	err := r.driver.UnwrapExecutor(tx).NotifyMany(ctx, &riverdriver.NotifyManyParams{
		Payload: []string{fmt.Sprintf(`{"queue": %q}`, river.QueueDefault)},
		Topic:   riverInsertTopic,
	})
	if err != nil {
		return fmt.Errorf("notify river jobs: %w", err)
	}
	return nil
}

// riverInsertTopic is the topic of River's insert notifications (its notifier's
// NotificationTopicInsert, which River does not export).
const riverInsertTopic = "river_insert"
