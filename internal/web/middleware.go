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

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.Render.ErrorStatus(w, r, s.base(r), http.StatusNotFound, "There is no page at this address.")
}

// crossOrigin refuses unsafe requests sent by a browser from another origin (CSRF),
// with a page that explains it.
func (s *Server) crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Logger.WarnContext(r.Context(), "cross-origin request refused", "method", r.Method, "path", logPath(r), "origin", r.Header.Get("Origin"))
		if strings.HasPrefix(r.URL.Path, "/c/") && s.Candidate != nil {
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
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
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
		s.Logger.DebugContext(r.Context(), "request", "method", r.Method, "path", logPath(r), "status", sw.status, "duration_ms", elapsed.Milliseconds())
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.ErrorContext(r.Context(), "panic", "path", logPath(r), "error", fmt.Sprint(v), "stack", string(debug.Stack()))
				s.Render.ErrorStatus(w, r, render.Base{}, http.StatusInternalServerError, winnow.ErrorMessage(fmt.Errorf("panic")))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// tokenPrefixes are the paths whose next segment is a credential: a candidate's link
// and a member invitation.
var tokenPrefixes = []string{"/c/", "/invite/"}

// logPath is the request path as logs may show it: the token in a candidate link or an
// invitation link is replaced, since anyone who reads it could use it.
func logPath(r *http.Request) string {
	p := r.URL.Path
	for _, prefix := range tokenPrefixes {
		rest, ok := strings.CutPrefix(p, prefix)
		if !ok || rest == "" || rest == "new-link" {
			continue
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			return prefix + "{token}" + rest[i:]
		}
		return prefix + "{token}"
	}
	return p
}
