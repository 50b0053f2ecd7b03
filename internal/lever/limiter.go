package lever

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Lever's documented rate limit per account: a steady rate and a burst.
const (
	// DefaultRateLimit is Lever's steady limit in requests per second.
	DefaultRateLimit rate.Limit = 10
	// DefaultRateBurst is the burst Lever allows "when possible".
	DefaultRateBurst = 20
)

// Winnow's budget per Lever account: what it spends of Lever's limit.
const (
	// BudgetRate is the steady rate Winnow paces each account at: a fifth below
	// Lever's 10/s. Pacing at exactly Lever's rate met a 429 for 1 call in 57
	// against a strict bucket of the same size, because network jitter bunches
	// requests up on arrival; the margin also leaves room for the customer's other
	// Lever integrations.
	BudgetRate rate.Limit = 8
	// BudgetBurst is the burst Winnow allows itself: small, so that a backlog starts
	// at the steady rate instead of spending Lever's burst (which Lever grants only
	// "when possible") in the first second.
	BudgetBurst = 4
	// BudgetMinRate is the slowest an account is paced after repeated 429s.
	BudgetMinRate rate.Limit = 1
	// budgetCutFactor is what a 429 multiplies the account's rate by.
	budgetCutFactor = 0.5
	// budgetRecoverFactor is what each budgetRecoverEvery without a 429 multiplies a
	// cut rate by, until it is back at the configured rate: from BudgetRate halved,
	// about 4 steps (10 s).
	budgetRecoverFactor = 1.25
	budgetRecoverEvery  = 2500 * time.Millisecond
	// budgetPauseDefault is how long an account sends nothing after a 429 that
	// carried no Retry-After (Lever documents none).
	budgetPauseDefault = time.Second
	// budgetMaxPause caps a Retry-After honoured by the budget, so that a wild value
	// cannot stall an account for hours; the client returns such an error to its
	// caller (Retry.MaxRetryAfter), whose job is then retried later.
	budgetMaxPause = 5 * time.Minute
)

// Pacer paces a client's requests: Wait returns when the next request may go out.
// *Budget is the one Winnow uses; a *rate.Limiter also fits.
type Pacer interface {
	Wait(ctx context.Context) error
}

// throttler is a Pacer that wants to hear of 429s, to slow down.
type throttler interface {
	Throttled(retryAfter time.Duration)
}

// taker is a Pacer that lets a caller take a request's turn ahead of making it (see
// Budget.Take).
type taker interface {
	Take(ctx context.Context, hold time.Duration) (context.Context, func(), time.Duration, bool)
	TakeNew(ctx context.Context, hold time.Duration) (context.Context, func(), time.Duration, bool)
}

// prepaid is a turn taken with Budget.Take, carried in the context to the request
// that spends it.
type prepaid struct {
	budget *Budget
	at     time.Time // when the turn comes
	mu     sync.Mutex
	done   bool // spent or released
}

type prepaidKey struct{}

// spend marks the turn used, reporting whether it was still there.
func (p *prepaid) spend() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return false
	}
	p.done = true
	return true
}

// release gives an unused turn back to the bucket.
func (p *prepaid) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.done = true
	p.budget.giveBack()
}

// Budget paces the requests to one Lever account: a token bucket at the configured
// rate, cut by half (down to BudgetMinRate) and paused for the Retry-After (or a
// second) after each 429, and raised back step by step while no 429 comes. It is safe
// for concurrent use; every client of the account in a process shares one (see
// Limiters).
//
// The bucket is its own rather than x/time/rate's, because a turn taken ahead of a
// request (Take) must go back when no request spends it, which a rate.Reservation
// does not do once its time has come.
type Budget struct {
	base  rate.Limit
	burst int
	now   func() time.Time

	mu          sync.Mutex
	current     rate.Limit
	tokens      float64   // may go below 0: turns handed out ahead
	last        time.Time // when tokens was last brought up to date
	horizon     time.Time // the last wake-up handed out by Later
	newHorizon  time.Time // the last wake-up handed out to new work (TakeNew)
	finishWaits time.Time // until when work already begun waits for a turn it was refused
	pausedUntil time.Time
	nextRecover time.Time
	throttles   int
}

// NewBudget returns a budget of limit requests per second with the given burst.
func NewBudget(limit rate.Limit, burst int) *Budget {
	return &Budget{base: limit, current: limit, burst: max(burst, 1), tokens: float64(max(burst, 1)), now: time.Now}
}

// refillLocked brings the bucket up to now. b.mu is held.
func (b *Budget) refillLocked(now time.Time) {
	if b.last.IsZero() || b.current == rate.Inf {
		b.last = now
		b.tokens = float64(b.burst)
		return
	}
	if now.After(b.last) {
		b.tokens = min(b.tokens+now.Sub(b.last).Seconds()*float64(b.current), float64(b.burst))
		b.last = now
	}
}

// turnLocked is how long from now the next request's turn is: the pause after a 429,
// or the time until the bucket holds a token. b.mu is held, the bucket refilled.
func (b *Budget) turnLocked(now time.Time) time.Duration {
	pause := max(b.pausedUntil.Sub(now), 0)
	if b.current == rate.Inf || b.tokens >= 1 {
		return pause
	}
	wait := time.Duration((1 - b.tokens) / float64(b.current) * float64(time.Second))
	return max(pause, wait)
}

// takeLocked hands out the next turn if it comes within hold, returning when it
// comes. b.mu is held.
func (b *Budget) takeLocked(now time.Time, hold time.Duration) (time.Duration, bool) {
	b.recoverLocked(now)
	b.refillLocked(now)
	d := b.turnLocked(now)
	if d > hold {
		return d, false
	}
	if b.current != rate.Inf {
		b.tokens--
	}
	return d, true
}

// giveBack returns an unused turn to the bucket.
func (b *Budget) giveBack() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refillLocked(b.now())
	b.tokens = min(b.tokens+1, float64(b.burst))
}

// Wait blocks until a request may go out, or ctx ends. A turn taken with Take and
// carried by ctx is spent here instead, by the first request that waits.
func (b *Budget) Wait(ctx context.Context) error {
	if p, ok := ctx.Value(prepaidKey{}).(*prepaid); ok && p.budget == b && p.spend() {
		return sleep(ctx, time.Until(p.at))
	}
	now := b.now()
	b.mu.Lock()
	d, _ := b.takeLocked(now, time.Duration(1<<62))
	b.mu.Unlock()
	if err := sleep(ctx, d); err != nil {
		b.giveBack()
		return err
	}
	return nil
}

// Delay is how long a request would wait for the budget if it asked now, without
// taking anything: 0 when a token is free.
func (b *Budget) Delay() time.Duration {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.recoverLocked(now)
	b.refillLocked(now)
	return b.turnLocked(now)
}

// Take takes the next request's turn now if it comes within hold, and returns a
// context carrying it (the first request made with it spends the turn rather than
// waiting for another) and a release function that gives the turn back if no request
// spent it. When the turn is further off than hold, nothing is taken: ok is false and
// later is how long to put the job off (Later). Checking and taking at once is what
// keeps many workers from all seeing a free budget and then all waiting on it.
//
// Take is for work already begun (a candidate's writes); TakeNew, for new work, waits
// behind it.
func (b *Budget) Take(ctx context.Context, hold time.Duration) (_ context.Context, release func(), later time.Duration, ok bool) {
	return b.take(ctx, hold, false)
}

// TakeNew is Take for new work: the read that starts a new candidate. It gives way to
// work already begun: while a job with a candidate's writes waits for a turn Take
// refused it, no new work starts, and new work put off wakes after it. Without that,
// a backlog of thousands of new applications took the account's turns ahead of the
// writes of the candidates already invited, whose CP-Sent tags then waited for the
// whole backlog to be read (measured: 9 of an org's candidates tagged in 30 s
// against 55 when writes go first).
func (b *Budget) TakeNew(ctx context.Context, hold time.Duration) (_ context.Context, release func(), later time.Duration, ok bool) {
	return b.take(ctx, hold, true)
}

// finishSlack is how long past its wake-up a job with work already begun is still
// expected back for its turn: River wakes a put-off job on its next poll, not to the
// millisecond.
const finishSlack = time.Second

func (b *Budget) take(ctx context.Context, hold time.Duration, fresh bool) (_ context.Context, release func(), later time.Duration, ok bool) {
	now := b.now()
	b.mu.Lock()
	var d time.Duration
	if !fresh || !now.Before(b.finishWaits) {
		d, ok = b.takeLocked(now, hold)
	}
	if ok && !fresh && !now.Before(b.horizon) {
		// The last write put off is back (or due): new work need not wait out the slack.
		b.finishWaits = now
	}
	b.mu.Unlock()
	if !ok {
		return ctx, func() {}, b.later(now, fresh), false
	}
	p := &prepaid{budget: b, at: now.Add(d)}
	return context.WithValue(ctx, prepaidKey{}, p), p.release, 0, true
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Later returns how long to put off a job that found the budget busy (Delay above
// what a worker may hold for), so that the jobs put off wake one per token, at the
// budget's rate, instead of all at once: each call hands out the next free wake-up.
// It takes nothing from the bucket; the job waits for its token as usual when it
// wakes.
func (b *Budget) Later() time.Duration {
	return b.later(b.now(), false)
}

// later hands out the next wake-up of work already begun, or with fresh of new work,
// which comes after every wake-up of work begun. Each kind has its own line, so that
// new work put off never pushes back the writes of candidates already invited.
func (b *Budget) later(now time.Time, fresh bool) time.Duration {
	start := now.Add(b.Delay())
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.current == rate.Inf || b.current <= 0 {
		return 0
	}
	slot := time.Duration(float64(time.Second) / float64(b.current))
	if fresh {
		b.newHorizon = latest(b.newHorizon, start, b.finishWaits).Add(slot)
		return b.newHorizon.Sub(now)
	}
	b.horizon = latest(b.horizon, start).Add(slot)
	b.finishWaits = latest(b.finishWaits, b.horizon.Add(finishSlack))
	return b.horizon.Sub(now)
}

// latest returns the latest of ts.
func latest(ts ...time.Time) time.Time {
	var l time.Time
	for _, t := range ts {
		if t.After(l) {
			l = t
		}
	}
	return l
}

// Throttled tells the budget that Lever answered 429: the account's rate is cut and
// nothing goes out until retryAfter (or budgetPauseDefault) has passed.
func (b *Budget) Throttled(retryAfter time.Duration) {
	if b.base == rate.Inf {
		return
	}
	now := b.now()
	if retryAfter <= 0 {
		retryAfter = budgetPauseDefault
	}
	retryAfter = min(retryAfter, budgetMaxPause)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.throttles++
	if until := now.Add(retryAfter); until.After(b.pausedUntil) {
		b.pausedUntil = until
	}
	b.refillLocked(now)
	b.tokens = min(b.tokens, 0) // Lever's bucket is empty: no burst after the pause
	b.current = max(b.current*budgetCutFactor, min(BudgetMinRate, b.base))
	b.nextRecover = b.pausedUntil.Add(budgetRecoverEvery)
}

// recoverLocked raises a cut rate one step per budgetRecoverEvery that passed without
// a 429. b.mu is held.
func (b *Budget) recoverLocked(now time.Time) {
	for b.current < b.base && !now.Before(b.nextRecover) {
		b.refillLocked(b.nextRecover)
		b.current = min(b.current*budgetRecoverFactor, b.base)
		b.nextRecover = b.nextRecover.Add(budgetRecoverEvery)
	}
}

// Rate is the rate the account is paced at now: the configured one, or less after a
// 429.
func (b *Budget) Rate() rate.Limit {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.recoverLocked(b.now())
	return b.current
}

// Throttles counts the 429s the budget was told of.
func (b *Budget) Throttles() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.throttles
}

// Limiters hands out one Budget per Lever account, so every client that talks to
// the same account in this process (several workers, a web request and a worker)
// shares one budget. It is safe for concurrent use.
type Limiters struct {
	limit rate.Limit
	burst int

	mu sync.Mutex
	m  map[string]*Budget
}

// NewLimiters returns a registry whose budgets allow limit requests per second with
// the given burst. A zero limit or burst means Winnow's budget (BudgetRate,
// BudgetBurst).
func NewLimiters(limit rate.Limit, burst int) *Limiters {
	if limit == 0 {
		limit = BudgetRate
	}
	if burst == 0 {
		burst = BudgetBurst
	}
	return &Limiters{limit: limit, burst: burst, m: make(map[string]*Budget)}
}

// For returns the budget of the given account, creating it on first use.
// The key should identify the Lever account (e.g. AccountID of its token, or
// the org that owns the connection).
func (l *Limiters) For(account string) *Budget {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[account]
	if !ok {
		b = NewBudget(l.limit, l.burst)
		l.m[account] = b
	}
	return b
}

// Forget drops the budget of an account, e.g. after it was disconnected.
func (l *Limiters) Forget(account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, account)
}
