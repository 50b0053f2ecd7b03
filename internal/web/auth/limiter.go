package auth

import (
	"sync"
	"time"

	"winnow"
)

// LoginLimiter counts failed sign-ins per key (an email address, a client address) in a
// sliding window and refuses further attempts once a key has too many. It lives in
// memory: each process counts its own, which is enough to make guessing slow.
type LoginLimiter struct {
	Max    int
	Window time.Duration
	Clock  winnow.Clock

	mu       sync.Mutex
	failures map[string][]time.Time
}

// NewLoginLimiter allows max failures per key within window.
func NewLoginLimiter(max int, window time.Duration, clock winnow.Clock) *LoginLimiter {
	return &LoginLimiter{Max: max, Window: window, Clock: clock, failures: map[string][]time.Time{}}
}

// Blocked reports whether any of keys has reached the limit, and how long until the
// oldest counted failure of the worst key leaves the window.
func (l *LoginLimiter) Blocked(keys ...string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Clock.Now()
	var wait time.Duration
	for _, k := range keys {
		f := l.prune(k, now)
		if len(f) >= l.Max {
			if w := f[len(f)-l.Max].Add(l.Window).Sub(now); w > wait {
				wait = w
			}
		}
	}
	return wait > 0, wait
}

// Fail records a failed attempt for every key.
func (l *LoginLimiter) Fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Clock.Now()
	for _, k := range keys {
		l.failures[k] = append(l.prune(k, now), now)
	}
	if len(l.failures) > 100000 { // keep memory bounded under a spray of addresses
		for k := range l.failures {
			if len(l.prune(k, now)) == 0 {
				delete(l.failures, k)
			}
		}
	}
}

// Reset forgets the failures of a key, after a successful sign-in.
func (l *LoginLimiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, key)
}

func (l *LoginLimiter) prune(k string, now time.Time) []time.Time {
	f := l.failures[k]
	i := 0
	for i < len(f) && !f[i].After(now.Add(-l.Window)) {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(l.failures, k)
		return nil
	}
	l.failures[k] = f
	return f
}
