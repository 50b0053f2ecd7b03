package render

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"path"
	"strings"

	"winnow"
)

// This file is the error edge of the web layer: the one table from domain error codes
// to HTTP statuses, the one function that turns an error into an answer (Fail), the
// forms answers take (a page in the recruiter or candidate layout, or JSON), and the
// one redactor of paths in logs (LogPath).

// statusByCode is the one table from domain error codes to HTTP statuses.
var statusByCode = map[string]int{
	winnow.EINVALID:      http.StatusUnprocessableEntity,
	winnow.ENOTFOUND:     http.StatusNotFound,
	winnow.ECONFLICT:     http.StatusConflict,
	winnow.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	winnow.EUNAUTHORIZED: http.StatusUnauthorized,
	winnow.EFORBIDDEN:    http.StatusForbidden,
	winnow.ERATELIMITED:  http.StatusTooManyRequests,
	winnow.EUNAVAILABLE:  http.StatusServiceUnavailable,
	winnow.EINTERNAL:     http.StatusInternalServerError,
}

// Status returns the HTTP status for err's code.
func Status(err error) int {
	if s, ok := statusByCode[winnow.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Problem is an error as an answer carries it: a status, a machine-readable code and a
// sentence a person understands.
type Problem struct {
	Status  int
	Code    string
	Message string
}

// ProblemOf is err as an answer: the status its code maps to, the code and the
// user-safe message, never the internal text.
func ProblemOf(err error) Problem {
	return Problem{Status: Status(err), Code: winnow.ErrorCode(err), Message: winnow.ErrorMessage(err)}
}

// Form writes problems the way an audience reads answers: a page in its layout, or JSON.
type Form interface {
	WriteProblem(w http.ResponseWriter, r *http.Request, p Problem)
}

// Fail answers r with err in form. It is the one place an error becomes an answer:
// internal errors (5xx) are logged here, once, with the method, the path as LogPath
// shows it and attrs (org, applicant, token IDs); only the user-safe message is written.
func Fail(logger *slog.Logger, w http.ResponseWriter, r *http.Request, form Form, err error, attrs ...any) {
	p := ProblemOf(err)
	if p.Status >= 500 {
		logger.ErrorContext(r.Context(), "request failed", append([]any{"method", r.Method, "path", LogPath(r), "error", err}, attrs...)...)
	}
	form.WriteProblem(w, r, p)
}

// ErrorPage is the data of the recruiters' error page.
type ErrorPage struct {
	Base
	Status  int
	Title   string
	Message string
}

// titles head the recruiters' error page, by status.
var titles = map[int]string{
	http.StatusBadRequest:            "That request did not make sense",
	http.StatusUnauthorized:          "Please sign in",
	http.StatusForbidden:             "You don't have access to this",
	http.StatusNotFound:              "Not found",
	http.StatusConflict:              "That can't be done right now",
	http.StatusUnprocessableEntity:   "Please check what you entered",
	http.StatusTooManyRequests:       "Too many attempts",
	http.StatusServiceUnavailable:    "Temporarily unavailable",
	http.StatusInternalServerError:   "Something went wrong",
	http.StatusRequestEntityTooLarge: "That was too large",
}

// pageForm is the recruiters' form: the error page in the main layout.
type pageForm struct {
	r    *Renderer
	base Base
}

// PageForm returns the recruiters' form, with base's signed-in user and org.
func (r *Renderer) PageForm(base Base) Form { return pageForm{r: r, base: base} }

func (f pageForm) WriteProblem(w http.ResponseWriter, req *http.Request, p Problem) {
	title := titles[p.Status]
	if title == "" {
		title = http.StatusText(p.Status)
	}
	f.base.Title = title
	f.r.Page(w, req, p.Status, PageError, ErrorPage{Base: f.base, Status: p.Status, Title: title, Message: p.Message})
}

// Error answers req with err as the recruiters' error page: Fail in PageForm.
func (r *Renderer) Error(w http.ResponseWriter, req *http.Request, base Base, err error) {
	Fail(r.logger, w, req, r.PageForm(base), err)
}

// ErrorStatus answers req with the recruiters' error page for an explicit status and
// message, for refusals that have no domain error.
func (r *Renderer) ErrorStatus(w http.ResponseWriter, req *http.Request, base Base, status int, msg string) {
	r.PageForm(base).WriteProblem(w, req, Problem{Status: status, Message: msg})
}

// JSON is the form programs read: {"error": {"code": …, "message": …}}.
var JSON Form = jsonForm{}

type jsonForm struct{}

// errorBody is the shape of every JSON error.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (jsonForm) WriteProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	WriteJSON(nil, w, r, p.Status, errorBody{errorDetail{Code: p.Code, Message: p.Message}})
}

// internalJSON is the body written when a response cannot be encoded.
const internalJSON = `{"error":{"code":"internal","message":"Something went wrong on our side."}}`

// WriteJSON writes v as the JSON response with status. A value that cannot be encoded
// is a bug: it is logged (when logger is set) and answered with a 500 that gives
// nothing away.
func WriteJSON(logger *slog.Logger, w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		if logger != nil {
			logger.ErrorContext(r.Context(), "encode json response", "path", LogPath(r), "error", err)
		}
		status, b = http.StatusInternalServerError, []byte(internalJSON)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// tokenPrefixes are the paths whose next segment is a credential: a candidate's link
// and a member invitation.
var tokenPrefixes = []string{"/c/", "/invite/"}

// notTokens are the pages under a token prefix whose segment is a name, not a token.
var notTokens = map[string]bool{"new-link": true}

// LogPath is the request path as logs may show it: cleaned first, as the router cleans
// it before it redirects, so that "//c/…", "/./c/…" and "/x/../c/…" are seen for the
// candidate links they are, and then with the token of a candidate or invitation link
// replaced, since anyone who reads it could use it. Every logger and error writer of
// the web layer shows paths through it.
func LogPath(r *http.Request) string {
	p := r.URL.Path
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	p = path.Clean(p)
	for _, prefix := range tokenPrefixes {
		if len(p) <= len(prefix) || !strings.EqualFold(p[:len(prefix)], prefix) {
			continue
		}
		rest := p[len(prefix):]
		token, tail, _ := strings.Cut(rest, "/")
		if notTokens[token] {
			return p
		}
		if tail != "" {
			tail = "/" + tail
		}
		return prefix + "{token}" + tail
	}
	return p
}
