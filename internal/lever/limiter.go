package lever

import (
	"sync"

	"golang.org/x/time/rate"
)

// Lever's documented rate limit per account: a steady rate and a burst.
const (
	// DefaultRateLimit is Lever's steady limit in requests per second.
	DefaultRateLimit rate.Limit = 10
	// DefaultRateBurst is the burst Lever allows "when possible".
	DefaultRateBurst = 20
)

// Limiters hands out one token-bucket limiter per Lever account, so every
// client that talks to the same account (several workers, a web request and
// a worker) shares one budget. It is safe for concurrent use.
type Limiters struct {
	limit rate.Limit
	burst int

	mu sync.Mutex
	m  map[string]*rate.Limiter
}

// NewLimiters returns a registry whose limiters allow limit requests per
// second with the given burst. A zero limit or burst means Lever's defaults.
func NewLimiters(limit rate.Limit, burst int) *Limiters {
	if limit == 0 {
		limit = DefaultRateLimit
	}
	if burst == 0 {
		burst = DefaultRateBurst
	}
	return &Limiters{limit: limit, burst: burst, m: make(map[string]*rate.Limiter)}
}

// For returns the limiter of the given account, creating it on first use.
// The key should identify the Lever account (e.g. AccountID of its token, or
// the org that owns the connection).
func (l *Limiters) For(account string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.m[account]
	if !ok {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.m[account] = lim
	}
	return lim
}

// Forget drops the limiter of an account, e.g. after it was disconnected.
func (l *Limiters) Forget(account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, account)
}
