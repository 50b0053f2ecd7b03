package lever

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The sentinel errors below classify every failure the client returns, so a
// caller can decide with errors.Is whether to back off, retry later, ask an
// admin to reconnect, or give up. An *APIError wraps exactly one of them.
var (
	// ErrRateLimited means Lever answered 429; back off (see APIError.RetryAfter).
	ErrRateLimited = errors.New("lever: rate limited")
	// ErrTransient means a 5xx answer, a timeout or a connection failure; the
	// same request may succeed later.
	ErrTransient = errors.New("lever: transient failure")
	// ErrAuthLost means the credentials no longer work: the API answered 401 or
	// the token endpoint refused the refresh token (invalid_grant). The
	// connection needs an admin to reconnect; retrying will not help.
	ErrAuthLost = errors.New("lever: authorization lost")
	// ErrPermanent means Lever rejected the request itself (a 4xx other than
	// 401 and 429); repeating it unchanged will fail again.
	ErrPermanent = errors.New("lever: request rejected")
	// ErrNotFound is wrapped in addition to ErrPermanent when Lever answered 404.
	ErrNotFound = errors.New("lever: not found")
	// ErrBadSignature means a webhook's signature did not match.
	ErrBadSignature = errors.New("lever: bad webhook signature")
)

// APIError describes one failed call to Lever. Kind is one of the sentinel
// errors above and is what errors.Is matches; Code and Message are Lever's
// own error fields when the response carried them.
type APIError struct {
	// Kind is ErrRateLimited, ErrTransient, ErrAuthLost or ErrPermanent.
	Kind error
	// Method and Path identify the request (the path has no query string).
	Method, Path string
	// StatusCode is the HTTP status, or 0 when no response arrived.
	StatusCode int
	// Code is Lever's machine-readable error code, e.g. "ResourceNotFound".
	Code string
	// Message is Lever's human-readable error message.
	Message string
	// RetryAfter is the wait Lever asked for through Retry-After, if any.
	RetryAfter time.Duration
	// Err is the underlying transport or token error, if any.
	Err error
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Kind.Error())
	if e.Method != "" {
		fmt.Fprintf(&b, ": %s %s", e.Method, e.Path)
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": status %d", e.StatusCode)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap lets errors.Is and errors.As see both the kind and the cause.
func (e *APIError) Unwrap() []error {
	errs := []error{e.Kind}
	if e.StatusCode == http.StatusNotFound {
		errs = append(errs, ErrNotFound)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// kindForStatus maps an HTTP status of a failed response to a sentinel.
func kindForStatus(status int) error {
	switch {
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status == http.StatusUnauthorized:
		return ErrAuthLost
	case status == http.StatusRequestTimeout, status >= 500:
		return ErrTransient
	default:
		return ErrPermanent
	}
}

// parseRetryAfter reads a Retry-After header given in seconds or as an HTTP
// date; it returns 0 when the header is absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
