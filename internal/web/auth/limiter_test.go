package auth_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"winnow/internal/dbtest"
	"winnow/internal/web/auth"
)

func newLimiter(t *testing.T) (*auth.LoginLimiter, *dbtest.Clock) {
	t.Helper()
	clk := dbtest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	return auth.NewLoginLimiter(3, 10, 10*time.Minute, clk), clk
}

// mustReserve reserves an attempt or fails the test.
func mustReserve(t *testing.T, l *auth.LoginLimiter, email, addr string) *auth.Attempt {
	t.Helper()
	a, wait := l.Reserve(email, addr)
	if a == nil {
		t.Fatalf("%s from %s refused for %v", email, addr, wait)
	}
	return a
}

// TestLoginLimiterAccount refuses an account after its limit of failures, from any
// address, until the oldest leaves the window.
func TestLoginLimiterAccount(t *testing.T) {
	t.Parallel()
	l, clk := newLimiter(t)
	for i := range 3 {
		mustReserve(t, l, "ada@example.com", fmt.Sprintf("192.0.2.%d", i)).Failed()
		clk.Advance(time.Minute)
	}
	a, wait := l.Reserve("ada@example.com", "198.51.100.1")
	if a != nil || wait != 7*time.Minute {
		t.Fatalf("attempt %v wait %v, want refused for 7m", a, wait)
	}
	mustReserve(t, l, "grace@example.com", "192.0.2.0").Failed() // another account, same address
	clk.Advance(7 * time.Minute)
	mustReserve(t, l, "ada@example.com", "192.0.2.0").Failed()
}

// TestLoginLimiterCountsInFlight counts an attempt from the moment it is reserved, so
// attempts that arrive together cannot all be checked.
func TestLoginLimiterCountsInFlight(t *testing.T) {
	t.Parallel()
	l, _ := newLimiter(t)
	var granted atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if a, _ := l.Reserve("ada@example.com", "192.0.2.1"); a != nil {
				granted.Add(1)
			}
		})
	}
	wg.Wait()
	if n := granted.Load(); n != 3 {
		t.Fatalf("%d of 50 simultaneous attempts granted, want 3", n)
	}
}

// TestLoginLimiterEndings uncounts attempts that were never checked and successful
// ones; a success also forgets the account's earlier failures but not attempts still
// being checked.
func TestLoginLimiterEndings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		end  func(*auth.Attempt)
		left int // attempts ada may still make afterwards
	}{
		{"failed stays counted", (*auth.Attempt).Failed, 0},
		{"cancelled is uncounted", (*auth.Attempt).Cancel, 1},
		{"success forgets failures, not pending attempts", (*auth.Attempt).Succeeded, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, _ := newLimiter(t)
			mustReserve(t, l, "ada@example.com", "192.0.2.1").Failed()
			mustReserve(t, l, "ada@example.com", "192.0.2.1") // still being checked
			tt.end(mustReserve(t, l, "ada@example.com", "192.0.2.1"))
			for i := range tt.left {
				mustReserve(t, l, "ada@example.com", fmt.Sprintf("198.51.100.%d", i))
			}
			if a, _ := l.Reserve("ada@example.com", "203.0.113.1"); a != nil {
				t.Fatalf("more than %d attempts left", tt.left)
			}
		})
	}
}

// TestLoginLimiterAddress refuses an address after its own, higher limit over every
// account, and a success from it is not counted there.
func TestLoginLimiterAddress(t *testing.T) {
	t.Parallel()
	l, _ := newLimiter(t)
	mustReserve(t, l, "ada@example.com", "192.0.2.1").Succeeded()
	for i := range 9 {
		mustReserve(t, l, fmt.Sprintf("ghost%d@example.com", i), "192.0.2.1").Failed()
	}
	// Nine failures for made-up accounts, three times the account limit: a real account
	// still signs in from the address.
	mustReserve(t, l, "ada@example.com", "192.0.2.1").Succeeded()
	mustReserve(t, l, "ghost9@example.com", "192.0.2.1").Failed()
	if a, wait := l.Reserve("ada@example.com", "192.0.2.1"); a != nil || wait != 10*time.Minute {
		t.Fatalf("address past its limit: attempt %v wait %v", a, wait)
	}
	mustReserve(t, l, "ada@example.com", "192.0.2.2")
}
