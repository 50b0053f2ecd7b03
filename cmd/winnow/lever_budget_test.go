package main

import (
	"context"
	"testing"
	"time"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/lever"
	"winnow/internal/leversandbox"
)

// TestLeverBudgetDrainsWithoutStarving: against a sandbox that limits each Lever
// account as strictly as Lever (10/s, burst 20, 429 beyond), a backlog for org A
// drains at Winnow's budget with no 429, while org B (another account) gets its
// candidate invited and tagged CP-Sent at once instead of behind A's backlog.
func TestLeverBudgetDrainsWithoutStarving(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		ctx := context.Background()
		sb, err := leversandbox.New(leversandbox.Options{RateLimit: lever.DefaultRateLimit, RateBurst: lever.DefaultRateBurst})
		if err != nil {
			t.Fatal(err)
		}
		if err := sb.Start("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sb.Close() })
		keyA, keyB := sb.APIKey(), sb.MintAPIKey()
		env := testEnv(t, e.URL(t))
		env["WINNOW_LEVER_API_URL"] = sb.URL() + "/v1"
		env["WINNOW_LEVER_AUTH_URL"] = sb.URL()
		m := MustStart(t, env) // Winnow's own budget per account
		orgA, err := setUpBenchOrg(ctx, m, sb, "Acme", keyA)
		if err != nil {
			t.Fatal(err)
		}
		orgB, err := setUpBenchOrg(ctx, m, sb, "Globex", keyB)
		if err != nil {
			t.Fatal(err)
		}
		// 150 candidates are 450 calls to A's account: a minute at the budget, far
		// more than the test lasts. Under -race, where SQLite is 20 times slower, the
		// backlog is larger so that it still outlasts B's wait.
		backlog := 150
		if raceDetector {
			backlog = 400
		}
		start := time.Now()
		if _, err := queueApplications(ctx, m, sb, orgA, backlog); err != nil {
			t.Fatal(err)
		}
		// Past its first burst, A's backlog is queued behind every org's prompt
		// deliveries (jobs.DeliveryPacer): River works B's first, though it came later.
		var behind int
		if err := m.DB.SQL().QueryRowContext(ctx, `SELECT count(*) FROM river_job WHERE kind = 'lever_delivery' AND priority > 1`).Scan(&behind); err != nil {
			t.Fatal(err)
		}
		if behind < backlog/2 {
			t.Fatalf("%d of A's %d queued deliveries are behind the prompt ones; want most of them", behind, backlog)
		}
		// B's webhook only now: the sandbox is one Lever account for webhooks, and would
		// send B A's candidates too.
		if err := hookUp(ctx, m, sb, orgB); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Until(start.Add(3 * time.Second))) // A's backlog is draining

		took, err := timeToCPSent(ctx, sb, orgB, "b@globex.example", 90*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		// Fairness is an order, not a time (how long B waits depends on the machine's
		// load; winnow bench drain reports it): B's candidate must overtake most of A's
		// backlog. Waiting its turn behind A's jobs, B would be tagged only once nearly
		// all of A's had been.
		taggedAtB, err := countDone(ctx, m, orgA.id, winnow.LeverAddTags)
		if err != nil {
			t.Fatal(err)
		}
		if taggedAtB > backlog/2 {
			t.Fatalf("org B's candidate was tagged CP-Sent only after %d of A's %d (%s after applying): B waited behind A's backlog",
				taggedAtB, backlog, took)
		}
		elapsed := time.Since(start)
		tagged, err := countDone(ctx, m, orgA.id, winnow.LeverAddTags)
		if err != nil {
			t.Fatal(err)
		}
		st := sb.Stats()
		if st.RateLimited != 0 {
			t.Fatalf("the sandbox answered 429 %d times: %+v", st.RateLimited, st)
		}
		// A went at about the budget, never above Lever's limit; B's few calls are on
		// top. (The sandbox's bucket already refuses anything faster.)
		if tagged >= backlog {
			t.Fatalf("A's whole backlog of %d was tagged in %s: the budget was not spent", backlog, elapsed)
		}
		if st.Requests < 3*lever.BudgetBurst {
			t.Fatalf("only %d calls to the sandbox in %s: A's backlog is not draining", st.Requests, elapsed)
		}
		t.Logf("B tagged CP-Sent %s after applying, with %d of A's tagged; %d calls in %s (%.1f/s), %d of A's %d tagged, no 429",
			took.Round(time.Millisecond), taggedAtB, st.Requests, elapsed.Round(time.Millisecond), float64(st.Requests)/elapsed.Seconds(), tagged, backlog)
	})
}
