package dbtest

import (
	"sync"
	"time"
)

// Start is the time a Clock made with NewClock(time.Time{}) starts at.
var Start = time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)

// Clock is the one fake winnow.Clock of the tests: it moves only when told, and is
// safe to read from workers and handlers while the test moves it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock stopped at t, or at Start when t is zero.
func NewClock(t time.Time) *Clock {
	if t.IsZero() {
		t = Start
	}
	return &Clock{now: t}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock forward by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}
