package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"winnow"
	"winnow/internal/dbtest"
	"winnow/internal/leversandbox"
)

// faultApplicants is how many applicants TestLeverConvergesUnderFaults drives: 200, or
// 30 under -race (SQLite is about 20 times slower there); WINNOW_TEST_LEVER_APPLICANTS
// sets it.
func faultApplicants(t *testing.T) int {
	if v := os.Getenv("WINNOW_TEST_LEVER_APPLICANTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("WINNOW_TEST_LEVER_APPLICANTS=%q", v)
		}
		return n
	}
	if raceDetector {
		return 30
	}
	return 200
}

// TestLeverConvergesUnderFaults: with Lever failing a fifth of the calls (server
// errors, latency, answers lost after the write), applicants driven to a decision all
// end with the right tag and stage in Lever, and no note or email twice.
//
// It is the one load test here and does not run in parallel with the package's other
// tests: on 2 shared cores under -race it would starve them (password hashing, River's
// polling) and be starved by them.
func TestLeverConvergesUnderFaults(t *testing.T) {
	dbtest.Engines(t, func(t *testing.T, e dbtest.Engine) {
		n := faultApplicants(t)
		w := startLoopWorld(t, e.URL(t), loopWorldOptions{})
		ctx := context.Background()
		if err := w.sb.SetFaults(leversandbox.Faults{ErrorRate: 0.15, TimeoutAfterWriteRate: 0.05, LatencyMs: 2}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		opps := make([]string, n)
		for i := range n {
			opps[i] = w.apply(fmt.Sprintf("Candidate %03d", i), fmt.Sprintf("c%03d@example.com", i))
		}
		applicants := make([]*winnow.Applicant, n)
		for i, opp := range opps {
			applicants[i] = w.applicant(opp)
		}
		// Candidates start from the link in their invitation.
		w.smtp.Wait(n, 120*time.Second)
		t.Logf("%d invited after %s", n, time.Since(start).Round(time.Millisecond))
		// Each candidate starts and submits, and the team decides: even ones qualified,
		// odd ones not; a few at a time, as people would.
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for i, a := range applicants {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				a = w.move(a, func(x *winnow.Applicant, now time.Time) (winnow.Event, error) { return x.Start(now) })
				a = w.move(a, func(x *winnow.Applicant, now time.Time) (winnow.Event, error) { return x.Submit(now) })
				applicants[i] = w.move(a, func(x *winnow.Applicant, now time.Time) (winnow.Event, error) {
					if i%2 == 0 {
						return x.Qualify(now, "")
					}
					return x.Disqualify(now, "Not this time", "")
				})
			}()
		}
		wg.Wait()
		t.Logf("decided after %s", time.Since(start).Round(time.Millisecond))
		for _, a := range applicants {
			w.settled(a)
		}
		t.Logf("converged after %s", time.Since(start).Round(time.Millisecond))
		if err := w.sb.SetFaults(leversandbox.Faults{}); err != nil {
			t.Fatal(err)
		}
		for i, a := range applicants {
			st := w.lever(opps[i])
			tag, stage, decision := "CP-Qual", qualifiedStage, "Qualified for Backend Engineer."
			if i%2 == 1 {
				tag, stage, decision = "CP-Unqual", "applicant-new", "Unqualified for Backend Engineer: Not this time"
			}
			notes := noteValues(st)
			want := []string{"Invitation sent to " + a.Email, "Started", "Submitted", decision}
			if !slices.Equal(st.Tags, []string{tag}) || st.Stage != stage || len(notes) != len(want) {
				t.Fatalf("candidate %d: tags %q stage %s notes %q", i, st.Tags, st.Stage, notes)
			}
			for j, note := range notes {
				if !strings.HasPrefix(note, "Winnow: "+want[j]) {
					t.Fatalf("candidate %d: note %d is %q, want %q", i, j, note, want[j])
				}
			}
			failed, _ := w.m.Store.ListLeverWrites(ctx, w.org, winnow.LeverWriteFilter{ApplicantID: a.ID, Status: winnow.LeverWriteFailed})
			if len(failed) != 0 {
				t.Fatalf("candidate %d: write failed for good: %s", i, failed[0].LastError)
			}
		}
		seen := map[string]int{}
		for _, m := range w.smtp.Messages() {
			seen[m.To[0]]++
		}
		if len(w.smtp.Messages()) != n || len(seen) != n {
			t.Fatalf("%d emails to %d addresses for %d candidates", len(w.smtp.Messages()), len(seen), n)
		}
		t.Logf("%d applicants converged; sandbox: %+v", n, w.sb.Stats())
	})
}
