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
