package render

import (
	"net/http"

	"winnow"
)

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

// ErrorPage is the data of the error page.
type ErrorPage struct {
	Base
	Status  int
	Title   string
	Message string
}

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

// Error renders err as a page with its status and user-safe message. Internal errors are
// logged with their detail here, once; the page shows only a generic sentence.
func (r *Renderer) Error(w http.ResponseWriter, req *http.Request, base Base, err error) {
	status := Status(err)
	if status >= 500 {
		r.logger.ErrorContext(req.Context(), "request failed", "method", req.Method, "path", req.URL.Path, "error", err)
	}
	r.ErrorStatus(w, req, base, status, winnow.ErrorMessage(err))
}

// ErrorStatus renders the error page with an explicit status and message.
func (r *Renderer) ErrorStatus(w http.ResponseWriter, req *http.Request, base Base, status int, msg string) {
	title := titles[status]
	if title == "" {
		title = http.StatusText(status)
	}
	base.Title = title
	r.Page(w, req, status, "error", ErrorPage{Base: base, Status: status, Title: title, Message: msg})
}
