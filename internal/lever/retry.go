package lever

import (
	"errors"
	"math/rand/v2"
	"net"
	"time"
)

// Retry configures how the client repeats calls that failed with
// ErrRateLimited or ErrTransient. The zero value means the defaults.
type Retry struct {
	// MaxAttempts is the total number of attempts including the first
	// (default 4). 1 disables retries.
	MaxAttempts int
	// BaseDelay is the wait before the first retry (default 250ms); each
	// further retry doubles it, with full jitter on the upper half.
	BaseDelay time.Duration
	// MaxDelay caps one computed wait (default 5s).
	MaxDelay time.Duration
	// MaxRetryAfter caps how long the client honours a Retry-After header
	// (default 30s); a longer request is returned to the caller as
	// ErrRateLimited with APIError.RetryAfter set, so a worker can reschedule.
	MaxRetryAfter time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 4
	}
	if r.BaseDelay <= 0 {
		r.BaseDelay = 250 * time.Millisecond
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = 5 * time.Second
	}
	if r.MaxRetryAfter <= 0 {
		r.MaxRetryAfter = 30 * time.Second
	}
	return r
}

// delay returns the wait before retry number n (1-based): exponential,
// capped, with jitter in [d/2, d] so concurrent callers spread out.
func (r Retry) delay(n int) time.Duration {
	d := r.BaseDelay
	for i := 1; i < n && d < r.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, r.MaxDelay)
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half+1)
}

// idempotency says which failures a call may be repeated after.
type idempotency int

const (
	// idempotent calls (GETs, PUT stage, add/removeTags, DELETE) are
	// repeated after any rate-limit or transient failure.
	idempotent idempotency = iota
	// notIdempotent calls (create note, create webhook) are repeated only
	// when Lever certainly did not act: a 429, or a connection that could not
	// be opened. After a 5xx or a timeout the write may have been stored, so
	// the error goes back to the caller, who can list and compare first.
	notIdempotent
)

// retryable reports whether err allows another attempt under mode.
func retryable(err error, mode idempotency) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.Kind {
	case ErrRateLimited:
		return true
	case ErrTransient:
		if mode == idempotent {
			return true
		}
		return neverSent(apiErr.Err)
	}
	return false
}

// neverSent reports whether a transport error happened before the request
// could reach the server (the TCP connection was never established).
func neverSent(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}
