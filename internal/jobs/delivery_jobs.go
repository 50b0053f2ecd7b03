package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"winnow"
)

// deliveryJobs writes the processing jobs of webhook deliveries into River's table
// with plain multi-row INSERTs, the rows River's InsertManyFastTx would write for
// deliveryParams (TestDeliveryJobsAsRiverWrites compares the two). Intake writes
// hundreds of these per transaction from its one committer, and River's own bulk
// insert cost most of it: on SQLite it encodes the batch as one JSON document that
// the statement takes apart again with json_each and a dozen json_extract per row
// (55 µs a job on 2 cores, more than the rest of the committer); on PostgreSQL its
// database/sql driver sends arrays that pgx renders as text and parses back (20 µs
// a job). The columns left out take River's defaults; the insert notification River
// sends after an insert is sent as River sends it (notify).
type deliveryJobs struct {
	driver riverdriver.Driver[*sql.Tx]
	sqlite bool
	// lastNotify is when notify last sent River's insert notification (UnixNano).
	lastNotify atomic.Int64
}

func newDeliveryJobs(driver riverdriver.Driver[*sql.Tx]) *deliveryJobs {
	_, sqlite := driver.(*riversqlite.Driver)
	return &deliveryJobs{driver: driver, sqlite: sqlite}
}

// deliveryJobChunk is the most jobs one INSERT writes. Batches are cut into
// statements of 64, 32, 16, … rows, so that a handful of statement texts serve every
// batch size (prepared once per connection where the store caches statements).
const deliveryJobChunk = 64

// insert writes the jobs of ds in tx, that of ds[i] with priorities[i] (0: River's
// default), and sends River's insert notification.
func (j *deliveryJobs) insert(ctx context.Context, tx *sql.Tx, ds []*winnow.LeverDelivery, priorities []int) error {
	for len(ds) > 0 {
		n := deliveryJobChunk
		for n > len(ds) {
			n /= 2
		}
		if err := j.insertChunk(ctx, tx, ds[:n], priorities[:n]); err != nil {
			return err
		}
		ds, priorities = ds[n:], priorities[n:]
	}
	return j.notify(ctx, tx)
}

// insertChunk writes the jobs of ds in one statement.
func (j *deliveryJobs) insertChunk(ctx context.Context, tx *sql.Tx, ds []*winnow.LeverDelivery, priorities []int) error {
	args := make([]any, 0, 3*len(ds)+3)
	args = append(args, LeverDeliveryArgs{}.Kind(), int64(leverMaxAttempts), river.QueueDefault)
	for i, d := range ds {
		priority := int64(cmp.Or(priorities[i], river.PriorityDefault))
		encoded, err := json.Marshal(LeverDeliveryArgs{OrgID: d.OrgID, DeliveryID: d.ID, Event: d.Event})
		if err != nil {
			return fmt.Errorf("encode lever delivery job: %w", err)
		}
		tag := LeverOrgTag(d.OrgID)
		if j.sqlite {
			tags, err := json.Marshal([]string{tag})
			if err != nil {
				return fmt.Errorf("encode lever delivery job: %w", err)
			}
			args = append(args, string(encoded), string(tags), priority)
		} else {
			args = append(args, string(encoded), tag, priority)
		}
	}
	if _, err := tx.ExecContext(ctx, j.insertSQL(len(ds)), args...); err != nil {
		return fmt.Errorf("insert lever delivery jobs: %w", err)
	}
	return nil
}

// insertSQL is the INSERT of n delivery jobs: the kind, max attempts and queue are
// its first three parameters, then each row's args, tags (SQLite: a JSON array;
// PostgreSQL: the one tag) and priority.
func (j *deliveryJobs) insertSQL(n int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO river_job (kind, max_attempts, queue, args, tags, metadata, priority, state, created_at, scheduled_at) VALUES `)
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		if j.sqlite {
			// Plain "?" parameters, numbered from 4 as they follow ?3: SQLite looks
			// numbered or named ones up in a list at every bind. River stores JSON as
			// JSONB and times in this format (riversqlite's timeString).
			q.WriteString(`(?1, ?2, ?3, jsonb(?), jsonb(?), jsonb('{}'), ?, 'available', datetime('now', 'subsec'), datetime('now', 'subsec'))`)
			continue
		}
		a, t, p := strconv.Itoa(4+3*i), strconv.Itoa(5+3*i), strconv.Itoa(6+3*i)
		q.WriteString(`($1, $2, $3, $` + a + `::jsonb, ARRAY[$` + t + `::varchar(255)], '{}', $` + p + `, 'available', now(), now())`)
	}
	return q.String()
}

// insertNotifyInterval is how often notify sends River's insert notification at most,
// River's own limit for a client's inserts (its default FetchCooldown).
const insertNotifyInterval = 100 * time.Millisecond

// notify sends River's insert notification for the default queue in tx, as River does
// after an insert (it wakes a listening client's producer), at most once per
// insertNotifyInterval.
func (j *deliveryJobs) notify(ctx context.Context, tx *sql.Tx) error {
	if !j.driver.SupportsListenNotify() {
		return nil
	}
	now, last := time.Now().UnixNano(), j.lastNotify.Load()
	if now-last < int64(insertNotifyInterval) || !j.lastNotify.CompareAndSwap(last, now) {
		return nil
	}
	err := j.driver.UnwrapExecutor(tx).NotifyMany(ctx, &riverdriver.NotifyManyParams{
		Payload: []string{fmt.Sprintf(`{"queue": %q}`, river.QueueDefault)},
		Topic:   riverInsertTopic,
	})
	if err != nil {
		return fmt.Errorf("notify lever delivery jobs: %w", err)
	}
	return nil
}

// riverInsertTopic is the topic of River's insert notifications (its notifier's
// NotificationTopicInsert, which River does not export).
const riverInsertTopic = "river_insert"
