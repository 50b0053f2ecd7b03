package web

import (
	"io"
	"net/http"
	"time"
)

// Default time limits on requests; see Timeouts.
const (
	// DefaultReadTimeout bounds reading a request's body on every route but uploads,
	// and is the grace an upload has before its minimum rate applies. A form or a JSON
	// body arrives well within it; a client that trickles one is cut off.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds answering a request, writing included, on every route
	// but downloads, and is the grace a download has before its minimum rate applies.
	DefaultWriteTimeout = 60 * time.Second
	// DefaultMinTransferRate is the least average rate, in bytes a second, at which an
	// upload or a download must move once its grace is over: 16 KiB/s is a poor
	// mobile connection.
	DefaultMinTransferRate = 16 << 10
	// DefaultMaxTransfer caps an upload or a download however steadily it moves: a
	// 500 MB video fits at 36 KB/s or more.
	DefaultMaxTransfer = 4 * time.Hour
)

// Timeouts are the server's time limits on requests, set per route through
// http.ResponseController: every request gets Read to send its body and Write to be
// answered; upload routes (s.upload) instead get deadlines that move as the body
// arrives, and download routes (s.download) as the answer leaves, so that a slow
// client gets as long as it keeps MinTransferRate, up to MaxTransfer, and a client
// that stalls is cut off. Zero fields take the defaults.
type Timeouts struct {
	Read            time.Duration
	Write           time.Duration
	MinTransferRate int64 // bytes a second
	MaxTransfer     time.Duration
}

// withDefaults returns t with every zero field set to its default.
func (t Timeouts) withDefaults() Timeouts {
	if t.Read <= 0 {
		t.Read = DefaultReadTimeout
	}
	if t.Write <= 0 {
		t.Write = DefaultWriteTimeout
	}
	if t.MinTransferRate <= 0 {
		t.MinTransferRate = DefaultMinTransferRate
	}
	if t.MaxTransfer <= 0 {
		t.MaxTransfer = DefaultMaxTransfer
	}
	return t
}

// allowance is how long a transfer may have taken once n bytes have moved: the grace,
// plus n bytes at the minimum rate, never more than MaxTransfer.
func (t Timeouts) allowance(grace time.Duration, n int64) time.Duration {
	d := grace + time.Duration(float64(n)/float64(t.MinTransferRate)*float64(time.Second))
	return min(d, t.MaxTransfer)
}

// deadlines gives every request the default limits: Read to send its body, Write to be
// answered. It wraps everything, so that no request (an unknown path, a refused one)
// runs without them; a deadline left by the connection's previous request never
// applies. Upload and download routes replace them.
func (s *Server) deadlines(next http.Handler) http.Handler {
	t := s.Timeouts.withDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		now := time.Now()
		// Errors mean the writer has no connection (a test recorder): nothing to limit.
		rc.SetReadDeadline(now.Add(t.Read))
		rc.SetWriteDeadline(now.Add(t.Write))
		next.ServeHTTP(w, r)
	})
}

// upload marks a route that takes files: its body may take as long as it keeps the
// minimum rate after the read grace, up to MaxTransfer; once it is in, the handler has
// the usual Write to answer.
func (s *Server) upload(h http.HandlerFunc) http.HandlerFunc {
	t := s.Timeouts.withDefaults()
	return func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		b := &pacedBody{ReadCloser: r.Body, rc: rc, t: t, start: time.Now()}
		rc.SetReadDeadline(b.start.Add(t.allowance(t.Read, 0)))
		rc.SetWriteDeadline(b.start.Add(t.MaxTransfer + t.Write))
		r.Body = b
		h(w, r)
	}
}

// pacedBody is a request body that moves the read deadline on as bytes arrive.
type pacedBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	t     Timeouts
	start time.Time
	n     int64
	done  bool
}

func (b *pacedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.n += int64(n)
		b.rc.SetReadDeadline(b.start.Add(b.t.allowance(b.t.Read, b.n)))
	}
	if err == io.EOF && !b.done {
		b.done = true
		now := time.Now()
		b.rc.SetReadDeadline(now.Add(b.t.Read))
		b.rc.SetWriteDeadline(now.Add(b.t.Write))
	}
	return n, err
}

// download marks a route that sends files: its answer may take as long as it keeps
// the minimum rate after the write grace, up to MaxTransfer. The read deadline is
// moved out of the way too: a GET has no body, but the server's watch for a client
// that hangs up reads the connection, and its timing out would cancel the request.
func (s *Server) download(h http.HandlerFunc) http.HandlerFunc {
	t := s.Timeouts.withDefaults()
	return func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		pw := &pacedWriter{ResponseWriter: w, rc: rc, t: t, start: time.Now()}
		rc.SetReadDeadline(pw.start.Add(t.MaxTransfer + t.Write))
		rc.SetWriteDeadline(pw.start.Add(t.allowance(t.Write, 0)))
		h(pw, r)
	}
}

// pacedWriter is a response that moves the write deadline on as bytes leave. Bytes
// count once the connection took them, so a client that stops reading gets the
// allowance of what its buffers hold and no more.
type pacedWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	t     Timeouts
	start time.Time
	n     int64
}

func (w *pacedWriter) Write(p []byte) (int, error) {
	w.rc.SetWriteDeadline(w.start.Add(w.t.allowance(w.t.Write, w.n)))
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *pacedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
