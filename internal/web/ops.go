package web

import "net/http"

// OpsHandler returns the handler of a process that serves no pages (a worker): only
// /healthz and /metrics, with the same time limits and recovery as the full server,
// and "not found" in plain text for everything else. It needs only Ping, Registry,
// Logger and, optionally, MetricsToken and Timeouts.
func (s *Server) OpsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /metrics", s.metricsHandler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("this winnow process is a worker: it serves only /healthz and /metrics\n"))
	})
	var h http.Handler = mux
	h = s.recoverPlain(h)
	return s.deadlines(h)
}

// recoverPlain answers a panic with a plain 500, for handlers with no pages to render.
func (s *Server) recoverPlain(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.ErrorContext(r.Context(), "panic", "method", r.Method, "path", r.URL.Path, "error", v)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
