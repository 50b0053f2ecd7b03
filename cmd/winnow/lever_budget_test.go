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
		// more than the test lasts. Behind them B would wait 20 s for its turn at a
		// worker. Under -race, where SQLite is 20 times slower and B's own processing
		// takes seconds, the backlog is larger (B would wait 50 s) and the bound looser.
		backlog, bound := 150, 2*time.Second
		if raceDetector {
			backlog, bound = 400, 20*time.Second
		}
		start := time.Now()
		if _, err := queueApplications(ctx, m, sb, orgA, backlog); err != nil {
			t.Fatal(err)
		}
		// B's webhook only now: the sandbox is one Lever account for webhooks, and would
		// send B A's candidates too.
		if err := hookUp(ctx, m, sb, orgB); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Until(start.Add(3 * time.Second))) // A's backlog is draining

		took, err := timeToCPSent(ctx, sb, orgB, "b@globex.example", 60*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if took > bound {
			for _, d := range sb.Deliveries() {
				t.Logf("delivery %+v", d)
			}
			t.Fatalf("org B's candidate was tagged CP-Sent %s after applying, want within %s", took, bound)
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
		t.Logf("B tagged CP-Sent %s after applying; %d calls in %s (%.1f/s), %d of A's %d tagged, no 429",
			took.Round(time.Millisecond), st.Requests, elapsed.Round(time.Millisecond), float64(st.Requests)/elapsed.Seconds(), tagged, backlog)
	})
}
