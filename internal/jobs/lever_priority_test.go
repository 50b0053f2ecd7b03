package jobs

import (
	"math"
	"testing"
	"time"

	"winnow"
)

func TestDeliveryPacer(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	app := winnow.LeverApplicationCreated
	p := NewDeliveryPacer(9) // 3 applications a second

	for i := range deliveryPromptBurst {
		if got := p.priority("org-a", app, now); got != deliveryPriorityPrompt {
			t.Fatalf("application %d of a burst: priority %d, want prompt", i+1, got)
		}
	}
	if got := p.priority("org-a", app, now); got != deliveryPriorityBacklog {
		t.Fatalf("application past the burst: priority %d, want backlog", got)
	}
	if got := p.priority("org-b", app, now); got != deliveryPriorityPrompt {
		t.Fatalf("another org's first application: priority %d, want prompt (A's backlog is A's alone)", got)
	}
	if got := p.priority("org-a", winnow.LeverCandidateDeleted, now); got != deliveryPriorityPrompt {
		t.Fatalf("a deletion, which calls no Lever: priority %d, want prompt", got)
	}
	if got := p.priority("org-a", app, now.Add(400*time.Millisecond)); got != deliveryPriorityPrompt {
		t.Fatalf("an application a third of a second later: priority %d, want prompt (the org's pace refills)", got)
	}
	if got := p.priority("org-a", app, now.Add(400*time.Millisecond)); got != deliveryPriorityBacklog {
		t.Fatalf("a second application in the same instant: priority %d, want backlog", got)
	}

	for name, p := range map[string]*DeliveryPacer{"unlimited": NewDeliveryPacer(math.Inf(1)), "none": nil} {
		for range 3 * deliveryPromptBurst {
			if got := p.priority("org-a", app, now); got != deliveryPriorityPrompt {
				t.Fatalf("%s pacer: priority %d, want every delivery prompt", name, got)
			}
		}
	}
}
