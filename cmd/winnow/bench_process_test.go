package main

import (
	"regexp"
	"strconv"
	"testing"

	"winnow/internal/dbtest"
)

// TestBenchProcess runs `winnow bench process` with a few candidates on each engine:
// it prints one row with the rate, the idle latency and what a candidate cost (the
// process's CPU, the PostgreSQL server's when it is local, River jobs worked), and
// the rate that cost allows.
func TestBenchProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a benchmark")
	}
	dbtest.EnginesInTurn(t, func(t *testing.T, e dbtest.Engine) {
		text := runBench(t, "process", "--engine", e.Name, "--n", "30", "--idle", "2")
		server := `–`
		if e.Name == "postgres" {
			server = `(?:–|[0-9.]+[µm]?s)` // measured only when the server runs on this machine
		}
		row := regexp.MustCompile(e.Name + ` +30 +\S+ +\d+/s +\d+/s +\S+ +\S+ +\S+ +[0-9.]+[µm]?s +` + server + ` +([0-9.]+)\n`)
		m := row.FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no %s row with its costs in\n%s", e.Name, text)
		}
		// A candidate is worked by 3 jobs (its delivery, its invitation email, its Lever
		// writes), all finished when the row is printed; River's periodic upload sweep
		// may add one for the whole run.
		if jobs, _ := strconv.ParseFloat(m[1], 64); jobs < 3 || jobs > 3.04 {
			t.Errorf("%v River jobs a candidate, want 3:\n%s", jobs, text)
		}
		t.Log(text)
		if !regexp.MustCompile(`the \d+ CPUs here could work at most \d+/s`).MatchString(text) {
			t.Errorf("no ceiling line in\n%s", text)
		}
	})
}
