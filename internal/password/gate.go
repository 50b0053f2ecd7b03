package password

import (
	"math"
	"runtime"
	"runtime/debug"
	"time"

	"winnow"
)

// MemoryBudget is how much memory the argon2 computations of this process may hold
// at once when GOMEMLIMIT is not set; with GOMEMLIMIT, they may hold a quarter of it.
// Each computation holds memoryKiB (19 MiB), so 64 MiB lets three run at once: about a
// hundred checks a second on three cores, far more sign-ins than an install sees, while
// a flood of guesses costs at most 64 MiB instead of 19 MiB per request.
const MemoryBudget = 64 << 20

// MaxWait is how long a hash or check waits for a free slot before it gives up with
// ErrBusy. A check takes tens of milliseconds, so a person signing in during a burst
// waits a little; a flood is refused instead of piling up.
const MaxWait = 2 * time.Second

// RetryAfter is what handlers tell a client refused with ErrBusy to wait.
const RetryAfter = 5 * time.Second

// ErrBusy is returned by Hash and Check when every slot stayed taken for MaxWait. Its
// code is EUNAVAILABLE: the server is busy, nothing is wrong with the request.
var ErrBusy = &winnow.Error{Code: winnow.EUNAVAILABLE,
	Message: "Winnow is busy checking other passwords. Please try again in a few seconds."}

// gate bounds how many argon2 computations run at once. argon2 is CPU-bound, so more
// computations than cores only add latency and memory.
type gate struct {
	slots chan struct{}
	wait  time.Duration
}

// defaultGate is the one gate every Hash and Check of the process goes through.
var defaultGate = newGate(slotsFor(runtime.GOMAXPROCS(0), debug.SetMemoryLimit(-1)), MaxWait)

func newGate(slots int, wait time.Duration) *gate {
	return &gate{slots: make(chan struct{}, slots), wait: wait}
}

// slotsFor sizes the gate: one slot per core, no more than the memory budget holds, and
// at least one. memLimit is GOMEMLIMIT (math.MaxInt64 when unset).
func slotsFor(procs int, memLimit int64) int {
	budget := int64(MemoryBudget)
	if memLimit > 0 && memLimit < math.MaxInt64 {
		budget = memLimit / 4
	}
	n := min(int64(procs), budget/(memoryKiB<<10))
	return int(max(n, 1))
}

// run calls f once a slot is free, or returns ErrBusy after waiting g.wait for one.
func (g *gate) run(f func()) error {
	select {
	case g.slots <- struct{}{}:
	default:
		t := time.NewTimer(g.wait)
		select {
		case g.slots <- struct{}{}:
			t.Stop()
		case <-t.C:
			return ErrBusy
		}
	}
	defer func() { <-g.slots }()
	f()
	return nil
}
