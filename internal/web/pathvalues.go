package web

import (
	"net/http"
	"strings"
	"unicode"

	"winnow"
)

// Limits on the values a route pattern's wildcards take. Winnow's IDs (UUIDs) and link
// tokens (URL-safe base64) are far shorter; other values (a step's ID, an email kind)
// are names the product chose.
const (
	maxIDLen        = 128
	maxPathValueLen = 256
)

// idWildcards are the wildcards that carry an ID, a link token or an org's webhook key
// Winnow issued: they hold only letters, digits, '-' and '_'.
var idWildcards = map[string]bool{"id": true, "token": true, "orgKey": true}

// checkPathValues answers "not found" for a request whose path values cannot name
// anything Winnow stores, before the handler passes them to a store: an ID or token
// outside its alphabet, and any value that is not text (a NUL byte, bytes that are not
// UTF-8, control characters) or is too long. PostgreSQL would refuse such text with an
// error, SQLite would look it up and find nothing; either way the answer is 404.
func (s *Server) checkPathValues(rt route, notFound http.HandlerFunc) http.HandlerFunc {
	names := wildcards(rt.pattern)
	if len(names) == 0 {
		return rt.handler
	}
	return func(w http.ResponseWriter, r *http.Request) {
		for _, name := range names {
			if !validPathValue(name, r.PathValue(name)) {
				notFound(w, r)
				return
			}
		}
		rt.handler(w, r)
	}
}

// notFoundFor is the "not found" answer in the route's own language: JSON for the API,
// the candidate's page for candidate links, the recruiters' page elsewhere.
func (s *Server) notFoundFor(rt route) http.HandlerFunc {
	_, path, _ := strings.Cut(rt.pattern, " ")
	switch audienceOf(path) {
	case programs:
		return s.API.UnknownID
	case candidates:
		return s.Candidate.InvalidLink
	}
	return s.notFound
}

// wildcards lists the names of a pattern's wildcards: "GET /jobs/{id}/steps/{step}"
// has id and step.
func wildcards(pattern string) []string {
	var names []string
	for rest := pattern; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return names
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return names
		}
		name := strings.TrimSuffix(rest[i+1:i+j], "...")
		if name != "$" {
			names = append(names, name)
		}
		rest = rest[i+j+1:]
	}
}

// validPathValue reports whether v could be the value of the wildcard name.
func validPathValue(name, v string) bool {
	if idWildcards[name] {
		if v == "" || len(v) > maxIDLen {
			return false
		}
		for i := 0; i < len(v); i++ {
			if c := v[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
		return true
	}
	return len(v) <= maxPathValueLen && winnow.ValidText(v) && strings.IndexFunc(v, unicode.IsControl) < 0
}
