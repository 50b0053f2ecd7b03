package sqlstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"winnow"
	"winnow/internal/sqlstore"
)

// TestIntakeBatch runs the group-commit cases of webhook intake on both engines.
func TestIntakeBatch(t *testing.T) {
	runSuite(t, []suiteCase{
		{"MixedBatch", testIntakeMixedBatch},
		{"FailedBatch", testIntakeFailedBatch},
		{"UnknownOrg", testIntakeUnknownOrg},
		{"Close", testIntakeClose},
		{"Concurrent", testIntakeConcurrent},
		{"GINFastupdate", testRiverGINFastupdate},
	})
}

// gatedEffects holds every batch inside its transaction, after the rows are written,
// until the test opens gate, so that the test decides what the next batch holds. It
// records each batch's number of new deliveries.
type gatedEffects struct {
	*leverEffects
	entered chan int
	gate    chan struct{}
}

func (g *gatedEffects) LeverDeliveriesRecorded(ctx context.Context, tx *sqlstore.Tx, ds []*winnow.LeverDelivery) error {
	g.entered <- len(ds)
	<-g.gate
	return g.leverEffects.LeverDeliveriesRecorded(ctx, tx, ds)
}

// openGated is openLever with a gated effects function and a batcher, closed at the end.
func openGated(t *testing.T, e engine) (*testEnv, *gatedEffects, *sqlstore.IntakeBatcher) {
	t.Helper()
	env, fx := openLever(t, e)
	g := &gatedEffects{leverEffects: fx, entered: make(chan int, 100), gate: make(chan struct{})}
	env.Store = sqlstore.NewStore(env.DB, env.Clock, g)
	b := env.Store.NewIntakeBatcher()
	t.Cleanup(b.Close)
	return env, g, b
}

// result is what one caller of the batcher got.
type result struct {
	d      *winnow.LeverDelivery
	stored bool
	err    error
}

// submit records d through b in the background; the result arrives on the channel.
func submit(b *sqlstore.IntakeBatcher, d *winnow.LeverDelivery) <-chan result {
	ch := make(chan result, 1)
	go func() {
		stored, err := b.RecordLeverDelivery(context.Background(), d)
		ch <- result{d, stored, err}
	}()
	return ch
}

// holdBatch submits first and waits until its batch is held by the gate, then queues
// each of next in order behind it. The caller opens the gate.
func holdBatch(t *testing.T, g *gatedEffects, b *sqlstore.IntakeBatcher, first *winnow.LeverDelivery, next ...*winnow.LeverDelivery) (<-chan result, []<-chan result) {
	t.Helper()
	r0 := submit(b, first)
	select {
	case <-g.entered:
	case r := <-r0:
		t.Fatalf("the first delivery's batch did not reach its effects: %+v", r)
	case <-time.After(10 * time.Second):
		t.Fatal("the first batch never reached its effects")
	}
	var rs []<-chan result
	for i, d := range next {
		rs = append(rs, submit(b, d))
		waitFor(t, func() bool { return b.Queued() == i+1 })
	}
	return r0, rs
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10 s")
		}
	}
}

func get(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no answer in 10 s")
		return result{}
	}
}

// testIntakeMixedBatch: one batch holds new deliveries, a repeat of one of them, a
// repeat of a delivery stored before, and the same token in another org. Each new one
// is stored once with its job, every repeat is acknowledged as a duplicate, and the
// other org's delivery is its own.
func testIntakeMixedBatch(t *testing.T, e engine) {
	env, g, b := openGated(t, e)
	ctx := t.Context()
	orgA, orgB := mustOrg(t, env), mustOrg(t, env)
	mustConnected(t, env, orgA, winnow.LeverConnected)
	mustConnected(t, env, orgB, winnow.LeverConnected)
	old := newDelivery(orgA, winnow.LeverApplicationCreated, "tok-old", "old")
	close(g.gate) // the delivery stored before goes straight through
	if stored, err := b.RecordLeverDelivery(ctx, old); err != nil || !stored {
		t.Fatalf("record the earlier delivery: %v %v", stored, err)
	}
	if n := <-g.entered; n != 1 {
		t.Fatalf("the earlier batch had %d new deliveries", n)
	}
	g.gate = make(chan struct{})

	r0, rs := holdBatch(t, g, b, newDelivery(orgA, winnow.LeverApplicationCreated, "t0", "o0"),
		newDelivery(orgA, winnow.LeverApplicationCreated, "t1", "o1"),
		newDelivery(orgA, winnow.LeverApplicationCreated, "t1-again", "o1"), // same application: a repeat
		newDelivery(orgA, winnow.LeverApplicationCreated, "tok-old", "old"),
		newDelivery(orgB, winnow.LeverApplicationCreated, "t1", "o1"),
		newDelivery(orgA, winnow.LeverCandidateStageChange, "t2", "o1"),
		newDelivery(orgA, winnow.LeverCandidateStageChange, "t2", "o1"), // same token: a repeat
	)
	close(g.gate)
	if r := get(t, r0); r.err != nil || !r.stored {
		t.Fatalf("first batch: %+v", r)
	}
	if n := <-g.entered; n != 3 {
		t.Fatalf("the second batch enqueued %d jobs, want 3 (one per new delivery)", n)
	}
	want := []bool{true, false, false, true, true, false}
	var got []result
	for i, ch := range rs {
		r := get(t, ch)
		if r.err != nil || r.stored != want[i] {
			t.Fatalf("delivery %d (%s %s): stored %v, err %v; want stored %v", i, r.d.OrgID, r.d.Token, r.stored, r.err, want[i])
		}
		if r.stored != (r.d.ID != "") {
			t.Fatalf("delivery %d: stored %v with ID %q", i, r.stored, r.d.ID)
		}
		got = append(got, r)
	}
	if a, bb := count(t, env, "lever_deliveries", "org_id = $1", orgA.ID), count(t, env, "lever_deliveries", "org_id = $1", orgB.ID); a != 4 || bb != 1 {
		t.Fatalf("rows: org A %d (want 4), org B %d (want 1)", a, bb)
	}
	if len(g.deliveries) != 5 {
		t.Fatalf("%d processing jobs for 5 stored deliveries: %v", len(g.deliveries), g.deliveries)
	}
	// Isolation: each stored delivery is found in its own org only.
	inB := got[3].d
	if d, err := env.Store.FindLeverDelivery(ctx, orgB.ID, inB.ID); err != nil || d.Token != "t1" || d.OrgID != orgB.ID {
		t.Fatalf("org B's delivery: %+v %v", d, err)
	}
	_, err := env.Store.FindLeverDelivery(ctx, orgA.ID, inB.ID)
	wantCode(t, err, winnow.ENOTFOUND)
	_, err = env.Store.FindLeverDelivery(ctx, orgB.ID, got[0].d.ID)
	wantCode(t, err, winnow.ENOTFOUND)
	for _, org := range []*winnow.Org{orgA, orgB} {
		c, err := env.Store.FindLeverConnection(ctx, org.ID)
		if err != nil || c.LastWebhookAt == nil {
			t.Fatalf("org %s's last webhook time not kept: %+v %v", org.ID, c, err)
		}
	}
}

// testIntakeFailedBatch: when a batch's jobs cannot be enqueued, none of its
// deliveries is stored and every caller gets EUNAVAILABLE (a 503, so Lever retries);
// the retry then goes through.
func testIntakeFailedBatch(t *testing.T, e engine) {
	env, g, b := openGated(t, e)
	org := mustOrg(t, env)
	mustConnected(t, env, org, winnow.LeverConnected)
	g.err = errors.New("queue down")
	r0, rs := holdBatch(t, g, b, newDelivery(org, winnow.LeverApplicationCreated, "t0", "o0"),
		newDelivery(org, winnow.LeverApplicationCreated, "t1", "o1"),
		newDelivery(org, winnow.LeverApplicationCreated, "t2", "o2"),
		newDelivery(org, winnow.LeverCandidateDeleted, "t3", "o1"),
	)
	close(g.gate)
	for i, ch := range append([]<-chan result{r0}, rs...) {
		r := get(t, ch)
		if r.stored || r.d.ID != "" {
			t.Fatalf("caller %d told stored: %+v", i, r)
		}
		wantCode(t, r.err, winnow.EUNAVAILABLE)
	}
	if n := count(t, env, "lever_deliveries", ""); n != 0 {
		t.Fatalf("%d deliveries of a failed batch stored", n)
	}
	if n := count(t, env, "lever_connections", "last_webhook_at IS NOT NULL"); n != 0 {
		t.Fatal("a failed batch touched the connection")
	}
	g.mu.Lock()
	g.err = nil
	g.mu.Unlock()
	if stored, err := b.RecordLeverDelivery(t.Context(), newDelivery(org, winnow.LeverApplicationCreated, "t1", "o1")); err != nil || !stored {
		t.Fatalf("Lever's retry: %v %v", stored, err)
	}
}

// testIntakeUnknownOrg: a delivery for an org that does not exist fails alone; the
// other deliveries of its batch are stored.
func testIntakeUnknownOrg(t *testing.T, e engine) {
	env, g, b := openGated(t, e)
	org := mustOrg(t, env)
	mustConnected(t, env, org, winnow.LeverConnected)
	ghost := &winnow.Org{ID: "no-such-org"}
	r0, rs := holdBatch(t, g, b, newDelivery(org, winnow.LeverApplicationCreated, "t0", "o0"),
		newDelivery(org, winnow.LeverApplicationCreated, "t1", "o1"),
		newDelivery(ghost, winnow.LeverApplicationCreated, "t2", "o2"),
		newDelivery(org, winnow.LeverApplicationCreated, "t3", "o3"),
	)
	close(g.gate)
	if r := get(t, r0); r.err != nil || !r.stored {
		t.Fatalf("first: %+v", r)
	}
	for i, ch := range rs {
		r := get(t, ch)
		if i == 1 {
			wantCode(t, r.err, winnow.ENOTFOUND)
			continue
		}
		if r.err != nil || !r.stored {
			t.Fatalf("delivery %d of the known org: %+v", i, r)
		}
	}
	if n := count(t, env, "lever_deliveries", ""); n != 3 {
		t.Fatalf("%d deliveries stored, want 3", n)
	}
}

// testIntakeClose: Close answers what is queued (stored) before it returns, and a
// later delivery is refused with EUNAVAILABLE.
func testIntakeClose(t *testing.T, e engine) {
	env, g, b := openGated(t, e)
	org := mustOrg(t, env)
	mustConnected(t, env, org, winnow.LeverConnected)
	r0, rs := holdBatch(t, g, b, newDelivery(org, winnow.LeverApplicationCreated, "t0", "o0"),
		newDelivery(org, winnow.LeverApplicationCreated, "t1", "o1"),
		newDelivery(org, winnow.LeverApplicationCreated, "t2", "o2"),
	)
	closed := make(chan struct{})
	go func() { b.Close(); close(closed) }()
	close(g.gate)
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	for i, ch := range append([]<-chan result{r0}, rs...) {
		if r := get(t, ch); r.err != nil || !r.stored {
			t.Fatalf("queued delivery %d: %+v", i, r)
		}
	}
	_, err := b.RecordLeverDelivery(t.Context(), newDelivery(org, winnow.LeverApplicationCreated, "t9", "o9"))
	wantCode(t, err, winnow.EUNAVAILABLE)
	if n := count(t, env, "lever_deliveries", ""); n != 3 {
		t.Fatalf("%d deliveries stored, want 3", n)
	}
}

// testIntakeConcurrent: many callers at once, each delivery sent twice; every one is
// answered, each stored once with one job.
func testIntakeConcurrent(t *testing.T, e engine) {
	env, fx := openLever(t, e)
	b := env.Store.NewIntakeBatcher()
	t.Cleanup(b.Close)
	org := mustOrg(t, env)
	mustConnected(t, env, org, winnow.LeverConnected)
	const n = 300
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored := 0
	for i := range 2 * n {
		wg.Go(func() {
			opp := "o" + string(rune('a'+i%n/26)) + string(rune('a'+i%n%26))
			ok, err := b.RecordLeverDelivery(t.Context(), newDelivery(org, winnow.LeverApplicationCreated, "t"+opp, opp))
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			if ok {
				stored++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if stored != n || count(t, env, "lever_deliveries", "") != n || len(fx.deliveries) != n {
		t.Fatalf("stored %d, rows %d, jobs %d; want %d each", stored, count(t, env, "lever_deliveries", ""), len(fx.deliveries), n)
	}
}

// testRiverGINFastupdate: migration 14 turns off the pending list of River's GIN
// indexes on PostgreSQL, and is a recorded no-op on SQLite.
func testRiverGINFastupdate(t *testing.T, e engine) {
	env := open(t, e)
	if n := count(t, env, "goose_db_version", "version_id = 14 AND is_applied"); n != 1 {
		t.Fatalf("migration 14 recorded %d times", n)
	}
	if e.Name != sqlstore.DialectPostgres {
		return
	}
	for _, idx := range []string{"river_job_args_index", "river_job_metadata_index"} {
		var opts []byte
		if err := env.DB.SQL().QueryRowContext(t.Context(), `SELECT array_to_string(reloptions, ',') FROM pg_class
			WHERE relname = $1`, idx).Scan(&opts); err != nil {
			t.Fatalf("%s: %v", idx, err)
		}
		if string(opts) != "fastupdate=off" {
			t.Fatalf("%s options %q, want fastupdate=off", idx, opts)
		}
	}
}
