package auth

import (
	"sync"
	"time"

	"winnow"
)

// The sign-in limits that serve uses.
const (
	// MaxAccountAttempts is how many failed sign-ins one account gets per LoginWindow:
	// enough for a person's typos, far too few for guessing.
	MaxAccountAttempts = 5
	// MaxAddressAttempts is how many failed sign-ins one client address gets per
	// LoginWindow, over every account. It slows spraying one password over many
	// accounts; the account limit is what protects each account. It is high because one
	// address is often a whole office behind NAT or a proxy: five typos of made-up
	// addresses there must not lock every colleague out.
	MaxAddressAttempts = 100
	// LoginWindow is the sliding window both limits count in.
	LoginWindow = 15 * time.Minute
)

// maxKeys is how many keys the limiter keeps before it sweeps out the stale ones, so
// that a spray of addresses cannot grow it without bound.
const maxKeys = 100000

// LoginLimiter counts sign-in attempts per account (an email address) and per client
// address in a sliding window, and refuses further attempts once either has too many.
// An attempt is counted before its password is checked (Reserve), so however many
// arrive at once, no more than the limit are checked; a successful one is uncounted
// again. It lives in memory: each process counts its own, which is enough to make
// guessing slow.
type LoginLimiter struct {
	PerAccount int
	PerAddress int
	Window     time.Duration
	Clock      winnow.Clock

	mu       sync.Mutex
	attempts map[string][]attempt
	seq      uint64
}

// attempt is one counted sign-in attempt; pending until its password check ends.
type attempt struct {
	at      time.Time
	id      uint64
	pending bool
}

// NewLoginLimiter allows perAccount attempts per account and perAddress attempts per
// client address within window; attempts that succeed do not count.
func NewLoginLimiter(perAccount, perAddress int, window time.Duration, clock winnow.Clock) *LoginLimiter {
	return &LoginLimiter{PerAccount: perAccount, PerAddress: perAddress, Window: window, Clock: clock,
		attempts: map[string][]attempt{}}
}

// Attempt is a sign-in attempt counted by Reserve. Exactly one of Failed, Succeeded or
// Cancel ends it; until then it counts as a failure.
type Attempt struct {
	l       *LoginLimiter
	id      uint64
	account string
	address string
}

// Reserve counts an attempt to sign in to the account email from the client address
// addr, before the password is checked. When the account or the address has reached
// its limit it counts nothing and returns nil and how long until an attempt is allowed.
func (l *LoginLimiter) Reserve(email, addr string) (*Attempt, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Clock.Now()
	a := &Attempt{l: l, account: "email:" + email, address: "addr:" + addr}
	wait := max(l.wait(a.account, l.PerAccount, now), l.wait(a.address, l.PerAddress, now))
	if wait > 0 {
		return nil, wait
	}
	l.seq++
	a.id = l.seq
	for _, k := range []string{a.account, a.address} {
		l.attempts[k] = append(l.attempts[k], attempt{at: now, id: a.id, pending: true})
	}
	if len(l.attempts) > maxKeys {
		for k := range l.attempts {
			l.prune(k, now)
		}
	}
	return a, 0
}

// Failed ends the attempt as a failure: it stays counted for the window.
func (a *Attempt) Failed() {
	a.l.mu.Lock()
	defer a.l.mu.Unlock()
	for _, k := range []string{a.account, a.address} {
		for i := range a.l.attempts[k] {
			if a.l.attempts[k][i].id == a.id {
				a.l.attempts[k][i].pending = false
			}
		}
	}
}

// Succeeded ends the attempt as a successful sign-in: it is uncounted, and so are the
// account's earlier failures, so a person who mistyped a few times starts afresh.
// Attempts still being checked stay counted.
func (a *Attempt) Succeeded() {
	a.l.mu.Lock()
	defer a.l.mu.Unlock()
	a.l.remove(a.account, func(x attempt) bool { return x.id == a.id || !x.pending })
	a.l.remove(a.address, func(x attempt) bool { return x.id == a.id })
}

// Cancel ends an attempt whose password was never checked (the server was busy, the
// database failed): it is uncounted.
func (a *Attempt) Cancel() {
	a.l.mu.Lock()
	defer a.l.mu.Unlock()
	for _, k := range []string{a.account, a.address} {
		a.l.remove(k, func(x attempt) bool { return x.id == a.id })
	}
}

// wait returns how long until key is below limit again, 0 if it is already.
func (l *LoginLimiter) wait(key string, limit int, now time.Time) time.Duration {
	f := l.prune(key, now)
	if len(f) < max(limit, 1) {
		return 0
	}
	return f[len(f)-max(limit, 1)].at.Add(l.Window).Sub(now)
}

// remove drops key's attempts for which drop is true.
func (l *LoginLimiter) remove(key string, drop func(attempt) bool) {
	f := l.attempts[key][:0]
	for _, x := range l.attempts[key] {
		if !drop(x) {
			f = append(f, x)
		}
	}
	if len(f) == 0 {
		delete(l.attempts, key)
		return
	}
	l.attempts[key] = f
}

// prune drops key's attempts older than the window and returns the rest, oldest first.
func (l *LoginLimiter) prune(key string, now time.Time) []attempt {
	f := l.attempts[key]
	i := 0
	for i < len(f) && !f[i].at.After(now.Add(-l.Window)) {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(l.attempts, key)
		return nil
	}
	l.attempts[key] = f
	return f
}
