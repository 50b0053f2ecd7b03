package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"winnow/internal/sqlstore"

	"github.com/riverqueue/river"

	"winnow"
)

// effectArgs is a job enqueued by the test's effects function.
type effectArgs struct {
	ApplicantID string `json:"applicant_id"`
	Event       string `json:"event"`
}

func (effectArgs) Kind() string { return "sqlstore_test_effect" }

type effectWorker struct {
	river.WorkerDefaults[effectArgs]
	done chan effectArgs
}

func (w *effectWorker) Work(ctx context.Context, job *river.Job[effectArgs]) error {
	w.done <- job.Args
	return nil
}

// testEffects is an Effects that enqueues one test job per change with client, then
// fails with err when it is set, and counts the calls.
type testEffects struct {
	client *river.Client[*sql.Tx]
	err    error
	calls  int
}

func (fx *testEffects) ApplicantChanged(ctx context.Context, tx *sqlstore.Tx, a *winnow.Applicant, ev *winnow.Event) error {
	return fx.insert(ctx, tx, effectArgs{ApplicantID: a.ID, Event: string(ev.Kind)})
}

func (fx *testEffects) InviteCreated(ctx context.Context, tx *sqlstore.Tx, inv *winnow.Invite, e *winnow.Email) error {
	return fx.insert(ctx, tx, inviteEmailArgs{EmailID: e.ID})
}

func (fx *testEffects) LeverDeliveriesRecorded(ctx context.Context, tx *sqlstore.Tx, ds []*winnow.LeverDelivery) error {
	for _, d := range ds {
		if err := fx.insert(ctx, tx, effectArgs{Event: "delivery " + d.ID}); err != nil {
			return err
		}
	}
	return nil
}

func (fx *testEffects) LeverWritesAdded(ctx context.Context, tx *sqlstore.Tx, ws []*winnow.LeverWrite) error {
	for _, w := range ws {
		if err := fx.insert(ctx, tx, effectArgs{ApplicantID: w.ApplicantID, Event: "lever write " + w.ID}); err != nil {
			return err
		}
	}
	return nil
}

func (fx *testEffects) LeverNeedsReconnecting(ctx context.Context, tx *sqlstore.Tx, c *winnow.LeverConnection, incident int) error {
	return fx.insert(ctx, tx, effectArgs{Event: "lever_needs_reconnecting"})
}

func (fx *testEffects) insert(ctx context.Context, tx *sqlstore.Tx, args river.JobArgs) error {
	fx.calls++
	if _, err := fx.client.InsertTx(ctx, tx.SQL(), args, nil); err != nil {
		return err
	}
	return fx.err
}

func testRiverEffects(t *testing.T, e engine) {
	env := open(t, e)
	ctx := t.Context()
	worker := &effectWorker{done: make(chan effectArgs, 10)}
	workers := river.NewWorkers()
	river.AddWorker(workers, worker)
	client, err := river.NewClient(env.DB.RiverDriver(), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
		Workers:           workers,
		FetchCooldown:     10 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		Logger:            slog.New(slog.DiscardHandler),
		TestOnly:          true,
	})
	if err != nil {
		t.Fatalf("new river client: %v", err)
	}
	fx := &testEffects{client: client}
	env.Store = sqlstore.NewStore(env.DB, env.Clock, fx)
	jobs := func() int { return count(t, env, "river_job", "kind = $1", effectArgs{}.Kind()) }

	org := mustOrg(t, env)
	f := mustFunnel(t, env, org, nil)
	a := mustApplicant(t, env, f, "")
	started, err := env.Store.TransitionApplicant(ctx, org.ID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) {
		return x.Start(env.Clock.Now())
	})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	if n := jobs(); n != 2 {
		t.Fatalf("jobs after create and start = %d, want 2", n)
	}

	// An effects failure rolls back the status change, the event and the job inserted
	// before the failure.
	boom := errors.New("queue full")
	fx.err = boom
	_, err = env.Store.TransitionApplicant(ctx, org.ID, a.ID, func(x *winnow.Applicant) (winnow.Event, error) {
		return x.Submit(env.Clock.Now())
	})
	if !errors.Is(err, boom) {
		t.Fatalf("transition error = %v, want the effects error", err)
	}
	b, err := winnow.NewApplicant(f, "Rolled Back", "", randomHex(16), env.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.CreateApplicant(ctx, b, ""); !errors.Is(err, boom) {
		t.Fatalf("create error = %v, want the effects error", err)
	}
	stored, err := env.Store.FindApplicantByID(ctx, org.ID, a.ID)
	if err != nil || !reflect.DeepEqual(stored, started) {
		t.Fatalf("after failed effects: %+v, %v; want %+v", stored, err, started)
	}
	if n, m, j := count(t, env, "applicants", ""), count(t, env, "applicant_events", ""), jobs(); n != 1 || m != 2 || j != 2 {
		t.Fatalf("after failed effects: applicants %d, events %d, jobs %d; want 1, 2, 2", n, m, j)
	}

	// The committed jobs are worked.
	if err := client.Start(ctx); err != nil {
		t.Fatalf("start river: %v", err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := client.Stop(stopCtx); err != nil {
			t.Errorf("stop river: %v", err)
		}
	})
	want := map[effectArgs]bool{{a.ID, string(winnow.EventInvited)}: true, {a.ID, string(winnow.EventStarted)}: true}
	timeout := time.After(30 * time.Second)
	for len(want) > 0 {
		select {
		case got := <-worker.done:
			if !want[got] {
				t.Fatalf("worked unexpected job %+v", got)
			}
			delete(want, got)
		case <-timeout:
			t.Fatalf("jobs not worked within 30 s: %v still waiting", want)
		}
	}
}
