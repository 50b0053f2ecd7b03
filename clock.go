package winnow

import "time"

// Clock tells the time. Everything that depends on time takes a Clock so that weeks of
// reminders can be tested in milliseconds.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }
