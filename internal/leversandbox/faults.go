package leversandbox

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Faults are the failure knobs of the API (they do not touch OAuth, the UI
// or /_sandbox). The zero value means a well-behaved Lever.
type Faults struct {
	// ErrorRate is the probability (0–1) that an API request is answered
	// 500 or 503 before anything is done.
	ErrorRate float64 `json:"errorRate"`
	// LatencyMs is added before every API request is handled.
	LatencyMs int `json:"latencyMs"`
	// TimeoutAfterWriteRate is the probability (0–1) that a write is stored
	// and then never answered: the connection is held until the client
	// gives up (or HangFor passes) and then dropped.
	TimeoutAfterWriteRate float64 `json:"timeoutAfterWriteRate"`
	// FailNext answers the next FailNext API requests with 503, which
	// makes retry tests deterministic.
	FailNext int `json:"failNext"`
}

func (f Faults) validate() error {
	if f.ErrorRate < 0 || f.ErrorRate > 1 {
		return fmt.Errorf("errorRate must be between 0 and 1")
	}
	if f.TimeoutAfterWriteRate < 0 || f.TimeoutAfterWriteRate > 1 {
		return fmt.Errorf("timeoutAfterWriteRate must be between 0 and 1")
	}
	if f.LatencyMs < 0 || f.LatencyMs > 60000 {
		return fmt.Errorf("latencyMs must be between 0 and 60000")
	}
	if f.FailNext < 0 {
		return fmt.Errorf("failNext must not be negative")
	}
	return nil
}

// SetFaults replaces the fault knobs.
func (s *Server) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	return nil
}

// Faults returns the current fault knobs.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// statusRecorder remembers the status an API handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// apiMiddleware runs in front of every /v1 request: authentication, the
// per-account rate limit, injected latency and errors, a body size limit,
// and the counters.
func (s *Server) apiMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			s.mu.Lock()
			s.stats.Requests++
			s.stats.ByStatus[strconv.Itoa(rec.status)]++
			if rec.status == http.StatusTooManyRequests {
				s.stats.RateLimited++
			}
			s.mu.Unlock()
		}()
		w = rec

		cred, err := s.authenticate(r)
		if err != nil {
			rec.status = http.StatusUnauthorized
			writeError(w, http.StatusUnauthorized, "UnauthorizedError", err.Error())
			return
		}
		if !s.allow(cred.account) {
			writeError(w, http.StatusTooManyRequests, "TooManyRequests", "rate limit exceeded: 10 requests per second per account")
			return
		}

		s.mu.Lock()
		f := s.faults
		failNow := f.FailNext > 0
		if failNow {
			s.faults.FailNext--
		}
		s.mu.Unlock()

		if f.LatencyMs > 0 {
			t := time.NewTimer(time.Duration(f.LatencyMs) * time.Millisecond)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if failNow {
			writeError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "injected fault: service unavailable")
			return
		}
		if f.ErrorRate > 0 && rand.Float64() < f.ErrorRate {
			if rand.IntN(2) == 0 {
				writeError(w, http.StatusInternalServerError, "InternalServerError", "injected fault: internal error")
			} else {
				writeError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "injected fault: service unavailable")
			}
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
		next.ServeHTTP(w, r.WithContext(withCredential(r.Context(), cred)))
	})
}

// hangAfterWrite is called by write handlers once the write is stored. It
// rolls the timeoutAfterWrite fault; on a hit it holds the request until
// the client gives up and then drops the connection without an answer.
func (s *Server) hangAfterWrite(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	rateHit := s.faults.TimeoutAfterWriteRate
	s.mu.Unlock()
	if rateHit <= 0 || rand.Float64() >= rateHit {
		return
	}
	if rec, ok := w.(*statusRecorder); ok {
		rec.status = 599 // counted as "no answer"
	}
	t := time.NewTimer(s.opts.HangFor)
	defer t.Stop()
	select {
	case <-r.Context().Done():
	case <-s.ctx.Done():
	case <-t.C:
	}
	panic(http.ErrAbortHandler)
}
