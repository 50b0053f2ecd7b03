package lever

import (
	"context"
	"sync"
	"time"
)

// CallRecord is one HTTP request the client sent to Lever, as a caller's timeline
// shows it: never the query string, a header or a body, so never a credential.
type CallRecord struct {
	Method   string
	Path     string // the URL's path, e.g. /v1/opportunities/ID/notes
	Status   int    // the HTTP status; 0 when no answer came
	Duration time.Duration
}

// Recorder collects the requests a client sends under one context, retries included,
// so that a caller learns what its calls did without the client knowing about it. It
// is safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	calls []CallRecord
}

type recorderKey struct{}

// WithRecorder returns a context under which every request the client sends is
// recorded in the returned Recorder.
func WithRecorder(ctx context.Context) (context.Context, *Recorder) {
	r := &Recorder{}
	return context.WithValue(ctx, recorderKey{}, r), r
}

// recorderFrom returns the context's Recorder, or nil.
func recorderFrom(ctx context.Context) *Recorder {
	r, _ := ctx.Value(recorderKey{}).(*Recorder)
	return r
}

// add records one request; it does nothing on a nil Recorder.
func (r *Recorder) add(method, path string, status int, d time.Duration) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.calls = append(r.calls, CallRecord{Method: method, Path: path, Status: status, Duration: d})
	r.mu.Unlock()
}

// Calls returns the requests recorded so far, in the order they were answered, and
// forgets them, so that a caller can take each call's requests in turn.
func (r *Recorder) Calls() []CallRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}
