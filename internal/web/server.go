// Package web assembles Winnow's HTTP server: every route in one table (routes.go), the
// middleware around them, and the health and metrics endpoints. The pages themselves
// live in one package per audience.
package web

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"winnow/internal/web/api"
	"winnow/internal/web/auth"
	"winnow/internal/web/candidate"
	"winnow/internal/web/hook"
	"winnow/internal/web/recruiter"
	"winnow/internal/web/render"
)

// Server holds the handlers and what the middleware needs. Every field must be set but
// Timeouts, Secure and MetricsToken.
type Server struct {
	Recruiter *recruiter.Handler
	API       *api.Handler
	Candidate *candidate.Handler
	Hooks     *hook.Handler
	Sessions  *auth.Sessions
	Render    *render.Renderer
	Logger    *slog.Logger
	// Ping reports whether the database answers, for /healthz.
	Ping func(ctx context.Context) error
	// Registry collects the metrics served at /metrics.
	Registry *prometheus.Registry

	// Timeouts limit how long requests may take; the zero value means the defaults.
	Timeouts Timeouts
	// Secure says the public URL is https: browsers are told to come back over https
	// only (Strict-Transport-Security).
	Secure bool
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string
	// Jobs, when set, is River's UI of the background jobs, served to admins under
	// JobsPrefix (/admin/jobs/); without it that path is "not found".
	Jobs http.Handler
}

// JobsPrefix is where admins find River's UI of the background jobs; the handler in
// Server.Jobs must be built for this prefix.
const JobsPrefix = "/admin/jobs"

// Handler returns the complete HTTP handler: routes wrapped in time limits, recovery,
// logging and metrics, security headers, cross-origin protection and session loading.
func (s *Server) Handler() http.Handler {
	m := newMetrics(s.Registry)
	mux := s.routes(m)
	var h http.Handler = mux
	h = s.Sessions.Middleware(h)
	h = s.crossOrigin(h)
	h = s.securityHeaders(h)
	h = s.observe(m, mux, h)
	h = s.recoverPanics(h)
	return s.deadlines(h)
}
