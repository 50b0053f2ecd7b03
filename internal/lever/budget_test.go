package lever_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"winnow/internal/lever"
	"winnow/internal/leversandbox"
)

// TestBudgetAvoids429AtLeversRate: 60 calls from 12 goroutines through the default
// budget against a sandbox as strict as Lever (a bucket of 10/s, burst 20, per
// account) get no 429, and go at the budget's rate once its burst is spent.
func TestBudgetAvoids429AtLeversRate(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, leversandbox.Options{RateLimit: lever.DefaultRateLimit, RateBurst: lever.DefaultRateBurst})
	cfg := sb.config()
	budget := lever.NewLimiters(0, 0).For("account-1")
	cfg.Limiter = budget
	cfg.Retry.MaxAttempts = 1 // a 429 would surface as an error
	c, err := lever.New(cfg, lever.APIKeyAuth(sb.APIKey()))
	if err != nil {
		t.Fatal(err)
	}
	const calls = 60
	start := time.Now()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 12 {
		wg.Go(func() {
			for range calls / 12 {
				if _, err := c.ListStages(context.Background()); err != nil {
					failed.Add(1)
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if st := sb.Stats(); st.RateLimited != 0 || failed.Load() != 0 {
		t.Fatalf("%d calls rate limited, %d failed: %+v", st.RateLimited, failed.Load(), st)
	}
	// After the burst, one call per 1/BudgetRate: the budget was spent, not ignored.
	least := time.Duration(float64(calls-lever.BudgetBurst) / float64(lever.BudgetRate) * float64(time.Second))
	if elapsed < least-100*time.Millisecond {
		t.Fatalf("%d calls took %s, faster than the budget allows (%s)", calls, elapsed, least)
	}
	t.Logf("%d calls in %s: %.1f/s", calls, elapsed.Round(time.Millisecond), float64(calls)/elapsed.Seconds())
}

// TestBudgetSlowsDownAfter429: a 429 carrying Retry-After pauses the account for that
// long, halves its rate, and the rate climbs back while no 429 comes; the client
// retries the call and it goes through.
func TestBudgetSlowsDownAfter429(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	var second atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"code":"TooManyRequests","message":"slow down"}`))
			return
		}
		second.Store(time.Now().UnixNano())
		w.Write([]byte(`{"data":[],"hasNext":false}`))
	}))
	t.Cleanup(srv.Close)
	budget := lever.NewBudget(lever.BudgetRate, lever.BudgetBurst)
	c, err := lever.New(lever.Config{APIURL: srv.URL + "/v1", Limiter: budget,
		Retry: lever.Retry{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}}, lever.APIKeyAuth("k"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := c.ListStages(context.Background()); err != nil {
		t.Fatal(err)
	}
	if waited := time.Unix(0, second.Load()).Sub(start); waited < 950*time.Millisecond {
		t.Fatalf("the retry went out after %s, before Retry-After's second", waited)
	}
	if got := budget.Rate(); got != lever.BudgetRate/2 || budget.Throttles() != 1 {
		t.Fatalf("after a 429 the rate is %v (%d throttles), want %v", got, budget.Throttles(), lever.BudgetRate/2)
	}
	if budget.Delay() > 0 {
		t.Fatalf("the pause is over but the budget says wait %s", budget.Delay())
	}
	deadline := time.Now().Add(20 * time.Second)
	for budget.Rate() < lever.BudgetRate {
		if time.Now().After(deadline) {
			t.Fatalf("rate stuck at %v", budget.Rate())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("back to %v/s after %s", budget.Rate(), time.Since(start).Round(time.Millisecond))
}

// TestBudgetLaterSpreadsWakeUps: jobs put off while the account is busy get wake-ups
// one token apart, so they come back at the budget's rate rather than all at once.
func TestBudgetLaterSpreadsWakeUps(t *testing.T) {
	t.Parallel()
	b := lever.NewBudget(lever.BudgetRate, 1)
	if err := b.Wait(context.Background()); err != nil { // spend the burst
		t.Fatal(err)
	}
	var prev time.Duration
	step := time.Duration(float64(time.Second) / float64(lever.BudgetRate))
	for i := range 5 {
		d := b.Later()
		if i > 0 && (d-prev < step-10*time.Millisecond || d-prev > step+10*time.Millisecond) {
			t.Fatalf("wake-up %d at %s, %s after the one before; want %s apart", i, d, d-prev, step)
		}
		prev = d
	}
}

// TestBudgetTake: a turn within hold is taken at once and the request made with its
// context spends it without waiting for another; a turn further off is not taken and
// says how long to put the job off; a turn released unused goes back to the bucket.
func TestBudgetTake(t *testing.T) {
	t.Parallel()
	b := lever.NewBudget(lever.BudgetRate, 1)
	hold := 50 * time.Millisecond
	ctx, release, _, ok := b.Take(context.Background(), hold)
	if !ok {
		t.Fatal("the first turn of a full bucket was not taken")
	}
	if _, _, later, ok := b.Take(context.Background(), hold); ok || later <= hold {
		t.Fatalf("a second turn 125 ms off was taken (%v) or put off by %s only", ok, later)
	}
	release() // unused: back to the bucket
	if _, _, _, ok := b.Take(context.Background(), hold); !ok {
		t.Fatal("the released turn was not given back")
	}
	// A turn spent by a request is not given back by a later release.
	b2 := lever.NewBudget(lever.BudgetRate, 1)
	ctx, release, _, _ = b2.Take(context.Background(), hold)
	start := time.Now()
	if err := b2.Wait(ctx); err != nil || time.Since(start) > 20*time.Millisecond {
		t.Fatalf("the request with the turn waited %s: %v", time.Since(start), err)
	}
	release()
	if _, _, _, ok := b2.Take(context.Background(), hold); ok {
		t.Fatal("a spent turn was given back")
	}
}

// TestBudgetTakeNewGivesWay: new work (TakeNew) does not start while work already
// begun waits for a turn it was refused, even with a token free, and wakes after it;
// new work put off in numbers does not push that work's wake-ups back.
func TestBudgetTakeNewGivesWay(t *testing.T) {
	t.Parallel()
	hold := 50 * time.Millisecond
	slot := time.Duration(float64(time.Second) / float64(lever.BudgetRate))

	b := lever.NewBudget(lever.BudgetRate, 1)
	_, release, _, ok := b.Take(context.Background(), hold)
	if !ok {
		t.Fatal("the first turn of a full bucket was not taken")
	}
	_, _, finishLater, ok := b.Take(context.Background(), hold)
	if ok {
		t.Fatal("a second turn 125 ms off was taken")
	}
	release() // a token is free again, but a write waits for its wake-up
	_, _, newLater, ok := b.TakeNew(context.Background(), hold)
	if ok {
		t.Fatal("new work took the turn of a write that was put off")
	}
	if newLater <= finishLater {
		t.Fatalf("new work wakes after %s, before the write put off by %s", newLater, finishLater)
	}
	if _, _, _, ok := b.Take(context.Background(), hold); !ok {
		t.Fatal("the write, back for its turn, did not get the free token")
	}

	// With no write waiting, new work takes turns as writes do.
	if _, _, _, ok := lever.NewBudget(lever.BudgetRate, 1).TakeNew(context.Background(), hold); !ok {
		t.Fatal("new work was refused a free token with nothing waiting")
	}

	// A backlog of new work put off does not queue the writes behind it.
	b = lever.NewBudget(lever.BudgetRate, 1)
	b.TakeNew(context.Background(), hold)
	for range 100 {
		if _, _, _, ok := b.TakeNew(context.Background(), hold); ok {
			t.Fatal("new work took a turn of an empty bucket")
		}
	}
	if _, _, later, ok := b.Take(context.Background(), hold); ok || later > 3*slot {
		t.Fatalf("a write after 100 put-off reads waits %s (ok %v); want its own turn within a few slots of %s", later, ok, slot)
	}
}
