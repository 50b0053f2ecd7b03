package password

import (
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"winnow"
)

// TestSlotsFor sizes the gate from the cores and the memory it may use.
func TestSlotsFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		procs    int
		memLimit int64
		want     int
	}{
		{"two cores, no memory limit", 2, math.MaxInt64, 2},
		{"many cores, no memory limit: the budget decides", 64, math.MaxInt64, MemoryBudget / (memoryKiB << 10)},
		{"many cores, 8 GiB limit: a quarter of it", 64, 8 << 30, 64},
		{"many cores, 2 GiB limit", 64, 2 << 30, (2 << 30) / 4 / (memoryKiB << 10)},
		{"a tiny limit still lets one run", 8, 16 << 20, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := slotsFor(tt.procs, tt.memLimit); got != tt.want {
				t.Fatalf("slotsFor(%d, %d) = %d, want %d", tt.procs, tt.memLimit, got, tt.want)
			}
		})
	}
}

// TestGateBounds runs no more computations at once than the gate has slots, and
// refuses with ErrBusy, an EUNAVAILABLE error, once a slot stays taken for the wait.
func TestGateBounds(t *testing.T) {
	t.Parallel()
	g := newGate(2, 20*time.Millisecond)
	release := make(chan struct{})
	var running, peak atomic.Int32
	var started, done sync.WaitGroup
	for range 2 {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			err := g.run(func() {
				n := running.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				started.Done()
				<-release
				running.Add(-1)
			})
			if err != nil {
				t.Errorf("holder: %v", err)
			}
		}()
	}
	started.Wait()
	ran := false
	err := g.run(func() { ran = true })
	if !errors.Is(err, ErrBusy) || ran || winnow.ErrorCode(err) != winnow.EUNAVAILABLE {
		t.Fatalf("third computation with both slots taken: ran=%v err=%v", ran, err)
	}
	if _, err := g.hash("a password"); !errors.Is(err, ErrBusy) {
		t.Fatalf("hash with both slots taken: %v", err)
	}
	if err := g.check(Unmatchable(), "a password"); !errors.Is(err, ErrBusy) {
		t.Fatalf("check with both slots taken: %v", err)
	}
	close(release)
	done.Wait()
	if p := peak.Load(); p != 2 {
		t.Fatalf("peak %d computations at once, want 2", p)
	}
}

// TestGateWaits lets a computation that finds the gate full wait for a slot.
func TestGateWaits(t *testing.T) {
	t.Parallel()
	g := newGate(1, time.Minute)
	holding, release := make(chan struct{}), make(chan struct{})
	go g.run(func() { close(holding); <-release })
	<-holding
	result := make(chan error)
	go func() { result <- g.run(func() {}) }()
	close(release)
	if err := <-result; err != nil {
		t.Fatalf("waiting computation: %v", err)
	}
}
