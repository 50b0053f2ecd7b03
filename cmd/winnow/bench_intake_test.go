package main

import (
	"regexp"
	"testing"

	"winnow/internal/dbtest"
)

// TestBenchIntake runs `winnow bench intake` briefly on each engine: it prints one
// table with both targets under both loads, and finds every acknowledged webhook in
// the database.
func TestBenchIntake(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a benchmark")
	}
	dbtest.EnginesInTurn(t, func(t *testing.T, e dbtest.Engine) {
		text := runBench(t, "intake", "--engine", e.Name, "--duration", "300ms", "--rate", "300", "--clients", "4")
		for _, row := range []string{`no-op net/http +closed, 4 clients +\d+ +\d+ +0 `, `winnow webhook +closed, 4 clients +\d+ +\d+ +0 `,
			`no-op net/http +open, 300/s offered +90 +90 +0 `, `winnow webhook +open, 300/s offered +90 +90 +0 `} {
			if !regexp.MustCompile(row).MatchString(text) {
				t.Errorf("no row %q in\n%s", row, text)
			}
		}
		m := regexp.MustCompile(`durable: (\d+) of (\d+) acknowledged`).FindStringSubmatch(text)
		if m == nil || m[1] != m[2] || m[1] == "0" {
			t.Fatalf("durability line: %q\n%s", m, text)
		}
	})
}
