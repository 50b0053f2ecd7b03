// Package winnow is the domain of Winnow: organisations, their people, qualification
// funnels and the applicants moving through them. It holds entities, state transitions,
// validation and the service interfaces that adapters implement. It imports nothing
// from the rest of the module.
package winnow

import (
	"errors"
	"fmt"
)

// Error codes used across the application. Each maps to one HTTP status in the web layer.
const (
	EINVALID      = "invalid"      // the input is wrong; the message says how
	ENOTFOUND     = "not_found"    // no such object, or not visible to the caller
	ECONFLICT     = "conflict"     // the object is not in a state that allows the action
	ETOOLARGE     = "too_large"    // the input, or what it would add up to, is over a limit
	EUNAUTHORIZED = "unauthorized" // the caller is not signed in or the credentials are wrong
	EFORBIDDEN    = "forbidden"    // the caller is signed in but may not do this
	ERATELIMITED  = "rate_limited" // too many attempts; try again later
	EUNAVAILABLE  = "unavailable"  // a dependency is down; try again later
	EINTERNAL     = "internal"     // a bug or an unexpected failure; details are logged, never shown
)

// Error is the one error type of the application. Code is machine-readable, Message is safe
// to show to a person. Err, when set, carries the underlying cause for logs only.
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error returns the message, with the cause appended for logs.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted, user-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other
// non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of the first *Error in err's chain, or a
// generic sentence for any other error so that internal detail never reaches a page.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong on our side. Please try again; if it keeps happening, contact your administrator."
}
