package jobs

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"winnow"
)

// River priorities of webhook deliveries (River works priority 1 first, and within a
// priority the oldest first).
const (
	// deliveryPriorityPrompt is a delivery its org's Lever budget can process soon.
	deliveryPriorityPrompt = 1
	// deliveryPriorityBacklog is a delivery past that: its org has more queued than
	// its Lever account can take for a while.
	deliveryPriorityBacklog = 2
)

// leverCallsPerApplication is how many calls to Lever one applicationCreated costs at
// least: the opportunity's read, the CP-Sent tag and the note.
const leverCallsPerApplication = 3

// deliveryPromptBurst is how many of an org's applications in a row are prompt before
// its pace counts.
const deliveryPromptBurst = 20

// DeliveryPacer gives each org's webhook deliveries their River priority, so that one
// org's backlog does not hold up another's candidates. River hands out jobs oldest
// first; after a bulk import of 10,000 applications to one org, a candidate who
// applied to another org a second later waited until each of those 10,000 jobs had
// been fetched once and put off to its account's turn (7–12 s measured). The pacer
// keeps a token bucket per org at the rate that org's Lever budget processes
// applications (the budget's calls per second over leverCallsPerApplication): a
// delivery within it is prompt, one past it goes behind every org's prompt ones, in
// its order. Events that make no Lever call are always prompt.
//
// Each process paces the deliveries it records; with several web processes an org
// gets each one's burst, which only makes more of its deliveries prompt. The zero
// value, and a pacer for an unlimited budget, make everything prompt.
type DeliveryPacer struct {
	limit rate.Limit

	mu   sync.Mutex
	orgs map[string]*rate.Limiter
}

// NewDeliveryPacer returns the pacer for a Lever budget of callsPerSecond per account
// (math.Inf(1) for unlimited).
func NewDeliveryPacer(callsPerSecond float64) *DeliveryPacer {
	if math.IsInf(callsPerSecond, 1) || callsPerSecond <= 0 {
		return &DeliveryPacer{limit: rate.Inf}
	}
	return &DeliveryPacer{limit: rate.Limit(callsPerSecond / leverCallsPerApplication)}
}

// priority returns the River priority of the org's delivery of event recorded at now.
func (p *DeliveryPacer) priority(orgID, event string, now time.Time) int {
	if p == nil || p.limit == rate.Inf || p.limit == 0 || event != winnow.LeverApplicationCreated {
		return deliveryPriorityPrompt
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.orgs[orgID]
	if !ok {
		if p.orgs == nil {
			p.orgs = make(map[string]*rate.Limiter)
		}
		l = rate.NewLimiter(p.limit, deliveryPromptBurst)
		p.orgs[orgID] = l
	}
	if l.AllowN(now, 1) {
		return deliveryPriorityPrompt
	}
	return deliveryPriorityBacklog
}
