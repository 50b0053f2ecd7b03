package web

import (
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"winnow"
	"winnow/internal/web/auth"
	"winnow/internal/web/render"
)

// guard enforces a route's access level. Anonymous visitors of a page are sent to sign
// in; signed-in users without the role see a page that says what they lack.
func (s *Server) guard(a access, h http.HandlerFunc) http.Handler {
	if a == public {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := auth.User(r.Context())
		switch {
		case u == nil && r.Method == http.MethodGet:
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		case u == nil:
			s.Render.ErrorStatus(w, r, s.base(r), http.StatusUnauthorized, "Your session has ended. Please sign in again.")
			return
		case a == admin && !u.IsAdmin():
			s.Render.ErrorStatus(w, r, s.base(r), http.StatusForbidden, "Only admins can open Settings. Ask an admin of your organization if you need a change there.")
			return
		case a == member && u.Role == winnow.RoleLimited:
			s.Render.ErrorStatus(w, r, s.base(r), http.StatusForbidden, "Limited members can review applicants of their teams' jobs but cannot create or change jobs.")
			return
		}
		h(w, r)
	})
}

func (s *Server) base(r *http.Request) render.Base {
	var b render.Base
	if id := auth.FromContext(r.Context()); id != nil {
		b.User, b.Org = id.User, id.Org
	}
	return b
}

// audience is who reads the answers under a path: programs, candidates, or the org's
// people. Errors met before a handler answer in the audience's form.
type audience int

const (
	people     audience = iota // the recruiters' pages
	programs                   // the JSON API, under /api/
	candidates                 // a candidate's pages, under /c/
)

// audienceOf tells the audience of a path, cleaned (see render.LogPath).
func audienceOf(path string) audience {
	switch {
	case strings.HasPrefix(path, "/api/"):
		return programs
	case strings.HasPrefix(path, "/c/"):
		return candidates
	}
	return people
}

// form is the form of an error answer to r when no handler has chosen one.
func (s *Server) form(r *http.Request) render.Form {
	switch audienceOf(render.LogPath(r)) {
	case candidates:
		if s.Candidate != nil {
			return s.Candidate.ErrorForm()
		}
	case programs:
		return render.JSON
	}
	return s.Render.PageForm(s.base(r))
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.form(r).WriteProblem(w, r, render.Problem{Status: http.StatusNotFound, Code: winnow.ENOTFOUND, Message: "There is no page at this address."})
}

// crossOrigin refuses unsafe requests sent by a browser from another origin (CSRF),
// with a page that explains it.
func (s *Server) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Logger.WarnContext(r.Context(), "cross-origin request refused", "method", r.Method, "path", render.LogPath(r), "origin", r.Header.Get("Origin"))
		if audienceOf(render.LogPath(r)) == candidates && s.Candidate != nil {
			s.Candidate.CrossOriginRefused(w, r)
			return
		}
		s.Render.ErrorStatus(w, r, render.Base{}, http.StatusForbidden,
			"This form was sent from another website, so it was refused to protect your account. Go back to Winnow and try again from there.")
	}))
	return cop.Handler(next)
}

// hstsMaxAge is how long, in seconds, a browser that saw Winnow over https keeps to
// https for it: a year.
const hstsMaxAge = 365 * 24 * 60 * 60

// pageCSP is the content security policy of every page: nothing but this origin's own
// files runs or styles a page.
const pageCSP = "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// jobsCSP is pageCSP for River's UI, whose script sets styles inline (tooltips,
// charts): it allows inline styles, never inline scripts.
const jobsCSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// securityHeaders sets the headers that keep pages from being sniffed, framed or
// mixed with other origins, and, when the public URL is https, keeps browsers on https.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	hsts := fmt.Sprintf("max-age=%d", hstsMaxAge)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if s.Secure {
			h.Set("Strict-Transport-Security", hsts)
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		csp := pageCSP
		if strings.HasPrefix(r.URL.Path, JobsPrefix+"/") {
			csp = jobsCSP
		}
		h.Set("Content-Security-Policy", csp)
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs each request and counts it by route pattern.
func (s *Server) observe(m *metrics, mux *http.ServeMux, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		_, pattern := mux.Handler(r)
		if pattern == "" || pattern == "/" {
			pattern = "other"
		}
		elapsed := time.Since(start)
		m.observe(pattern, r.Method, sw.status, elapsed)
		s.Logger.DebugContext(r.Context(), "request", "method", r.Method, "path", render.LogPath(r), "status", sw.status, "duration_ms", elapsed.Milliseconds())
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.ErrorContext(r.Context(), "panic", "method", r.Method, "path", render.LogPath(r), "error", fmt.Sprint(v), "stack", string(debug.Stack()))
				s.form(r).WriteProblem(w, r, render.ProblemOf(fmt.Errorf("panic")))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
