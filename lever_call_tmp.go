package winnow

import "time"

// Call is a placeholder until the refactor's Event.Call lands; delete on rebase.
type Call struct {
	Method   string
	Path     string
	Status   int
	Duration time.Duration
}
